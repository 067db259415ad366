"""Neural-network building blocks: backbones, residual modules, aggregations, pooling, link heads.

Importing this package registers every block in :mod:`graphkit.registry`.
"""
# importing the submodules registers their blocks: models (gcn / sage / gin / gat), link heads,
# pools, norms, residual kinds, the "gnp" aggregation / readout, "relational" / "rgcn_laser";
# the backbone registers "deepgnn" and "gcnii"
from graphkit.nn import aggr, gnp_gnn, link, models, norm, pool, relational, residual
from graphkit.nn.backbone import DeepGNN

__all__ = ["DeepGNN", "aggr", "gnp_gnn", "link", "models", "norm", "pool", "relational",
           "residual"]

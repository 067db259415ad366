"""Neural-network building blocks: backbones, residual modules, aggregations, pooling, link heads.

Importing this package registers every block in :mod:`graphkit.registry`.
"""
from graphkit.nn import models  # noqa: F401  (registers gcn / sage / gin / gat)
from graphkit.nn import link, pool  # noqa: F401
from graphkit.nn import norm, residual  # noqa: F401  (registers norms and residual kinds)
from graphkit.nn.backbone import DeepGNN  # noqa: F401  (registers "deepgnn", "gcnii")
from graphkit.nn import aggr, gnp_gnn  # noqa: F401  (registers "gnp" aggr/readout, "gnp_gnn")
from graphkit.nn import relational  # noqa: F401  (registers "relational" / "rgcn_laser")

__all__ = ["models", "link", "pool", "norm", "residual", "DeepGNN", "aggr", "gnp_gnn",
           "relational"]

"""The standard backbones, registered by name for configs.

graphkit does not wrap PyG's :class:`~torch_geometric.nn.models.basic_gnn.BasicGNN` models: it
registers them as they are, so ``MODELS.build("gcn", in_channels=F, hidden_channels=H,
out_channels=C, num_layers=L, dropout=p)`` is exactly ``torch_geometric.nn.models.GCN(...)``.
Extra keywords (``norm``, ``jk``, ``act``, ``aggr``, ``heads``, ``edge_dim``, ...) pass through to
PyG. Deeper designs (residual modules, GNP aggregation, ...) register here the same way.
"""
from __future__ import annotations

from torch_geometric.nn.models import GAT, GCN, GIN, GraphSAGE

from graphkit.registry import MODELS

MODELS.register("gcn", GCN)
MODELS.register("sage", GraphSAGE)
MODELS.register("graphsage", GraphSAGE)
MODELS.register("gin", GIN)
MODELS.register("gat", GAT)

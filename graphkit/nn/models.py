"""The standard backbones, registered by name for configs.

graphkit does not wrap PyG's :class:`~torch_geometric.nn.models.basic_gnn.BasicGNN` models: it
registers them as they are, so ``MODELS.build("gcn", in_channels=F, hidden_channels=H,
out_channels=C, num_layers=L, dropout=p)`` is exactly ``torch_geometric.nn.models.GCN(...)``.
Extra keywords (``norm``, ``jk``, ``act``, ``aggr``, ``heads``, ``edge_dim``, ...) pass through to
PyG. Deeper designs (residual modules, GNP aggregation, ...) register here the same way.
"""
from __future__ import annotations

import torch
from torch_geometric.nn.models import GAT, GCN, GIN, GraphSAGE

from graphkit.registry import MODELS

MODELS.register("gcn", GCN)
MODELS.register("sage", GraphSAGE)
MODELS.register("graphsage", GraphSAGE)
MODELS.register("gin", GIN)
MODELS.register("gat", GAT)


@MODELS.register("identity")
class Identity(torch.nn.Module):
    """Pass-through backbone: ``z = x`` (for heads that run their own GNN, e.g. WalkPool, SEAL).
    Accepts the usual backbone keywords and ignores them."""

    def __init__(self, in_channels: int = -1, hidden_channels: int = 0, out_channels: int | None = None,
                 num_layers: int = 0, dropout: float = 0.0, **kwargs) -> None:
        super().__init__()
        self.in_channels = in_channels

    def reset_parameters(self) -> None:
        pass

    def forward(self, x, edge_index=None, **kwargs):
        return x

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

"""The standard backbones, registered by name for configs.

graphkit does not wrap PyG's :class:`~torch_geometric.nn.models.basic_gnn.BasicGNN` models: it
registers them as they are, so ``MODELS.build("gcn", in_channels=F, hidden_channels=H,
out_channels=C, num_layers=L, dropout=p)`` is exactly ``torch_geometric.nn.models.GCN(...)``.
Extra keywords (``norm``, ``jk``, ``act``, ``aggr``, ``heads``, ``edge_dim``, ...) pass through to
PyG. Deeper designs (residual modules, GNP aggregation, ...) register here the same way. The
one change: ``sage`` with ``aggr="gnp"`` (or a ``GNP``) builds :class:`GNPSAGEConv` layers,
the same function and parameters evaluated without the message tensor.
"""
from __future__ import annotations

from typing import Any

import torch
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.models import GAT, GCN, GIN, GraphSAGE

from graphkit.nn.aggr.gnp import GNP
from graphkit.registry import MODELS


class SAGE(GraphSAGE):
    """PyG's :class:`~torch_geometric.nn.models.GraphSAGE`; GNP-aggregating layers are
    :class:`~graphkit.nn.gnp_gnn.GNPSAGEConv` (GNP's powers per node, no message tensor)."""

    def init_conv(self, in_channels: int | tuple[int, int], out_channels: int,
                  **kwargs: Any) -> MessagePassing:
        aggr = kwargs.get("aggr", "mean")
        if not (isinstance(aggr, GNP) or (isinstance(aggr, str) and aggr.lower() == "gnp")):
            return super().init_conv(in_channels, out_channels, **kwargs)
        from graphkit.nn.gnp_gnn import GNPSAGEConv
        kwargs.pop("aggr")
        aggr_kwargs = kwargs.pop("aggr_kwargs", None) or {}
        if not isinstance(aggr, GNP):  # as PyG resolves "gnp": one shared p, q unless "channels"
            aggr = GNP(**aggr_kwargs)
        return GNPSAGEConv(in_channels, out_channels, aggr=aggr, **kwargs)


MODELS.register("gcn", GCN)
MODELS.register("sage", SAGE)
MODELS.register("graphsage", SAGE)
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

r"""A hierarchical-pooling graph network with a swappable pooling layer.

``PooledGNN`` is the architecture of Lee et al., "Self-Attention Graph Pooling" (ICML 2019,
`arXiv:1904.08082 <https://arxiv.org/abs/1904.08082>`_), hierarchical variant: ``num_layers``
levels of ``GNN block -> pool -> [mean || max] readout``, the readouts summed, then a linear
output. The pool is one of PyG's :class:`~torch_geometric.nn.pool.TopKPooling`,
:class:`~torch_geometric.nn.pool.SAGPooling`, :class:`~torch_geometric.nn.pool.ASAPooling`,
:class:`~torch_geometric.nn.pool.EdgePooling` (as ``edge``: graphkit's
:class:`VectorizedEdgePooling`, the same layer without PyG's per-edge Python loop; PyG's own as
``edge_pyg``) or graphkit's :class:`GraphParsingPool`, so the pools are compared on the same
backbone.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn import ASAPooling, EdgePooling, SAGPooling, TopKPooling
from torch_geometric.nn.pool import global_max_pool, global_mean_pool

from graphkit._checks import check_choice, check_range
from graphkit.nn.pool.edge_pool import VectorizedEdgePooling
from graphkit.nn.pool.gpn import GNNBlock, GraphParsingPool, batch_and_count
from graphkit.registry import MODELS, POOLS

POOLS.register("topk", TopKPooling)
POOLS.register("sag", SAGPooling)
POOLS.register("asap", ASAPooling)
POOLS.register("edge", VectorizedEdgePooling)
POOLS.register("edge_pyg", EdgePooling)

POOL_NAMES = ("gpn", "topk", "sag", "asap", "edge", "edge_pyg")


def apply_pool(pool: torch.nn.Module, x: Tensor, edge_index: Tensor, batch: Tensor
               ) -> tuple[Tensor, Tensor, Tensor]:
    """Run any of the supported pools; return ``(x, edge_index, batch)`` of the pooled graph."""
    if isinstance(pool, GraphParsingPool):
        out = pool(x, edge_index, batch)
        return out.x, out.edge_index, out.batch
    if isinstance(pool, EdgePooling):
        x, edge_index, batch, _ = pool(x, edge_index, batch=batch)
        return x, edge_index, batch
    if isinstance(pool, ASAPooling):
        x, edge_index, _, batch, _ = pool(x, edge_index, batch=batch)
        return x, edge_index, batch
    x, edge_index, _, batch, _, _ = pool(x, edge_index, batch=batch)  # TopK / SAG
    return x, edge_index, batch


def build_pool(name: str, channels: int, ratio: float = 0.5, dropout: float = 0.0,
               **kwargs) -> torch.nn.Module:
    """A ``channels -> channels`` pool by name (``ratio`` for TopK / SAG / ASAP)."""
    check_choice("build_pool", "pool", name, POOL_NAMES)
    if name == "gpn":
        return GraphParsingPool(channels, dropout=dropout, **kwargs)
    if name in ("edge", "edge_pyg"):
        return POOLS.build(name, channels, **kwargs)
    if name == "asap":
        # PyG's ASAPooling coarsens with a CSR @ CSR product; on the CPU (torch 2.13) that
        # product keeps ~0.4 MB of native memory per call (20 k nnz), so very long CPU runs grow
        # by ~1 GB per 100 PROTEINS epochs: restart the process between runs (cf. pytorch#109445)
        return ASAPooling(channels, ratio, dropout=dropout, **kwargs)
    return POOLS.build(name, channels, ratio, **kwargs)


@MODELS.register("pooled_gnn")
class PooledGNN(torch.nn.Module):
    r"""``num_layers`` levels of ``GNNBlock -> pool``; after each level the
    :math:`[\mathrm{mean} \,\|\, \max]` readout, summed over levels, then a linear layer
    (SAGPool's hierarchical architecture, Lee et al., ICML 2019). Returns one row per graph.

    Args:
        in_channels, hidden_channels, out_channels (int): sizes.
        num_layers (int): pooling levels. (default: :obj:`3`)
        dropout (float): dropout in the blocks. (default: :obj:`0.5`)
        pool (str): ``gpn``, ``topk``, ``sag``, ``asap``, ``edge`` or ``edge_pyg``.
            (default: :obj:`"gpn"`)
        ratio (float): kept share for TopK / SAG / ASAP. (default: :obj:`0.5`)
        conv (str): conv of the blocks. (default: :obj:`"gcn"`)
        block_layers (int): convs per block. (default: :obj:`1`)
        pool_kwargs (dict, optional): extra arguments for the pool.
    """

    graph_level = True

    def __init__(self, in_channels: int, hidden_channels: int = 128, out_channels: int = 128,
                 num_layers: int = 3, dropout: float = 0.5, pool: str = "gpn",
                 ratio: float = 0.5, conv: str = "gcn", block_layers: int = 1,
                 pool_kwargs: dict | None = None, **kwargs) -> None:
        super().__init__()
        if kwargs:
            raise TypeError(f"PooledGNN: unexpected arguments {sorted(kwargs)}")
        check_range("PooledGNN", "num_layers", num_layers, 1, integer=True)
        check_range("PooledGNN", "ratio", float(ratio), 0.0, 1.0, low_open=True)
        check_choice("PooledGNN", "pool", pool, POOL_NAMES)
        self.pool_name, self.out_channels = pool, out_channels
        self.lin_in = torch.nn.Linear(in_channels, hidden_channels)
        self.blocks = torch.nn.ModuleList(
            GNNBlock(hidden_channels, block_layers, conv, dropout) for _ in range(num_layers))
        self.pools = torch.nn.ModuleList(
            build_pool(pool, hidden_channels, ratio, **(pool_kwargs or {}))
            for _ in range(num_layers))
        self.lin_out = torch.nn.Linear(2 * hidden_channels, out_channels)

    def reset_parameters(self) -> None:
        for m in (self.lin_in, *self.blocks, *self.pools, self.lin_out):
            m.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None,
                batch: Tensor | None = None, num_graphs: int | None = None) -> Tensor:
        batch, num_graphs = batch_and_count(x, batch, num_graphs)
        h = torch.relu(self.lin_in(x))
        out = 0
        for block, pool in zip(self.blocks, self.pools):
            h, edge_index, batch = apply_pool(pool, block(h, edge_index), edge_index, batch)
            out = out + torch.cat([global_mean_pool(h, batch, num_graphs),
                                   global_max_pool(h, batch, num_graphs)], dim=1)
        return self.lin_out(out)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(pool={self.pool_name!r}, levels={len(self.pools)}, "
                f"out={self.out_channels})")

r"""Graph Parsing Networks: learned edge scores, a bottom-up parse, discrete cluster pooling.

Song, Huang, Wang, Zhou, Lin, "Graph Parsing Networks" (ICLR 2024),
`arXiv:2402.14393 <https://arxiv.org/abs/2402.14393>`_.

One pooling step scores every edge, lets each node pick its *dominant* (best-scoring) edge and
takes the weakly connected components of the functional graph ``u -> dom(u)`` as clusters. The
official code grows these components with a sequential Python loop on the CPU; here the parse is
a few scatter reductions plus pointer jumping (:func:`parse_clusters`), on any device and for a
whole mini-batch at once.

Tie-breaking is explicit and total: an undirected edge :math:`\{u, v\}` beats another when its
score is higher, then when :math:`\min(u, v)` is smaller, then when :math:`\max(u, v)` is
smaller. Every component of the dominant-edge graph then holds exactly one mutual pair (its best
edge), so the components are in-trees rooted at a 2-cycle and pointer jumping finds them in
:math:`O(\log n)` rounds.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor
from torch_geometric.nn import GCNConv, GINConv, GraphConv, SAGEConv
from torch_geometric.nn.models import MLP
from torch_geometric.utils import coalesce, dropout_edge, remove_self_loops

from graphkit._checks import check_choice, check_edge_index, check_finite, check_range
from graphkit.registry import CONVS, MODELS, POOLS


def dominant_partner(edge_index: Tensor, score: Tensor, num_nodes: int) -> Tensor:
    r"""The other endpoint of each node's dominant edge (the node itself when isolated).

    Edges are undirected: ``(u, v)`` counts for both ``u`` and ``v``; a pair stored in both
    directions with different scores takes the larger. Ties are broken by the smaller
    :math:`\min(u, v)`, then the smaller :math:`\max(u, v)`. Self-loops must be removed first.

    Args:
        edge_index (Tensor): ``(2, E)`` edges without self-loops.
        score (Tensor): ``(E,)`` edge scores.
        num_nodes (int): number of nodes ``n``.

    Returns:
        Tensor: ``(n,)`` long, ``partner[u] = v`` where ``{u, v}`` is ``u``'s dominant edge.
    """
    row, col = edge_index
    lo, hi = torch.minimum(row, col), torch.maximum(row, col)
    src = torch.cat([row, col])                                  # (2E,) each edge seen by both ends
    s, lo, hi = torch.cat([score, score]), torch.cat([lo, lo]), torch.cat([hi, hi])
    arange = torch.arange(num_nodes, device=row.device)
    best = s.new_full((num_nodes,), -math.inf).scatter_reduce(0, src, s, "amax")
    cand = s == best[src]                                        # best-scoring incident edges
    big = torch.full((num_nodes,), num_nodes, dtype=torch.long, device=row.device)
    best_lo = big.scatter_reduce(0, src[cand], lo[cand], "amin")
    cand = cand & (lo == best_lo[src])
    best_hi = big.scatter_reduce(0, src[cand], hi[cand], "amin")
    # {best_lo, best_hi} = {u, partner}
    return torch.where(best_hi < num_nodes, best_lo + best_hi - arange, arange)


def components_of_partner(partner: Tensor) -> tuple[Tensor, int]:
    r"""Weakly connected components of the functional graph ``u -> partner[u]`` whose only
    cycles are 2-cycles and fixed points (true for :func:`dominant_partner`).

    Each mutual pair becomes a root at its smaller endpoint, then pointer jumping
    (``parent <- parent[parent]``) runs until every node points at its root:
    :math:`\lceil \log_2 \mathrm{depth} \rceil + 1` rounds, one host sync each.

    Returns:
        (Tensor, int): ``(n,)`` cluster id per node (contiguous, ordered by root node id) and
        the number of clusters.
    """
    n = partner.numel()
    arange = torch.arange(n, device=partner.device)
    mutual = partner[partner] == arange
    parent = torch.where(mutual, torch.minimum(arange, partner), partner)
    for _ in range(max(n, 2).bit_length() + 1):   # depth < n: ceil(log2 n) rounds suffice
        grand = parent[parent]
        if torch.equal(grand, parent):
            break
        parent = grand
    is_root = parent == arange
    if not bool(is_root[parent].all()):
        raise ValueError("components_of_partner: 'partner' has a cycle longer than 2; it must "
                         "come from a strict total order of edges (use dominant_partner)")
    ids = torch.cumsum(is_root, 0) - 1
    return ids[parent], int(is_root.sum())


def parse_clusters(edge_index: Tensor, score: Tensor, num_nodes: int) -> tuple[Tensor, int]:
    r"""GPN's parse of a (batched) graph: clusters are the weakly connected components of the
    graph with one edge ``u -> dom(u)`` per non-isolated node, ``dom(u)`` the dominant edge.

    Pure tensor ops (scatter-argmax plus pointer jumping); no loop over graphs, nodes or
    clusters. Self-loops are ignored; isolated nodes become singletons. Clusters never span two
    graphs of a batch (edges do not), each is connected in the input graph, and a graph with at
    least one edge loses at least half of its non-isolated nodes.

    Args:
        edge_index (Tensor): ``(2, E)`` long.
        score (Tensor): ``(E,)`` finite edge scores (higher merges first).
        num_nodes (int): number of nodes ``n``.

    Returns:
        (Tensor, int): ``(n,)`` cluster id per node in ``[0, c)`` and ``c``.
    """
    check_edge_index("parse_clusters", edge_index, num_nodes)
    if score.dim() != 1 or score.numel() != edge_index.size(1):
        raise ValueError(f"parse_clusters: 'score' must have shape ({edge_index.size(1)},), one "
                         f"per edge; got {tuple(score.shape)}")
    check_finite("parse_clusters", "score", score)
    keep = edge_index[0] != edge_index[1]
    partner = dominant_partner(edge_index[:, keep], score[keep].detach(), num_nodes)
    return components_of_partner(partner)


def coarsen_edges(edge_index: Tensor, cluster: Tensor, num_clusters: int) -> Tensor:
    r"""Edges between different clusters: binarised :math:`S^\top A S` without its diagonal,
    symmetrised and coalesced."""
    ce = cluster[edge_index]
    ce = ce[:, ce[0] != ce[1]]
    return coalesce(torch.cat([ce, ce.flip(0)], dim=1), num_nodes=num_clusters)


def batch_and_count(x: Tensor, batch: Tensor | None, num_graphs: int | None
                    ) -> tuple[Tensor, int]:
    """``batch`` (all zeros: one graph, when ``None``) and the number of graphs in it."""
    if batch is None:
        batch = x.new_zeros(x.size(0), dtype=torch.long)
    if num_graphs is None:
        num_graphs = int(batch.max()) + 1 if batch.numel() else 0
    return batch, num_graphs


class GPNPoolOutput(NamedTuple):
    """What :class:`GraphParsingPool` returns: the coarsened graph and the parse."""

    x: Tensor               # (c, F) cluster features
    edge_index: Tensor      # (2, E') coarsened graph
    batch: Tensor           # (c,) graph of each cluster
    cluster: Tensor         # (n,) assignment: cluster id of every input node
    num_clusters: int       # c
    edge_index_parse: Tensor  # (2, E_p) edges the parser saw (no self-loops, after dropout)
    edge_score: Tensor      # (E_p,) their scores s_uv in (0, 1)
    cluster_score: Tensor   # (c,) gate: sum of inside-edge scores (1 for singletons)
    inside_count: Tensor    # (c,) number of inside edges (directed, as stored)


#: PyG's ``LayerNorm`` defaults to ``mode="graph"`` (one statistic over all rows): GPN's norms are
#: per row, so a node's output does not depend on the rest of the batch
_PER_NODE = {"mode": "node"}


class ResidualMLP(torch.nn.Module):
    r""":math:`\mathrm{LayerNorm}(\mathbf{x} + \mathrm{MLP}(\mathbf{x}))`, a ``channels ->
    channels`` MLP of ``num_layers`` layers with a skip and a LayerNorm after it: the DeepSets
    maps of the GPN code (its ``MLP(norm_mode='post')``).

    Args:
        channels (int): feature size.
        num_layers (int): linear layers.
        dropout (float): dropout after each activation. (default: :obj:`0.0`)
        act_final (bool): ReLU (and dropout) after the last layer too. (default: :obj:`True`)
    """

    def __init__(self, channels: int, num_layers: int, dropout: float = 0.0,
                 act_final: bool = True) -> None:
        super().__init__()
        check_range("ResidualMLP", "num_layers", num_layers, 1, integer=True)
        self.mlp = MLP([channels] * (num_layers + 1), dropout=dropout, norm=None,
                       plain_last=not act_final)
        self.norm = torch.nn.LayerNorm(channels)

    def reset_parameters(self) -> None:
        self.mlp.reset_parameters()
        self.norm.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(x + self.mlp(x))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.norm.normalized_shape[0]}, layers={self.mlp.num_layers})"


@POOLS.register("gpn")
class GraphParsingPool(torch.nn.Module):
    r"""One Graph Parsing Network pooling step (Song et al., "Graph Parsing Networks",
    ICLR 2024, `arXiv:2402.14393 <https://arxiv.org/abs/2402.14393>`_).

    .. math::
        s_{uv} = \sigma\big(\mathrm{MLP}(\mathbf{x}_u \odot \mathbf{x}_v)\big), \qquad
        \mathbf{x}_C = \rho\Big(\sum_{v \in C} \phi(\mathbf{x}_v)\Big)
        \cdot \sum_{(u, v) \in E,\; u, v \in C} s_{uv}

    with clusters :math:`C` from :func:`parse_clusters` and DeepSets maps
    :math:`\phi, \rho` of the form :math:`\mathrm{LayerNorm}(\mathbf{x} + \mathrm{MLP}(\mathbf{x}))`
    (:class:`ResidualMLP`); the scoring MLP has LayerNorm in its hidden layers (both as in the
    official code).
    Singleton clusters get gate 1; the gate is the only path from the loss to the scorer (the
    parse itself is discrete). The inside-edge sum runs over the edges as stored (both
    directions of an undirected graph, as the official code counts them). Graphs of the batch
    that have no edge left are finished: their nodes keep ``x_keep`` (default ``x``) unchanged.

    Args:
        channels (int): feature size (kept).
        score_layers (int): layers of the edge-scoring MLP. (default: :obj:`2`)
        deepsets_layers (int): layers of each DeepSets MLP. (default: :obj:`1`)
        dropout (float): dropout inside the MLPs. (default: :obj:`0.0`)
        dropout_parsing (float): share of undirected edges hidden from the parser while
            training. (default: :obj:`0.0`)
        act_final (bool): activation after the last DeepSets layer. (default: :obj:`True`)

    Shapes:
        input ``x (n, F)``, ``edge_index (2, E)``, ``batch (n,)``; output :class:`GPNPoolOutput`.
    """

    def __init__(self, channels: int, score_layers: int = 2, deepsets_layers: int = 1,
                 dropout: float = 0.0, dropout_parsing: float = 0.0,
                 act_final: bool = True) -> None:
        super().__init__()
        check_range("GraphParsingPool", "channels", channels, 1, integer=True)
        check_range("GraphParsingPool", "score_layers", score_layers, 1, integer=True)
        check_range("GraphParsingPool", "deepsets_layers", deepsets_layers, 1, integer=True)
        check_range("GraphParsingPool", "dropout", float(dropout), 0.0, 1.0, high_open=True)
        check_range("GraphParsingPool", "dropout_parsing", float(dropout_parsing), 0.0, 1.0,
                    high_open=True)
        self.channels, self.dropout_parsing = channels, dropout_parsing
        # as the official code: LayerNorm inside the scorer's hidden layers, and DeepSets MLPs
        # in the residual form LayerNorm(x + MLP(x)), so pooled features keep one scale
        # whatever the cluster sizes
        self.scorer = MLP([channels] * score_layers + [1], dropout=dropout, norm="layer_norm",
                          norm_kwargs=_PER_NODE)
        self.pre = ResidualMLP(channels, deepsets_layers, dropout, act_final)
        self.post = ResidualMLP(channels, deepsets_layers, dropout, act_final)

    def reset_parameters(self) -> None:
        for m in (self.scorer, self.pre, self.post):
            m.reset_parameters()

    def score(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """Edge scores :math:`s_{uv} \\in (0, 1)`, ``(E,)``; symmetric in ``u, v``."""
        return torch.sigmoid(self.scorer(x[edge_index[0]] * x[edge_index[1]])).view(-1)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor | None = None,
                x_keep: Tensor | None = None) -> GPNPoolOutput:
        n = x.size(0)
        check_edge_index("GraphParsingPool", edge_index, n)
        if batch is None:
            batch = x.new_zeros(n, dtype=torch.long)
        edge_index = remove_self_loops(edge_index)[0]
        ei_parse = edge_index
        if self.training and self.dropout_parsing > 0:
            ei_parse = dropout_edge(edge_index, p=self.dropout_parsing, force_undirected=True)[0]
        score = self.score(x, ei_parse)                                  # (E_p,)
        partner = dominant_partner(ei_parse, score.detach(), n)
        cluster, c = components_of_partner(partner)

        cr, cc = cluster[ei_parse]
        inside = cr == cc
        gate = score.new_zeros(c).index_add(0, cr[inside], score[inside])
        count = score.new_zeros(c).index_add(0, cr[inside], torch.ones_like(score[inside]))
        gate = torch.where(count > 0, gate, torch.ones_like(gate))
        h = x.new_zeros(c, self.channels).index_add(0, cluster, self.pre(x))
        h = self.post(h) * gate.view(-1, 1)                               # (c, F)

        batch_c = batch.new_zeros(c).scatter(0, cluster, batch)
        graph_live = torch.zeros(n, dtype=torch.bool, device=x.device)   # batch ids < n
        graph_live[batch[ei_parse[0]]] = True
        done = ~graph_live[batch_c]                                       # singletons only
        keep = x if x_keep is None else x_keep
        h_keep = keep.new_zeros(c, keep.size(1)).index_add(0, cluster, keep)
        h = torch.where(done.view(-1, 1), h_keep, h)
        return GPNPoolOutput(h, coarsen_edges(edge_index, cluster, c), batch_c, cluster, c,
                             ei_parse, score, gate, count)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.channels}, "
                f"dropout_parsing={self.dropout_parsing})")


_CONV_NAMES = ("gcn", "gin", "sage", "graphconv")


def _conv(name: str, channels: int) -> torch.nn.Module:
    if name == "gcn":
        return GCNConv(channels, channels)
    if name == "gin":
        return GINConv(torch.nn.Sequential(torch.nn.Linear(channels, channels), torch.nn.ReLU(),
                                           torch.nn.Linear(channels, channels)), train_eps=True)
    if name == "sage":
        return SAGEConv(channels, channels)
    if name == "graphconv":
        return GraphConv(channels, channels)
    return CONVS.build(name, channels, channels)


def check_conv(owner: str, conv: str) -> str:
    if conv not in _CONV_NAMES and conv not in CONVS:
        check_choice(owner, "conv", conv, sorted(set(_CONV_NAMES) | set(CONVS.names())))
    return conv


class GNNBlock(torch.nn.Module):
    r"""``num_layers`` convs, each :math:`\mathbf{h} \leftarrow \mathrm{LayerNorm}(\mathbf{h} +
    \mathrm{drop}(\sigma(\mathrm{conv}(\mathbf{h}))))` (the GPN code's residual + LayerNorm GNN).
    """

    def __init__(self, channels: int, num_layers: int, conv: str = "gcn",
                 dropout: float = 0.0) -> None:
        super().__init__()
        check_range("GNNBlock", "num_layers", num_layers, 1, integer=True)
        check_conv("GNNBlock", conv)
        self.convs = torch.nn.ModuleList(_conv(conv, channels) for _ in range(num_layers))
        self.norms = torch.nn.ModuleList(torch.nn.LayerNorm(channels) for _ in range(num_layers))
        self.dropout, self.conv = dropout, conv

    def reset_parameters(self) -> None:
        for m in (*self.convs, *self.norms):
            m.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        for conv, norm in zip(self.convs, self.norms):
            h = torch.relu(conv(x, edge_index))
            x = norm(x + torch.nn.functional.dropout(h, self.dropout, self.training))
        return x

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.conv!r}, layers={len(self.convs)})"


class _GPNBase(torch.nn.Module):
    """Input MLP, shared GNN block and parser, applied level by level."""

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int, dropout: float, conv: str, score_layers: int,
                 deepsets_layers: int, dropout_parsing: float, max_depth: int,
                 act_final: bool) -> None:
        super().__init__()
        name = type(self).__name__
        for k, v in (("in_channels", in_channels), ("hidden_channels", hidden_channels),
                     ("out_channels", out_channels), ("max_depth", max_depth)):
            check_range(name, k, v, 1, integer=True)
        self.in_channels, self.hidden_channels = in_channels, hidden_channels
        self.out_channels, self.max_depth, self.dropout = out_channels, max_depth, dropout
        # input transform as the official code: Linear -> LayerNorm -> ReLU -> dropout; the
        # per-node norm flattens raw attributes of mixed scales (PROTEINS, ENZYMES) to the
        # largest one, so standardise those first (data.standardize / StandardizeFeatures)
        self.lin_in = MLP([in_channels, hidden_channels], dropout=dropout, norm="layer_norm",
                          norm_kwargs=_PER_NODE, plain_last=False)
        self.block = GNNBlock(hidden_channels, num_layers, conv, dropout)
        self.pool = GraphParsingPool(hidden_channels, score_layers, deepsets_layers, dropout,
                                     dropout_parsing, act_final)
        self.lin_out = torch.nn.Linear(hidden_channels, out_channels)

    def reset_parameters(self) -> None:
        for m in (self.lin_in, self.block, self.pool, self.lin_out):
            m.reset_parameters()

    def parse(self, x: Tensor, edge_index: Tensor, batch: Tensor
              ) -> tuple[Tensor, Tensor, list[tuple[Tensor, Tensor, GPNPoolOutput]]]:
        """Pool until no graph shrinks (or ``max_depth``); return the last features, their
        batch vector and per level ``(edge_index, x before the block, pool output)``."""
        h = self.lin_in(x)
        levels = []
        for _ in range(self.max_depth):
            if edge_index.numel() == 0:
                break
            out = self.pool(self.block(h, edge_index), edge_index, batch, x_keep=h)
            if out.num_clusters == h.size(0):  # only with parsing dropout: nothing merged
                break
            levels.append((edge_index, h, out))
            h, edge_index, batch = out.x, out.edge_index, out.batch
        return h, batch, levels

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"hidden={self.hidden_channels}, block={self.block}, pool={self.pool})")


@MODELS.register("gpn")
class GPN(_GPNBase):
    r"""The Graph Parsing Network for graph-level tasks (Song et al., ICLR 2024,
    `arXiv:2402.14393 <https://arxiv.org/abs/2402.14393>`_): input MLP, then a shared GNN block
    and :class:`GraphParsingPool` applied until no graph of the batch shrinks (a connected graph
    ends as one node after at most :math:`\lceil \log_2 n \rceil` levels) or ``max_depth``; sum
    readout; linear output. Returns one row per graph (``graph_level = True``).

    Args:
        in_channels, hidden_channels, out_channels (int): sizes.
        num_layers (int): convs in the GNN block. (default: :obj:`3`)
        dropout (float): dropout everywhere. (default: :obj:`0.1`)
        conv (str): ``gcn``, ``gin``, ``sage``, ``graphconv`` or a name in ``CONVS``.
        score_layers, deepsets_layers, dropout_parsing, act_final: see
            :class:`GraphParsingPool`.
        max_depth (int): cap on pooling levels. (default: :obj:`64`)

    The last call's parse (one :class:`GPNPoolOutput` per level) is kept in ``self.last_parse``.
    """

    graph_level = True

    def __init__(self, in_channels: int, hidden_channels: int = 128, out_channels: int = 128,
                 num_layers: int = 3, dropout: float = 0.1, conv: str = "gcn",
                 score_layers: int = 2, deepsets_layers: int = 1, dropout_parsing: float = 0.0,
                 max_depth: int = 64, act_final: bool = True, **kwargs) -> None:
        if kwargs:
            raise TypeError(f"GPN: unexpected arguments {sorted(kwargs)}")
        super().__init__(in_channels, hidden_channels, out_channels, num_layers, dropout, conv,
                         score_layers, deepsets_layers, dropout_parsing, max_depth, act_final)
        self.last_parse: list[GPNPoolOutput] = []

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None,
                batch: Tensor | None = None, num_graphs: int | None = None) -> Tensor:
        batch, num_graphs = batch_and_count(x, batch, num_graphs)
        h, batch_out, levels = self.parse(x, edge_index, batch)
        self.last_parse = [out for *_, out in levels]
        g = h.new_zeros(num_graphs, h.size(1)).index_add(0, batch_out, h)  # sum readout
        return self.lin_out(g)


@MODELS.register("gpn_node")
class GPNNode(_GPNBase):
    r"""Graph Parsing Network for node-level tasks (Song et al., ICLR 2024): parse as
    :class:`GPN`, then unpool level by level in reverse,
    :math:`\mathbf{h} \leftarrow \mathrm{GNN}_3(S (\mathbf{h} / m) + \mathbf{h}_{\text{skip}})`
    (:math:`S` the level's assignment, :math:`m` the cluster's inside-edge count, at least 1,
    :math:`\mathbf{h}_{\text{skip}}` the level's input features), then a linear output per node.
    Arguments as :class:`GPN` (defaults follow the paper's Cora settings).
    """

    def __init__(self, in_channels: int, hidden_channels: int = 256, out_channels: int = 7,
                 num_layers: int = 1, dropout: float = 0.5, conv: str = "gcn",
                 score_layers: int = 1, deepsets_layers: int = 2, dropout_parsing: float = 0.5,
                 max_depth: int = 64, act_final: bool = False, unpool_layers: int = 2,
                 **kwargs) -> None:
        if kwargs:
            raise TypeError(f"GPNNode: unexpected arguments {sorted(kwargs)}")
        super().__init__(in_channels, hidden_channels, out_channels, num_layers, dropout, conv,
                         score_layers, deepsets_layers, dropout_parsing, max_depth, act_final)
        self.unpool_block = GNNBlock(hidden_channels, unpool_layers, conv, dropout)
        self.last_parse: list[GPNPoolOutput] = []

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.unpool_block.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None,
                batch: Tensor | None = None) -> Tensor:
        batch, _ = batch_and_count(x, batch, 0)
        h, _, levels = self.parse(x, edge_index, batch)
        self.last_parse = [out for *_, out in levels]
        for ei, skip, out in reversed(levels):
            h = (h / out.inside_count.clamp(min=1).view(-1, 1))[out.cluster] + skip
            h = self.unpool_block(h, ei)
        return self.lin_out(h)

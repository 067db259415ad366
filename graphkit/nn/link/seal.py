r"""SEAL-style labelled-subgraph link head, from `"Link Prediction Based on Graph Neural
Networks" <https://arxiv.org/abs/1802.09691>`_ (Zhang & Chen, NeurIPS 2018) and the labeling
trick (`"Labeling Trick: A Theory of Using Graph Neural Networks for Multi-Node Representation
Learning" <https://arxiv.org/abs/2010.16103>`_).

The enclosing subgraph of :math:`(i, j)` (target edge removed) is labelled with the
double-radius node labelling (DRNL): with :math:`d_i` the distance to :math:`i` with :math:`j`
deleted, :math:`d_j` the distance to :math:`j` with :math:`i` deleted and :math:`d = d_i + d_j`,

.. math::
    f(v) = 1 + \min(d_i, d_j) + \lfloor d/2 \rfloor \big(\lfloor d/2 \rfloor + (d \bmod 2) - 1\big),

:math:`f(i) = f(j) = 1` and :math:`f(v) = 0` when :math:`v` cannot reach :math:`i` or :math:`j`.
A GCN over the label embeddings (and the node vectors) is pooled by DGCNN's sort pooling, a sum,
or the centre product :math:`h_i \odot h_j`, and an MLP gives the logit.
"""
from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor
from torch_geometric.nn import MLP, GCNConv, SortAggregation, global_add_pool

from graphkit._checks import check_choice, check_edge_index, check_range
from graphkit.nn.link.subgraph import CSRCache, EnclosingSubgraphs, enclosing_subgraphs
from graphkit.registry import HEADS

__all__ = ["SEALHead", "drnl_from_distances", "drnl_labels", "sort_k_percentile",
           "subgraph_distances"]


def sort_k_percentile(edge_index: Tensor, num_nodes: int, links: Tensor, num_hops: int = 2, *,
                      percentile: float = 0.6, max_nodes_per_hop: int | None = None,
                      min_k: int = 10, chunk_size: int = 4096) -> int:
    r"""SEAL's choice of the sort-pooling size: the ``percentile`` quantile of the enclosing
    subgraph sizes of ``links`` (SEAL: the training links, positives and negatives, 0.6),
    :math:`k = s_{(\lceil q B \rceil)}` over the sorted sizes :math:`s_{(1)} \le \dots \le
    s_{(B)}`, and at least ``min_k`` (SEAL: 10, what DGCNN's 1-D convolutions need)."""
    owner = "sort_k_percentile"
    if not 0.0 < percentile <= 1.0:
        raise ValueError(f"{owner}: 'percentile' must be in (0, 1]; got {percentile!r}")
    if links.dim() != 2 or links.size(0) != 2 or links.size(1) == 0:
        raise ValueError(f"{owner}: 'links' must be a non-empty (2, B) tensor; "
                         f"got shape {tuple(links.shape)}")
    csr = CSRCache().get(edge_index, num_nodes)
    sizes = []
    for chunk in links.split(chunk_size, dim=1):      # bounded memory on large link sets
        sub = enclosing_subgraphs(edge_index, num_nodes, chunk, num_hops, candidate="remove",
                                  max_nodes_per_hop=max_nodes_per_hop, csr=csr)
        sizes.append(torch.bincount(sub.batch, minlength=sub.num_subgraphs))
    sizes = torch.cat(sizes).sort().values
    k = int(sizes[math.ceil(percentile * sizes.numel()) - 1])
    return max(min_k, k)


def subgraph_distances(sub: EnclosingSubgraphs) -> Tensor:
    r"""BFS distances inside every subgraph, ``(n, 2)``: column 0 to :math:`i` with :math:`j`
    deleted, column 1 to :math:`j` with :math:`i` deleted; the candidate edge is never used;
    unreachable nodes get ``-1``. One vectorised BFS step per distance level, all subgraphs and
    both sources together."""
    n = sub.num_nodes
    src, dst = sub.edge_index[:, ~sub.cand_mask]
    ci, cj = sub.center
    dist = torch.full((n, 2), -1, dtype=torch.long, device=src.device)
    blocked = torch.zeros(n, 2, dtype=torch.bool, device=src.device)
    blocked[cj, 0] = True
    blocked[ci, 1] = True
    dist[ci, 0] = 0
    dist[cj, 1] = 0
    frontier = dist == 0
    level = 0
    while bool(frontier.any()):
        level += 1
        reach = torch.zeros(n, 2, dtype=torch.long, device=src.device)
        reach.index_add_(0, dst, frontier[src].long())
        frontier = (reach > 0) & (dist < 0) & ~blocked
        dist[frontier] = level
    return dist


def drnl_from_distances(d_i: Tensor, d_j: Tensor) -> Tensor:
    """DRNL label from the two distances (``-1`` = unreachable); see the module docstring."""
    d = d_i + d_j
    half, odd = torch.div(d, 2, rounding_mode="floor"), d % 2
    f = 1 + torch.minimum(d_i, d_j) + half * (half + odd - 1)
    f = torch.where((d_i < 0) | (d_j < 0), torch.zeros_like(f), f)
    return torch.where((d_i == 0) | (d_j == 0), torch.ones_like(f), f)


def drnl_labels(sub: EnclosingSubgraphs) -> Tensor:
    """DRNL label of every subgraph node, ``(n,)`` long."""
    dist = subgraph_distances(sub)
    return drnl_from_distances(dist[:, 0], dist[:, 1])


@HEADS.register("seal")
class SEALHead(torch.nn.Module):
    r"""SEAL link head: DRNL-labelled enclosing subgraphs (target edge removed), a GCN and a
    pooling (see the module docstring).

    Args:
        channels (int): size of the node vectors ``z`` it receives.
        in_channels (int, optional): overrides ``channels``.
        hidden_channels (int): GCN width. (default: :obj:`32`)
        num_layers (int): GCN layers. (default: :obj:`3`)
        num_hops (int): enclosing-subgraph radius. (default: :obj:`2`)
        max_nodes_per_hop (int, optional): random cap per hop. (default: :obj:`None`)
        pooling (str): ``"sort"`` (DGCNN: SortAggregation + 1-D convolutions), ``"sum"`` or
            ``"center"`` (:math:`h_i \odot h_j`). (default: ``"sort"``)
        sort_k (int): nodes kept by sort pooling; SEAL's data-dependent choice is
            :func:`sort_k_percentile` (the trainer applies it when ``head_kwargs.sort_k`` is a
            fraction such as ``0.6``). (default: :obj:`30`)
        num_labels (int): DRNL labels embedded (larger labels are clipped). (default: :obj:`50`)
        use_feature (bool): concatenate ``z`` to the label embedding. (default: :obj:`True`)
        dropout (float): dropout before the last layer. (default: :obj:`0.5`)

    Shapes:
        - **input:** ``z``: :math:`(|\mathcal{V}|, F)`, ``edge_label_index``: :math:`(2, B)`,
          ``graph``: ``Data`` with the observed ``edge_index`` and ``num_nodes``
        - **output:** logits :math:`(B,)`
    """

    needs_graph = True
    POOLINGS = ("sort", "sum", "center")

    def __init__(self, channels: int, *, in_channels: int | None = None,
                 hidden_channels: int = 32, num_layers: int = 3, num_hops: int = 2,
                 max_nodes_per_hop: int | None = None, pooling: str = "sort", sort_k: int = 30,
                 num_labels: int = 50, use_feature: bool = True, dropout: float = 0.5) -> None:
        super().__init__()
        owner = type(self).__name__
        in_channels = channels if in_channels is None else in_channels
        check_choice(owner, "pooling", pooling, self.POOLINGS)
        check_range(owner, "num_layers", num_layers, 1, integer=True)
        check_range(owner, "num_hops", num_hops, 1, integer=True)
        check_range(owner, "sort_k", sort_k, 1, integer=True)
        check_range(owner, "num_labels", num_labels, 2, integer=True)
        self.in_channels, self.hidden_channels, self.num_layers = in_channels, hidden_channels, num_layers
        self.num_hops, self.max_nodes_per_hop, self.pooling = num_hops, max_nodes_per_hop, pooling
        self.sort_k, self.num_labels, self.use_feature = sort_k, num_labels, use_feature
        self.dropout = dropout
        self._csr = CSRCache()
        self.label_emb = torch.nn.Embedding(num_labels, hidden_channels)
        feat = hidden_channels + (in_channels if use_feature else 0)
        dims = [feat] + [hidden_channels] * num_layers
        if pooling == "sort":
            dims[-1] = 1  # DGCNN's last GCN layer outputs one channel (the sort key)
        self.convs = torch.nn.ModuleList(GCNConv(a, b) for a, b in itertools.pairwise(dims))
        total = sum(dims[1:])
        if pooling == "sort":
            self.sort = SortAggregation(k=sort_k)
            self.conv1d_1 = torch.nn.Conv1d(1, 16, total, total)
            self.conv1d_2 = torch.nn.Conv1d(16, 32, 5, 1)
            width = (max(sort_k // 2 - 5 + 1, 1)) * 32
            self.mlp = MLP([width, 128, 1], dropout=dropout, norm=None)
            if sort_k // 2 < 5:
                raise ValueError(f"{owner}: 'sort_k' must be >= 10 for the DGCNN convolutions; "
                                 f"got {sort_k}")
        else:
            self.mlp = MLP([total, hidden_channels, 1], dropout=dropout, norm=None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.label_emb.reset_parameters()
        for conv in self.convs:
            conv.reset_parameters()
        if self.pooling == "sort":
            self.conv1d_1.reset_parameters()
            self.conv1d_2.reset_parameters()
        self.mlp.reset_parameters()

    def forward(self, z: Tensor, edge_label_index: Tensor, graph) -> Tensor:
        if z.size(-1) != self.in_channels:
            raise ValueError(f"{type(self).__name__}: 'z' has {z.size(-1)} channels but the head "
                             f"was built for in_channels={self.in_channels}")
        n = int(graph.num_nodes)
        check_edge_index(type(self).__name__, graph.edge_index, n, "graph.edge_index")
        sub = enclosing_subgraphs(graph.edge_index, n, edge_label_index, self.num_hops,
                                  candidate="remove", max_nodes_per_hop=self.max_nodes_per_hop,
                                  csr=self._csr.get(graph.edge_index, n))
        x = self.label_emb(drnl_labels(sub).clamp(max=self.num_labels - 1))
        if self.use_feature:
            x = torch.cat([x, z[sub.node_id]], dim=-1)
        hs = []
        for conv in self.convs:
            x = torch.tanh(conv(x, sub.edge_index))
            hs.append(x)
        h = torch.cat(hs, dim=-1)
        if self.pooling == "center":
            out = h[sub.center[0]] * h[sub.center[1]]
        elif self.pooling == "sum":
            out = global_add_pool(h, sub.batch, size=sub.num_subgraphs)
        else:
            out = self.sort(h, sub.batch, dim_size=sub.num_subgraphs).unsqueeze(1)  # (B, 1, k*D)
            out = torch.relu(self.conv1d_1(out))
            out = torch.nn.functional.max_pool1d(out, 2, 2)
            out = torch.relu(self.conv1d_2(out)).flatten(1)
        return self.mlp(out).view(-1)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, hidden={self.hidden_channels}, "
                f"num_layers={self.num_layers}, pooling={self.pooling!r})")

r"""Batched :math:`k`-hop enclosing subgraphs of candidate links, extracted from a CSR at once.

For a batch of candidate links :math:`(i_b, j_b)` the enclosing subgraph of link :math:`b` is
the subgraph induced by the nodes within :math:`k` hops of :math:`\{i_b, j_b\}`, as in SEAL
(`"Link Prediction Based on Graph Neural Networks" <https://arxiv.org/abs/1802.09691>`_) and
WalkPool (`"Neural Link Prediction with Walk Pooling" <https://arxiv.org/abs/2110.04375>`_).

All links are expanded together: the frontier is a set of ``(link, node)`` pairs, keyed
``link * N + node``; one hop expands every frontier node's CSR row (:func:`sample_ranges`),
drops pairs already visited (``searchsorted`` on the sorted visited keys) and optionally keeps a
random ``max_nodes_per_hop`` of the new ones per link. Induced edges come from one more row
expansion. Work is proportional to the summed degrees of the subgraph nodes; nothing scans the
whole edge list per link and there is no Python loop over links.

The candidate's own directed copies :math:`i \to j, j \to i` are always dropped from the
induced edges (a training positive is an edge of the observed graph, a test candidate is not);
``candidate="add"`` then appends both copies at the end of the subgraph's edges and marks them
in ``cand_mask`` (WalkPool's :math:`G^+`; :math:`G^-` is :math:`G^+` without the masked
edges), ``candidate="remove"`` leaves them out (SEAL). Either way, training and test candidates
look alike.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from graphkit._checks import check_choice, check_edge_index, check_range
from graphkit.sampling.csr import build_csr, ptr_from_sorted
from graphkit.sampling.neighbor import sample_ranges

__all__ = ["CSRCache", "EnclosingSubgraphs", "enclosing_subgraphs"]


@dataclass
class EnclosingSubgraphs:
    r"""A batch of :math:`B` enclosing subgraphs in PyG's batched layout.

    Attributes:
        node_id (Tensor): :math:`(n,)` id in the original graph of every subgraph node.
        edge_index (Tensor): :math:`(2, m)` edges in batched numbering (source first).
        batch (Tensor): :math:`(n,)` subgraph of every node (sorted).
        ptr (Tensor): :math:`(B + 1,)` node ranges of the subgraphs.
        center (Tensor): :math:`(2, B)` batched positions of :math:`i_b` and :math:`j_b`
            (always ``ptr[b]`` and ``ptr[b] + 1``).
        hop (Tensor): :math:`(n,)` hop at which a node was reached (0 for :math:`i, j`).
        cand_mask (Tensor): :math:`(m,)` ``True`` at the candidate's two directed copies.
        edge_batch (Tensor): :math:`(m,)` subgraph of every edge.
    """

    node_id: Tensor
    edge_index: Tensor
    batch: Tensor
    ptr: Tensor
    center: Tensor
    hop: Tensor
    cand_mask: Tensor
    edge_batch: Tensor

    @property
    def num_subgraphs(self) -> int:
        return self.ptr.numel() - 1

    @property
    def num_nodes(self) -> int:
        return self.node_id.numel()


class CSRCache:
    """The CSR of the last graph seen (rebuilding it per batch is wasted work)."""

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.value: tuple[Tensor, Tensor] | None = None

    def get(self, edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
        key = (edge_index.data_ptr(), tuple(edge_index.shape), num_nodes,
               edge_index._version, str(edge_index.device))
        if key != self.key:
            rowptr, col, _ = build_csr(edge_index, num_nodes)
            self.key, self.value = key, (rowptr, col)
        return self.value


def _check_pairs(owner: str, pairs: Tensor, num_nodes: int) -> None:
    check_edge_index(owner, pairs, num_nodes, "edge_label_index")
    self_pair = (pairs[0] == pairs[1]).nonzero().view(-1)
    if self_pair.numel():
        k = int(self_pair[0])
        raise ValueError(f"{owner}: candidate links must join two distinct nodes; "
                         f"'edge_label_index' has {self_pair.numel()} self-pair(s), first at "
                         f"column {k}: ({int(pairs[0, k])}, {int(pairs[1, k])})")


def _member(sorted_keys: Tensor, keys: Tensor) -> tuple[Tensor, Tensor]:
    """``(found, slot)``: whether each key is in ``sorted_keys`` and where."""
    if sorted_keys.numel() == 0:
        return torch.zeros_like(keys, dtype=torch.bool), torch.zeros_like(keys)
    slot = torch.searchsorted(sorted_keys, keys).clamp_(max=sorted_keys.numel() - 1)
    return sorted_keys[slot] == keys, slot


def _cap_per_group(group: Tensor, cap: int, generator: torch.Generator | None) -> Tensor:
    """Mask keeping a uniformly random ``cap`` entries of every group."""
    r = torch.rand(group.numel(), generator=generator, device=group.device)
    order = torch.argsort(r)
    order = order[torch.sort(group[order], stable=True).indices]  # by group, random within
    g = group[order]
    start = torch.searchsorted(g, g)  # first slot of each entry's group
    keep = torch.zeros_like(group, dtype=torch.bool)
    keep[order[(torch.arange(g.numel(), device=g.device) - start) < cap]] = True
    return keep


def enclosing_subgraphs(edge_index: Tensor, num_nodes: int, pairs: Tensor, num_hops: int = 2,
                        *, candidate: str = "add", max_nodes_per_hop: int | None = None,
                        csr: tuple[Tensor, Tensor] | None = None,
                        generator: torch.Generator | None = None) -> EnclosingSubgraphs:
    r"""Extract the :math:`k`-hop enclosing subgraph of every candidate link in ``pairs``.

    Args:
        edge_index (Tensor): :math:`(2, |\mathcal{E}|)` observed graph (both directions of an
            undirected edge; only message-passing edges, never test links).
        num_nodes (int): :math:`|\mathcal{V}|`.
        pairs (Tensor): :math:`(2, B)` candidate links; duplicates are fine, self-pairs
            :math:`(u, u)` raise.
        num_hops (int): :math:`k`. (default: :obj:`2`)
        candidate (str): ``"add"`` (both directed copies appended and flagged in
            ``cand_mask``) or ``"remove"``. (default: ``"add"``)
        max_nodes_per_hop (int, optional): keep at most this many (uniformly random) new nodes
            per hop and link. (default: :obj:`None`, all)
        csr (tuple, optional): ``(rowptr, col)`` of ``edge_index`` from :func:`build_csr`, to
            skip rebuilding it for every batch.
        generator (torch.Generator, optional): randomness of ``max_nodes_per_hop``.
    """
    owner = "enclosing_subgraphs"
    check_choice(owner, "candidate", candidate, ("add", "remove"))
    check_range(owner, "num_hops", num_hops, 0, integer=True)
    if max_nodes_per_hop is not None:
        check_range(owner, "max_nodes_per_hop", max_nodes_per_hop, 1, integer=True)
    _check_pairs(owner, pairs, num_nodes)
    device, n, num_links = pairs.device, num_nodes, pairs.size(1)
    if csr is None:
        rowptr, col, _ = build_csr(edge_index.to(device), n)
    else:
        rowptr, col = csr
    arange = torch.arange(num_links, device=device)

    # visited (link, node) pairs in discovery order: i's, j's, then hop by hop
    link = torch.cat([arange, arange])
    node = torch.cat([pairs[0], pairs[1]])
    hop = torch.zeros(2 * num_links, dtype=torch.long, device=device)
    seen = torch.sort(link * n + node).values
    f_link, f_node = link, node
    for h in range(1, num_hops + 1):
        if f_node.numel() == 0:
            break
        rows, slot = sample_ranges(rowptr[f_node], rowptr[f_node + 1], -1)
        key = torch.unique(f_link[rows] * n + col[slot])
        found, _ = _member(seen, key)
        key = key[~found]
        if max_nodes_per_hop is not None and key.numel():
            key = key[_cap_per_group(key // n, max_nodes_per_hop, generator)]
        f_link, f_node = key // n, key % n
        link, node = torch.cat([link, f_link]), torch.cat([node, f_node])
        hop = torch.cat([hop, torch.full_like(f_link, h)])
        seen = torch.sort(torch.cat([seen, key])).values

    order = torch.sort(link, stable=True).indices  # group by link, discovery order inside
    batch, node_id, hop = link[order], node[order], hop[order]
    ptr = ptr_from_sorted(batch, num_links)
    # batched position of every (link, node) key
    keys, pos = torch.sort(batch * n + node_id)

    # induced edges: expand every subgraph node's row, keep targets inside the same subgraph
    rows, slot = sample_ranges(rowptr[node_id], rowptr[node_id + 1], -1)
    found, where = _member(keys, batch[rows] * n + col[slot])
    src, dst = rows[found], pos[where[found]]
    ci, cj = ptr[:-1], ptr[:-1] + 1
    eb = batch[src]
    is_cand = ((src == ci[eb]) & (dst == cj[eb])) | ((src == cj[eb]) & (dst == ci[eb]))
    src, dst = src[~is_cand], dst[~is_cand]
    cand_mask = torch.zeros(src.numel(), dtype=torch.bool, device=device)
    if candidate == "add":
        src = torch.cat([src, ci, cj])
        dst = torch.cat([dst, cj, ci])
        cand_mask = torch.cat([cand_mask, torch.ones(2 * num_links, dtype=torch.bool,
                                                     device=device)])
        # keep edges grouped by subgraph (PyG batching order)
        perm = torch.sort(batch[src], stable=True).indices
        src, dst, cand_mask = src[perm], dst[perm], cand_mask[perm]
    ei = torch.stack([src, dst])
    return EnclosingSubgraphs(node_id=node_id, edge_index=ei, batch=batch, ptr=ptr,
                              center=torch.stack([ci, cj]), hop=hop, cand_mask=cand_mask,
                              edge_batch=batch[src])

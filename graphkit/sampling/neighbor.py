r"""Vectorised multi-hop neighbor sampling in pure PyTorch (no pyg-lib, no torch-sparse).

The algorithm is the one of GraphSAGE (`"Inductive Representation Learning on Large Graphs"
<https://arxiv.org/abs/1706.02216>`_) as implemented by pyg-lib, with the same output
semantics, but every hop is a handful of tensor kernels over the whole frontier:

1. slot ranges ``[lo, hi)`` of all frontier nodes from the :class:`~graphkit.sampling.csr.CSC`
   (shrunk to the neighbors with time :math:`\le` the seed's time when temporal);
2. :func:`sample_ranges` draws :math:`\min(k, \deg)` slots per node without replacement
   (Floyd's algorithm run on all rows at once, :math:`k` vector steps), :math:`k` with
   replacement, or by weight (inverse CDF with replacement, Efraimidis-Spirakis keys
   :math:`-\log u / w` without);
3. a mapper gives the sampled nodes local ids in order of first appearance, so the output
   is ordered exactly like pyg-lib's: seeds first, then the new nodes of hop 1, hop 2, ...

Per hop and edge type the cost is :math:`O(m k)` for a frontier of :math:`m` nodes and
fan-out :math:`k` (plus :math:`O(m k^2)` comparisons for Floyd), independent of the graph
size; weighted sampling without replacement reads the whole neighborhood, :math:`O(\sum \deg)`.

Non-disjoint batches map node ids through a dense ``(N,)`` buffer kept by the caller and
tagged with a per-batch epoch (so it is never reset or scanned); disjoint batches (one subgraph
per seed, forced by temporal sampling) key nodes by ``(seed, node)`` and map them with a sort.
"""
from __future__ import annotations

import torch
from torch import Tensor

from graphkit.sampling.csr import CSC

__all__ = ["hetero_neighbor_sample", "sample_ranges"]

NodeType = str
EdgeType = tuple[str, str, str]


# One hop ##################################################################################

def _expand_ranges(lo: Tensor, cnt: Tensor) -> tuple[Tensor, Tensor]:
    """All slots ``lo[i] + j`` for ``j < cnt[i]``, row-major: ``(row index, slot)``."""
    idx = torch.repeat_interleave(torch.arange(lo.numel(), device=lo.device), cnt)
    start = torch.cumsum(cnt, 0) - cnt
    offs = torch.arange(idx.numel(), device=lo.device) - start.index_select(0, idx)
    return idx, lo.index_select(0, idx) + offs


def _select_rows(slot: Tensor, row_ok: Tensor) -> tuple[Tensor, Tensor]:
    """Flatten an ``(m, k)`` slot matrix keeping the rows where ``row_ok``: ``(row, slot)``."""
    rows = row_ok.nonzero().view(-1)
    k = slot.size(1)
    idx = rows.repeat_interleave(k)
    return idx, slot.index_select(0, rows).view(-1)


def _floyd(deg: Tensor, k: int) -> Tensor:
    """``(m, k)`` offsets: a uniformly random k-subset of ``[0, deg_i)`` per row (deg_i > k)."""
    m = deg.numel()
    out = torch.empty(m, k, dtype=torch.long, device=deg.device)
    u = torch.rand(m, k, dtype=torch.float64, device=deg.device)
    for i in range(k):  # loop over the fan-out, vectorised over rows
        j = deg - k + i  # inclusive upper bound of this step
        t = torch.minimum((u[:, i] * (j + 1)).long(), j)
        if i > 0:
            t = torch.where((out[:, :i] == t.unsqueeze(1)).any(1), j, t)
        out[:, i] = t
    return out


def sample_ranges(lo: Tensor, hi: Tensor, k: int, replace: bool = False,
                  weight: Tensor | None = None,
                  cum_weight: Tensor | None = None) -> tuple[Tensor, Tensor]:
    r"""Sample slots from the ranges ``[lo[i], hi[i])`` of every row at once.

    Args:
        lo (Tensor), hi (Tensor): :math:`(m,)` slot ranges.
        k (int): fan-out; ``-1`` takes every slot.
        replace (bool): sample with replacement. (default: :obj:`False`)
        weight (Tensor, optional): :math:`(E,)` slot weights (zero-weight slots are never drawn).
        cum_weight (Tensor, optional): :math:`(E+1,)` prefix sums of ``weight``.

    Returns:
        ``(index, slot)``: the row each sample belongs to and the sampled slot, ordered by row
        then draw. Without replacement a row yields :math:`\min(k, \deg_i)` distinct slots
        (all of them, in slot order, when :math:`\deg_i \le k`); with replacement :math:`k`
        slots when :math:`\deg_i > 0`.
    """
    deg = (hi - lo).clamp_(min=0)
    m, device = deg.numel(), deg.device
    if m == 0 or k == 0:
        empty = torch.empty(0, dtype=torch.long, device=device)
        return empty, empty

    if weight is not None:
        c_lo = cum_weight.index_select(0, lo)
        total = cum_weight.index_select(0, hi) - c_lo
        if replace and k > 0:  # inverse CDF over the row's slice of the prefix sums
            u = torch.rand(m, k, dtype=torch.float64, device=device)
            target = c_lo.unsqueeze(1) + u * total.unsqueeze(1)
            slot = torch.searchsorted(cum_weight, target, right=True) - 1
            slot = torch.minimum(torch.maximum(slot, lo.unsqueeze(1)), (hi - 1).unsqueeze(1))
            return _select_rows(slot, total > 0)
        idx, slot = _expand_ranges(lo, deg)  # without replacement: look at all slots
        w = weight.index_select(0, slot)
        if k < 0:  # take every slot of positive weight, in slot order
            keep = (w > 0).nonzero().view(-1)
            return idx.index_select(0, keep), slot.index_select(0, keep)
        key = torch.empty_like(w).exponential_() / w  # Efraimidis-Spirakis; inf when w == 0
        order = torch.sort(key, stable=True).indices
        order = order.index_select(0, torch.sort(idx.index_select(0, order), stable=True).indices)
        idx, slot, key = (t.index_select(0, order) for t in (idx, slot, key))
        start = (torch.cumsum(deg, 0) - deg).index_select(0, idx)
        rank = torch.arange(idx.numel(), device=device) - start
        keep = ((rank < k) & torch.isfinite(key)).nonzero().view(-1)
        return idx.index_select(0, keep), slot.index_select(0, keep)

    if k < 0:
        return _expand_ranges(lo, deg)
    if replace:
        u = torch.rand(m, k, dtype=torch.float64, device=device)
        slot = lo.unsqueeze(1) + torch.minimum((u * deg.unsqueeze(1)).long(),
                                               (deg - 1).clamp(min=0).unsqueeze(1))
        return _select_rows(slot, deg > 0)

    offs = torch.arange(k, device=device).unsqueeze(0).expand(m, k).contiguous()
    big = (deg > k).nonzero().view(-1)
    if big.numel():
        offs.index_copy_(0, big, _floyd(deg.index_select(0, big), k))
    # rows with deg <= k keep offsets 0..deg-1
    flat = (offs < deg.unsqueeze(1)).view(-1).nonzero().view(-1)
    idx = torch.repeat_interleave(torch.arange(m, device=device), deg.clamp(max=k))
    return idx, lo.index_select(0, idx) + offs.view(-1).index_select(0, flat)


# Mapping global nodes to local ids ########################################################

class DenseMapper:
    r"""Local ids through a dense ``(N,)`` int64 buffer shared across batches.

    Entry :math:`v` holds :math:`\mathrm{epoch} \cdot 2^{32} + \mathrm{local}(v)` when
    :math:`v` was seen in the current batch; anything below :math:`\mathrm{epoch} \cdot 2^{32}`
    means unseen, so nothing needs resetting between batches (a fresh buffer is filled
    with ``-1``; the caller passes a new ``epoch >= 1`` for every batch).
    """

    def __init__(self, buffer: Tensor, seed: Tensor, epoch: int) -> None:
        self.buf, self.count = buffer, seed.numel()
        self.base = epoch << 32
        pos = torch.arange(seed.numel(), device=seed.device) + self.base
        self.buf.index_fill_(0, seed, self.base + seed.numel())
        self.buf.scatter_reduce_(0, seed, pos, "amin")  # duplicate seeds -> first occurrence

    def insert(self, key: Tensor) -> tuple[Tensor, Tensor]:
        """Local id of every key and the new keys in order of first appearance."""
        buf, base = self.buf, self.base
        pos = (buf.index_select(0, key) < base).nonzero().view(-1)
        cand = key.index_select(0, pos)
        if cand.numel():
            buf.index_fill_(0, cand, base + key.numel())
            buf.scatter_reduce_(0, cand, pos + base, "amin")
            first = (buf.index_select(0, cand) == pos + base).nonzero().view(-1)
            new = cand.index_select(0, first)
            buf.index_copy_(0, new, torch.arange(base + self.count,
                                                 base + self.count + new.numel(),
                                                 device=key.device))
            self.count += new.numel()
        else:
            new = cand
        return buf.index_select(0, key) - base, new

    def lookup(self, key: Tensor) -> Tensor:
        """Local id of every key, ``-1`` for keys not sampled in this batch."""
        v = self.buf.index_select(0, key)
        return torch.where(v >= self.base, v - self.base, -1)

    def close(self) -> None:
        pass


class SortMapper:
    """Local ids for arbitrary int64 keys (e.g. ``seed * N + node``) by sorting."""

    def __init__(self, seed_key: Tensor) -> None:
        self.seen = seed_key  # keys in local-id order (assumed distinct)

    def insert(self, key: Tensor) -> tuple[Tensor, Tensor]:
        n_seen = self.seen.numel()
        allk = torch.cat([self.seen, key])
        uniq, inv = torch.unique(allk, return_inverse=True)
        first = torch.full((uniq.numel(),), allk.numel(), dtype=torch.long, device=key.device)
        first.scatter_reduce_(0, inv, torch.arange(allk.numel(), device=key.device), "amin")
        new_u = (first >= n_seen).nonzero().view(-1)
        new_u = new_u.index_select(0, torch.sort(first.index_select(0, new_u)).indices)
        local_u = first.index_copy(0, new_u, torch.arange(n_seen, n_seen + new_u.numel(),
                                                           device=key.device))
        new = uniq.index_select(0, new_u)
        self.seen = torch.cat([self.seen, new])
        return local_u.index_select(0, inv[n_seen:]), new

    def close(self) -> None:
        self.seen = self.seen[:0]


# Multi-hop, (heterogeneous) ###############################################################

def hetero_neighbor_sample(
    csc: dict[EdgeType, CSC],
    num_nodes: dict[NodeType, int],
    seed: dict[NodeType, Tensor],
    num_neighbors: dict[EdgeType, list[int]],
    *,
    seed_time: dict[NodeType, Tensor] | None = None,
    replace: bool = False,
    disjoint: bool = False,
    temporal_strategy: str = "uniform",
    weighted: bool = False,
    buffers: dict[NodeType, Tensor] | None = None,
    epoch: int = 1,
    induced: bool = False,
) -> tuple[dict, dict, dict, dict, dict | None, dict, dict]:
    r"""Sample a multi-hop subgraph around ``seed`` over the edge types of ``csc``.

    Hop :math:`\ell` visits the edge types in ``csc`` order; edge type ``(s, r, d)`` samples
    ``num_neighbors[(s, r, d)][ell]`` in-neighbors (of type ``s``) for every type-``d`` node
    found in hop :math:`\ell - 1`. Temporal sampling (``seed_time`` given) keeps, for the
    edge types whose :class:`CSC` is temporal, only neighbors with time :math:`\le` the time
    of the seed whose subgraph they join; ``temporal_strategy="last"`` takes the most recent
    ones instead of a uniform draw.

    Args:
        csc: one :class:`CSC` per edge type, all on one device.
        num_nodes: node count per node type.
        seed: seed nodes per node type (may be empty).
        num_neighbors: fan-out list per edge type (equal lengths; ``-1`` = all neighbors).
        seed_time: seed times per seed node type (requires ``disjoint=True``).
        replace, disjoint, temporal_strategy, weighted: as in PyG's ``NeighborSampler``.
        buffers: dense ``(N_t,)`` long buffers (non-disjoint mapping), filled with ``-1`` when
            new; reused across calls with a growing ``epoch`` (see :class:`DenseMapper`).
        epoch (int): a number larger than at any earlier call with the same buffers.
        induced (bool): return every edge between the sampled nodes instead of the sampled
            edges (``subgraph_type="induced"``; not with ``disjoint``); ``num_sampled_edges``
            is then :obj:`None`.

    Returns:
        ``(node, row, col, edge, batch, num_sampled_nodes, num_sampled_edges)`` as in
        :class:`~torch_geometric.sampler.HeteroSamplerOutput` (``edge`` holds original edge
        ids; ``batch`` is :obj:`None` unless disjoint).
    """
    device = next(iter(csc.values())).device if csc else next(iter(seed.values())).device
    node_types = list(num_nodes)
    num_hops = max([len(v) for v in num_neighbors.values()] + [0])
    long = {"dtype": torch.long, "device": device}

    nodes: dict[NodeType, list[Tensor]] = {t: [] for t in node_types}
    batches: dict[NodeType, list[Tensor]] = {t: [] for t in node_types}
    frontier: dict[NodeType, tuple[Tensor, Tensor, Tensor]] = {}
    mappers: dict[NodeType, object] = {}
    num_sampled_nodes = {t: [] for t in node_types}
    times: list[Tensor] = []
    offset = 0
    # disjoint subgraph ids follow the order of the seed dict, as in pyg-lib
    for t in [t for t in seed if t in num_nodes] + [t for t in node_types if t not in seed]:
        s = seed.get(t, torch.empty(0, **long)).to(device=device, dtype=torch.long)
        b = torch.arange(offset, offset + s.numel(), **long)
        offset += s.numel()
        if seed_time is not None and s.numel():
            if t not in seed_time:
                raise ValueError(f"hetero_neighbor_sample: seeds of type {t!r} have no seed time")
            times.append(seed_time[t].to(device))
        if disjoint:
            mappers[t] = SortMapper(b * num_nodes[t] + s)
        else:
            mappers[t] = DenseMapper(buffers[t], s, epoch)
        nodes[t].append(s)
        batches[t].append(b)
        frontier[t] = (s, torch.arange(s.numel(), **long), b)
        num_sampled_nodes[t].append(s.numel())
    seed_times = torch.cat(times) if times else None

    rows = {e: [] for e in csc}
    cols = {e: [] for e in csc}
    edges = {e: [] for e in csc}
    num_sampled_edges = {e: [] for e in csc}
    try:
        for hop in range(num_hops):
            new_front: dict[NodeType, list[tuple[Tensor, Tensor, Tensor]]] = {t: [] for t in node_types}
            for et, C in csc.items():
                src_t, dst_t = et[0], et[-1]
                k = num_neighbors[et][hop]
                fg, fl, fb = frontier[dst_t]
                lo, hi = C.colptr.index_select(0, fg), C.colptr.index_select(0, fg + 1)
                if disjoint and seed_times is not None and C.is_temporal:
                    r = torch.searchsorted(C.time_values,
                                           seed_times.index_select(0, fb).to(C.time_values.dtype),
                                           right=True)
                    hi = torch.searchsorted(C.time_key, fg * (C.time_values.numel() + 1) + r,
                                            right=True)
                    if temporal_strategy == "last" and k >= 0:
                        lo = torch.maximum(lo, hi - k)
                idx, slot = sample_ranges(lo, hi, k, replace,
                                          C.weight if weighted else None,
                                          C.cum_weight if weighted else None)
                nbr = C.row.index_select(0, slot)
                key = fb.index_select(0, idx) * C.num_src + nbr if disjoint else nbr
                local, new = mappers[src_t].insert(key)
                if disjoint:
                    new_b, new = new // C.num_src, new % C.num_src
                else:
                    new_b = torch.empty(0, **long)
                start = sum(x.numel() for x in nodes[src_t])
                nodes[src_t].append(new)
                batches[src_t].append(new_b)
                new_front[src_t].append((new, torch.arange(start, start + new.numel(), **long), new_b))
                rows[et].append(local)
                cols[et].append(fl.index_select(0, idx))
                edges[et].append(C.perm.index_select(0, slot))
                num_sampled_edges[et].append(local.numel())
            for t in node_types:
                parts = new_front[t]
                if parts:
                    frontier[t] = tuple(torch.cat([p[i] for p in parts]) for i in range(3))
                else:
                    frontier[t] = (torch.empty(0, **long),) * 3
                num_sampled_nodes[t].append(frontier[t][0].numel())
    finally:
        for mp in mappers.values():
            mp.close()

    cat = lambda xs: torch.cat(xs) if xs else torch.empty(0, **long)
    node = {t: cat(nodes[t]) for t in node_types}
    batch = {t: cat(batches[t]) for t in node_types} if disjoint else None
    if induced:  # every edge among the sampled nodes (the dense buffers still hold this batch)
        for et, C in csc.items():
            dst = node[et[-1]]
            idx, slot = _expand_ranges(C.colptr.index_select(0, dst),
                                       (C.colptr.index_select(0, dst + 1) -
                                        C.colptr.index_select(0, dst)))
            src_local = mappers[et[0]].lookup(C.row.index_select(0, slot))
            keep = (src_local >= 0).nonzero().view(-1)
            rows[et] = [src_local.index_select(0, keep)]
            cols[et] = [idx.index_select(0, keep)]
            edges[et] = [C.perm.index_select(0, slot.index_select(0, keep))]
        num_sampled_edges = None
    return (node, {e: cat(v) for e, v in rows.items()}, {e: cat(v) for e, v in cols.items()},
            {e: cat(v) for e, v in edges.items()}, batch, num_sampled_nodes, num_sampled_edges)

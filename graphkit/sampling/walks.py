r"""Uniform and node2vec random walks, vectorised over all walkers, on CPU or GPU.

node2vec (`"node2vec: Scalable Feature Learning for Networks"
<https://arxiv.org/abs/1607.00653>`_) biases a second-order walk that came from :math:`t` to
:math:`v` when choosing the next node :math:`x \in \mathcal{N}(v)`:

.. math::
    \pi(x \mid t, v) \propto \alpha_{pq}(t, x) =
    \begin{cases} 1/p & d_{tx} = 0 \ (x = t) \\ 1 & d_{tx} = 1 \\ 1/q & d_{tx} = 2 \end{cases}

Small :math:`p` makes walks return, small :math:`q` makes them move outward (DFS-like).
Sampling is exact by rejection (as in KnightKing and torch-cluster): propose :math:`x`
uniformly from :math:`\mathcal{N}(v)`, accept with probability
:math:`\alpha_{pq}(t, x) / \max(1/p, 1, 1/q)` (a draw below :math:`\min(1/p, 1, 1/q)` accepts
without looking :math:`d_{tx}` up); walkers that reject propose again, all pending walkers in
one vector step. :math:`d_{tx} = 1` is one ``searchsorted`` over the sorted edge keys
:math:`u N + v`. A walker on a node without out-edges stays there (torch-cluster's rule).
"""
from __future__ import annotations

import torch
from torch import Tensor

from graphkit._checks import check_range
from graphkit.registry import SAMPLERS
from graphkit.sampling.csr import build_csr

__all__ = ["RandomWalkSampler", "random_walk"]


def _has_edge(keys: Tensor, num_nodes: int, u: Tensor, v: Tensor) -> Tensor:
    q = u * num_nodes + v
    i = torch.searchsorted(keys, q).clamp_(max=max(keys.numel() - 1, 0))
    return (keys[i] == q) if keys.numel() else torch.zeros_like(q, dtype=torch.bool)


def _propose(col: Tensor, base: Tensor, deg: Tensor, idx: Tensor) -> Tensor:
    """A uniform out-neighbor of each walker in ``idx`` (all have ``deg > 0``)."""
    d = deg.index_select(0, idx)
    r = torch.rand(idx.numel(), dtype=torch.float64, device=deg.device)
    off = torch.minimum((r * d).long(), d - 1)
    return col.index_select(0, base.index_select(0, idx) + off)


def random_walk(rowptr: Tensor, col: Tensor, start: Tensor, walk_length: int,
                p: float = 1.0, q: float = 1.0, max_rounds: int = 10_000) -> Tensor:
    r"""Random walks from every node of ``start`` (one walker each), all advanced together.

    Args:
        rowptr (Tensor): :math:`(|\mathcal{V}|+1,)` out-neighbor pointers (see
            :func:`~graphkit.sampling.csr.build_csr`).
        col (Tensor): :math:`(|\mathcal{E}|,)` out-neighbors, sorted within each row.
        start (Tensor): :math:`(W,)` start nodes.
        walk_length (int): number of steps :math:`L`.
        p (float): return parameter. (default: :obj:`1.0`)
        q (float): in-out parameter. (default: :obj:`1.0`)
        max_rounds (int): cap on rejection rounds per step; walkers still pending after it
            take their last proposal (never reached in practice). (default: :obj:`10000`)

    Returns:
        :math:`(W, L + 1)` node ids, column 0 is ``start``.

    Example:
        >>> rowptr, col, _ = build_csr(edge_index, num_nodes)
        >>> walks = random_walk(rowptr, col, torch.arange(num_nodes), 20, p=0.5, q=2.0)
    """
    check_range("random_walk", "walk_length", walk_length, low=0, integer=True)
    check_range("random_walk", "p", float(p), low=0.0, low_open=True)
    check_range("random_walk", "q", float(q), low=0.0, low_open=True)
    device = rowptr.device
    n, W = rowptr.numel() - 1, start.numel()
    start = start.to(device=device, dtype=torch.long)
    if W and (int(start.min()) < 0 or int(start.max()) >= n):
        raise ValueError(f"random_walk: 'start' holds ids in [{int(start.min())}, "
                         f"{int(start.max())}] but the graph has {n} nodes")
    deg_all = rowptr[1:] - rowptr[:-1]
    biased = not (p == 1.0 and q == 1.0)
    keys = None
    if biased:
        src = torch.repeat_interleave(torch.arange(n, device=device), deg_all)
        keys = src * n + col
    w_ret, w_out = 1.0 / p, 1.0 / q
    w_max, w_min = max(w_ret, 1.0, w_out), min(w_ret, 1.0, w_out)

    out = torch.empty(W, walk_length + 1, dtype=torch.long, device=device)
    out[:, 0] = start
    cur, prev = start, None
    for step in range(walk_length):  # loop over steps; every kernel covers all walkers
        deg = deg_all.index_select(0, cur)
        base = rowptr.index_select(0, cur)
        alive = (deg > 0).nonzero().view(-1)
        nxt = cur.clone()
        if prev is None or not biased:
            nxt[alive] = _propose(col, base, deg, alive)
        else:
            pending = alive
            for _ in range(max_rounds):
                if pending.numel() == 0:
                    break
                x = _propose(col, base, deg, pending)
                u = torch.rand(pending.numel(), device=device, dtype=torch.float64) * w_max
                acc = u < w_min  # accepted whatever d(t, x) is: no edge look-up needed
                chk = (~acc).nonzero().view(-1)
                if chk.numel():
                    xc, tc = x.index_select(0, chk), prev.index_select(0, pending[chk])
                    alpha = torch.where(xc == tc, w_ret,
                                        torch.where(_has_edge(keys, n, tc, xc), 1.0, w_out))
                    acc[chk] = u.index_select(0, chk) < alpha
                nxt[pending[acc]] = x[acc]
                pending = pending[~acc]
            if pending.numel():
                nxt[pending] = _propose(col, base, deg, pending)
        out[:, step + 1] = nxt
        prev, cur = cur, nxt
    return out


@SAMPLERS.register("random_walk")
class RandomWalkSampler:
    r"""Holds the out-neighbor layout of a graph and draws (node2vec) walks from it.

    See :func:`random_walk` for the transition rule.

    Args:
        edge_index (Tensor): :math:`(2, |\mathcal{E}|)` edges (both directions for an
            undirected graph); its device is the sampling device.
        num_nodes (int, optional): :math:`|\mathcal{V}|`. (default: ``max id + 1``)
        p (float), q (float): node2vec parameters. (default: :obj:`1.0`)

    Example:
        >>> walker = RandomWalkSampler(edge_index, p=0.25, q=4.0)
        >>> walks = walker(torch.arange(100), walk_length=10)   # (100, 11)
    """

    def __init__(self, edge_index: Tensor, num_nodes: int | None = None,
                 p: float = 1.0, q: float = 1.0) -> None:
        if num_nodes is None:
            num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
        check_range(type(self).__name__, "p", float(p), low=0.0, low_open=True)
        check_range(type(self).__name__, "q", float(q), low=0.0, low_open=True)
        self.num_nodes, self.p, self.q = num_nodes, float(p), float(q)
        self.rowptr, self.col, _ = build_csr(edge_index, num_nodes)

    def __call__(self, start: Tensor, walk_length: int) -> Tensor:
        return random_walk(self.rowptr, self.col, start, walk_length, self.p, self.q)

    def to(self, device) -> RandomWalkSampler:
        self.rowptr, self.col = self.rowptr.to(device), self.col.to(device)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_nodes={self.num_nodes}, p={self.p}, q={self.q})"

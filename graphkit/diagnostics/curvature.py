r"""Edge curvatures for over-squashing diagnostics and curvature-based rewiring (SDRF, BORF).

- :func:`balanced_forman_curvature`: Definition 1 of `"Understanding over-squashing and
  bottlenecks on graphs via curvature" <https://arxiv.org/abs/2111.14522>`_ (Topping et al.,
  ICLR 2022), exact, sparse and vectorised over 3-paths; ``kind="sdrf_kernel"`` gives the
  formula of the released SDRF kernel (``jctops/understanding-oversquashing``) with its
  ``break``-for-``continue`` bug fixed.
- :func:`ollivier_ricci_curvature`: :math:`\kappa(x, y) = 1 - W_1(\mu_x, \mu_y)` with
  :math:`\mu_x = \alpha\,\delta_x + (1-\alpha)\,\mathrm{U}(N(x))` (BORF, Nguyen et al. ICML 2023
  uses :math:`\alpha = 0`), every edge's transport problem solved at once: exactly as one
  block-diagonal linear program (default) or approximately by batched log-domain Sinkhorn.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from graphkit._checks import check_choice, check_edge_index, check_range


def _simple(edge_index: Tensor, num_nodes: int) -> np.ndarray:
    from graphkit.transforms._rewire import simple_undirected
    return simple_undirected(edge_index, num_nodes)


def _expand(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``owner[t]`` and ``pos[t]`` for the concatenation of ranges ``[starts[o], starts[o] +
    counts[o])`` (vectorised CSR row expansion)."""
    owner = np.repeat(np.arange(counts.size), counts)
    off = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.repeat(starts, counts) + off


def _lookup(keys: np.ndarray, vals: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``vals`` at ``query`` keys (0 where absent); ``keys`` sorted."""
    if keys.size == 0:
        return np.zeros(query.shape, vals.dtype)
    pos = np.searchsorted(keys, query).clip(max=keys.size - 1)
    return np.where(keys[pos] == query, vals[pos], 0)


def _csr_keys(M: sp.csr_matrix, n: int) -> tuple[np.ndarray, np.ndarray]:
    c = M.tocoo()
    k = c.row.astype(np.int64) * n + c.col.astype(np.int64)
    o = np.argsort(k)
    return k[o], c.data[o]


def bfc_simple(ei: np.ndarray, n: int, kind: str = "paper") -> np.ndarray:
    """Balanced Forman curvature of every column of a simple undirected ``ei`` (both directions,
    sorted by ``row * n + col`` as :func:`graphkit.transforms._rewire.simple_undirected` gives)."""
    E = ei.shape[1]
    if E == 0:
        return np.zeros(0)
    A = sp.csr_matrix((np.ones(E), (ei[0], ei[1])), shape=(n, n))
    A.sort_indices()
    deg = np.diff(A.indptr).astype(np.float64)
    akeys = ei[0] * n + ei[1]                      # sorted
    i, j = ei
    A2 = (A @ A).tocsr()
    k2, v2 = _csr_keys(A2, n)
    tri = _lookup(k2, v2, akeys)
    dmax, dmin = np.maximum(deg[i], deg[j]), np.minimum(deg[i], deg[j])
    if kind == "sdrf_kernel":
        # sum over k of [A_kj (A2_ik - A_ik) > 0] and of [A_ik (A2_kj - A_kj) > 0]; lambda = max
        sharp, lam = np.zeros(E), np.zeros(E)
        for a, b in ((i, j), (j, i)):              # k in N(b): value A2[a, k] - A[a, k]
            e, pos = _expand(A.indptr[b], deg[b].astype(np.int64))
            k = A.indices[pos]
            q = a[e] * n + k
            val = _lookup(k2, v2, q) - _lookup(akeys, np.ones(E), q)
            pos_ = val > 0
            sharp += np.bincount(e[pos_], minlength=E)
            np.maximum.at(lam, e[pos_], val[pos_])
        with np.errstate(divide="ignore", invalid="ignore"):
            C = 2 / dmax + 2 / dmin - 2 + (2 / dmax + 1 / dmin) * tri
            C = C + np.where(lam > 0, sharp / (dmax * np.where(lam > 0, lam, 1)), 0.0)
        return np.where(dmax * dmin == 0, 0.0, C)
    # paper definition: k in N(i) \ N(j), k != j, with c_k = #{w in N(k) & N(j) \ N(i), w != i}
    e1, pos1 = _expand(A.indptr[i], deg[i].astype(np.int64))
    k = A.indices[pos1]
    ok = (k != j[e1]) & (_lookup(akeys, np.ones(E), j[e1] * n + k) == 0)
    e1, k = e1[ok], k[ok]
    e2, pos2 = _expand(A.indptr[k], deg[k].astype(np.int64))
    w = A.indices[pos2]
    ee = e1[e2]
    good = (w != i[ee]) & (_lookup(akeys, np.ones(E), j[ee] * n + w) > 0) & \
           (_lookup(akeys, np.ones(E), i[ee] * n + w) == 0)
    ck = np.bincount(e2[good], minlength=k.size)              # per (edge, k) pair
    has = ck > 0
    sq = np.bincount(e1[has], minlength=E).astype(np.float64)  # |#box^i(i, j)|
    gam = np.zeros(E)
    np.maximum.at(gam, e1[has], ck[has].astype(np.float64))
    rev = np.searchsorted(akeys, j * n + i)                    # index of (j, i)
    sq_j, gam_max = sq[rev], np.maximum(gam, gam[rev])
    with np.errstate(divide="ignore", invalid="ignore"):
        C = 2 / deg[i] + 2 / deg[j] - 2 + 2 * tri / dmax + tri / dmin
        C = C + np.where(gam_max > 0, (sq + sq_j) / (np.where(gam_max > 0, gam_max, 1) * dmax), 0)
    return np.where(dmin <= 1, 0.0, C)


def _align(values: np.ndarray, ei: np.ndarray, edge_index: Tensor, n: int) -> Tensor:
    """Per-column values of ``edge_index`` from values on the simple graph (self-loops: 0)."""
    q = edge_index.cpu().numpy()
    out = _lookup(ei[0] * n + ei[1], values, q[0] * n + q[1])
    return torch.from_numpy(np.asarray(out, dtype=np.float64))


def balanced_forman_curvature(edge_index: Tensor, num_nodes: int, kind: str = "paper") -> Tensor:
    r"""Balanced Forman curvature of every edge (Topping et al. 2022, Def. 1):

    .. math::
        \mathrm{Ric}(i,j) = \frac{2}{d_i} + \frac{2}{d_j} - 2 + 2\frac{|\sharp_\Delta|}{\max(d_i,d_j)}
        + \frac{|\sharp_\Delta|}{\min(d_i,d_j)} + \frac{|\sharp_\square^i| + |\sharp_\square^j|}
        {\gamma_{\max}\,\max(d_i,d_j)}

    (0 when :math:`\min(d_i, d_j) = 1`; the last term 0 when there is no 4-cycle). Values:
    :math:`K_n`: :math:`n/(n-1)`; cycles :math:`C_4`: 1, :math:`C_{n \ge 5}`: 0; grid interior: 0.

    Args:
        edge_index (Tensor): :math:`(2, |\mathcal{E}|)`, treated as undirected and simple.
        num_nodes (int): :math:`N`.
        kind (str, optional): ``"paper"`` (the definition) or ``"sdrf_kernel"`` (the released
            SDRF numba / CUDA kernel's formula, with ``continue`` where the numba port has
            ``break``). (default: ``"paper"``)

    Returns:
        Tensor: :math:`(|\mathcal{E}|,)` float64, aligned with the columns of ``edge_index``.
    """
    check_edge_index("balanced_forman_curvature", edge_index, num_nodes)
    check_choice("balanced_forman_curvature", "kind", kind, {"paper", "sdrf_kernel"})
    ei = _simple(edge_index, num_nodes)
    return _align(bfc_simple(ei, num_nodes, kind), ei, edge_index, num_nodes)


# --------------------------------------------------------------------------- Ollivier-Ricci
def _lse(x: np.ndarray, axis: int) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def _sinkhorn(cost: np.ndarray, a: np.ndarray, b: np.ndarray, eps: float, num_iters: int,
              tol: float = 1e-7) -> tuple[np.ndarray, np.ndarray]:
    """Batched log-domain Sinkhorn: ``cost`` ``(B, m, m)``, marginals ``a``, ``b`` ``(B, m)``
    (zeros allowed; stops early once row marginals are within ``tol``) -> transport costs ``(B,)`` and plans ``(B, m, m)``. NumPy, so it does not
    contend for torch's thread pool."""
    with np.errstate(divide="ignore"):
        la, lb = np.log(a), np.log(b)
    la, lb = np.where(a > 0, la, -1e30), np.where(b > 0, lb, -1e30)
    f = np.zeros_like(a)
    g = np.zeros_like(b)
    e = max(eps, 1.0)
    for it in range(num_iters):                    # epsilon scaling: 1, 1/2, ... down to eps
        K = -cost / e
        f = np.where(a > 0, e * (la - _lse(K + g[:, None, :] / e, 2)), -1e4)
        g = np.where(b > 0, e * (lb - _lse(K + f[:, :, None] / e, 1)), -1e4)
        if e > eps:
            e = max(eps, e * 0.7)
        elif it % 10 == 9:                         # stop once the row marginals match
            rows = np.exp(_lse(K + f[:, :, None] / e + g[:, None, :] / e, 2))
            if np.abs(np.where(a > 0, rows, 0.0) - a).max() < tol:
                break
    K = -cost / eps
    plan = np.exp(K + f[:, :, None] / eps + g[:, None, :] / eps)
    plan = np.where((a[:, :, None] > 0) & (b[:, None, :] > 0), plan, 0.0)
    return (plan * cost).sum(axis=(1, 2)), plan


def _batched_lp(cost: np.ndarray, a: np.ndarray, b: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Exact transport for a batch of small problems as ONE block-diagonal linear program
    (HiGHS): ``cost`` ``(B, m, m)``, marginals ``(B, m)`` (zero-mass rows / columns are left
    out) -> costs ``(B,)`` and plans ``(B, m, m)``."""
    from scipy.optimize import linprog
    Bn, m, _ = cost.shape
    var = (a[:, :, None] > 0) & (b[:, None, :] > 0)             # (B, m, m) variables used
    vb, vi, vj = np.nonzero(var)
    nv = vb.size
    # one row constraint per (problem, i) with a > 0 and one column constraint per (problem, j)
    rid = np.full((Bn, m), -1)
    ra = a > 0
    rid[ra] = np.arange(int(ra.sum()))
    cid = np.full((Bn, m), -1)
    cb = b > 0
    cid[cb] = int(ra.sum()) + np.arange(int(cb.sum()))
    rows = np.concatenate([rid[vb, vi], cid[vb, vj]])
    cols = np.concatenate([np.arange(nv), np.arange(nv)])
    Aeq = sp.csr_matrix((np.ones(2 * nv), (rows, cols)), shape=(int(ra.sum() + cb.sum()), nv))
    beq = np.concatenate([a[ra], b[cb]])
    res = linprog(cost[vb, vi, vj], A_eq=Aeq, b_eq=beq, bounds=(0, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"ollivier_ricci_curvature: the transport LP failed ({res.message})")
    plan = np.zeros_like(cost)
    plan[vb, vi, vj] = res.x
    return (plan * cost).sum(axis=(1, 2)), plan


def orc_simple(ei: np.ndarray, n: int, alpha: float = 0.0, eps: float = 0.01,
               num_iters: int = 2000, max_elements: int = 1_000_000, return_plan: bool = False,
               method: str = "lp"):
    """Ollivier-Ricci curvature on every column of a simple undirected ``ei``; with
    ``return_plan``, also the ``(p, q)`` pair of largest transport cost ``plan * dist`` per edge
    (``p`` in ``{x} + N(x)``, ``q`` in ``{y} + N(y)``), which BORF connects."""
    E = ei.shape[1]
    kappa = np.zeros(E)
    best_pq = np.full((2, E), -1, dtype=np.int64)
    if E == 0:
        return (kappa, best_pq) if return_plan else kappa
    A = sp.csr_matrix((np.ones(E), (ei[0], ei[1])), shape=(n, n))
    A.sort_indices()
    deg = np.diff(A.indptr)
    akeys = ei[0] * n + ei[1]
    k2, v2 = _csr_keys((A @ A).tocsr(), n)
    size = np.maximum(deg[ei[0]], deg[ei[1]]) + 1
    fwd = np.nonzero(ei[0] < ei[1])[0]             # solve each undirected edge once
    order = fwd[np.argsort(size[fwd], kind="stable")]
    if method == "lp":
        max_elements = min(max_elements, 60_000)   # small LPs keep HiGHS' time linear
    s = 0
    while s < order.size:                          # chunks of similar support size
        m = int(size[order[s]])
        cnt = max(1, max_elements // (m * m))
        idx = order[s:s + cnt]
        m = int(size[idx].max())
        idx = order[s:s + max(1, max_elements // (m * m))]
        s += idx.size
        x, y = ei[0, idx], ei[1, idx]

        def support(c, idx=idx, m=m):
            B = idx.size
            sup = np.full((B, m), -1, dtype=np.int64)
            sup[:, 0] = c
            dc = deg[c]
            e, pos = _expand(A.indptr[c], dc)
            off = np.arange(e.size) - np.repeat(np.cumsum(dc) - dc, dc)
            sup[e, off + 1] = A.indices[pos]
            mass = np.zeros((B, m))
            mass[:, 0] = alpha
            valid = sup >= 0
            valid[:, 0] = False
            mass = np.where(valid, (1 - alpha) / np.maximum(dc, 1)[:, None], mass)
            mass[dc == 0, 0] = 1.0
            return sup, mass

        su, mu = support(x)
        sv, mv = support(y)
        P = su[:, :, None]
        Q = sv[:, None, :]
        key = np.where((P >= 0) & (Q >= 0), P * n + Q, -1)
        dist = np.where(P == Q, 0.0, np.where(_lookup(akeys, np.ones(E), key) > 0, 1.0,
                                              np.where(_lookup(k2, v2, key) > 0, 2.0, 3.0)))
        if method == "lp":
            W, plan = _batched_lp(dist, mu, mv)
        else:
            W, plan = _sinkhorn(dist, mu, mv, eps, num_iters)
        kappa[idx] = 1.0 - W
        if return_plan:
            # candidate pairs p != q that are not yet adjacent (dist >= 2)
            score = np.where(dist >= 2, plan * dist, -1.0).reshape(idx.size, -1)
            flat = score.argmax(axis=1)
            okp = score.max(axis=1) > 0
            pi, qi = flat // m, flat % m
            rows = np.arange(idx.size)
            best_pq[0, idx] = np.where(okp, su[rows, pi], -1)
            best_pq[1, idx] = np.where(okp, sv[rows, qi], -1)
    rev = np.searchsorted(akeys, ei[1, fwd] * n + ei[0, fwd])   # (y, x) for every (x, y)
    kappa[rev] = kappa[fwd]
    best_pq[:, rev] = best_pq[::-1, fwd]
    return (kappa, best_pq) if return_plan else kappa


def ollivier_ricci_curvature(edge_index: Tensor, num_nodes: int, alpha: float = 0.0,
                             method: str = "lp", eps: float = 0.01, num_iters: int = 2000
                             ) -> Tensor:
    r"""Ollivier-Ricci curvature :math:`\kappa(x,y) = 1 - W_1(\mu_x, \mu_y)` of every edge,
    :math:`\mu_x = \alpha\delta_x + (1-\alpha)\,\mathrm{U}(N(x))`, hop distance as ground cost.

    Values (:math:`\alpha = 0`): :math:`K_n`: :math:`(n-2)/(n-1)`; path / tree interior edges: 0
    or below; cycles :math:`C_{n \ge 6}`: 0.

    Args:
        edge_index (Tensor): :math:`(2, |\mathcal{E}|)`, treated as undirected and simple.
        num_nodes (int): :math:`N`.
        alpha (float, optional): laziness. (default: :obj:`0.0`, as BORF)
        method (str, optional): ``"lp"`` (exact: every edge's transport problem in one
            block-diagonal HiGHS linear program, chunked) or ``"sinkhorn"`` (batched log-domain
            entropic OT with epsilon scaling; approximate). (default: ``"lp"``)
        eps (float, optional): Sinkhorn's final regularisation. (default: :obj:`0.01`)
        num_iters (int, optional): Sinkhorn's maximum iterations. (default: :obj:`2000`)

    Returns:
        Tensor: :math:`(|\mathcal{E}|,)` float64, aligned with ``edge_index``.
    """
    check_edge_index("ollivier_ricci_curvature", edge_index, num_nodes)
    check_range("ollivier_ricci_curvature", "alpha", alpha, 0.0, 1.0)
    check_range("ollivier_ricci_curvature", "eps", eps, 0.0, low_open=True)
    check_choice("ollivier_ricci_curvature", "method", method, {"lp", "sinkhorn"})
    ei = _simple(edge_index, num_nodes)
    return _align(orc_simple(ei, num_nodes, alpha, eps, num_iters, method=method), ei,
                  edge_index, num_nodes)

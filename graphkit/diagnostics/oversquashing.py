r"""Over-squashing measures: effective resistance, spectral gap, curvature summaries, Jacobian
sensitivity between nodes at distance :math:`r`, and :func:`rewiring_report` (before / after a
rewiring transform) for ``graphkit data info NAME --rewire laser``.

References: effective resistance and over-squashing, `"Understanding Oversquashing in GNNs
through the Lens of Effective Resistance" <https://arxiv.org/abs/2302.06835>`_ (Black et al.,
ICML 2023); Jacobian sensitivity :math:`\|\partial \mathbf{h}_v^{(L)} / \partial \mathbf{x}_u\|`,
Topping et al. (ICLR 2022) and Di Giovanni et al. (ICML 2023).

Graphs up to ``dense_threshold`` nodes use dense linear algebra; larger ones use sparse
factorisations (SciPy ``splu``) on the Laplacian grounded at one node per connected component,
and Hutchinson trace estimates for the total resistance.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch
from torch import Tensor

from graphkit._checks import check_edge_index, check_range
from graphkit.diagnostics.curvature import (
    _simple,
    balanced_forman_curvature,
    ollivier_ricci_curvature,
)

DENSE_THRESHOLD = 2000


def _laplacian(edge_index: Tensor, num_nodes: int) -> sp.csr_matrix:
    ei = _simple(edge_index, num_nodes)
    A = sp.csr_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(num_nodes, num_nodes))
    return (sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A).tocsr()


def _components(L: sp.csr_matrix) -> tuple[int, np.ndarray]:
    from scipy.sparse.csgraph import connected_components
    return connected_components(L, directed=False)


def _pinv_laplacian(L: sp.csr_matrix) -> np.ndarray:
    r"""Dense :math:`\mathbf{L}^+` as :math:`(\mathbf{L} + \mathbf{P})^{-1} - \mathbf{P}` with
    :math:`\mathbf{P} = \sum_c \mathbf{1}_c\mathbf{1}_c^\top / n_c` (exact; no eigenvalue
    cut-off, unlike ``pinv``)."""
    _, label = _components(L)
    size = np.bincount(label)
    P = (label[:, None] == label[None, :]) / size[label][:, None]
    return np.linalg.inv(L.toarray() + P) - P


class _GroundedSolver:
    """Solves :math:`L x = b` on the Laplacian grounded at the first node of every component
    (grounded entries of :math:`x` are 0), i.e. applies :math:`G` with
    :math:`R_{uv} = (e_u - e_v)^\top G (e_u - e_v)` inside a component."""

    def __init__(self, L: sp.csr_matrix) -> None:
        n = L.shape[0]
        self.ncomp, self.label = _components(L)
        first = np.full(self.ncomp, n)
        np.minimum.at(first, self.label, np.arange(n))
        self.free = np.ones(n, dtype=bool)
        self.free[first] = False
        self.n = n
        Lr = L[self.free][:, self.free].tocsc()
        self.lu = spla.splu(Lr) if Lr.shape[0] else None

    def solve(self, B: np.ndarray) -> np.ndarray:
        out = np.zeros_like(B, dtype=np.float64)
        if self.lu is not None:
            out[self.free] = self.lu.solve(np.ascontiguousarray(B[self.free], dtype=np.float64))
        return out


def effective_resistance(edge_index: Tensor, num_nodes: int, pairs: Tensor | None = None,
                         dense_threshold: int = DENSE_THRESHOLD, chunk: int = 256) -> Tensor:
    r"""Effective resistance :math:`R_{uv} = (\mathbf{e}_u - \mathbf{e}_v)^\top \mathbf{L}^+
    (\mathbf{e}_u - \mathbf{e}_v)` (``inf`` across components).

    Args:
        edge_index (Tensor): :math:`(2, |\mathcal{E}|)`, treated as undirected, unweighted.
        num_nodes (int): :math:`N`.
        pairs (Tensor, optional): :math:`(2, P)` node pairs; without it the dense
            :math:`(N, N)` matrix is returned (only for :math:`N \le` ``dense_threshold``).
        dense_threshold (int, optional): above it, sparse grounded solves are used.
        chunk (int, optional): right-hand sides per sparse solve.

    Returns:
        Tensor: :math:`(P,)` or :math:`(N, N)`, float64.

    Example:
        >>> effective_resistance(path_edge_index, 5, torch.tensor([[0], [4]]))   # tensor([4.])
    """
    check_edge_index("effective_resistance", edge_index, num_nodes)
    L = _laplacian(edge_index, num_nodes)
    _, label = _components(L)
    if pairs is None:
        if num_nodes > dense_threshold:
            raise ValueError(f"effective_resistance: the dense (N, N) matrix needs N <= "
                             f"{dense_threshold}; got N={num_nodes}; pass 'pairs' instead")
        Lp = _pinv_laplacian(L)
        d = np.diag(Lp)
        R = d[:, None] + d[None, :] - 2 * Lp
        R[label[:, None] != label[None, :]] = np.inf
        return torch.from_numpy(np.maximum(R, 0.0))
    check_edge_index("effective_resistance", pairs, num_nodes, name="pairs")
    u, v = pairs.cpu().numpy()
    same = label[u] == label[v]
    out = np.full(u.size, np.inf)
    if num_nodes <= dense_threshold:
        Lp = _pinv_laplacian(L)
        r = Lp[u, u] + Lp[v, v] - 2 * Lp[u, v]
        out[same] = np.maximum(r[same], 0.0)
        return torch.from_numpy(out)
    solver = _GroundedSolver(L)
    idx = np.nonzero(same)[0]
    for s in range(0, idx.size, chunk):          # blocks of right-hand sides
        b = idx[s:s + chunk]
        B = np.zeros((num_nodes, b.size))
        B[u[b], np.arange(b.size)] += 1.0
        B[v[b], np.arange(b.size)] -= 1.0
        X = solver.solve(B)
        out[b] = X[u[b], np.arange(b.size)] - X[v[b], np.arange(b.size)]
    return torch.from_numpy(out)


def total_effective_resistance(edge_index: Tensor, num_nodes: int,
                               dense_threshold: int = DENSE_THRESHOLD, num_probes: int = 64,
                               seed: int = 0) -> float:
    r"""Total effective resistance :math:`R_{\mathrm{tot}} = \sum_{u<v} R_{uv}` over pairs in the
    same component (:math:`= N\,\mathrm{tr}(\mathbf{L}^+)` for a connected graph). Exact below
    ``dense_threshold`` nodes; above, :math:`\sum_c n_c\,\mathrm{tr}(G_c) - \mathbf{1}^\top G_c
    \mathbf{1}` with a Hutchinson estimate (``num_probes`` Rademacher probes, seeded) of the
    trace on the grounded Laplacian."""
    check_edge_index("total_effective_resistance", edge_index, num_nodes)
    L = _laplacian(edge_index, num_nodes)
    ncomp, label = _components(L)
    size = np.bincount(label, minlength=ncomp)
    if num_nodes <= dense_threshold:
        Lp = _pinv_laplacian(L)
        return float((size[label] * np.diag(Lp)).sum() - 0.0)  # 1^T L_c^+ 1 = 0 per component
    solver = _GroundedSolver(L)
    onehot = sp.csr_matrix((np.ones(num_nodes), (np.arange(num_nodes), label)),
                           shape=(num_nodes, ncomp)).toarray()
    ones_term = float((onehot * solver.solve(onehot)).sum())
    rng = np.random.default_rng(seed)
    Z = rng.choice([-1.0, 1.0], size=(num_nodes, num_probes))
    tr = float(((size[label][:, None] * Z) * solver.solve(Z)).sum() / num_probes)
    return tr - ones_term


def spectral_gap(edge_index: Tensor, num_nodes: int, normalized: bool = True,
                 dense_threshold: int = DENSE_THRESHOLD) -> float:
    r"""Second-smallest eigenvalue :math:`\lambda_2` of the (symmetric normalised, by default)
    Laplacian; 0 for a disconnected graph. Dense ``eigvalsh`` below ``dense_threshold`` nodes,
    Lanczos (``eigsh`` on :math:`2\mathbf{I} - \mathbf{L}`) above."""
    check_edge_index("spectral_gap", edge_index, num_nodes)
    if num_nodes < 2:
        return 0.0
    L = _laplacian(edge_index, num_nodes)
    if _components(L)[0] > 1:
        return 0.0
    if normalized:
        d = L.diagonal()
        s = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)
        L = (sp.identity(num_nodes) - sp.diags(s) @ (sp.diags(d) - L) @ sp.diags(s)).tocsr()
        L = L - sp.diags(np.where(d > 0, 0.0, 1.0))   # isolated nodes: eigenvalue 0
    if num_nodes <= dense_threshold:
        ev = np.linalg.eigvalsh(L.toarray())
    else:
        shift = 2.0 if normalized else float(L.diagonal().max()) * 2
        M = (shift * sp.identity(num_nodes) - L).tocsr()
        ev = shift - spla.eigsh(M, k=2, which="LA", return_eigenvectors=False, tol=1e-8)
    ev = np.sort(ev)
    return float(max(ev[1], 0.0))


def curvature_summary(edge_index: Tensor, num_nodes: int, ollivier: bool = True) -> dict:
    """Mean and min of balanced Forman (and Ollivier-Ricci) curvature over edges."""
    out: dict[str, float] = {}
    if edge_index.size(1) == 0:
        return out
    bfc = balanced_forman_curvature(edge_index, num_nodes)
    out.update(bfc_mean=float(bfc.mean()), bfc_min=float(bfc.min()))
    if ollivier:
        orc = ollivier_ricci_curvature(edge_index, num_nodes)
        out.update(orc_mean=float(orc.mean()), orc_min=float(orc.min()))
    return out


def _pairs_at_distance(edge_index: Tensor, num_nodes: int, r: int) -> np.ndarray:
    from graphkit.transforms._rewire import simple_undirected, to_csr
    ei = simple_undirected(edge_index, num_nodes)
    AI = (to_csr(ei, num_nodes) + sp.identity(num_nodes, format="csr")).tocsr()
    prev = sp.identity(num_nodes, format="csr")
    cur = AI.copy()
    cur.data[:] = 1
    for _ in range(r - 1):
        nxt = cur @ AI
        nxt.data[:] = 1
        prev, cur = cur, nxt
    diff = (cur - prev).tocoo() if r > 1 else (cur - sp.identity(num_nodes)).tocoo()
    keep = diff.data > 0
    return np.stack([diff.row[keep], diff.col[keep]]).astype(np.int64)


def propagation_sensitivity(edge_index: Tensor, num_nodes: int, r: int,
                            reference: Tensor | None = None) -> float:
    r"""Model-free sensitivity bound: mean of :math:`[\hat{\mathbf{A}}^r]_{vu}` over pairs at hop
    distance exactly :math:`r` in ``reference`` (default: the same graph), with
    :math:`\hat{\mathbf{A}} = \mathbf{D}^{-1/2}(\mathbf{A}+\mathbf{I})\mathbf{D}^{-1/2}` of
    ``edge_index`` (Topping et al. 2022, Lemma 1). Pass the original graph as ``reference`` and
    the rewired one as ``edge_index`` to see how much more an :math:`r`-layer GCN-like model can
    hear from the nodes that were :math:`r` hops away."""
    check_range("propagation_sensitivity", "r", r, 1, integer=True)
    pairs = _pairs_at_distance(edge_index if reference is None else reference, num_nodes, r)
    if pairs.shape[1] == 0:
        return float("nan")
    from graphkit.transforms._rewire import simple_undirected, to_csr
    ei = simple_undirected(edge_index, num_nodes)
    AI = (to_csr(ei, num_nodes) + sp.identity(num_nodes, format="csr")).tocsr()
    s = 1.0 / np.sqrt(np.asarray(AI.sum(axis=1)).ravel())
    Ah = (sp.diags(s) @ AI @ sp.diags(s)).tocsr()
    srcs = np.unique(pairs[1])
    X = sp.csr_matrix((np.ones(srcs.size), (srcs, np.arange(srcs.size))),
                      shape=(num_nodes, srcs.size))
    for _ in range(r):
        X = Ah @ X
    col = np.searchsorted(srcs, pairs[1])
    vals = np.asarray(X[pairs[0], col]).ravel()
    return float(vals.mean())


def jacobian_sensitivity(model: Callable[..., Tensor], x: Tensor, edge_index: Tensor,
                         r: int, num_targets: int = 16, seed: int = 0, **kwargs: Any) -> float:
    r"""Mean :math:`\|\partial \mathbf{h}_v / \partial \mathbf{x}_u\|_F` over pairs at hop
    distance exactly ``r`` (on the *original* ``edge_index``) for ``num_targets`` sampled
    targets :math:`v`, where ``h = model(x, edge_index, **kwargs)``. Pass the rewired graph's
    tensors in ``kwargs`` / ``edge_index`` of the model via a closure to compare rewirings.

    Args:
        model: callable ``(x, edge_index, **kwargs) -> (N, C)``.
        x (Tensor): :math:`(N, F)` node features.
        edge_index (Tensor): the graph distances are measured on (and passed to ``model``).
        r (int): hop distance.
        num_targets (int, optional): sampled targets (seeded). (default: :obj:`16`)
    """
    check_range("jacobian_sensitivity", "r", r, 1, integer=True)
    N = x.size(0)
    pairs = _pairs_at_distance(edge_index, N, r)
    if pairs.shape[1] == 0:
        return float("nan")
    targets = np.unique(pairs[0])
    rng = np.random.default_rng(seed)
    targets = rng.choice(targets, size=min(num_targets, targets.size), replace=False)
    vals = []
    for v in targets.tolist():                     # one backward pass per sampled target
        srcs = torch.from_numpy(pairs[1][pairs[0] == v])
        xi = x.detach().clone().requires_grad_(True)
        h = model(xi, edge_index, **kwargs)[v]
        J = torch.stack([torch.autograd.grad(h[c], xi, retain_graph=True)[0][srcs]
                         for c in range(h.numel())])          # (C, |srcs|, F)
        vals.append(J.pow(2).sum(dim=(0, 2)).sqrt().mean())
    return float(torch.stack(vals).mean())


def oversquashing_measures(edge_index: Tensor, num_nodes: int, radii=(2, 3, 4),
                           ollivier: bool = True, reference: Tensor | None = None) -> dict:
    """All model-free measures of one graph in a dict (for reports); sensitivities over pairs
    at distance r in ``reference`` (default: the graph itself)."""
    out = {"num_edges": int(edge_index.size(1)),
           "total_resistance": total_effective_resistance(edge_index, num_nodes),
           "spectral_gap": spectral_gap(edge_index, num_nodes)}
    out.update(curvature_summary(edge_index, num_nodes, ollivier=ollivier))
    for r in radii:
        out[f"sensitivity_r{r}"] = propagation_sensitivity(edge_index, num_nodes, r, reference)
    return out


def rewiring_report(name: str, rewire: str | dict, root: str | None = None,
                    max_graphs: int = 64, seed: int = 0) -> dict:
    """Over-squashing measures of dataset ``name`` before and after the rewiring ``rewire`` (a
    ``TRANSFORMS`` name, or ``{"name": ..., **kwargs}``): means over up to ``max_graphs``
    sampled graphs (graph datasets) or of the graph itself (node datasets). Sensitivities
    after rewiring are over the pairs at distance r in the *original* graph."""
    import graphkit.transforms  # noqa: F401  (registers rewiring transforms)
    from graphkit.data import load
    from graphkit.registry import TRANSFORMS
    if isinstance(rewire, dict):
        kw = {k: v for k, v in rewire.items() if k != "name"}
        tf, label = TRANSFORMS.build(rewire["name"], **kw), rewire["name"]
    else:
        tf, label = TRANSFORMS.build(rewire), rewire
    obj, spec = load(name, root=root)
    if spec.task == "graph":
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(obj), size=min(max_graphs, len(obj)), replace=False)
        graphs = [obj[int(i)] for i in np.sort(idx)]
    else:
        graphs = [obj]
    big = max(g.num_nodes for g in graphs) > 5000
    before, after = [], []
    for g in graphs:                               # a loop over graphs in a report, not a hot path
        before.append(oversquashing_measures(g.edge_index, g.num_nodes, ollivier=not big))
        h = tf(g.clone())
        after.append(oversquashing_measures(h.edge_index, h.num_nodes, ollivier=not big,
                                            reference=g.edge_index))

    def mean(rows):
        keys = rows[0].keys()
        vals = {k: np.array([r.get(k, np.nan) for r in rows], dtype=float) for k in keys}
        return {k: float(v[~np.isnan(v)].mean()) if (~np.isnan(v)).any() else float("nan")
                for k, v in vals.items()}
    return {"transform": repr(tf), "name": label, "graphs": len(graphs),
            "before": mean(before), "after": mean(after)}

r"""FoSR: first-order spectral rewiring, from `"FoSR: First-order spectral rewiring for
addressing oversquashing in GNNs" <https://arxiv.org/abs/2210.11790>`_ (Karhadkar, Banerjee,
Montúfar; ICLR 2023).

Keep :math:`\mathbf{x}` close to the second eigenvector of
:math:`\mathbf{I} + \mathbf{D}^{-1/2}\mathbf{A}\mathbf{D}^{-1/2}` by power iteration (deflating
the top eigenvector :math:`\sqrt{\mathbf{d}}`); then, ``num_iterations`` times, add the non-edge

.. math::
    (u, v) = \operatorname*{arg\,min}_{(u, v) \notin \mathcal{E},\ u \neq v} y_u y_v, \qquad
    y = \mathbf{x} / \sqrt{\mathbf{d} + 1},

(the first-order increase of the spectral gap), update the degrees and do one power step.

Unlike the released code (``kedar2/FoSR``: a dense :math:`n \times n` outer product per added
edge), the arg-min is exact but sparse: the candidates are the :math:`k` most negative and
:math:`k` most positive entries of :math:`y` (and the :math:`k` smallest in absolute value), and
:math:`k` doubles until a bound proves no pair outside them can win. Power iteration is a sparse
mat-vec plus the added edges. Cost :math:`O(T(|\mathcal{E}| + n))`. Isolated nodes use degree 1
in the normalisation (the released code divides by zero).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphkit._checks import check_range
from graphkit.registry import TRANSFORMS
from graphkit.transforms._rewire import RewiringTransform, is_member, to_csr


def _power_step(A, au: list, av: list, x: np.ndarray, deg: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.maximum(deg, 1.0))
    x = x - x.dot(sd) * sd / np.maximum(deg.sum(), 1.0)
    z = x / sd
    y = A @ z
    if au:
        u, v = np.asarray(au), np.asarray(av)
        np.add.at(y, u, z[v])
        np.add.at(y, v, z[u])
    y = x + y / sd
    n = np.linalg.norm(y)
    return y / n if n > 0 else y


def _best_non_edge(y: np.ndarray, edge_keys: np.ndarray, n: int, k0: int = 16):
    """Exact ``argmin_{u != v, (u,v) not an edge} y_u y_v`` by growing extreme candidate sets."""
    order = np.argsort(y, kind="stable")
    absorder = np.argsort(np.abs(y), kind="stable")
    k = k0
    while True:
        k = min(k, n)
        cand = np.unique(np.concatenate([order[:k], order[-k:], absorder[:k]]))
        yc = y[cand]
        prod = np.outer(yc, yc)
        np.fill_diagonal(prod, np.inf)
        iu, iv = np.triu_indices(cand.size, 1)
        pu, pv = cand[iu], cand[iv]
        vals = prod[iu, iv]
        if vals.size:
            keys = np.minimum(pu, pv) * n + np.maximum(pu, pv)
            bad = is_member(edge_keys, keys)
            vals = np.where(bad, np.inf, vals)
            best = int(np.argmin(vals))
            bval = vals[best]
        else:
            bval = np.inf
        if k >= n:
            if not np.isfinite(bval):
                return None
            return int(pu[best]), int(pv[best])
        # any pair with a node outside `cand` has y_u in [lo, hi] (strictly inside the extremes)
        # and |y_u| >= the k-th smallest |y|; its product is >= this bound:
        lo, hi = y[order[k - 1]], y[order[-k]]
        ymin, ymax = y[order[0]], y[order[-1]]
        bound = min(lo * ymin, lo * ymax, hi * ymin, hi * ymax)
        if np.isfinite(bval) and bval <= bound:
            return int(pu[best]), int(pv[best])
        k *= 2


def fosr_edges(ei: np.ndarray, num_nodes: int, num_iterations: int = 50,
               initial_power_iters: int = 5, rng: np.random.Generator | None = None) -> np.ndarray:
    """The ``(2, T)`` pairs FoSR adds (one direction each), in the order they are added."""
    rng = np.random.default_rng(0) if rng is None else rng
    n = num_nodes
    A = to_csr(ei, n)
    deg = np.asarray(A.sum(axis=1)).ravel()
    x = 2 * rng.random(n) - 1
    au: list[int] = []
    av: list[int] = []
    for _ in range(initial_power_iters):
        x = _power_step(A, au, av, x, deg)
    keys = np.unique(np.minimum(ei[0], ei[1]) * n + np.maximum(ei[0], ei[1]))
    for _ in range(num_iterations):
        y = x / np.sqrt(deg + 1.0)
        pick = _best_non_edge(y, keys, n)
        if pick is None:
            break
        u, v = pick
        q = min(u, v) * n + max(u, v)
        keys = np.insert(keys, np.searchsorted(keys, q), q)
        au.append(u)
        av.append(v)
        deg[u] += 1
        deg[v] += 1
        x = _power_step(A, au, av, x, deg)
    return np.array([au, av], dtype=np.int64).reshape(2, -1)


@TRANSFORMS.register("fosr")
class FoSR(RewiringTransform):
    r"""FoSR rewiring (see the module docstring), a PyG ``BaseTransform``; added edges get
    relation id 1.

    Args:
        num_iterations (int, optional): :math:`T`, undirected edges added (fewer only when the
            graph becomes complete). (default: :obj:`50`)
        initial_power_iters (int, optional): power steps before the first addition.
            (default: :obj:`5`)
        seed, edge_attr, fill_value, cache: see :class:`~graphkit.transforms._rewire.RewiringTransform`
            (the seed draws the power iteration's start vector).

    Shapes:
        - **input:** ``edge_index`` :math:`(2, |\mathcal{E}|)`;  **output:** :math:`(2,
          |\mathcal{E}| + 2T)` plus ``edge_type`` / ``edge_attr`` :math:`(|\mathcal{E}| + 2T,)`

    Example:
        >>> data = FoSR(num_iterations=10)(data)
    """

    def __init__(self, num_iterations: int = 50, initial_power_iters: int = 5, seed: int = 0,
                 edge_attr: str = "relation", fill_value: float = 0.0, cache: bool = True) -> None:
        super().__init__(seed=seed, edge_attr=edge_attr, fill_value=fill_value, cache=cache)
        check_range("FoSR", "num_iterations", num_iterations, 0, integer=True)
        check_range("FoSR", "initial_power_iters", initial_power_iters, 0, integer=True)
        self.num_iterations, self.initial_power_iters = num_iterations, initial_power_iters

    def rewire(self, ei, num_nodes, rng):
        added = fosr_edges(ei, num_nodes, self.num_iterations, self.initial_power_iters, rng)
        return added, np.ones(added.shape[1], np.int64), None

    def _params(self) -> dict[str, Any]:
        return {"num_iterations": self.num_iterations,
                "initial_power_iters": self.initial_power_iters}

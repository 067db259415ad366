r"""BORF: batch Ollivier-Ricci flow, from `"Revisiting Over-smoothing and Over-squashing Using
Ollivier-Ricci Curvature" <https://arxiv.org/abs/2211.15779>`_ (Nguyen, Hieu, Nguyen, Ho,
Osher, Nguyen; ICML 2023).

Each of ``loops`` rounds computes the Ollivier-Ricci curvature (:math:`\alpha = 0`) of all edges,
and for each of the ``batch_add`` most negatively curved edges :math:`(x, y)` adds the edge
:math:`(p, q)`, :math:`p \in N(x) \cup \{x\}`, :math:`q \in N(y) \cup \{y\}`, not yet adjacent,
that carries the largest transport cost :math:`\pi_{pq} d(p, q)` in the optimal plan; then it
removes the ``batch_remove`` most positively curved edges.

Unlike the released code (one POT ``emd`` per edge in a ``multiprocessing`` pool after
all-pairs shortest paths in networkx, and a global ``set_start_method('spawn')`` on import), all
transport problems of a round are solved together by batched log-domain Sinkhorn on the
neighbourhood supports, with distances 0/1/2/3 read from :math:`A` and :math:`A^2` (every pair of
the two supports is within 3 hops), so there are no all-pairs distances.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphkit._checks import check_choice, check_range
from graphkit.diagnostics.curvature import orc_simple
from graphkit.registry import TRANSFORMS
from graphkit.transforms._rewire import RewiringTransform, is_member


def borf_edges(ei: np.ndarray, n: int, loops: int = 3, batch_add: int = 4,
               batch_remove: int = 2, method: str = "lp"):
    """Run BORF; return ``(added, removed)`` as ``(2, A)`` / ``(2, R)`` undirected pairs."""
    keys = np.unique(ei[0] * n + ei[1])
    orig = keys.copy()
    for _ in range(loops):
        full = np.stack([keys // n, keys % n])     # both directions, sorted by key
        half = full[0] < full[1]
        cur = full[:, half]
        if cur.shape[1] == 0:
            break
        kappa, pq = orc_simple(full, n, return_plan=True, method=method)
        kappa, pq = kappa[half], pq[:, half]
        order = np.argsort(kappa, kind="stable")
        neg = order[:batch_add]
        p, q = pq[0, neg], pq[1, neg]
        ok = (p >= 0) & (q >= 0) & (p != q)
        lo, hi = np.minimum(p[ok], q[ok]), np.maximum(p[ok], q[ok])
        new = np.unique(lo * n + hi)
        new = new[~is_member(keys, new)]
        rem = order[::-1][:batch_remove] if batch_remove > 0 else order[:0]
        rk = np.concatenate([cur[0, rem] * n + cur[1, rem], cur[1, rem] * n + cur[0, rem]])
        keys = keys[~is_member(np.sort(rk), keys)]
        keys = np.unique(np.concatenate([keys, new, (new % n) * n + new // n]))
    up = lambda k: k[(k // n) < (k % n)]
    added = up(keys[~is_member(orig, keys)])
    removed = up(orig[~is_member(keys, orig)])
    return np.stack([added // n, added % n]), np.stack([removed // n, removed % n])


@TRANSFORMS.register("borf")
class BORF(RewiringTransform):
    r"""BORF rewiring (see the module docstring), a PyG ``BaseTransform``; added edges get
    relation id 1, removed original edges disappear (both directions).

    Args:
        loops (int, optional): rounds. (default: :obj:`3`)
        batch_add (int, optional): edges added per round (at most). (default: :obj:`4`)
        batch_remove (int, optional): edges removed per round. (default: :obj:`2`)
        method (str, optional): transport solver, ``"lp"`` (exact) or ``"sinkhorn"``
            (approximate); see :func:`graphkit.diagnostics.ollivier_ricci_curvature`.
            (default: ``"lp"``)
        seed, edge_attr, fill_value, cache: see :class:`~graphkit.transforms._rewire.RewiringTransform`
            (BORF is deterministic; ties go to the lower edge index).

    Shapes:
        - **input:** ``edge_index`` :math:`(2, |\mathcal{E}|)`;  **output:** at most
          :math:`|\mathcal{E}| + 2\,\mathrm{loops}\cdot\mathrm{batch\_add}` columns

    Example:
        >>> data = BORF(loops=3, batch_add=3, batch_remove=1)(data)
    """

    def __init__(self, loops: int = 3, batch_add: int = 4, batch_remove: int = 2,
                 method: str = "lp", seed: int = 0,
                 edge_attr: str = "relation", fill_value: float = 0.0, cache: bool = True) -> None:
        super().__init__(seed=seed, edge_attr=edge_attr, fill_value=fill_value, cache=cache)
        check_range("BORF", "loops", loops, 0, integer=True)
        check_range("BORF", "batch_add", batch_add, 0, integer=True)
        check_range("BORF", "batch_remove", batch_remove, 0, integer=True)
        check_choice("BORF", "method", method, {"lp", "sinkhorn"})
        self.loops, self.batch_add, self.batch_remove = loops, batch_add, batch_remove
        self.method = method

    def rewire(self, ei, num_nodes, rng):
        added, removed = borf_edges(ei, num_nodes, self.loops, self.batch_add,
                                    self.batch_remove, self.method)
        return added, np.ones(added.shape[1], np.int64), removed

    def _params(self) -> dict[str, Any]:
        return {"loops": self.loops, "batch_add": self.batch_add,
                "batch_remove": self.batch_remove}

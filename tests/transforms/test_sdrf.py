"""SDRF: the local batched curvature equals the global one; the flow targets the bottleneck."""
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.diagnostics.curvature import bfc_simple
from graphkit.transforms import SDRF
from graphkit.transforms._rewire import simple_undirected
from graphkit.transforms.sdrf import bfc_gains, bfc_local, sdrf_edges

sys.path.insert(0, str(Path(__file__).parent))
from _graphs import graph, zoo


@pytest.mark.parametrize("gname", ["barbell", "grid", "ba", "er_disconnected"])
def test_local_curvature_equals_global(gname):
    d = zoo()[gname]
    n = d.num_nodes
    ei = simple_undirected(d.edge_index, n)
    B = np.zeros((n, n))
    B[ei[0], ei[1]] = 1
    C = bfc_simple(ei, n)
    local = np.array([bfc_local(B[None], int(i), int(j))[0] for i, j in ei.T])
    assert np.allclose(local, C)


def test_first_addition_is_around_the_most_negative_edge():
    d = graph(nx.barbell_graph(5, 1))
    n = d.num_nodes
    ei = simple_undirected(d.edge_index, n)
    C = bfc_simple(ei, n)
    x, y = ei[:, int(np.argmin(C))]
    added, removed = sdrf_edges(ei, n, loops=1, tau=100.0, remove=False)
    i, j = added[:, 0]
    near = lambda a, c: a == c or ((ei[0] == a) & (ei[1] == c)).any()
    assert (near(i, x) and near(j, y)) or (near(i, y) and near(j, x))
    assert removed.size == 0
    # the curvature of (x, y) goes up
    new = np.unique(np.concatenate([ei[0] * n + ei[1], [i * n + j, j * n + i]]))
    ei2 = np.stack([new // n, new % n])
    C2 = bfc_simple(ei2, n)
    k = np.searchsorted(new, x * n + y)
    assert C2[k] > C.min()


def test_removal_bound():
    """With a high removal bound nothing is removed; with a low one something is."""
    d = zoo()["ba"]
    assert SDRF(loops=3, removal_bound=100.0)(d.clone()).edge_index.size(1) >= d.edge_index.size(1)
    out = SDRF(loops=3, removal_bound=-100.0, tau=5.0)(d.clone())
    assert int((out.edge_type == 0).sum()) < d.edge_index.size(1)


@settings(max_examples=60, deadline=None)
@given(st.integers(4, 14), st.floats(0.15, 0.8), st.integers(0, 10_000))
def test_incremental_gains_equal_dense_recomputation(m, p, seed):
    """bfc_gains equals bfc_local on each candidate-modified matrix minus the base value, for
    every kind of candidate (neighbour-neighbour, from x, to y)."""
    rng = np.random.default_rng(seed)
    B = np.triu((rng.random((m, m)) < p).astype(float), 1)
    B = B + B.T
    edges = np.argwhere(np.triu(B, 1))
    if edges.size == 0:
        return
    xi, yi = edges[rng.integers(len(edges))]
    if rng.random() < 0.5:
        xi, yi = yi, xi
    I = np.concatenate([[xi], np.flatnonzero(B[xi])])
    J = np.concatenate([[yi], np.flatnonzero(B[yi])])
    ci, cj = np.repeat(I, J.size), np.tile(J, I.size)
    ok = (ci != cj) & (B[ci, cj] == 0)
    ci, cj = ci[ok], cj[ok]
    base = bfc_local(B[None], xi, yi)[0]
    want = []
    for a, b in zip(ci, cj):
        Bc = B.copy()
        Bc[a, b] = Bc[b, a] = 1
        want.append(bfc_local(Bc[None], xi, yi)[0] - base)
    assert np.allclose(bfc_gains(B, xi, yi, ci, cj), np.array(want))

"""FoSR: exact sparse arg-min, the first edge bridges a bottleneck and raises the spectral gap."""
import sys
from pathlib import Path

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.diagnostics import spectral_gap
from graphkit.transforms import FoSR
from graphkit.transforms.fosr import _best_non_edge

sys.path.insert(0, str(Path(__file__).parent))
from _graphs import graph


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 60), p=st.floats(0.0, 0.9), seed=st.integers(0, 10_000),
       shift=st.floats(-1.0, 1.0))
def test_best_non_edge_matches_brute_force(n, p, seed, shift):
    """The candidate-set search returns the dense arg-min value over non-edges."""
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(n) + shift
    G = nx.gnp_random_graph(n, p, seed=seed)
    e = np.array(list(G.edges()), dtype=np.int64).reshape(-1, 2)
    keys = np.unique(np.minimum(e[:, 0], e[:, 1]) * n + np.maximum(e[:, 0], e[:, 1])) \
        if e.size else np.zeros(0, np.int64)
    got = _best_non_edge(y, keys, n, k0=2)
    prod = np.outer(y, y)
    np.fill_diagonal(prod, np.inf)
    prod[e[:, 0], e[:, 1]] = np.inf
    prod[e[:, 1], e[:, 0]] = np.inf
    if not np.isfinite(prod).any():
        assert got is None
    else:
        assert got is not None and np.isclose(y[got[0]] * y[got[1]], prod.min())


def test_first_edge_bridges_the_barbell_and_raises_the_gap():
    G = nx.barbell_graph(6, 0)
    d = graph(G)
    out = FoSR(num_iterations=1)(d.clone())
    u, v = out.edge_index[:, out.edge_type == 1][:, 0].tolist()
    assert (u < 6) != (v < 6)                       # one end in each clique
    assert spectral_gap(out.edge_index, 12) > spectral_gap(d.edge_index, 12)

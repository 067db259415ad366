"""BORF: additions sit around the most negatively curved edges; removals hit positive ones."""
import sys
from pathlib import Path

import networkx as nx
import numpy as np

from graphkit.diagnostics.curvature import orc_simple
from graphkit.transforms import BORF
from graphkit.transforms._rewire import simple_undirected
from graphkit.transforms.borf import borf_edges

sys.path.insert(0, str(Path(__file__).parent))
from _graphs import graph


def test_one_round_on_the_barbell():
    d = graph(nx.barbell_graph(5, 2))
    n = d.num_nodes
    ei = simple_undirected(d.edge_index, n)
    kappa = orc_simple(ei, n)
    added, removed = borf_edges(ei, n, loops=1, batch_add=1, batch_remove=1)
    assert added.shape == (2, 1) and removed.shape == (2, 1)
    p, q = added[:, 0]
    hood = lambda a: {a} | set(ei[1, ei[0] == a].tolist())
    most_negative = ei[:, np.isclose(kappa, kappa.min())].T
    assert any((p in hood(x) and q in hood(y)) or (p in hood(y) and q in hood(x))
               for x, y in most_negative)
    a, b = removed[:, 0]
    k = np.nonzero((ei[0] == a) & (ei[1] == b))[0][0]
    assert np.isclose(kappa[k], kappa.max())


def test_rewired_graph_has_higher_min_curvature():
    d = graph(nx.barbell_graph(5, 2))
    out = BORF(loops=3, batch_add=2, batch_remove=0)(d.clone())
    n = d.num_nodes
    before = orc_simple(simple_undirected(d.edge_index, n), n).min()
    after = orc_simple(simple_undirected(out.edge_index, n), n).min()
    assert after > before

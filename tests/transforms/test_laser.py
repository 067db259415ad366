"""LASER: hop distances, per-node budgets, lowest-connectivity choice, tie breaking, relation ids,
parity with the dense reference."""
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.transforms import LASER
from graphkit.transforms._rewire import simple_undirected
from graphkit.transforms.laser import (
    laser_budget,
    laser_dense_reference,
    laser_selection,
    select_lowest,
)

sys.path.insert(0, str(Path(__file__).parent))
from _graphs import graph, zoo


def _dist(d):
    G = nx.Graph()
    G.add_nodes_from(range(d.num_nodes))
    G.add_edges_from(d.edge_index.t().tolist())
    return dict(nx.all_pairs_shortest_path_length(G))


def test_select_lowest_official_example():
    """Values [514, 10.14, 1245, 1234, 10.15] with k = 3 choose {0, 1, 4} (official test)."""
    mask = select_lowest(np.zeros(5, int), np.array([514, 10.14, 1245, 1234, 10.15]),
                         np.array([3]), np.random.default_rng(0))
    assert set(np.nonzero(mask)[0]) == {0, 1, 4}


def test_tie_breaking_is_uniform():
    """With all scores equal, each of 5 candidates is chosen ~1/5 of the time."""
    G = 20000
    group = np.repeat(np.arange(G), 5)
    mask = select_lowest(group, np.zeros(group.size), np.ones(G, int), np.random.default_rng(1))
    counts = np.bincount(np.nonzero(mask)[0] % 5, minlength=5)
    assert mask.sum() == G
    assert np.abs(counts / G - 0.2).max() < 0.015


@pytest.mark.parametrize("gname", ["barbell", "grid", "tree", "ba", "er_disconnected"])
@pytest.mark.parametrize("rho", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("method", ["sparse", "blocked"])
def test_choices_match_dense_reference(gname, rho, method):
    """Every choice is in the node's orbit at distance r + 1; per node and snapshot exactly the
    budget max(min_add, round(rho |O|)) capped by |O|; chosen mu <= every unchosen mu."""
    d = zoo()[gname]
    n = d.num_nodes
    ref = laser_dense_reference(d.edge_index, n, num_snapshots=3, additions_factor=rho)
    ch, snap = laser_selection(simple_undirected(d.edge_index, n), n, 3, rho, 1, 8,
                               np.random.default_rng(0), method=method, block=7)
    for ell in (1, 2, 3):
        sel = ch[:, snap == ell]
        for v in range(n):
            chosen = sel[1, sel[0] == v].tolist()
            if v not in ref[ell - 1]:
                assert chosen == []
                continue
            orbit, mu = ref[ell - 1][v]
            assert set(chosen) <= set(orbit)
            assert len(chosen) == int(laser_budget(np.array([len(orbit)]), rho, 1)[0])
            m = dict(zip(orbit, mu))
            rest = [m[u] for u in orbit if u not in chosen]
            if rest:
                assert max(m[u] for u in chosen) <= min(rest)


def test_added_edges_at_allowed_distances_and_relation_ids():
    """Relation r joins nodes at original distance r + 1; relation 0 is exactly the input."""
    d = zoo()["grid"]
    out = LASER(num_snapshots=3, additions_factor=0.5)(d.clone())
    dist = _dist(d)
    E = d.edge_index.size(1)
    assert torch.equal(out.edge_index[:, :E], d.edge_index)
    assert bool((out.edge_type[:E] == 0).all())
    for (u, v), r in zip(out.edge_index[:, E:].t().tolist(), out.edge_type[E:].tolist()):
        assert dist[u][v] == r + 1
    assert set(out.edge_type.tolist()) == {0, 1, 2, 3}


def test_symmetric_and_every_node_gets_its_budget():
    """Both directions are added (the released code adds only i -> j, j < i): each node ends up
    with at least its own budget of added edges per snapshot, and node 0 initiates edges too."""
    d = zoo()["barbell"]
    n = d.num_nodes
    out = LASER(num_snapshots=2, additions_factor=0.5)(d.clone())
    ref = laser_dense_reference(d.edge_index, n, 2, 0.5)
    for ell in (1, 2):
        e = out.edge_index[:, out.edge_type == ell]
        deg = torch.bincount(e[0], minlength=n)
        for v, (orbit, _) in ref[ell - 1].items():
            assert int(deg[v]) >= int(laser_budget(np.array([len(orbit)]), 0.5, 1)[0])
        # undirected count is at most the total budget
        total = sum(int(laser_budget(np.array([len(o)]), 0.5, 1)[0]) for o, _ in ref[ell - 1].values())
        assert e.size(1) // 2 <= total
    assert int((out.edge_index[0, out.edge_type > 0] == 0).sum()) > 0


def test_min_additions_zero_and_rho_zero_adds_nothing():
    d = zoo()["grid"]
    out = LASER(additions_factor=0.0, min_additions=0)(d.clone())
    assert torch.equal(out.edge_index, d.edge_index)


def test_max_additions_caps_each_node_and_keeps_the_lowest_mu_choices():
    """A star's leaves share one orbit of 29 leaves at distance 2: rho = 1 connects every leaf to
    all of them; max_additions = 3 keeps, per leaf, exactly the 3 choices the uncapped rule ranks
    first by mu (all tied here, so the choices are a subset of the uncapped ones)."""
    ei = simple_undirected(graph(nx.star_graph(29)).edge_index, 30)
    full, _ = laser_selection(ei, 30, 1, 1.0, 1, 8, np.random.default_rng(0))
    cap, snap = laser_selection(ei, 30, 1, 1.0, 1, 8, np.random.default_rng(0), max_additions=3)
    assert np.bincount(full[0], minlength=30)[1:].tolist() == [28] * 29
    assert np.bincount(cap[0], minlength=30)[1:].tolist() == [3] * 29
    assert set(map(tuple, cap.T)) <= set(map(tuple, full.T)) and (snap == 1).all()
    assert laser_budget(np.array([0, 2, 50]), 0.5, 1, 4).tolist() == [0, 1, 4]
    out = LASER(num_snapshots=1, additions_factor=1.0, max_additions=3)(graph(nx.star_graph(29)))
    added = out.edge_index[:, out.edge_type == 1]
    assert added.size(1) <= 2 * 3 * 29 and "max_additions=3" in repr(LASER(max_additions=3))
    assert "max_additions" not in repr(LASER())
    with pytest.raises(ValueError, match="max_additions"):
        LASER(min_additions=2, max_additions=1)


def test_seed_changes_only_tie_breaks():
    """On a cycle every orbit is tied; different seeds may choose differently, same seed same."""
    d = graph(nx.cycle_graph(10))
    a = LASER(num_snapshots=1, seed=0)(d.clone())
    b = LASER(num_snapshots=1, seed=0)(d.clone())
    assert torch.equal(a.edge_index, b.edge_index)
    outs = {tuple(LASER(num_snapshots=1, seed=s)(d.clone()).edge_index.flatten().tolist())
            for s in range(6)}
    assert len(outs) > 1


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 25), p=st.floats(0.05, 0.5), seed=st.integers(0, 1000),
       rho=st.sampled_from([0.1, 0.3, 1.0]))
def test_property_random_graphs(n, p, seed, rho):
    """Random graphs: additions are non-edges at distance 2..L+1, symmetric, within budget."""
    d = graph(nx.gnp_random_graph(n, p, seed=seed))
    out = LASER(num_snapshots=2, additions_factor=rho, seed=seed)(d.clone())
    dist = _dist(d)
    E = d.edge_index.size(1)
    added = out.edge_index[:, E:]
    keys = set(map(tuple, added.t().tolist()))
    assert all((v, u) in keys for u, v in keys)
    for (u, v), r in zip(added.t().tolist(), out.edge_type[E:].tolist()):
        assert dist[u].get(v) == r + 1
    ref = laser_dense_reference(d.edge_index, n, 2, rho)
    for ell in (1, 2):
        total = sum(int(laser_budget(np.array([len(o)]), rho, 1)[0]) for o, _ in ref[ell - 1].values())
        assert int((out.edge_type == ell).sum()) // 2 <= total


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), p=st.floats(0.02, 0.6), seed=st.integers(0, 1000),
       snapshots=st.integers(1, 4), mu_power=st.integers(1, 9), block=st.integers(1, 50))
def test_blocked_equals_sparse(n, p, seed, snapshots, mu_power, block):
    """The blocked propagation gives the sparse path's exact choices (same pairs, same order,
    same walk counts, so the same seeded tie-breaking), including snapshots beyond mu_power."""
    d = graph(nx.gnp_random_graph(n, p, seed=seed))
    ei = simple_undirected(d.edge_index, n)
    a = laser_selection(ei, n, snapshots, 0.3, 1, mu_power, np.random.default_rng(seed),
                        method="sparse")
    b = laser_selection(ei, n, snapshots, 0.3, 1, mu_power, np.random.default_rng(seed),
                        method="blocked", block=block)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_hub_graph_takes_the_blocked_path_and_bad_method_is_named(monkeypatch):
    """A star's radius-4 balls are the whole graph: 'auto' must not build them sparsely."""
    import graphkit.transforms.laser as laser_mod

    def no_sparse(*args):
        raise AssertionError("auto took the sparse path on a hub graph")

    monkeypatch.setattr(laser_mod, "_orbits_sparse", no_sparse)
    n = 400
    ei = simple_undirected(torch.stack([torch.zeros(n - 1, dtype=torch.long),
                                        torch.arange(1, n)]), n)
    auto = laser_selection(ei, n, 1, 0.1, 1, 8, np.random.default_rng(0))
    blocked = laser_selection(ei, n, 1, 0.1, 1, 8, np.random.default_rng(0), method="blocked")
    assert np.array_equal(auto[0], blocked[0])
    assert auto[0].shape[1] == (n - 1) * 40      # every leaf: round(0.1 * 398) = 40 leaves
    with pytest.raises(ValueError, match="'method'.*'dense'"):
        laser_selection(ei, n, 1, 0.1, 1, 8, method="dense")

"""Synthetic extrapolation suite: targets, regimes, determinism, errors."""
from __future__ import annotations

import networkx as nx
import pytest
import torch

from graphkit.data.extrapolation import (
    EXTRAPOLATION_TASKS,
    hop_limited_distances,
    make_extrapolation_dataset,
    mape,
)


@pytest.mark.parametrize("task", sorted(EXTRAPOLATION_TASKS))
def test_deterministic_and_regimes_differ(task):
    a = make_extrapolation_dataset(task, "train", num_samples=8, seed=3)
    b = make_extrapolation_dataset(task, "train", num_samples=8, seed=3)
    c = make_extrapolation_dataset(task, "test_id", num_samples=8, seed=3)
    for da, db in zip(a, b):
        assert torch.equal(da.x, db.x) and torch.equal(da.y, db.y)
        assert torch.equal(da.edge_index, db.edge_index)
    assert any(da.num_nodes != dc.num_nodes or not torch.equal(da.x, dc.x)
               for da, dc in zip(a, c))


@pytest.mark.parametrize("task", sorted(EXTRAPOLATION_TASKS))
def test_ood_is_at_least_5x_larger(task):
    """Sizes: train in [lo, hi], OOD in [5 lo, 5 hi]; values / weights likewise."""
    train = make_extrapolation_dataset(task, "train", num_samples=30, seed=0)
    ood = make_extrapolation_dataset(task, "test_ood", num_samples=30, seed=0)
    assert max(d.num_nodes for d in train) <= 20 and min(d.num_nodes for d in ood) >= 25
    if EXTRAPOLATION_TASKS[task]["level"] == "set":
        assert max(float(d.x.max()) for d in train) <= 10 < min(float(d.x.max()) for d in ood)
    if task == "shortest_path":
        assert float(torch.cat([d.edge_attr for d in ood]).min()) >= 5.0


def test_size_and_value_factors_scale_separately():
    kw = {"num_samples": 40, "seed": 0}
    size_only = make_extrapolation_dataset("set_var", "test_ood", value_factor=1.0, **kw)
    value_only = make_extrapolation_dataset("set_var", "test_ood", size_factor=1.0, **kw)
    assert min(d.num_nodes for d in size_only) >= 25 and max(float(d.x.max()) for d in size_only) <= 10
    assert max(d.num_nodes for d in value_only) <= 20 and min(float(d.x.max()) for d in value_only) > 5
    with pytest.raises(ValueError, match="'size_factor'"):
        make_extrapolation_dataset("set_var", "test_ood", size_factor=0.5)


def test_set_targets():
    for task, fn in [("set_max", lambda x: x.max()), ("set_min", lambda x: x.min()),
                     ("set_mean", lambda x: x.mean()), ("set_sum", lambda x: x.sum()),
                     ("set_var", lambda x: x.var(unbiased=False))]:
        for d in make_extrapolation_dataset(task, "test_ood", num_samples=5, seed=1):
            assert d.edge_index.shape == (2, 0) and d.y.shape == (1, 1)
            assert torch.allclose(d.y.view(()), fn(d.x))


def test_max_degree_matches_networkx():
    for d in make_extrapolation_dataset("max_degree", "train", num_samples=10, seed=2):
        g = nx.Graph()
        g.add_nodes_from(range(d.num_nodes))
        g.add_edges_from(d.edge_index.t().tolist())
        assert float(d.y) == max(max(dict(g.degree).values()), 1)


def test_shortest_path_matches_networkx_hop_limited():
    for d in make_extrapolation_dataset("shortest_path", "train", num_samples=10, seed=4,
                                        hops=3):
        source = int(d.x[:, 0].argmax())
        g = nx.DiGraph()
        g.add_nodes_from(range(d.num_nodes))
        for (u, v), w in zip(d.edge_index.t().tolist(), d.edge_attr.view(-1).tolist()):
            g.add_edge(u, v, weight=w)
        # hop-limited Bellman-Ford, reference by brute force over paths of <= 3 edges
        best = {source: 0.0}
        frontier = {source: 0.0}
        for _ in range(3):
            nxt = {}
            for u, du in frontier.items():
                for v in g.successors(u):
                    cand = du + g[u][v]["weight"]
                    if cand < nxt.get(v, float("inf")):
                        nxt[v] = cand
            for v, dv in nxt.items():
                best[v] = min(best.get(v, float("inf")), dv)
            frontier = {v: min(nxt[v], best[v]) for v in nxt}
        for v in range(d.num_nodes):
            if v == source:
                assert not d.mask[v]
            elif v in best:
                assert d.mask[v] and abs(float(d.y[v]) - best[v]) < 1e-4
            else:
                assert not d.mask[v]


def test_hop_limit_is_respected():
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 3]])
    w = torch.ones(3)
    d1 = hop_limited_distances(edge_index, w, 0, 4, hops=1)
    d3 = hop_limited_distances(edge_index, w, 0, 4, hops=3)
    assert d1.tolist() == [0.0, 1.0, float("inf"), float("inf")]
    assert d3.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_mape_and_errors():
    assert float(mape(torch.tensor([1.1, 1.8]), torch.tensor([1.0, 2.0]))) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="'task' must be one of"):
        make_extrapolation_dataset("set_median")
    with pytest.raises(ValueError, match="'regime' must be one of"):
        make_extrapolation_dataset("set_max", "ood")

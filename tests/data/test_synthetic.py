"""Synthetic generators: determinism under a seed, the statistics they promise."""
from __future__ import annotations

import pytest
import torch
from torch_geometric.utils import homophily

from graphkit.data import load
from graphkit.data.loaders.synthetic import ba_edges, sbm_edges


def _same(a, b) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a.keys() if torch.is_tensor(a[k]))  # noqa: SIM118


@pytest.mark.parametrize("name,opts", [("csbm", {}), ("random-link", {}),
                                       ("random-link", {"graph": "ba"}),
                                       ("random-graphs", {"num_graphs": 30, "max_nodes": 24})])
def test_deterministic_under_seed(name, opts):
    (a, sa), (b, sb) = load(name, seed=3, **opts), load(name, seed=3, **opts)
    c, _ = load(name, seed=4, **opts)
    if name == "random-graphs":
        assert len(a) == len(b) and all(_same(a[i], b[i]) for i in range(len(a)))
        assert not all(_same(a[i], c[i]) for i in range(len(a)))
    else:
        assert _same(a, b) and not torch.equal(a.edge_index, c.edge_index)
    assert all(torch.equal(x[k], y[k]) for x, y in zip(sa.splits, sb.splits) for k in x)


def test_csbm_degree_homophily_and_splits():
    data, spec = load("csbm", num_nodes=2000, num_classes=3, avg_degree=6.0, homophily=0.7,
                      num_features=8, num_splits=4)
    assert data.is_undirected() and not data.has_self_loops()
    assert data.num_edges / data.num_nodes == pytest.approx(6.0, rel=0.08)
    assert float(homophily(data.edge_index, data.y)) == pytest.approx(0.7, abs=0.04)
    assert torch.bincount(data.y).tolist() == [667, 667, 666]
    assert (spec.task, spec.protocol, len(spec.splits), spec.num_outputs) == \
        ("node", "random", 4, 3)
    assert [spec.splits[0][k].numel() for k in ("train", "val", "test")] == [1200, 400, 400]


def test_csbm_features_carry_the_label_signal():
    data, _ = load("csbm", mu=4.0, num_features=8)
    means = torch.stack([data.x[data.y == c].mean(0) for c in range(2)])
    pred = torch.cdist(data.x, means).argmin(1)          # nearest class mean
    assert float((pred == data.y).float().mean()) > 0.9


def test_csbm_explicit_probabilities_and_errors():
    data, _spec = load("csbm", num_nodes=200, p_in=0.0, p_out=0.05)
    assert float(homophily(data.edge_index, data.y)) == 0.0
    with pytest.raises(ValueError, match="both 'p_in' and 'p_out'"):
        load("csbm", p_in=0.1)
    with pytest.raises(ValueError, match="lower avg_degree"):
        load("csbm", num_nodes=20, avg_degree=15.0)
    with pytest.raises(ValueError, match="'homophily' must be a number in"):
        load("csbm", homophily=1.5)


@pytest.mark.parametrize("graph", ["sbm", "ba"])
def test_random_link_splits(graph):
    data, spec = load("random-link", graph=graph, num_splits=2)
    assert spec.task == "link" and spec.extra["message_passing"] == "train_pos"
    n, und = data.num_nodes, data.edge_index.size(1) // 2
    s = spec.splits[0]
    pos = torch.cat([s["train_pos"], s["val_pos"], s["test_pos"]], 1)
    assert pos.size(1) == und                                  # every edge in exactly one part
    keys = (pos.min(0).values * n + pos.max(0).values)
    assert keys.unique().numel() == und
    assert s["val_pos"].size(1) == int(0.05 * und) and s["test_pos"].size(1) == int(0.1 * und)
    for part in ("train", "val", "test"):
        assert s[f"{part}_neg"].size(1) == s[f"{part}_pos"].size(1)
    assert not torch.equal(spec.splits[0]["test_pos"], spec.splits[1]["test_pos"])


def test_random_graphs_labels_and_folds():
    ds, spec = load("random-graphs", num_graphs=90, max_nodes=30)
    assert len(ds) == 90 and torch.bincount(ds.y).tolist() == [30, 30, 30]
    assert spec.num_outputs == 3 and spec.protocol == "10fold"
    deg = [ds[i].num_edges / ds[i].num_nodes for i in range(len(ds))]
    for c in range(3):                                          # matched average degree
        mean = sum(d for d, y in zip(deg, ds.y.tolist()) if y == c) / 30
        assert mean == pytest.approx(4.0, rel=0.25)
    _, spec_r = load("random-graphs", num_graphs=30, max_nodes=24, protocol="random",
                        num_splits=3)
    assert len(spec_r.splits) == 3


def test_ba_and_sbm_edge_helpers():
    gen = torch.Generator().manual_seed(0)
    ei = ba_edges(50, 2, gen)
    deg = torch.bincount(ei[0], minlength=50)
    assert int(deg.min()) >= 1 and ei.size(1) == 2 * (2 + 2 * (50 - 3))
    y = torch.arange(100) % 2
    ei = sbm_edges(y, 1.0, 0.0, gen)
    assert ei.size(1) > 0 and bool((y[ei[0]] == y[ei[1]]).all())

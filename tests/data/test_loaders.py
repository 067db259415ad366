"""Every loader on the shared data: documented statistics, split conventions, types."""
from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data, InMemoryDataset

from graphkit.data import TaskSpec, load
from graphkit.data.loaders.seal_mat import _edge_keys

pytestmark = pytest.mark.shared_data


def _as_set(edges: torch.Tensor, n: int) -> set[int]:
    return set(_edge_keys(edges, n).tolist())


class TestPlanetoid:
    def test_cora_stats_and_public_split(self, data_root):
        data, spec = load("cora")
        assert isinstance(data, Data) and isinstance(spec, TaskSpec)
        assert set(data.keys()) == {"x", "edge_index", "y"}
        assert data.num_nodes == 2708 and data.num_edges == 10556
        assert tuple(data.x.shape) == (2708, 1433) and int(data.y.max()) + 1 == 7
        assert (spec.task, spec.kind, spec.metric, spec.protocol) == \
            ("node", "multiclass", "accuracy", "public_split")
        assert spec.num_features == 1433 and spec.num_outputs == 7 and len(spec.splits) == 1
        split = spec.splits[0]
        assert [split[k].numel() for k in ("train", "val", "test")] == [140, 500, 1000]
        assert torch.equal(split["train"], torch.arange(140))
        # 20 labels per class in the public split
        assert torch.bincount(data.y[split["train"]], minlength=7).tolist() == [20] * 7

    def test_citeseer_pads_isolated_test_nodes(self, data_root):
        data, spec = load("CiteSeer")
        assert data.num_nodes == 3327 and data.x.size(1) == 3703
        assert [spec.splits[0][k].numel() for k in ("train", "val", "test")] == [120, 500, 1000]


class TestTU:
    @pytest.mark.parametrize("name,graphs,kind", [("mutag", 188, "binary"),
                                                  ("PROTEINS", 1113, "binary"),
                                                  ("enzymes", 600, "multiclass")])
    def test_counts_and_kind(self, data_root, name, graphs, kind):
        ds, spec = load(name)
        assert isinstance(ds, InMemoryDataset) and len(ds) == graphs
        assert (spec.task, spec.kind, spec.metric, spec.protocol) == \
            ("graph", kind, "accuracy", "10fold")
        assert spec.num_outputs == (1 if kind == "binary" else 6)
        assert len(spec.splits) == 10

    def test_folds_partition_and_are_stratified(self, data_root):
        ds, spec = load("mutag")
        tests = torch.cat([s["test"] for s in spec.splits])
        assert torch.equal(tests.sort().values, torch.arange(len(ds)))
        y = ds.y.view(-1)
        for s in spec.splits:
            parts = [s["train"], s["val"], s["test"]]
            assert torch.equal(torch.cat(parts).sort().values, torch.arange(len(ds)))
            # stratified: each test fold's positive share within one graph of the global share
            assert abs(float(y[s["test"]].float().mean()) - float(y.float().mean())) < 0.06
            assert s["val"].numel() == pytest.approx(0.1 * (len(ds) - s["test"].numel()), abs=1)

    def test_folds_reproducible(self, data_root):
        _, a = load("mutag")
        _, b = load("MUTAG")
        assert all(torch.equal(x[k], y[k]) for x, y in zip(a.splits, b.splits) for k in x)

    def test_imdb_binary_gets_degree_features(self, data_root):
        ds, spec = load("imdb-binary")
        assert len(ds) == 1000 and spec.extra["degree_features"]
        g = ds[0]
        assert g.x is not None and g.x.size(1) == spec.num_features
        # one-hot of the node degree
        deg = torch.bincount(g.edge_index[0], minlength=g.num_nodes)
        assert torch.equal(g.x.argmax(1), deg) and torch.equal(g.x.sum(1), torch.ones(g.num_nodes))

    def test_generic_tu_name(self, data_root):
        ds, spec = load("tu:MUTAG")
        assert len(ds) == 188 and spec.name == "mutag"


class TestSeal:
    def test_usair_stats_and_zero_based_splits(self, data_root):
        data, spec = load("usair")
        assert data.x is None and data.num_nodes == 332
        assert data.num_edges == 2 * 2126                     # all edges, both directions
        assert (spec.task, spec.kind, spec.metric, spec.protocol) == \
            ("link", "binary", "auc", "seal_fixed")
        assert spec.extra["message_passing"] == "train_pos" and len(spec.splits) == 10
        s = spec.splits[0]
        assert set(s) == {"train_pos", "train_neg", "test_pos", "test_neg"}
        assert s["train_pos"].size(1) == 1914 and s["test_pos"].size(1) == 212
        assert s["train_neg"].size(1) == 1914 and s["test_neg"].size(1) == 212
        assert int(torch.cat(list(s.values()), 1).min()) == 0      # 0-based (files are 1-based)

    @pytest.mark.parametrize("ratio", [0.1, 0.5])
    def test_train_test_partition_all_edges(self, data_root, ratio):
        data, spec = load("usair", split_ratio=ratio)
        n = data.num_nodes
        full = _as_set(data.edge_index, n)
        for s in spec.splits:
            tr, te = _as_set(s["train_pos"], n), _as_set(s["test_pos"], n)
            assert not tr & te and tr | te == full
            assert not _as_set(s["test_neg"], n) & full       # negatives are non-edges
        if ratio == 0.5:
            assert spec.splits[0]["train_pos"].size(1) == 1063

    def test_generic_seal_name(self, data_root):
        data, _spec = load("seal:Celegans")
        assert data.num_nodes == 297 and data.num_edges == 2 * 2148


class TestGeomGCN:
    def test_film(self, data_root):
        data, spec = load("film")
        assert data.num_nodes == 7600 and data.x.size(1) == 932
        assert (spec.task, spec.protocol, len(spec.splits)) == ("node", "geom_gcn", 10)
        assert [spec.splits[0][k].numel() for k in ("train", "val", "test")] == [3648, 2432, 1520]

    def test_cornell_undirected_option(self, data_root):
        und, spec = load("cornell")
        dire, _ = load("cornell", undirected=False)
        assert und.num_nodes == dire.num_nodes == 183
        assert und.is_undirected() and und.num_edges >= dire.num_edges
        for s in spec.splits:       # masks are disjoint
            idx = torch.cat([s["train"], s["val"], s["test"]])
            assert idx.unique().numel() == idx.numel()


class TestOGB:
    def test_molbace_scaffold_split(self, data_root):
        ds, spec = load("ogbg-molbace")
        assert len(ds) == 1513
        assert (spec.task, spec.kind, spec.metric, spec.evaluator) == \
            ("graph", "binary", "rocauc", "ogbg-molbace")
        assert [spec.splits[0][k].numel() for k in ("train", "val", "test")] == [1210, 151, 152]
        assert spec.num_features == 9 and spec.extra["num_edge_features"] == 3

    def test_molesol_regression(self, data_root):
        ds, spec = load("ogbg_molesol")
        assert len(ds) == 1128 and (spec.kind, spec.metric) == ("regression", "rmse")
        assert ds.y.is_floating_point()

    def test_metric_matches_ogb_evaluator(self, data_root):
        from ogb.graphproppred import Evaluator
        _, spec = load("ogbg-molbace")
        assert Evaluator(spec.evaluator).eval_metric == spec.metric


def _entries_with_stats():
    from graphkit.data.catalogue import catalogue
    # peptides-func: 60 s of SMILES parsing (and RDKit); tests/data/test_lrgb.py checks its parts
    return sorted({e.name: e for e in catalogue().values()
                   if e.stats and e.loader not in ("synthetic", "lrgb_peptides")}.values(),
                  key=lambda e: e.name)


@pytest.mark.parametrize("entry", _entries_with_stats(), ids=lambda e: e.name)
def test_every_entry_matches_its_documented_stats(data_root, entry):
    if not (data_root / entry.group / entry.folder).is_dir():
        pytest.skip(f"{entry.name}: no raw files under {data_root / entry.group}")
    obj, spec = load(entry.name)
    measured = {}
    if isinstance(obj, InMemoryDataset):
        measured["num_graphs"] = len(obj)
    else:
        measured["num_nodes"], measured["num_edges"] = obj.num_nodes, obj.num_edges
    measured["num_features"] = spec.num_features
    measured["num_classes"] = spec.extra.get("num_classes", spec.num_outputs)
    first = spec.splits[0]
    if "train" in first:
        measured["split"] = [first[k].numel() for k in ("train", "val", "test")]
    else:
        measured["split1_0.1"] = [first["train_pos"].size(1), first["test_pos"].size(1)]
        measured["num_undirected_edges"] = spec.extra["num_undirected_edges"]
    for key, value in entry.stats.items():
        assert measured[key] == value, (entry.name, key)

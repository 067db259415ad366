"""validate_graph: every bad input gives a clear error."""
from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data

from graphkit.data import TaskSpec, validate_graph
from graphkit.data.loaders.synthetic import SyntheticGraphs


def _graph(**kw) -> Data:
    base = {"x": torch.randn(4, 3), "edge_index": torch.tensor([[0, 1, 2], [1, 2, 3]]),
                "y": torch.tensor([0, 1, 0, 1])}
    base.update(kw)
    return Data(**base)


def test_valid_graph_passes_and_is_returned():
    g = _graph()
    assert validate_graph(g, "node") is g


def test_out_of_range_edge_index():
    with pytest.raises(ValueError, match=r"ids in \[0, 4\] but the graph has 4 nodes"):
        validate_graph(_graph(edge_index=torch.tensor([[0, 1], [1, 4]])), "node")


def test_negative_edge_index():
    with pytest.raises(ValueError, match="ids must lie in"):
        validate_graph(_graph(edge_index=torch.tensor([[0, -1], [1, 2]])), "node")


def test_float_edge_index():
    with pytest.raises(ValueError, match="dtype torch.long"):
        validate_graph(_graph(edge_index=torch.tensor([[0.0, 1.0], [1.0, 2.0]])), "node")


def test_bad_edge_index_shape():
    with pytest.raises(ValueError, match=r"shape \(2, E\)"):
        validate_graph(_graph(edge_index=torch.tensor([[0, 1, 2]])), "node")


def test_nan_and_inf_features():
    x = torch.randn(4, 3)
    x[1, 2] = float("nan")
    with pytest.raises(ValueError, match="1 NaN and 0 inf"):
        validate_graph(_graph(x=x), "node")
    x[1, 2] = float("inf")
    with pytest.raises(ValueError, match="0 NaN and 1 inf"):
        validate_graph(_graph(x=x), "node")


def test_finite_features_whose_sum_overflows_are_accepted():
    x = torch.full((4, 3), 3e38)            # every entry finite, the float32 sum is inf
    assert torch.isinf(x.sum())
    validate_graph(_graph(x=x), "node")


def test_feature_rows_must_match_nodes():
    with pytest.raises(ValueError, match="'x' has 3 rows but the graph has 4 nodes"):
        validate_graph(_graph(x=torch.randn(3, 3), num_nodes=4), "node")


def test_empty_graph():
    g = Data(x=torch.empty(0, 3), edge_index=torch.empty(2, 0, dtype=torch.long),
             y=torch.empty(0, dtype=torch.long))
    with pytest.raises(ValueError, match="empty"):
        validate_graph(g, "node")


def test_missing_labels_for_node_task_but_not_link_task():
    g = _graph(y=None)
    with pytest.raises(ValueError, match="needs labels"):
        validate_graph(g, "node")
    assert validate_graph(g, "link") is g


def test_labels_per_node():
    with pytest.raises(ValueError, match="one label per node"):
        validate_graph(_graph(y=torch.tensor([0, 1])), "node")


def test_unknown_task():
    with pytest.raises(ValueError, match="did you mean 'node'"):
        validate_graph(_graph(), "nodes")


def test_not_a_graph():
    with pytest.raises(TypeError, match="Data or Dataset"):
        validate_graph({"x": 1}, "node")


def test_split_indices_checked_with_spec():
    spec = TaskSpec("t", "node", "multiclass", "accuracy", "random", 3, 2,
                    splits=[{"train": torch.tensor([0, 9]), "test": torch.tensor([1])}])
    with pytest.raises(ValueError, match=r"splits\[0\]\['train'\].*4 items"):
        validate_graph(_graph(), spec)
    spec.splits = [{"train": torch.tensor([0.0])}]
    with pytest.raises(ValueError, match="1-D long index"):
        validate_graph(_graph(), spec)


def test_link_split_edges_checked_with_spec():
    spec = TaskSpec("t", "link", "binary", "auc", "random", 3, 1,
                    splits=[{"train_pos": torch.tensor([[0], [7]])}])
    with pytest.raises(ValueError, match="train_pos"):
        validate_graph(_graph(), spec)


def test_dataset_checks_each_graph_vectorised():
    good = [_graph(y=torch.tensor([0])) for _ in range(3)]
    ds = SyntheticGraphs(good, "ok")
    assert validate_graph(ds, "graph") is ds
    bad = good[:2] + [_graph(edge_index=torch.tensor([[0, 5], [1, 2]]), y=torch.tensor([1]))]
    with pytest.raises(ValueError, match=r"graph 2 has an edge \[5, 2\] outside its 4 nodes"):
        validate_graph(SyntheticGraphs(bad, "bad"), "graph")


def test_dataset_with_nan_features_and_empty_graph():
    x = torch.randn(4, 3)
    x[0, 0] = float("nan")
    ds = SyntheticGraphs([_graph(y=torch.tensor([0])), _graph(x=x, y=torch.tensor([1]))], "nan")
    with pytest.raises(ValueError, match="NaN"):
        validate_graph(ds, "graph")
    empty = Data(x=torch.empty(0, 3), edge_index=torch.empty(2, 0, dtype=torch.long),
                 y=torch.tensor([0]))
    with pytest.raises(ValueError, match="graph 1 is empty"):
        validate_graph(SyntheticGraphs([_graph(y=torch.tensor([0])), empty], "e"), "graph")


def test_dataset_without_labels():
    ds = SyntheticGraphs([_graph(y=None), _graph(y=None)], "nolabel")
    with pytest.raises(ValueError, match="needs labels"):
        validate_graph(ds, "graph")

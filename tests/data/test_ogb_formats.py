"""OGB node / link loaders on tiny files written in the OGB raw layout (no download)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from graphkit.data import load

N, E = 30, 60


def _csv(path: Path, arr) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(np.asarray(arr)).to_csv(path, header=False, index=False, compression="gzip")


def _graph_files(folder: Path, rng: np.random.Generator, feats: bool = True) -> np.ndarray:
    src = rng.integers(0, N, E)
    dst = (src + rng.integers(1, N, E)) % N          # no self-loops
    edges = np.stack([src, dst], 1)
    _csv(folder / "raw" / "edge.csv.gz", edges)
    _csv(folder / "raw" / "num-node-list.csv.gz", [N])
    _csv(folder / "raw" / "num-edge-list.csv.gz", [E])
    if feats:
        _csv(folder / "raw" / "node-feat.csv.gz", rng.normal(size=(N, 4)).astype(np.float32))
    return edges


@pytest.fixture
def fake_arxiv(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    folder = tmp_path / "ogb" / "ogbn_arxiv"
    _graph_files(folder, rng)
    _csv(folder / "raw" / "node-label.csv.gz", rng.integers(0, 40, (N, 1)))
    _csv(folder / "raw" / "node_year.csv.gz", rng.integers(2000, 2020, (N, 1)))
    perm = rng.permutation(N)
    for part, idx in (("train", perm[:18]), ("valid", perm[18:24]), ("test", perm[24:])):
        _csv(folder / "split" / "time" / f"{part}.csv.gz", idx)
    return tmp_path


@pytest.fixture
def fake_ddi(tmp_path) -> Path:
    rng = np.random.default_rng(1)
    folder = tmp_path / "ogb" / "ogbl_ddi"
    edges = _graph_files(folder, rng, feats=False)
    split = folder / "split" / "target"
    split.mkdir(parents=True)
    neg = rng.integers(0, N, (10, 2))
    torch.save({"edge": edges[:40]}, split / "train.pt")
    torch.save({"edge": edges[40:50], "edge_neg": neg}, split / "valid.pt")
    torch.save({"edge": edges[50:], "edge_neg": neg}, split / "test.pt")
    return tmp_path


def test_ogbn_node_dataset(fake_arxiv):
    data, spec = load("ogbn-arxiv", root=fake_arxiv)
    assert data.num_nodes == N and data.x.shape == (N, 4) and data.y.shape == (N,)
    assert (spec.task, spec.kind, spec.metric, spec.evaluator) == \
        ("node", "multiclass", "accuracy", "ogbn-arxiv")
    assert spec.num_outputs == 40
    assert [spec.splits[0][k].numel() for k in ("train", "val", "test")] == [18, 6, 6]


def test_ogbl_link_dataset_with_numpy_split_files(fake_ddi):
    data, spec = load("ogbl-ddi", root=fake_ddi)
    assert data.num_nodes == N and data.x is None
    assert (spec.task, spec.metric, spec.extra["message_passing"]) == ("link", "hits@20", "train_pos")
    s = spec.splits[0]
    assert s["train_pos"].shape == (2, 40) and s["val_pos"].shape == (2, 10)
    assert s["test_neg"].shape == (2, 10) and s["train_pos"].dtype == torch.long


def test_ogb_names_are_case_insensitive(fake_arxiv):
    data, spec = load("OGBN-Arxiv", root=fake_arxiv)
    assert spec.evaluator == "ogbn-arxiv" and data.num_nodes == N


def test_heterogeneous_ogb_is_refused_clearly():
    with pytest.raises(ValueError, match="'ogbn-mag' is a heterogeneous OGB data set"):
        load("ogbn-mag")


def test_unknown_ogb_name_is_unknown():
    with pytest.raises(ValueError, match="unknown dataset 'ogbn-nope'"):
        load("ogbn-nope")


def test_importing_ogb_through_graphkit_starts_no_pypi_check(monkeypatch):
    """ogb's import-time PyPI version check (a background thread) is disabled."""
    import sys
    import threading

    from graphkit.data.loaders.ogb import _import_ogb
    for mod in ("ogb", "outdated"):                 # as in a fresh interpreter (restored after)
        monkeypatch.delitem(sys.modules, mod, raising=False)
    before = threading.active_count()
    _import_ogb()
    stub = sys.modules["outdated"]
    assert "graphkit" in (stub.__doc__ or "") and stub.check_outdated("ogb", "1.3.6") == \
        (False, "1.3.6")
    assert threading.active_count() == before

"""load / list_datasets / info and the YAML catalogue."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

import graphkit.data as gd
from graphkit.data import info, list_datasets, load
from graphkit.data.catalogue import (
    LOADERS,
    catalogue,
    catalogue_dir,
    parse_entry,
    resolve,
)
from graphkit.data.spec import KINDS, METRICS, TASKS

REPO = Path(__file__).resolve().parents[2]


def test_public_api_reexports():
    assert {"load", "list_datasets", "info", "TaskSpec"} <= set(gd.__all__)
    assert gd.TaskSpec.__module__ == "graphkit.data.spec"


def test_catalogue_found_next_to_package():
    assert catalogue_dir() == REPO / "datasets"


@pytest.mark.parametrize("path", sorted((REPO / "datasets").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_entry_is_well_formed(path):
    raw = yaml.safe_load(path.read_text())
    entry = parse_entry(path)
    assert entry.name == path.stem and entry.loader in LOADERS
    assert entry.task in TASKS and entry.metric in METRICS
    assert entry.kind is None or entry.kind in KINDS
    assert entry.description and entry.citation
    for key in ("name", "aliases", "loader", "raw", "source", "sha256", "task", "kind",
                "metric", "protocol", "description", "citation"):
        assert key in raw, f"{path.name} lacks {key!r}"
    if entry.loader != "synthetic":
        assert set(entry.sha256) <= set(entry.files)
        assert entry.source and ("files" in entry.source or "archive" in entry.source)
        if "files" in entry.source:
            assert set(entry.source["files"]) == set(entry.files)
            assert all(u.startswith("https://") for u in entry.source["files"].values())


@pytest.mark.shared_data
def test_checksums_match_the_shared_files(shared_root):
    checked = 0
    for entry in {e.name: e for e in catalogue().values()}.values():
        for rel, digest in entry.sha256.items():
            path = shared_root / entry.group / entry.folder / rel
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path
            checked += 1
    assert checked > 150


def test_unknown_name_lists_known_and_suggests():
    with pytest.raises(ValueError) as err:
        load("corra")
    msg = str(err.value)
    assert "unknown dataset 'corra'" in msg and "did you mean 'cora'" in msg
    assert "'usair'" in msg and "tu:<NAME>" in msg


def test_bad_name_type():
    with pytest.raises(TypeError, match="non-empty str"):
        load(3)


def test_unknown_option():
    with pytest.raises(ValueError, match=r"does not take option\(s\) \['sead'\].*did you mean 'seed'"):
        load("csbm", sead=1)


@pytest.mark.shared_data
def test_bad_option_value_is_checked(data_root):
    with pytest.raises(ValueError, match=r"'split_ratio' must be one of \[0.1, 0.5\]; got 0.3"):
        load("usair", split_ratio=0.3)


def test_aliases_and_case():
    cat = catalogue()
    assert cat["actor"].name == "film" and cat["c.ele"].name == "celegans"
    assert resolve("IMDB_BINARY", []) is resolve(" imdb-binary", []) is cat["imdb-binary"]


def test_list_datasets_has_all_entries_without_generic_templates():
    names = list_datasets(discover=False)
    assert {"cora", "citeseer", "mutag", "proteins", "usair", "film", "ogbg-molbace", "csbm",
            "random-link", "random-graphs"} <= set(names)
    assert "tu" not in names and "seal" not in names and names == sorted(names)


def test_list_datasets_discovers_unlisted_raw_folders(tmp_path):
    (tmp_path / "tu" / "FOO").mkdir(parents=True)
    (tmp_path / "tu" / "FOO" / "FOO_A.txt").write_text("1, 2\n")
    (tmp_path / "linkpred" / "Bar").mkdir(parents=True)
    (tmp_path / "linkpred" / "Bar" / "Bar.mat").write_bytes(b"")
    names = list_datasets(root=tmp_path)
    assert "tu:FOO" in names and "seal:Bar" in names


def test_info_synthetic():
    out = info("csbm")
    assert out["available"] and out["loader"] == "synthetic"
    assert out["measured"]["num_nodes"] == 1000 and out["task_spec"]["task"] == "node"
    assert out["split_sizes"] == {"train": 600, "val": 200, "test": 200}


def test_info_without_data(tmp_path):
    out = info("cora", root=tmp_path)
    assert out["available"] is False and "measured" not in out
    assert out["sha256"]["ind.cora.x"] and out["citation"]


@pytest.mark.shared_data
def test_info_with_data(data_root):
    out = info("usair")
    assert out["available"] and out["measured"]["num_nodes"] == 332
    assert out["split_sizes"]["train_pos"] == 1914 and out["options"]["split_ratio"] == 0.1


def test_catalogue_override(tmp_path, monkeypatch):
    shutil.copy(REPO / "datasets" / "csbm.yaml", tmp_path / "tiny-csbm.yaml")
    text = (tmp_path / "tiny-csbm.yaml").read_text()
    text = text.replace("name: csbm", "name: tiny-csbm").replace("num_nodes: 1000", "num_nodes: 60")
    (tmp_path / "tiny-csbm.yaml").write_text(text)
    monkeypatch.setenv("GRAPHKIT_CATALOGUE", str(tmp_path))
    assert list_datasets(discover=False) == ["tiny-csbm"]
    data, spec = load("tiny-csbm")
    assert data.num_nodes == 60 and spec.name == "tiny-csbm"


def test_malformed_entry_is_reported(tmp_path, monkeypatch):
    (tmp_path / "bad.yaml").write_text("name: bad\nloader: nope\ntask: node\nmetric: accuracy\n"
                                       "protocol: random\n")
    monkeypatch.setenv("GRAPHKIT_CATALOGUE", str(tmp_path))
    with pytest.raises(ValueError, match="bad.yaml: loader 'nope' must be one of"):
        list_datasets()
    (tmp_path / "bad.yaml").write_text("name: bad\nloader: tu\n")
    with pytest.raises(ValueError, match=r"lacks field\(s\) \['task', 'metric', 'protocol'\]"):
        list_datasets()


def test_missing_catalogue_override(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHKIT_CATALOGUE", str(tmp_path / "none"))
    with pytest.raises(FileNotFoundError, match="GRAPHKIT_CATALOGUE"):
        list_datasets()


def test_generic_template_name_alone_is_explained():
    with pytest.raises(ValueError, match="template.*'tu:<name>'"):
        load("tu")

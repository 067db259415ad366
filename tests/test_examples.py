"""Every shipped example config trains through the CLI (one short epoch, one seed, one split)
and writes a finite test metric, so the examples in the README cannot silently rot."""
from __future__ import annotations

import itertools
import json
import math
import os
import re
from pathlib import Path

import pytest

from graphkit.cli import main
from graphkit.config import load_config

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "examples" / "configs").glob("*.yaml"))
# the relational (RelBench) configs run through `graphkit bench` suites, tested with the runner
TRAIN_CONFIGS = [p for p in CONFIGS if "graphkit bench" not in p.read_text()]
SHARED = Path(os.environ.get("GRAPHKIT_DATA") or REPO.parent / "shared" / "data")
QUICK = ["train.epochs=1", "train.seeds=[0]", "data.splits=[0]", "train.max_steps_per_epoch=2",
         "train.checkpoint_every=0", "train.device=cpu"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """One processed-data cache for these runs (each data set is processed once)."""
    return tmp_path_factory.mktemp("examples-cache")


def test_there_are_example_configs():
    assert len(CONFIGS) >= 10 and len(TRAIN_CONFIGS) == len(CONFIGS) - 2


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_example_config_parses(path):
    cfg = load_config(path, QUICK)
    assert cfg.train.epochs == 1 and cfg.data.name


@pytest.mark.parametrize("path", TRAIN_CONFIGS, ids=lambda p: p.stem)
def test_example_config_trains_through_the_cli(path, tmp_path, monkeypatch, capsys, cache):
    if not (SHARED / "planetoid").is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    monkeypatch.setenv("GRAPHKIT_DATA", str(SHARED))
    monkeypatch.setenv("GRAPHKIT_OFFLINE", "1")
    monkeypatch.setenv("GRAPHKIT_CACHE", str(cache))
    overrides = list(QUICK)
    if re.search(r"input_encoder: (vgae|dgi|gic)", path.read_text()):   # pretraining budget
        overrides.append("model.encoder_kwargs.epochs=2")
    rc = main(["train", str(path), *overrides, "--out-dir", str(tmp_path / "runs"),
               "--no-progress", "--overwrite"])
    assert rc == 0, capsys.readouterr().err[-2000:]
    results = list((tmp_path / "runs").rglob("result.json"))
    assert results, f"{path.name}: no result.json written"
    for res in results:
        r = json.loads(res.read_text())
        value = r["metrics"]["test"][r["metric"]]
        assert r["epochs_run"] == 1 and math.isfinite(value), r["metrics"]


def test_llp_distill_script_runs(tmp_path):
    """examples/llp_distill.py end to end with one epoch each: teacher and student test metrics."""
    import subprocess
    import sys
    if not (SHARED / "planetoid").is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    env = {**os.environ, "GRAPHKIT_DATA": str(SHARED), "GRAPHKIT_OFFLINE": "1",
           "GRAPHKIT_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "llp_distill.py"),
                           "--teacher-epochs", "1", "--student-epochs", "1"],
                          check=False, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = {line.split(" test:")[0]: line for line in proc.stdout.splitlines() if " test:" in line}
    assert set(lines) == {"teacher (SAGE)", "student (MLP, no graph)"}, proc.stdout
    assert all("'auc'" in line for line in lines.values())


def test_deep_gcn_cora_script_runs(tmp_path):
    """examples/deep_gcn_cora.py: a short run prints one row per kind and writes the plot."""
    import subprocess
    import sys
    if not (SHARED / "planetoid").is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    env = {**os.environ, "GRAPHKIT_DATA": str(SHARED), "GRAPHKIT_OFFLINE": "1",
           "GRAPHKIT_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    plot = tmp_path / "energy.png"
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "deep_gcn_cora.py"), "--depth",
                           "3", "--epochs", "2", "--kinds", "none", "rezero", "hc_static",
                           "--plot", str(plot)],
                          check=False, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines()[2:]
            if line.split() and line.split()[0] in {"none", "rezero", "hc_static"}}
    assert set(rows) == {"none", "rezero", "hc_static"}, proc.stdout
    assert all(0.0 <= float(r[0]) <= 100.0 for r in rows.values())
    assert plot.stat().st_size > 0


@pytest.mark.parametrize("pool", ["gpn", "topk"])
def test_gpn_pooling_script_runs(tmp_path, pool):
    """examples/gpn_pooling_tu.py trains one epoch on MUTAG; the GPN run prints the parse's sizes."""
    import subprocess
    import sys
    if not (SHARED / "tu").is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    env = {**os.environ, "GRAPHKIT_DATA": str(SHARED), "GRAPHKIT_OFFLINE": "1",
           "GRAPHKIT_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "gpn_pooling_tu.py"),
                           "--dataset", "mutag", "--epochs", "1", "--pool", pool],
                          check=False, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "epoch   1  train acc" in proc.stdout, proc.stdout
    levels = [line for line in proc.stdout.splitlines() if line.startswith("nodes per level")]
    if pool == "gpn":
        sizes = [int(v) for v in levels[0].split(":")[1].split("->")]
        assert len(sizes) == 4 and all(a >= b >= 1 for a, b in itertools.pairwise(sizes)), levels
    else:
        assert not levels


def test_gnp_set_extrapolation_script_runs():
    """examples/gnp_set_extrapolation.py: one short epoch per aggregation, finite errors."""
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "gnp_set_extrapolation.py"),
                           "--task", "set_sum", "--aggrs", "gnp", "sum", "--epochs", "1",
                           "--samples", "64"], check=False, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines()[1:]}
    assert set(rows) == {"gnp", "sum"} and all(math.isfinite(float(v)) for r in rows.values() for v in r)


def test_laser_rewiring_script_runs(tmp_path):
    """examples/laser_rewiring_tu.py: LASER lowers the effective resistance of the graphs it
    prints and both models train."""
    import subprocess
    import sys
    if not (SHARED / "tu").is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    env = {**os.environ, "GRAPHKIT_DATA": str(SHARED), "GRAPHKIT_OFFLINE": "1",
           "GRAPHKIT_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "laser_rewiring_tu.py"),
                           "--epochs", "1"], check=False, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    rows = [line.split() for line in lines if line.split() and line.split()[0] in {"0", "1", "2"}]
    assert len(rows) == 3 and all(float(r[2]) < float(r[1]) and float(r[4]) > float(r[3])
                                  for r in rows), proc.stdout
    assert sum("fold-0 test accuracy" in line for line in lines) == 2

"""The bench runner: grid expansion, resume after kill -9, retries, no duplicate / lost rows."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from graphkit.bench import (
    BenchRunner,
    ResultStore,
    SuiteError,
    parse_suite,
    point_name,
    write_report,
)
from graphkit.bench.report import aggregate
from graphkit.train import mean_std

ROOT = Path(__file__).resolve().parents[2]


def _suite(tmp_path, seeds=(0, 1), epochs=6, grid=None, attempts=2):
    raw = {"name": "t", "protocol": "ogb", "attempts": attempts, "threads": 1,
           "overrides": ["train.device=cpu", f"train.epochs={epochs}", "train.patience=0",
                         "train.checkpoint_every=2", "model.hidden_channels=8"],
           "experiments": [{"id": "csbm", "config": str(ROOT / "examples/configs/demo.yaml"),
                            "seeds": list(seeds), "splits": [0, 1],
                            "grid": grid if grid is not None else {"model.name": ["gcn", "sage"]}}]}
    p = tmp_path / "suite.yaml"
    p.write_text(yaml.safe_dump(raw))
    return p


def test_grid_cells_and_rows(tmp_path):
    r = BenchRunner(_suite(tmp_path), tmp_path / "out", log=lambda s: None)
    cells = r.cells()
    assert len(cells) == 2 * 2 * 2  # models x seeds x splits
    assert len({c.cell_id for c in cells}) == len(cells)
    s = r.run()
    assert s["ran"] == 8 and not s["failed"]
    rows = ResultStore(tmp_path / "out").rows()
    assert len(rows) == 8
    lines = (tmp_path / "out/results.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["cell_id"] for x in lines) == sorted(c.cell_id for c in cells)
    for row in rows:  # the row holds the trainer's result at the best validation epoch
        res = json.loads(Path(row["run_dir"], "result.json").read_text())
        assert row["test"] == res["metrics"]["test"]["accuracy"]
        assert row["num_parameters"] == res["num_parameters"] > 0
    agg = {a["options"]: a for a in aggregate(rows)}
    gcn = [x["test"] for x in rows if x["model"] == "gcn"]
    assert agg["model.name=gcn"]["runs"] == 4
    assert agg["model.name=gcn"]["test_mean"] == pytest.approx(mean_std(gcn)[0])
    assert agg["model.name=gcn"]["test_std"] == pytest.approx(mean_std(gcn)[1])  # unbiased
    rep = write_report(tmp_path / "out")
    md = Path(rep["markdown"]).read_text()
    assert "model.name=sage" in md and "±" in md
    assert Path(rep["csv"]).read_text().startswith("dataset,experiment")
    assert all(Path(p).stat().st_size > 1000 for p in rep["plots"])
    sub = json.loads(Path(rep["ogb"][0]).read_text())
    assert sub["num_runs"] == 4 and "Final Test" in sub["logger"]
    # a second run without --resume refuses; with it, everything is skipped
    with pytest.raises(FileExistsError, match="--resume"):
        BenchRunner(_suite(tmp_path), tmp_path / "out", log=lambda s: None).run()
    s2 = BenchRunner(_suite(tmp_path), tmp_path / "out", resume=True, log=lambda s: None).run()
    assert s2["skipped"] == 8 and s2["ran"] == 0
    assert len(ResultStore(tmp_path / "out")) == 8


def test_crashed_cell_is_retried_and_reported(tmp_path, monkeypatch):
    r = BenchRunner(_suite(tmp_path, seeds=(0,), grid={}), tmp_path / "out", log=lambda s: None)
    orig, calls = r.run_cell, []

    def flaky(cell, attempt):
        calls.append((cell.cell_id, attempt))
        if cell.split == 0 and attempt == 1:
            raise RuntimeError("boom")
        if cell.split == 1:
            raise RuntimeError("always")
        return orig(cell, attempt)

    monkeypatch.setattr(r, "run_cell", flaky)
    s = r.run()
    assert s["ran"] == 1 and s["retried"] == ["csbm__default__s0_k0"]
    assert [f["cell_id"] for f in s["failed"]] == ["csbm__default__s0_k1"]
    store = ResultStore(tmp_path / "out")
    assert len(store) == 1 and len(store.failures()) == 3
    assert store.rows()[0]["attempt"] == 2
    assert not store.interrupted()
    rep = write_report(store)
    assert rep["unfinished_failed"] == ["csbm__default__s0_k1"]


def test_store_never_duplicates(tmp_path):
    st = ResultStore(tmp_path)
    st.append({"cell_id": "a", "test": 1.0})
    with pytest.raises(FileExistsError, match="never overwritten"):
        st.append({"cell_id": "a", "test": 2.0})
    with pytest.raises(ValueError, match="cell_id"):
        st.append({"cell_id": "a/b"})
    (tmp_path / "rows" / ".b.json.xyz.tmp").write_text("{half")  # a killed writer's leftover
    assert [r["test"] for r in st.rows()] == [1.0]


def test_suite_errors(tmp_path):
    with pytest.raises(SuiteError, match="protocol"):
        parse_suite({"protocol": "kaggle", "experiments": [{"id": "a"}]})
    with pytest.raises(SuiteError, match="unknown key"):
        parse_suite({"experiments": [{"id": "a", "seed": [1]}]})
    with pytest.raises(SuiteError, match="twice"):
        parse_suite({"experiments": [{"id": "a"}, {"id": "a"}]})
    with pytest.raises(SuiteError, match="not found"):
        parse_suite({"experiments": [{"id": "a", "config": "nope.yaml"}]})
    assert parse_suite({"protocol": "relbench", "experiments": [{"id": "a"}]}).experiments[0].seeds == [0, 1, 2, 3, 4]
    assert point_name({"train.lr": 0.01, "model.name": "gin"}) == "model.name=gin+train.lr=0.01"


def test_resume_after_kill_9(tmp_path):
    """kill -9 the CLI mid-campaign, resume: every cell has exactly one row."""
    suite = _suite(tmp_path, seeds=(0, 1), epochs=25)
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "graphkit", "bench", str(suite), "--out", str(out)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 90
        while time.time() < deadline and len(list((out / "rows").glob("*.json"))) < 2:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = len(list((out / "rows").glob("*.json")))
    assert 2 <= done < 8, "the campaign should have been killed part way"
    res = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    assert f"{done} skipped" in res.stdout
    rows = ResultStore(out).rows()
    ids = [r["cell_id"] for r in rows]
    assert len(ids) == len(set(ids)) == 8
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(x["cell_id"] for x in lines) == sorted(ids)
    assert not ResultStore(out).interrupted()

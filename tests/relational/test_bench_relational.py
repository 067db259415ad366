"""RDL and the GBDT baseline through the trainer and the bench runner, on a RelBench v3 folder
exported from a synthetic database (offline): rows, leaderboard, RelBench prediction CSVs."""
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytest.importorskip("relbench")
pytest.importorskip("torch_frame")

from _shop import shop

from graphkit.bench import BenchRunner, ResultStore, write_report
from graphkit.relational.relbench_data import export_relbench_folder


def test_relbench_folder_round_trip(tmp_path):
    from graphkit.relational.relbench_data import load_relbench_task
    _, ds, tasks = shop()
    path = export_relbench_folder(ds, tasks, tmp_path / "shop")
    for name, task in tasks.items():
        loaded = load_relbench_task(str(path), name)
        for split in ("train", "val", "test"):
            a = task.get_table(split, mask_input_cols=False).df
            b = loaded.get_table(split, mask_input_cols=False).df
            assert len(a) == len(b) and list(a["timestamp"]) == list(b["timestamp"])
    with pytest.raises(ValueError, match="has tasks"):
        load_relbench_task(str(path), "nope")
    with pytest.raises(FileNotFoundError):
        load_relbench_task(str(tmp_path / "missing"), "buy")


def test_bench_relational_suite(tmp_path):
    _, ds, tasks = shop()
    folder = export_relbench_folder(ds, {"buy": tasks["buy"], "items": tasks["items"]}, tmp_path / "shop")
    small = ["train.device=cpu", "model.hidden_channels=8", "train.num_neighbors=[4,4]",
             "train.batch_size=32", "model.kwargs={aggr: sum, encoder_layers: 1}"]
    suite = {"name": "rel", "protocol": "relbench", "threads": 1, "overrides": small, "experiments": [
        {"id": "buy_rdl", "source": "relational", "source_options": {"dataset": str(folder), "task": "buy"},
         "config": "examples/configs/chinook_rdl.yaml", "seeds": [0, 1], "overrides": ["train.epochs=2"]},
        {"id": "buy_gbdt", "source": "relational", "source_options": {"dataset": str(folder), "task": "buy"},
         "config": "examples/configs/chinook_gbdt.yaml", "seeds": [0, 1]},
        {"id": "items_rdl", "source": "relational", "source_options": {"dataset": str(folder), "task": "items"},
         "config": "examples/configs/chinook_rdl.yaml", "seeds": [0], "overrides": ["train.epochs=2"]},
    ]}
    p = tmp_path / "suite.yaml"
    p.write_text(yaml.safe_dump(suite))
    s = BenchRunner(p, tmp_path / "out", log=lambda m: None).run()
    assert s["ran"] == 5 and not s["failed"], s
    rows = ResultStore(tmp_path / "out").rows()
    {r["cell_id"]: r for r in rows}
    assert {r["metric"] for r in rows} == {"rocauc", "map"}
    for r in rows:
        assert 0.0 <= r["test"] <= 1.0 and r["predictions"].endswith("test_predictions.csv")
    rep = write_report(tmp_path / "out")
    names = sorted(p.split("/")[-1] for p in rep["relbench"])
    assert names == ["shop__buy.csv", "shop__items.csv"]
    buy = pd.read_csv(tmp_path / "out/relbench/shop__buy.csv")
    assert list(buy.columns) == ["timestamp", "entity", "prediction"]
    assert len(buy) == len(tasks["buy"].get_table("test").df)
    items = pd.read_csv(tmp_path / "out/relbench/shop__items.csv")
    assert all(len(json.loads(x)) == 2 for x in items["prediction"])
    md = Path(rep["markdown"]).read_text()
    assert "buy_gbdt" in md and "buy_rdl" in md

"""RelBench datasets by name (online, through ``relbench.load_dataset``) or from a local folder in
RelBench v3's layout (offline), and the export of a graphkit database + tasks into that layout.

A v3 dataset folder is ``manifest.yaml`` (tables, keys, time columns, val / test timestamps),
``db/<table>.parquet`` and ``tasks/<task>/{manifest.yaml, train.parquet, val.parquet,
test.parquet}``. :func:`export_relbench_folder` writes tasks as ``kind: external`` (labels
stored, served as-is), so the folder loads back with plain ``relbench.load_dataset(path)``.

Example:
    >>> export_relbench_folder(ds, tasks, "runs/chinook-relbench")
    >>> task = load_relbench_task("runs/chinook-relbench", "customer-buy")
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


def load_relbench_task(dataset: str, task: str, root: str | None = None,
                       revision: str | None = None):
    """A RelBench task: ``dataset`` is a local v3 folder (offline) or a hosted name such as
    ``"rel-f1"`` (downloads from the Hugging Face Hub, or reads its cache)."""
    import relbench
    path = Path(dataset).expanduser()
    if not (path / "manifest.yaml").exists() and root is not None:
        path = Path(root) / "relbench" / dataset
    local = (path / "manifest.yaml").exists()
    try:
        ds = relbench.load_dataset(str(path) if local else dataset, revision=revision)
    except FileNotFoundError:
        raise
    except Exception as e:  # noqa: BLE001  (network / hub errors: say how to work offline)
        raise FileNotFoundError(
            f"RelBench dataset {dataset!r}: not a local folder with manifest.yaml and could not "
            f"be fetched from the Hugging Face Hub ({type(e).__name__}: {e}). Offline, point "
            f"'dataset' at a folder in RelBench's v3 layout (e.g. one written by "
            f"graphkit.relational.export_relbench_folder)") from None
    names = ds.get_task_names()
    if task not in names:
        raise ValueError(f"RelBench dataset {dataset!r} has tasks {names}; got {task!r}")
    return ds.load_task(task)


def export_relbench_folder(dataset, tasks: dict, path: str | os.PathLike) -> Path:
    """Write ``dataset`` (a :class:`~graphkit.relational.RelationalDataset`) and ``tasks``
    (name -> task) as a RelBench v3 folder; returns the folder."""
    from relbench.base import RecommendationTask
    from relbench.manifest import DatasetManifest, TableSpec, TaskManifest
    path = Path(path)
    (path / "db").mkdir(parents=True, exist_ok=True)
    db = dataset.get_db(upto_test_timestamp=False)
    specs = {}
    for name, t in db.table_dict.items():
        t.df.to_parquet(path / "db" / f"{name}.parquet", index=False)
        specs[name] = TableSpec(pkey=t.pkey_col, time_col=t.time_col,
                                fkeys=dict(t.fkey_col_to_pkey_table))
    DatasetManifest(name=getattr(dataset, "name", path.name),
                    val_timestamp=str(dataset.val_timestamp),
                    test_timestamp=str(dataset.test_timestamp), tables=specs,
                    description="exported by graphkit.relational").save(path / "manifest.yaml")
    for tname, task in tasks.items():
        tdir = path / "tasks" / tname
        tdir.mkdir(parents=True, exist_ok=True)
        common = {"name": tname, "kind": "external", "task_type": task.task_type.value,
                      "timedelta": str(task.timedelta), "num_eval_timestamps": task.num_eval_timestamps,
                      "time_col": task.time_col, "remove_columns": [list(p) for p in task.remove_columns]}
        if isinstance(task, RecommendationTask):
            tm = TaskManifest(src_entity_table=task.src_entity_table, src_entity_col=task.src_entity_col,
                              dst_entity_table=task.dst_entity_table, dst_entity_col=task.dst_entity_col,
                              eval_k=task.eval_k, **common)
        else:
            tm = TaskManifest(entity_table=task.entity_table, entity_col=task.entity_col,
                              target_col=task.target_col, **common)
        tm.save(tdir / "manifest.yaml")
        for split in ("train", "val", "test"):
            df = task.get_table(split, mask_input_cols=False).df
            df.to_parquet(tdir / f"{split}.parquet", index=False)
    return path


def predictions_frame(task, table, pred) -> pd.DataFrame:
    """RelBench v3 prediction CSV rows: the key columns of ``table`` plus ``prediction``
    (a JSON list of the top-k dst ids for recommendation)."""
    import json

    from relbench.base import RecommendationTask
    if isinstance(task, RecommendationTask):
        keys = table.df[[task.time_col, task.src_entity_col]].copy()
        keys["prediction"] = [json.dumps([int(v) for v in row]) for row in pred]
    else:
        keys = table.df[[task.time_col, task.entity_col]].copy()
        keys["prediction"] = pred.reshape(len(keys), -1)[:, 0] if pred.ndim > 1 else pred
    keys[task.time_col] = pd.to_datetime(keys[task.time_col]).dt.strftime("%Y-%m-%d %H:%M:%S")
    return keys

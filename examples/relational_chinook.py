"""Relational deep learning on your own database, end to end, on Chinook (a music store).

    GRAPHKIT_DATA=/work/shared/data python examples/relational_chinook.py --seeds 0 1 2 3 4

1. import the SQLite file into RelBench's Database (keys and date columns from the schema;
   invoice lines take their invoice's date so they are not visible before it);
2. define three tasks over a 90-day window, cut into train / val / test by timestamps:
   will a customer buy (AUROC), how much will they spend (NMAE), which genres (MAP@3);
3. build the temporal heterogeneous graph and train the RelBench baseline GNN with graphkit's
   trainer and temporal sampler, next to gradient-boosted trees on hand-made features;
4. print mean ± unbiased std over the seeds.

The same runs, resumable and with a leaderboard, prediction CSVs and plots:
``graphkit bench benchmarks/suites/chinook.yaml``.
"""
from __future__ import annotations

import argparse
import time

import pandas as pd
import torch

from graphkit.config import load_config
from graphkit.relational import (
    EntityWindowTask,
    RecommendationWindowTask,
    RelationalDataset,
    from_sqlite,
)
from graphkit.relational.bench import make_bundle
from graphkit.relational.chinook import chinook_path, chinook_stypes, genre_events
from graphkit.relational.graph import HashingTextEmbedder
from graphkit.train import Trainer, mean_std


def invoices(db) -> pd.DataFrame:
    """The events behind the entity tasks: one row per invoice (time, customer, amount)."""
    inv = db.table_dict["Invoice"].df
    return pd.DataFrame({"time": inv["InvoiceDate"], "entity": inv["CustomerId"],
                         "value": inv["Total"].astype(float)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--out", default="runs/relational_chinook")
    args = ap.parse_args()
    torch.set_num_threads(2)

    imported = from_sqlite(chinook_path(), time_cols={"Employee": None},
                           inherit_time={"InvoiceLine": "InvoiceId"})
    ds = RelationalDataset(imported.db, val_timestamp="2024-07-01", test_timestamp="2025-01-01",
                           name="chinook")
    tasks = {
        "customer-buy": EntityWindowTask(ds, "Customer", invoices, 90, "exists", num_eval_timestamps=2),
        "customer-spend": EntityWindowTask(ds, "Customer", invoices, 90, "sum", num_eval_timestamps=2),
        "customer-genre": RecommendationWindowTask(ds, "Customer", "Genre", genre_events, 90, eval_k=3),
    }
    rows = []
    for name, task in tasks.items():
        bundle, spec = make_bundle(task, "chinook", name, HashingTextEmbedder(64),
                                   stypes=chinook_stypes(task.get_db()))
        for model, config in (("RDL (GNN)", "examples/configs/chinook_rdl.yaml"),
                              ("GBDT baseline", "examples/configs/chinook_gbdt.yaml")):
            over = [f"train.seeds={args.seeds}", f"out_dir={args.out}", f"name={name}-{config.split('_')[-1][:-5]}"]
            if model.startswith("RDL"):
                over.append(f"train.epochs={args.epochs}")
                if name == "customer-genre":
                    over.append("train.lr=0.001")
            t0 = time.perf_counter()
            summary = Trainer(load_config(config, over), data=(bundle, spec), overwrite=True,
                              progress=False).run()
            tests = [r["test"] for r in summary["per_run"]]
            mu, sd = mean_std(tests)
            rows.append({"task": name, "metric": spec.metric, "model": model,
                         "test": f"{mu:.4f} ± {sd:.4f}", "runs": len(tests),
                         "seconds": round(time.perf_counter() - t0, 1)})
            print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()

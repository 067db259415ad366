"""Graph classification accuracy: GPN vs PyG's TopK / SAG / ASAP / EdgePooling on one backbone.

Every run goes through graphkit's Trainer on the data set's stratified 10-fold protocol (test =
fold i, validation = a stratified 10% of the other folds), one seed per fold, the test accuracy
taken at the epoch of lowest validation loss, early stopping on validation loss.

Methods (same GCN conv, hidden size, optimiser and epochs for all):
- ``gpn``: :class:`graphkit.nn.pool.GPN` (the paper's model: a shared 3-layer GCN block and parser
  applied until every graph is one node per component, sum readout);
- ``topk`` / ``sag`` / ``asap`` / ``edge``: :class:`graphkit.nn.pool.PooledGNN` (SAGPool's
  hierarchical architecture: 3 levels of GCN -> pool -> mean||max readout, summed) with PyG's pools
  (``edge``: :class:`graphkit.nn.pool.VectorizedEdgePooling`, PyG's EdgePooling without its
  Python loop, same outputs);
- ``gpn_pooled``: the same ``PooledGNN`` with :class:`graphkit.nn.pool.GraphParsingPool` as the
  pool (one parse per level), to compare the pooling operators alone.

Results are appended as JSON lines (one per dataset x method x fold) and the run resumes from them.

Command (what RESULTS.md reports):
    OMP_NUM_THREADS=1 GRAPHKIT_DATA=/work/shared/data .venv/bin/python benchmarks/gpn_accuracy.py \
        --datasets mutag,proteins,enzymes,imdb-binary,nci1 --folds 0,1,2 --epochs 20 --patience 10 \
        --out benchmarks/results/gpn_accuracy.jsonl
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from graphkit.config import Config, DataConfig, ModelConfig, TrainConfig
from graphkit.data import load
from graphkit.train import Trainer

METHODS = ("gpn", "topk", "sag", "asap", "edge", "gpn_pooled")


def model_config(method: str, hidden: int, dropout: float) -> ModelConfig:
    if method == "gpn":
        return ModelConfig(name="gpn", hidden_channels=hidden, num_layers=3, dropout=dropout,
                           kwargs={"conv": "gcn"})
    pool = "gpn" if method == "gpn_pooled" else method
    return ModelConfig(name="pooled_gnn", hidden_channels=hidden, num_layers=3, dropout=dropout,
                       kwargs={"pool": pool, "conv": "gcn"})


def load_options(name: str, a) -> dict:
    """``graphkit.data.load`` options of a data set: its node attributes when ``--node-attr``
    names it."""
    return {"use_node_attr": True} if name in a.node_attr.split(",") else {}


def run_fold(obj, spec, name: str, method: str, fold: int, a, tmp: str) -> dict:
    train = TrainConfig(epochs=a.epochs, lr=a.lr, weight_decay=a.weight_decay,
                        patience=a.patience, batch_size=a.batch_size, seeds=[0], device=a.device,
                        scheduler=a.scheduler, grad_clip=a.grad_clip,
                        amp=False, checkpoint_every=0, select="loss")
    options, standardize = load_options(name, a), name in a.standardize.split(",")
    cfg = Config(name=f"{name}_{method}_{fold}", out_dir=tmp,
                 data=DataConfig(name=name, splits=[fold], options=options,
                                 standardize=standardize),
                 model=model_config(method, a.hidden, a.dropout), train=train)
    t0 = time.perf_counter()
    tr = Trainer(cfg, overwrite=True, progress=False, data=(obj, spec))
    tr.run()
    res = json.loads((tr.run_dir(0, fold) / "result.json").read_text())
    return {"dataset": name, "method": method, "fold": fold,
            "test_acc": res["metrics"]["test"][res["metric"]],
            "val_loss": res["metrics"]["val"]["loss"], "best_epoch": res["best_epoch"],
            "epochs_run": res["epochs_run"], "epoch_s": res["timings"]["epoch_s"],
            "wall_s": time.perf_counter() - t0, "params": res["num_parameters"],
            "epochs": a.epochs, "patience": a.patience, "hidden": a.hidden, "lr": a.lr,
            "batch_size": a.batch_size, "use_node_attr": bool(options),
            "standardize": standardize,
            "scheduler": a.scheduler, "grad_clip": a.grad_clip, "device": a.device}


def read(path: Path) -> list[dict]:
    """Rows of a results file, one per (dataset, method, fold) (the first one wins)."""
    rows, seen = [], set()
    for line in path.read_text().splitlines() if path.is_file() else []:
        r = json.loads(line)
        if (r["dataset"], r["method"], r["fold"]) not in seen:
            seen.add((r["dataset"], r["method"], r["fold"]))
            rows.append(r)
    return rows


def read_many(specs: list[str]) -> list[dict]:
    """Rows of several results files, each ``FILE`` or ``FILE::m1,m2`` (only those methods'
    rows); a (dataset, method, fold) run taken from two files is an error."""
    rows, where = [], {}
    for spec in specs:
        path, _, only = spec.partition("::")
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"--inputs: no results file {path}")
        keep = set(only.split(",")) if only else None
        for r in read(path):
            if keep is not None and r["method"] not in keep:
                continue
            key = (r["dataset"], r["method"], r["fold"])
            if key in where:
                raise ValueError(f"--inputs: run {key} is in both {where[key]} and {path}; "
                                 f"expected files of disjoint runs")
            where[key] = path
            rows.append(r)
    return rows


def table(rows: list[dict]) -> str:
    dss = list(dict.fromkeys(r["dataset"] for r in rows))
    out = ["| method | " + " | ".join(dss) + " | average |", "|---|" + "---|" * (len(dss) + 1)]
    for m in METHODS:
        cells, means = [], []
        for ds in dss:
            acc = [r["test_acc"] for r in rows if r["dataset"] == ds and r["method"] == m]
            if acc:
                means.append(100 * np.mean(acc))
                std = np.std(acc, ddof=1) if len(acc) > 1 else 0.0   # unbiased, as elsewhere
                cells.append(f"{100 * np.mean(acc):.1f} ± {100 * std:.1f} (n={len(acc)})")
            else:
                cells.append("—")
        avg = f"{np.mean(means):.1f}" if len(means) == len(dss) else "—"
        if means:
            out.append(f"| {m} | " + " | ".join(cells) + f" | {avg} |")
    return "\n".join(out)


def paired(rows: list[dict], ref: str = "gpn") -> str:
    """``ref`` minus each other method on the (data set, fold) runs both have: mean difference
    in points and wins / ties / losses of ``ref``."""
    acc = {(r["dataset"], r["method"], r["fold"]): 100 * r["test_acc"] for r in rows}
    out = [f"| {ref} vs | runs paired | mean difference (points) | {ref} wins / ties / losses |",
           "|---|---|---|---|"]
    for m in METHODS:
        if m == ref:
            continue
        d = [acc[(ds, ref, f)] - a for (ds, mm, f), a in acc.items()
             if mm == m and (ds, ref, f) in acc]
        if d:
            w, t = sum(x > 1e-9 for x in d), sum(abs(x) <= 1e-9 for x in d)
            out.append(f"| {m} | {len(d)} | {np.mean(d):+.2f} | {w} / {t} / {len(d) - w - t} |")
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--datasets", default="mutag,proteins,enzymes,imdb-binary,nci1")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--folds", default="0,1,2", help="comma-separated fold ids")
    p.add_argument("--large", default="nci1", help="data sets run on fewer folds / methods")
    p.add_argument("--folds-large", default="0", help="fold ids for the large data sets")
    p.add_argument("--methods-large", default="gpn,topk,sag,asap",
                   help="methods on the large data sets")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--patience", type=int, default=10)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--scheduler", default="none", help="none or cosine (the paper's PROTEINS / NCI1)")
    p.add_argument("--grad-clip", type=float, default=0.0, help="global grad-norm clip (paper: 1.0)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--node-attr", default="",
                   help="comma-separated TU data sets loaded with their continuous node attributes "
                        "besides the node labels (use_node_attr=True, the GPN / ASAP protocol)")
    p.add_argument("--standardize", default="",
                   help="comma-separated data sets whose node features are z-scored with the "
                        "training fold's statistics (data.standardize)")
    p.add_argument("--out", default="benchmarks/results/gpn_accuracy.jsonl")
    p.add_argument("--table-only", action="store_true")
    p.add_argument("--paired-ref", default="gpn",
                   help="comma-separated methods whose paired differences are reported "
                        "(gpn_pooled: the parse on the baselines' backbone)")
    p.add_argument("--inputs", nargs="+", default=None,
                   help="with --table-only: one table over these result files (disjoint runs); "
                        "FILE::m1,m2 takes only those methods' rows from FILE")
    a = p.parse_args()
    if a.inputs is not None:
        if not a.table_only:
            p.error("--inputs is a report option; use it with --table-only")
        rows = read_many(a.inputs)
        refs = a.paired_ref.split(",")
        bad = [m for m in refs if m not in METHODS]
        if bad:
            p.error(f"--paired-ref: unknown method(s) {bad}; expected some of {list(METHODS)}")
        print(table(rows) + "".join("\n\n" + paired(rows, ref) for ref in refs))
        return
    torch.set_num_threads(1)
    out = Path(a.out)
    rows = read(out)
    if not a.table_only:
        done = {(r["dataset"], r["method"], r["fold"]) for r in rows}
        loaded: dict = {}
        with tempfile.TemporaryDirectory() as tmp:
            # fold-major: every data set gets fold 0 of every method before any gets fold 1
            for fold in [int(f) for f in a.folds.split(",")]:
                for ds in a.datasets.split(","):
                    large = ds in a.large.split(",")
                    if large and fold not in [int(f) for f in a.folds_large.split(",")]:
                        continue
                    methods = (a.methods_large if large else a.methods).split(",")
                    for m in methods:
                        done |= {(r["dataset"], r["method"], r["fold"]) for r in read(out)}
                        if (ds, m, fold) in done:   # also rows of a parallel process
                            continue
                        if ds not in loaded:
                            loaded[ds] = load(ds, **load_options(ds, a))
                        r = run_fold(*loaded[ds], ds, m, fold, a, tmp)
                        rows.append(r)
                        with out.open("a") as f:
                            f.write(json.dumps(r) + "\n")
                        print(f"{ds:12s} {m:5s} fold {fold}  acc {100 * r['test_acc']:5.1f}  "
                              f"best ep {r['best_epoch']:3d}/{r['epochs_run']:3d}  "
                              f"{r['epoch_s']:.2f} s/epoch", flush=True)
    rows = read(out)
    print(table(rows) + "\n\n" + paired(rows))


if __name__ == "__main__":
    main()

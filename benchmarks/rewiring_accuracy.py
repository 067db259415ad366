"""Accuracy with and without rewiring: GCN on the original graph vs GCN on the FoSR / SDRF /
BORF-rewired graph vs the relational GCN on LASER snapshots (the paper's pairing; ``laser_gcn``:
the LASER edges given to the plain GCN, an ablation), through
graphkit's Trainer, over the datasets' own folds / splits (TU: 10-fold CV; WebKB: the 10 Geom-GCN
splits). Graphs are rewired once per dataset (``rewire_dataset`` for TU sets, cached under
``$GRAPHKIT_CACHE/rewired``); the rewiring time is reported.

Command (what RESULTS.md reports):
    GRAPHKIT_DATA=/work/shared/data .venv/bin/python benchmarks/rewiring_accuracy.py \
        --datasets mutag,enzymes,cornell,texas --epochs 60 --out benchmarks/results/rewiring_accuracy.json
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from graphkit.config import Config, DataConfig, ModelConfig, TrainConfig
from graphkit.data import load
from graphkit.data.storage import cache_dir
from graphkit.train import Trainer, pooled_mean_std
from graphkit.transforms import BORF, LASER, SDRF, FoSR, rewire_dataset

# the LASER paper's TU settings: 2 snapshots, rho = 0.1; baselines at their common defaults
REWIRINGS = {
    "none": None,
    "fosr": lambda: FoSR(num_iterations=10),
    "sdrf": lambda: SDRF(loops=10, tau=1.0),
    "borf": lambda: BORF(loops=2, batch_add=3, batch_remove=1),
    "laser": lambda: LASER(num_snapshots=2, additions_factor=0.1),
    # ablation: the LASER edges given to the plain GCN as one relation
    "laser_gcn": lambda: LASER(num_snapshots=2, additions_factor=0.1),
}
DEFAULT_REWIRINGS = "none,fosr,sdrf,borf,laser"


#: the LASER paper's LRGB (Peptides) settings: 3 snapshots, rho = 0.5, 5 layers, BatchNorm, no
#: dropout, AdamW lr 1e-3, reduce-on-plateau (x0.5 after 20 epochs), batch 128 (its hidden 250
#: and 500 epochs are set by the caller)
PRESETS = {"lrgb": {"laser": {"num_snapshots": 3, "additions_factor": 0.5}, "layers": 5,
                    "dropout": 0.0, "norm": True, "optimizer": "adamw", "lr": 1e-3,
                    "batch_size": 128, "scheduler": "plateau"}}


def run(name: str, rewiring: str, epochs: int, hidden: int, layers: int, seed: int,
        out_root: str, backbone: str = "gcn", splits: str | list = "all", batch_size: int = 64,
        lr: float = 0.01, dropout: float = 0.5, norm: bool = False, optimizer: str = "adam",
        laser_kw: dict | None = None, scheduler: str = "none") -> dict:
    obj, spec = load(name)
    t0 = time.perf_counter()
    tf = REWIRINGS[rewiring]
    if tf is not None:
        tf = LASER(**laser_kw) if laser_kw and rewiring.startswith("laser") else tf()
        if spec.task == "graph":
            tag = "_".join(f"{k}{v}" for k, v in sorted((laser_kw or {}).items()))
            obj = rewire_dataset(obj, tf, cache_dir=cache_dir() / "rewired" / (name + tag))
        else:
            obj = tf(obj)
    rewire_s = time.perf_counter() - t0
    laser = rewiring == "laser"
    relations = (laser_kw or {}).get("num_snapshots", 2) + 1
    kw = {"num_relations": relations, "conv": backbone} if laser else {}
    if norm:
        kw["norm"] = "batch" if laser else "batch_norm"
    model = ModelConfig(name="relational" if laser else backbone,
                        hidden_channels=hidden, num_layers=layers, dropout=dropout,
                        readout="mean", kwargs=kw)
    graph = spec.task == "graph"
    train = TrainConfig(epochs=epochs, lr=lr, optimizer=optimizer, scheduler=scheduler,
                        weight_decay=0.0 if graph else 5e-4, patience=0, batch_size=batch_size,
                        seeds=[seed], device="cpu", amp=False, checkpoint_every=0,
                        select="metric")
    cfg = Config(name=f"{name}_{rewiring}", out_dir=out_root,
                 data=DataConfig(name=name, splits=splits), model=model, train=train)
    summary = Trainer(cfg, overwrite=True, progress=False, data=(obj, spec)).run()
    agg = summary["aggregate"][f"test_{summary['metric']}"]
    return {"dataset": name, "rewiring": rewiring, "backbone": model.name, "family": backbone,
            "metric": summary["metric"], "mean": agg["mean"], "std": agg["std"], "n": agg["n"],
            "rewire_s": rewire_s, "train_s": summary["train_s_total"],
            "per_split": [{"split": r["split"], "test": r["test"]} for r in summary["per_run"]]}


def report(paths: list[str]) -> None:
    """One markdown table per backbone family over every result file given, pooling the fold
    groups of a (dataset, rewiring, family, preset) cell exactly (``pooled_mean_std``); groups
    that overlap in folds are an error, not an average."""
    cells: dict[tuple, list[dict]] = {}
    for path in paths:
        for r in json.loads(Path(path).read_text())["rows"]:
            key = (r["dataset"], r["rewiring"], r.get("family") or "gcn", r.get("preset"))
            cells.setdefault(key, []).append(r)
    for key, rows in cells.items():
        folds = [str(r.get("splits") or "all") for r in rows]
        if len(rows) > 1 and ("all" in folds or len({int(f) for fs in folds for f in fs.split(",")})
                              != sum(len(fs.split(",")) for fs in folds)):
            raise ValueError(f"overlapping fold groups {folds} for cell {key}")
    fams = list(dict.fromkeys(k[2] for k in cells))
    dss = list(dict.fromkeys(k[0] for k in cells))
    rws = list(dict.fromkeys(k[1] for k in cells))
    for fam in fams:
        print(f"\n**{fam}**\n\n| rewiring | " + " | ".join(dss) + " |")
        print("|---|" + "---|" * len(dss))
        for rw in rws:
            out = []
            for ds in dss:
                rows = [r for k, v in cells.items() if k[:3] == (ds, rw, fam) for r in v]
                if not rows:
                    out.append("—")
                    continue
                n, mean, std = pooled_mean_std([(r["n"], r["mean"], r["std"]) for r in rows])
                ep = "/".join(str(e) for e in sorted({r["epochs"] for r in rows}))
                out.append(f"{100 * mean:.1f} ± {100 * std:.1f} ({n}×{ep}ep)")
            if any(c != "—" for c in out):
                print(f"| {rw} | " + " | ".join(out) + " |")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--datasets", default="mutag,enzymes,cornell,texas")
    p.add_argument("--rewirings", default=DEFAULT_REWIRINGS,
                   help=f"comma-separated subset of {list(REWIRINGS)}")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backbone", default="gcn", choices=["gcn", "gin"],
                   help="conv of the plain model and of LASER's relational model")
    p.add_argument("--splits", default="all", help="'all' or comma-separated fold / split ids")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None)
    p.add_argument("--report", nargs="+", default=None, metavar="JSON",
                   help="print the pooled tables of these result files and exit")
    p.add_argument("--laser-max-additions", type=int, default=None,
                   help="LASER's per-node cap on additions per snapshot (for hub graphs; not in "
                        "the paper); the rows record it")
    p.add_argument("--preset", choices=sorted(PRESETS), default=None,
                   help="dataset-family settings (LASER's LRGB configuration); flags given "
                        "explicitly are overridden by the preset")
    a = p.parse_args()
    if a.report:
        report(a.report)
        return
    preset = dict(PRESETS.get(a.preset, {}))
    if a.laser_max_additions is not None:
        preset["laser"] = {"num_snapshots": 2, "additions_factor": 0.1, **preset.get("laser", {}),
                           "max_additions": a.laser_max_additions}
    for k in ("layers", "lr", "batch_size"):
        if k in preset:
            setattr(a, k, preset[k])
    torch.set_num_threads(a.threads)
    rows = []
    if a.out and Path(a.out).is_file():
        rows = json.loads(Path(a.out).read_text())["rows"]
    done = {(r["dataset"], r["rewiring"], r.get("family") or "gcn", str(r.get("splits") or "all"))
            for r in rows}
    splits = "all" if a.splits == "all" else [int(i) for i in a.splits.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for ds in a.datasets.split(","):
            for rw in a.rewirings.split(","):
                if (ds, rw, a.backbone, a.splits) in done:
                    continue
                r = run(ds, rw, a.epochs, a.hidden, a.layers, a.seed, tmp, a.backbone, splits,
                        a.batch_size, a.lr, dropout=preset.get("dropout", 0.5),
                        norm=preset.get("norm", False),
                        optimizer=preset.get("optimizer", "adam"),
                        laser_kw=preset.get("laser"),
                        scheduler=preset.get("scheduler", "none"))
                r["epochs"], r["layers"], r["hidden"] = a.epochs, a.layers, a.hidden
                r["splits"], r["batch_size"], r["lr"] = a.splits, a.batch_size, a.lr
                r["preset"] = a.preset
                r["laser_max_additions"] = a.laser_max_additions
                rows.append(r)
                print(f"{ds:10s} {rw:6s} {r['backbone']:10s} {100 * r['mean']:6.2f} +- "
                      f"{100 * r['std']:5.2f} (n={r['n']})  rewire {r['rewire_s']:6.1f} s  "
                      f"train {r['train_s']:6.1f} s", flush=True)
                if a.out:
                    Path(a.out).write_text(json.dumps({"rows": rows, "load_avg": os.getloadavg()},
                                                      indent=1))
    dss = list(dict.fromkeys(r["dataset"] for r in rows))
    print("\n| rewiring | " + " | ".join(dss) + " |")
    print("|---|" + "---|" * len(dss))
    for fam in dict.fromkeys(r.get("family", "gcn") for r in rows):
        for rw in dict.fromkeys(r["rewiring"] for r in rows):
            cells = []
            for ds in dss:
                r = next((r for r in rows if r["dataset"] == ds and r["rewiring"] == rw
                          and r.get("family", "gcn") == fam), None)
                cells.append("—" if r is None else f"{100 * r['mean']:.1f} ± {100 * r['std']:.1f}")
            print(f"| {rw} ({fam}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

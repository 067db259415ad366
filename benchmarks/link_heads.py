"""Link heads and auto-encoders through the graphkit Trainer: GAE (GCN + dot) vs Hadamard-MLP
head vs VGAE vs a ResVGAE-style deep residual VGAE (deepgnn, plain residual, 8 layers) and the
same 8-layer VGAE without residuals, on
Cora / CiteSeer (random 85/5/10 splits, ``cora-link`` / ``citeseer-link``) and USAir (SEAL's
fixed 90/10 splits). Test AUC / AP at the best-validation-AUC epoch.

Each (dataset, method, split) writes one JSON line to ``benchmarks/results/link_heads.jsonl``;
finished runs are skipped on restart.

    OMP_NUM_THREADS=1 python benchmarks/link_heads.py --splits 5
    python benchmarks/link_heads.py --report        # table from the JSON lines
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parent / "results" / "link_heads.jsonl"

# Kipf & Welling's settings for the (V)GAE: GCN 32 -> 16, lr 0.01, 200 epochs, no dropout
METHODS = {
    "gae": {"name": "gae", "hidden_channels": 32, "num_layers": 2, "head": "dot",
            "kwargs": {"encoder": "gcn", "latent_channels": 16}},
    "hadamard": {"name": "gcn", "hidden_channels": 32, "num_layers": 2, "head": "hadamard",
                 "head_kwargs": {"num_layers": 2}},
    "vgae": {"name": "vgae", "hidden_channels": 32, "num_layers": 2, "head": "dot",
             "kwargs": {"encoder": "gcn", "latent_channels": 16}},
    "resvgae8": {"name": "vgae", "hidden_channels": 32, "num_layers": 8, "head": "dot",
                 "kwargs": {"encoder": "deepgnn", "residual": "plain", "latent_channels": 16}},
    # the same 8-layer VGAE without residual connections (the ResVGAE paper's baseline)
    "vgae8_nores": {"name": "vgae", "hidden_channels": 32, "num_layers": 8, "head": "dot",
                    "kwargs": {"encoder": "deepgnn", "residual": "none", "latent_channels": 16}},
    # longer training (PyG's autoencoder example trains its GAE for 400 epochs)
    "gae_400ep": {"name": "gae", "hidden_channels": 32, "num_layers": 2, "head": "dot",
                  "kwargs": {"encoder": "gcn", "latent_channels": 16}, "epochs": 400},
    # row-normalised features (PyG's autoencoder example applies NormalizeFeatures)
    "gae_normfeat": {"name": "gae", "hidden_channels": 32, "num_layers": 2, "head": "dot",
                     "kwargs": {"encoder": "gcn", "latent_channels": 16},
                     "normalize_features": True},
    "resvgae8_400ep": {"name": "vgae", "hidden_channels": 32, "num_layers": 8, "head": "dot",
                       "kwargs": {"encoder": "deepgnn", "residual": "plain",
                                  "latent_channels": 16}, "epochs": 400},
}
DATASETS = {"cora-link": {}, "citeseer-link": {}, "usair": {"split_ratio": 0.1}}


def done() -> set[tuple[str, str, int]]:
    if not OUT.exists():
        return set()
    rows = [json.loads(line) for line in OUT.read_text().splitlines() if line.strip()]
    return {(r["dataset"], r["method"], r["split"]) for r in rows}


def run_one(dataset: str, method: str, split: int, data, epochs: int) -> dict:
    from graphkit.config import from_dict
    from graphkit.train import Trainer
    model = dict(METHODS[method], dropout=0.0)
    epochs = model.pop("epochs", epochs)
    if model.pop("normalize_features", False):
        from torch_geometric.transforms import NormalizeFeatures
        data = (NormalizeFeatures()(data[0].clone()), data[1])
    if dataset == "usair":
        model["input_encoder"] = "embedding"
    cfg = from_dict({
        "name": f"{dataset}_{method}_{split}", "out_dir": tempfile.mkdtemp(prefix="gk_lh_"),
        "data": {"name": dataset, "options": DATASETS[dataset], "splits": [split]},
        "model": model,
        "train": {"epochs": epochs, "lr": 0.01, "weight_decay": 0.0, "patience": epochs,
                  "seeds": [0], "checkpoint_every": 0, "val_ratio": 0.05, "device": "cpu"},
    })
    t = time.perf_counter()
    summary = Trainer(cfg, progress=False, overwrite=True, data=data).run()
    agg = summary["aggregate"]
    return {"dataset": dataset, "method": method, "split": split, "epochs": epochs,
            "test_auc": agg["test_auc"]["mean"], "test_ap": agg["test_ap"]["mean"],
            "val_auc": agg["val_auc"]["mean"], "best_epoch": summary["per_run"][0]["best_epoch"],
            "params": summary["num_parameters"], "seconds": time.perf_counter() - t}


def report() -> str:
    rows = [json.loads(line) for line in OUT.read_text().splitlines() if line.strip()]
    lines = ["| dataset | method | splits | test AUC x100 | test AP x100 | params | s / run |",
             "|---|---|---|---|---|---|---|"]
    for ds in DATASETS:
        for m in METHODS:
            rs = [r for r in rows if r["dataset"] == ds and r["method"] == m]
            if not rs:
                continue
            auc = torch.tensor([r["test_auc"] for r in rs]) * 100
            ap = torch.tensor([r["test_ap"] for r in rs]) * 100
            sd = (lambda v: float(v.std()) if v.numel() > 1 else 0.0)
            lines.append(f"| {ds} | {m} | {len(rs)} | {float(auc.mean()):.2f} ± {sd(auc):.2f} | "
                         f"{float(ap.mean()):.2f} ± {sd(ap):.2f} | {rs[0]['params']:,} | "
                         f"{sum(r['seconds'] for r in rs) / len(rs):.1f} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--splits", type=int, default=5)
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--datasets", nargs="*", default=list(DATASETS))
    p.add_argument("--methods", nargs="*", default=list(METHODS))
    p.add_argument("--report", action="store_true")
    args = p.parse_args()
    if args.report:
        print(report())
        return
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    from graphkit.data import load
    OUT.parent.mkdir(parents=True, exist_ok=True)
    finished = done()
    for split in range(args.splits):          # split-major: every method gets splits evenly
        for ds in args.datasets:
            data = None
            for m in args.methods:
                if (ds, m, split) in finished:
                    continue
                data = data or load(ds, **DATASETS[ds])
                row = run_one(ds, m, split, data, args.epochs)
                with OUT.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

"""GNP extrapolation benchmark: GNP vs fixed sum / mean / max / min and learnable PyG
PowerMean / Softmax aggregations on the synthetic suite of :mod:`graphkit.data.extrapolation`.

The same aggregation is used in every layer and in the readout (as in the paper: GNP
everywhere; the fixed baselines likewise everywhere). Trained on small sets / graphs with values in
[1, 10]; scored by MAPE in distribution (``test_id``) and on 5x larger sets / graphs with 5x larger
values (``test_ood``). Mean +- std over seeds.

GNP uses one setting on every task (``--gnp-init mixed --gnp-kwargs '{"growth": [0, 1]}'`` in
benchmarks/RESULTS.md). ``--size-factor`` / ``--value-factor`` scale only one side of the OOD shift.

Run (CPU, 1 thread):
    .venv/bin/python benchmarks/gnp_extrapolation.py --seeds 5 --epochs 80 --threads 1 \
        --gnp-init mixed --gnp-kwargs '{"growth": [0, 1]}' --out benchmarks/gnp_extrapolation.json
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import torch
from torch_geometric.data import Batch

from graphkit.data.extrapolation import (
    EXTRAPOLATION_TASKS,
    make_extrapolation_dataset,
    mape,
)
from graphkit.nn.aggr import GNP
from graphkit.nn.gnp_gnn import GNPGNN, build_aggregation

FIXED = ["sum", "mean", "max", "min"]
AGGRS = ["gnp"] + FIXED + ["powermean", "softmax"]


class SetModel(torch.nn.Module):
    """DeepSets: rho(AGG_k phi(x_k))."""

    def __init__(self, aggr: str, hidden: int, aggr_kwargs: dict) -> None:
        super().__init__()
        self.phi = torch.nn.Sequential(torch.nn.Linear(1, hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, hidden))
        self.readout = build_aggregation(aggr, hidden, aggr_kwargs)
        self.rho = torch.nn.Linear(hidden, 1)

    def forward(self, data):
        return self.rho(self.readout(self.phi(data.x), data.batch, dim_size=data.num_graphs))


class GraphModel(torch.nn.Module):
    """One message-passing layer, then a readout, then a linear head (max degree)."""

    def __init__(self, aggr: str, hidden: int, aggr_kwargs: dict) -> None:
        super().__init__()
        self.gnn = GNPGNN(1, hidden, hidden, num_layers=1, aggr=aggr, aggr_kwargs=aggr_kwargs)
        self.readout = build_aggregation(aggr, hidden, aggr_kwargs)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, data):
        h = self.gnn(data.x, data.edge_index)
        return self.head(self.readout(h, data.batch, dim_size=data.num_graphs))


class NodeModel(torch.nn.Module):
    """``hops`` message-passing layers with edge weights (shortest path)."""

    def __init__(self, aggr: str, hidden: int, aggr_kwargs: dict, hops: int) -> None:
        super().__init__()
        self.gnn = GNPGNN(2, hidden, 1, num_layers=hops, aggr=aggr, aggr_kwargs=aggr_kwargs,
                          edge_dim=1)

    def forward(self, data):
        return self.gnn(data.x, data.edge_index, data.edge_attr)


def build_model(task: str, aggr: str, hidden: int, gnp_kwargs: dict, hops: int):
    kw = dict(gnp_kwargs) if aggr == "gnp" else {}
    level = EXTRAPOLATION_TASKS[task]["level"]
    if level == "set":
        return SetModel(aggr, hidden, kw)
    if level == "graph":
        return GraphModel(aggr, hidden, kw)
    return NodeModel(aggr, hidden, kw, hops)


def gnp_kwargs(args) -> dict:
    kw = {"init": args.gnp_init, **json.loads(args.gnp_kwargs)}
    if "growth" in kw and kw["growth"] is not None:
        kw["growth"] = tuple(kw["growth"])
    return kw


def evaluate(model, dataset, level: str) -> float:
    model.eval()
    errs, count = 0.0, 0
    with torch.no_grad():
        for data in [Batch.from_data_list(dataset)]:
            pred = model(data)
            y = data.y
            if level == "node":
                pred, y = pred[data.mask], y[data.mask]
            err = ((pred - y).abs() / y.abs())
            errs += float(err.sum())
            count += err.numel()
    return errs / max(count, 1)


def run(task: str, aggr: str, seed: int, args) -> dict:
    level = EXTRAPOLATION_TASKS[task]["level"]
    data_seed = seed
    train = make_extrapolation_dataset(task, "train", args.train_samples, data_seed, hops=args.hops)
    test_id = make_extrapolation_dataset(task, "test_id", args.test_samples, data_seed,
                                         hops=args.hops)
    test_ood = make_extrapolation_dataset(task, "test_ood", args.test_samples, data_seed,
                                          factor=args.factor, size_factor=args.size_factor,
                                          value_factor=args.value_factor, hops=args.hops)
    torch.manual_seed(seed)
    model = build_model(task, aggr, args.hidden, gnp_kwargs(args), args.hops)
    aggr_params = [p for m in model.modules() if isinstance(m, torch.nn.Module)
                   and m.__class__.__name__ in ("GNP", "PowerMeanAggregation",
                                                "SoftmaxAggregation")
                   for p in m.parameters(recurse=False)]
    ids = {id(p) for p in aggr_params}
    rest = [p for p in model.parameters() if id(p) not in ids]
    groups = [{"params": rest, "lr": args.lr}]
    if aggr_params:
        groups.append({"params": aggr_params, "lr": args.aggr_lr})
    opt = torch.optim.Adam(groups)
    gen = torch.Generator().manual_seed(seed)
    # collate once (fixed batches, fresh order each epoch): collation would dominate otherwise
    order = torch.randperm(len(train), generator=gen).tolist()
    batches = [Batch.from_data_list([train[i] for i in order[k:k + args.batch_size]])
               for k in range(0, len(order), args.batch_size)]
    steps = args.epochs * len(batches)
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) if args.schedule == "cosine"
             else None)
    t0 = time.perf_counter()
    for _ in range(args.epochs):
        model.train()
        for b in torch.randperm(len(batches), generator=gen).tolist():
            data = batches[b]
            pred = model(data)
            y = data.y
            if level == "node":
                pred, y = pred[data.mask], y[data.mask]
            loss = mape(pred, y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            opt.step()
            if sched is not None:
                sched.step()
    train_s = time.perf_counter() - t0
    res = {"task": task, "aggr": aggr, "seed": seed, "train_s": train_s,
           "id": evaluate(model, test_id, level),
           "ood": evaluate(model, test_ood, level)}
    gnps = [m for m in model.modules() if isinstance(m, GNP)]
    if gnps:
        res["gnp_p"] = [m.p.detach().mean(1).tolist() for m in gnps]
        res["gnp_q"] = [m.q.detach().mean(1).tolist() for m in gnps]
    return res


def fmt(vals: list[float]) -> str:
    """mean ± std in % (a plain ratio above 1000%; 'NaN (k/n)' when runs diverged)."""
    bad = sum(1 for v in vals if not math.isfinite(v))
    if bad:
        return f"NaN ({bad}/{len(vals)})"
    m, s = statistics.mean(vals), statistics.pstdev(vals) if len(vals) > 1 else 0.0
    return f"{m:.3g}x" if m > 10 else f"{100 * m:.1f} ± {100 * s:.1f}"


def parse_log(path: str) -> list[dict]:
    """Rebuild results from this script's per-run lines (``task aggr seed=.. id=.. ood=..``)."""
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and parts[2].startswith("seed="):
                out.append({"task": parts[0], "aggr": parts[1], "seed": int(parts[2][5:]),
                            "id": float(parts[3][3:]), "ood": float(parts[4][4:])})
    return out


def table(results: list[dict], tasks: list[str], aggrs: list[str]) -> str:
    lines = ["| task | " + " | ".join(f"{a} ID / OOD" for a in aggrs)
             + " | best fixed (OOD) | GNP − best fixed, OOD points: mean / median |",
             "|" + "---|" * (len(aggrs) + 3)]
    for task in tasks:
        cells, ood = [], {}
        for aggr in aggrs:
            rs = [r for r in results if r["task"] == task and r["aggr"] == aggr]
            cells.append(f"{fmt([r['id'] for r in rs])} / {fmt([r['ood'] for r in rs])}")
            ood[aggr] = [r["ood"] for r in rs]
        fixed = {a: statistics.mean(ood[a]) for a in FIXED if ood.get(a)}
        best = min(fixed, key=fixed.get) if fixed else None
        gap = "n/a"
        if best and ood.get("gnp"):
            gm = 100 * (statistics.mean(ood["gnp"]) - fixed[best])
            gd = 100 * (statistics.median(ood["gnp"]) - statistics.median(ood[best]))
            gap = f"{gm:+.1f} / {gd:+.1f}"
        lines.append(f"| {task} | " + " | ".join(cells) + f" | {best} | {gap} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=list(EXTRAPOLATION_TASKS))
    ap.add_argument("--aggrs", nargs="+", default=AGGRS)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=80)
    ap.add_argument("--train-samples", type=int, default=512)
    ap.add_argument("--test-samples", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--hops", type=int, default=3)
    ap.add_argument("--factor", type=float, default=5.0)
    ap.add_argument("--size-factor", type=float, default=None, help="OOD size factor only")
    ap.add_argument("--value-factor", type=float, default=None, help="OOD value factor only")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--aggr-lr", type=float, default=0.1)
    ap.add_argument("--schedule", choices=["none", "cosine"], default="none",
                    help="learning-rate schedule of every parameter group (per step)")
    ap.add_argument("--gnp-init", default="mixed")
    ap.add_argument("--gnp-kwargs", default="{}", help="extra GNP keywords as JSON")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None)
    ap.add_argument("--from-log", default=None,
                    help="re-render the table from a saved stdout of this script (no training)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.from_log:
        results, wall = parse_log(args.from_log), float("nan")
    else:
        results = []
        t0 = time.perf_counter()
        for task in args.tasks:
            for aggr in args.aggrs:
                for seed in range(args.seeds):
                    r = run(task, aggr, seed, args)
                    results.append(r)
                    print(f"{task:14s} {aggr:10s} seed={seed} id={r['id']:.4f} "
                          f"ood={r['ood']:.4f} ({r['train_s']:.1f}s)", flush=True)
        wall = time.perf_counter() - t0
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"args": vars(args), "wall_s": wall, "results": results}, f, indent=1)
    print(f"\nwall {wall:.0f}s; MAPE in % (mean ± std over seeds)\n")
    print(table(results, args.tasks, args.aggrs))

if __name__ == "__main__":
    main()

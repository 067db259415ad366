"""Depth sweep of graphkit's residual kinds: test accuracy and final-layer Dirichlet energy.

Runs DeepGNN(conv="gcn", residual=<kind>) at several depths on Cora / CiteSeer (public split)
and a contextual SBM, full batch, with a compact training loop (Adam; early stopping on
validation accuracy; test accuracy at the best-validation epoch). Results are appended to a
JSONL file one run at a time (a rerun skips runs already there), so a wall-clock budget can
stop the sweep anywhere; ``--report`` turns the JSONL into markdown tables and figures.

Recipes
-------
- standard (every kind but gcnii): hidden 64, dropout 0.5, Adam lr 0.01, weight decay 5e-4,
  ``--epochs`` max, ``--patience`` on validation accuracy; norm "layer" except kind "none"
  (the classic GCN stack, no norm) and "jk_*" / "dense" ("none").
- gcnii (GCNII's Cora recipe): hidden 64, dropout 0.6, alpha 0.1, lambda 0.5, lr 0.01, weight
  decay 0.01 on the identity-mapping weights and 5e-4 on the input/output linears, patience
  100, ``--gcnii-epochs`` max.

Usage::

    GRAPHKIT_DATA=/work/shared/data .venv/bin/python benchmarks/residual_depth.py \\
        --plan default --budget-min 25
    .venv/bin/python benchmarks/residual_depth.py --report
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _residual_common import KIND_KW, kind_spec, load, train_node_classifier

from graphkit.diagnostics import DiagnosticsRecorder, plot_energy_vs_depth
from graphkit.nn.backbone import DeepGNN

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "results", "residual_depth.jsonl")
DEPTHS = [2, 4, 8, 16, 32, 64]
MAIN = ["none", "plain", "gcnii", "hc_dynamic", "laurel_lr"]
OTHERS = ["preact", "rezero", "laurel_rw", "laurel_pa", "hc_static", "mhc", "jk_max"]
#: the whole grid of issue #4 (``--plan full``): every kind, incl. graphkit's depth-scaled LAuReL-LR
FULL = MAIN + OTHERS + ["laurel_lr_depth", "jk_cat", "jk_lstm", "dense"]
#: the kinds of ``--plan seeds5``: the collapse baseline, both classic skips, the best
#: hyper-connection / LAuReL kinds at 64 layers, and GCNII
SEEDS5_KINDS = ["none", "plain", "preact", "gcnii", "hc_static", "hc_dynamic", "laurel_rw",
                "laurel_pa"]


def plan(name: str) -> list[tuple[str, str, int, int]]:
    """Priority-ordered (dataset, kind, depth, seed) list; the budget cuts it from the end."""
    runs: list[tuple[str, str, int, int]] = []
    add = lambda ds, kinds, depths, seeds: runs.extend(
        (ds, k, L, s) for s in seeds for L in depths for k in kinds
        if (ds, k, L, s) not in runs)
    if name == "smoke":
        add("cora", ["none", "hc_dynamic", "gcnii"], [2, 4], [0])
        return runs
    if name.startswith("deep64"):  # the 64-layer row over 5 seeds: deep64 (Cora, seeds 1-4;
        # seed 0 came from the H200 grid), deep64_citeseer, deep64_csbm (seeds 0-4)
        ds = name.partition("_")[2] or "cora"
        for seed in range(1 if ds == "cora" else 0, 5):
            add(ds, ["none", "plain", "preact", "hc_dynamic", "hc_static", "laurel_pa",
                     "laurel_rw", "laurel_lr_depth"], [64], [seed])
        return runs
    if name == "gcnii64":  # GCNII at 64 layers on CiteSeer and CSBM, seeds 0-4
        for seed in range(5):
            add("citeseer", ["gcnii"], [64], [seed])
            add("csbm", ["gcnii"], [64], [seed])
        return runs
    if name == "seeds5":  # depths 2-32 over 5 seeds for the headline kinds, cheapest graph first
        # (Cora seed 0 came from the H200 grid)
        for ds in ["csbm", "cora", "citeseer"]:
            for seed in range(1 if ds == "cora" else 0, 5):
                add(ds, SEEDS5_KINDS, DEPTHS[:-1], [seed])
        return runs
    if name == "rest":  # every kind not in seeds5, all depths, 5 seeds, cheapest graph first
        for ds in ["csbm", "cora", "citeseer"]:
            add(ds, [k for k in FULL if k not in SEEDS5_KINDS], DEPTHS, range(5))
        return runs
    if name == "jk_lstm_h64":  # JK-LSTM with lstm_channels=64, every depth, 5 seeds
        for ds in ["cora", "csbm", "citeseer"]:
            add(ds, ["jk_lstm_h64"], DEPTHS, range(5))
        return runs
    if name == "full":   # 5 seeds x 6 depths x every kind x 3 datasets, seed-major
        for seed in range(5):
            for ds in ["cora", "citeseer", "csbm"]:
                add(ds, FULL, DEPTHS[::-1], [seed])
        return runs
    # 1. the 64-layer collapse baseline and plain residual on Cora
    add("cora", ["none", "plain"], [64], [0])
    # 2. shallow / medium depth on Cora, main kinds, seed 0
    add("cora", MAIN, [2, 8], [0])
    # 3. CSBM (small graph: the deep end is affordable), main kinds, seed 0
    add("csbm", MAIN, [2, 8, 32, 64], [0])
    # 4. the 64-layer headline on Cora for the remaining main kinds
    add("cora", ["gcnii", "laurel_lr", "hc_dynamic"], [64], [0])
    # 5. the rest of the grid, by priority
    add("cora", OTHERS, [8], [0])
    add("cora", MAIN, [32], [0])
    add("csbm", OTHERS, [8, 64], [0])
    add("cora", OTHERS, [64], [0])
    add("citeseer", MAIN, [2, 8, 32, 64], [0])
    add("cora", MAIN, [2, 8, 64, 32], [1, 2])
    add("cora", MAIN + OTHERS, [4, 16], [0])
    add("cora", OTHERS, [2, 32], [0])
    add("cora", MAIN, [2, 8, 64, 32], [3, 4])
    add("csbm", MAIN, [2, 8, 32, 64], [1, 2, 3, 4])
    add("citeseer", MAIN, [2, 8, 32, 64], [1, 2, 3, 4])
    return runs


#: extra single configurations (``--variant``), each written to its own JSONL file
VARIANTS = {
    # GCNII's own protocol: early stopping on validation *loss*, patience 100, 1000 epochs max
    "gcnii_valloss": {"kind": "gcnii", "epochs": 1000, "patience": 100, "select": "loss"},
    # the same with row-normalised features (as PyG's gcn2_cora example and GCNII's code do)
    "gcnii_valloss_normfeat": {"kind": "gcnii", "epochs": 400, "patience": 100,
                               "select": "loss", "normalize_features": True},
    # GCNII's full Cora protocol: row-normalised features, val-loss stopping, up to 1500 epochs
    "gcnii_full": {"kind": "gcnii", "epochs": 1500, "patience": 100, "select": "loss",
                   "normalize_features": True},
    # LAuReL-LR with the paper's LLM init of A (entries 1/sqrt(rD)): a smaller skip update
    "laurel_lr_colorth": {"kind": "laurel_lr", "kw": {"rank": 16, "init": "column_orthogonal"}},
    # LAuReL-LR with graphkit's depth-scaled skip update (I + BA/L)
    "laurel_lr_depthscale": {"kind": "laurel_lr", "kw": {"rank": 16, "scale": "depth"}},
}


def run_variant(data, dataset: str, name: str, depth: int, seed: int, args) -> dict:
    v = VARIANTS[name]
    if v.get("normalize_features") and dataset != "csbm":  # CSBM features are signed Gaussians
        from torch_geometric.transforms import NormalizeFeatures
        data = NormalizeFeatures()(data.clone())
    torch.manual_seed(seed)
    C = int(data.y.max()) + 1
    if v["kind"] == "gcnii":
        model = DeepGNN(data.num_features, 64, C, depth, conv="gcn", residual="gcnii",
                        norm="none", dropout=0.6, **KIND_KW["gcnii"]).to(data.x.device)
        res = train_node_classifier(model, data, lr=0.01, weight_decay=0.01,
                                    dense_weight_decay=5e-4, epochs=v["epochs"],
                                    patience=v["patience"], select=v["select"])
    else:
        model = DeepGNN(data.num_features, 64, C, depth, conv="gcn", residual=v["kind"],
                        norm="layer", dropout=0.5, **v["kw"]).to(data.x.device)
        res = train_node_classifier(model, data, lr=0.01, weight_decay=5e-4,
                                    epochs=args.epochs, patience=args.patience)
    diag = DiagnosticsRecorder(model).measure(data)
    return {"dataset": dataset, "kind": name, "depth": depth, "seed": seed, **res,
            "final_energy": diag["dirichlet_energy"][-1], "variant": v,
            "energy_profile": diag["dirichlet_energy"], "threads": args.threads,
            "device": str(data.x.device)}


def run_one(data, dataset: str, kind: str, depth: int, seed: int, args) -> dict:
    torch.manual_seed(seed)
    num_classes = int(data.y.max()) + 1
    if kind == "gcnii":
        model = DeepGNN(data.num_features, 64, num_classes, depth, conv="gcn", residual="gcnii",
                        norm="none", dropout=0.6, **KIND_KW["gcnii"]).to(data.x.device)
        res = train_node_classifier(model, data, lr=0.01, weight_decay=0.01,
                                    dense_weight_decay=5e-4, epochs=args.gcnii_epochs,
                                    patience=100, select=args.gcnii_select)
    else:
        residual, kw, norm = kind_spec(kind)
        model = DeepGNN(data.num_features, 64, num_classes, depth, conv="gcn", residual=residual,
                        norm=norm, dropout=0.5, **kw).to(data.x.device)
        res = train_node_classifier(model, data, lr=0.01, weight_decay=5e-4,
                                    epochs=args.epochs, patience=args.patience)
    rec = DiagnosticsRecorder(model)
    diag = rec.measure(data)
    rec.remove()
    return {"dataset": dataset, "kind": kind, "depth": depth, "seed": seed, **res,
            "max_epochs": args.gcnii_epochs if kind == "gcnii" else args.epochs,
            "device": str(data.x.device), "normalize_features": args.normalize_features,
            "gcnii_select": args.gcnii_select,
            "patience": 100 if kind == "gcnii" else args.patience, "threads": args.threads,
            "final_energy": diag["dirichlet_energy"][-1],
            "final_energy_ratio": diag["energy_ratio"][-1],
            "final_mad": diag["mad"][-1],
            "energy_profile": diag["dirichlet_energy"],
            "params": sum(p.numel() for p in model.parameters())}


def sweep(args) -> None:
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    done = set()
    for path in [args.out, *args.also_done]:  # a run in any of these files is not repeated
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    r = json.loads(line)
                    done.add((r["dataset"], r["kind"], r["depth"], r["seed"]))
    i_shard, n_shards = (int(v) for v in args.shard.split("/"))
    runs = [r for r in plan(args.plan)[i_shard::n_shards] if r not in done
            and (args.plan_seeds is None or r[3] in args.plan_seeds)
            and (args.plan_datasets is None or r[0] in args.plan_datasets)
            and (args.plan_kinds is None or r[1] in args.plan_kinds)]
    t_start = time.perf_counter()
    cache: dict[str, object] = {}
    print(f"{len(runs)} runs to do ({len(done)} already in {args.out})", flush=True)
    for i, (ds, kind, depth, seed) in enumerate(runs):
        elapsed = (time.perf_counter() - t_start) / 60
        if elapsed > args.budget_min:
            print(f"budget of {args.budget_min} min reached after {elapsed:.1f} min; "
                  f"{len(runs) - i} runs left undone", flush=True)
            break
        if ds not in cache:
            data = load(ds)
            if args.normalize_features and ds != "csbm":
                from torch_geometric.transforms import NormalizeFeatures
                data = NormalizeFeatures()(data)
            cache[ds] = data.to(args.device)
        r = run_one(cache[ds], ds, kind, depth, seed, args)
        with open(args.out, "a") as f:
            f.write(json.dumps(r) + "\n")
        print(f"[{elapsed:5.1f} min] {ds:8s} {kind:11s} L={depth:2d} seed={seed} "
              f"test={r['test_acc']:.3f} epochs={r['epochs']} E_L={r['final_energy']:.3g} "
              f"({r['train_s']:.0f}s)", flush=True)


def _fmt(vals: list[float]) -> str:
    if not vals:
        return "–"
    m = sum(vals) / len(vals)
    if len(vals) == 1:
        return f"{100 * m:.1f} (1)"
    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1))
    return f"{100 * m:.1f}±{100 * sd:.1f} ({len(vals)})"


def report(args) -> None:
    rows, seen = [], set()
    for path in args.inputs or [args.out]:  # first file wins on a repeated run
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                key = (r["dataset"], r["kind"], r["depth"], r["seed"])
                if key not in seen:
                    seen.add(key)
                    rows.append(r)
    fig_dir = os.path.join(HERE, "figures")
    os.makedirs(fig_dir, exist_ok=True)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = []
    for ds in ["cora", "citeseer", "csbm"]:
        sub = [r for r in rows if r["dataset"] == ds]
        if not sub:
            continue
        kinds = [k for k in FULL + ["jk_lstm_h64"] if any(r["kind"] == k for r in sub)]
        depths = sorted({r["depth"] for r in sub})
        out.append(f"\n**{ds}**: test accuracy %, mean±std (seeds) | final-layer Dirichlet "
                   f"energy (sqrt, mean)\n")
        out.append("| kind | " + " | ".join(f"L={L}" for L in depths) + " |")
        out.append("|---|" + "---|" * len(depths))
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for k in kinds:
            cells, xs, ys, es = [], [], [], []
            for L in depths:
                rr = [r for r in sub if r["kind"] == k and r["depth"] == L]
                acc = [r["test_acc"] for r in rr]
                en = [r["final_energy"] for r in rr]
                cells.append(_fmt(acc) + (f" / {sum(en) / len(en):.2g}" if en else ""))
                if acc:
                    xs.append(L)
                    ys.append(100 * sum(acc) / len(acc))
                    es.append(max(sum(en) / len(en), 1e-12))
            out.append(f"| {k} | " + " | ".join(cells) + " |")
            axes[0].plot(xs, ys, marker="o", label=k)
            axes[1].plot(xs, es, marker="o", label=k)
        for ax, yl in zip(axes, ["test accuracy (%)", "final-layer Dirichlet energy"]):
            ax.set_xscale("log", base=2)
            ax.set_xlabel("layers")
            ax.set_ylabel(yl)
            ax.grid(alpha=0.3)
        axes[1].set_yscale("log")
        axes[0].legend(fontsize=7, ncol=2)
        fig.suptitle(f"{ds}: depth sweep (DeepGNN, GCN convs)")
        fig.tight_layout()
        fig.savefig(os.path.join(fig_dir, f"residual_depth{args.tag}_{ds}.png"), dpi=110)
        plt.close(fig)
        prof = {r["kind"]: {"depth": list(range(len(r["energy_profile"]))),
                            "dirichlet_energy": r["energy_profile"]}
                for r in sub if r["depth"] == max(depths) and r["seed"] == 0}
        if prof:
            plot_energy_vs_depth(prof, os.path.join(fig_dir, f"residual_energy{args.tag}_{ds}.png"),
                                 title=f"{ds}: energy per layer, trained {max(depths)}-layer "
                                       f"models (seed 0)")
    text = "\n".join(out)
    print(text)
    with open(os.path.join(HERE, "results", f"residual_depth{args.tag}.md"), "w") as f:
        f.write(text + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plan", default="default", choices=["default", "smoke", "full", "deep64", "deep64_citeseer",
                                     "deep64_csbm", "gcnii64", "seeds5", "rest",
                                     "jk_lstm_h64"])
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    ap.add_argument("--shard", default="0/1", help="I/N: run every N-th planned run from the I-th")
    ap.add_argument("--normalize-features", action="store_true",
                    help="row-normalise Cora / CiteSeer features (PyG's and GCNII's convention)")
    ap.add_argument("--gcnii-select", default="acc", choices=["acc", "loss"],
                    help="GCNII early stopping on validation accuracy or loss (GCNII's rule)")
    ap.add_argument("--tag", default="", help="suffix of the report's markdown and figure names")
    ap.add_argument("--plan-seeds", type=int, nargs="*", default=None,
                    help="run only these seeds of the plan")
    ap.add_argument("--plan-datasets", nargs="*", default=None,
                    help="run only these datasets of the plan")
    ap.add_argument("--plan-kinds", nargs="*", default=None,
                    help="run only these residual kinds of the plan")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--also-done", nargs="*", default=[], metavar="JSONL",
                    help="skip runs already recorded in these files too (a second process "
                         "sharing a plan writes its own --out)")
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--patience", type=int, default=30)
    ap.add_argument("--gcnii-epochs", type=int, default=500)
    ap.add_argument("--budget-min", type=float, default=25.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--inputs", nargs="*", default=None, metavar="JSONL",
                    help="with --report: merge these result files (default: --out)")
    ap.add_argument("--variant", choices=sorted(VARIANTS), default=None,
                    help="run one extra configuration (see VARIANTS) instead of the plan")
    ap.add_argument("--dataset", default="cora")
    ap.add_argument("--depth", type=int, default=64)
    ap.add_argument("--seeds", type=int, nargs="*", default=[0])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    if args.variant:
        data = load(args.dataset).to(args.device)
        out = (args.out if args.out != DEFAULT_OUT
               else os.path.join(HERE, "results", f"residual_variant_{args.variant}.jsonl"))
        for seed in args.seeds:
            r = run_variant(data, args.dataset, args.variant, args.depth, seed, args)
            with open(out, "a") as f:
                f.write(json.dumps(r) + "\n")
            print(f"{args.variant} {args.dataset} L={args.depth} seed={seed} "
                  f"test={r['test_acc']:.3f} best_epoch={r['best_epoch']} epochs={r['epochs']} "
                  f"E_L={r['final_energy']:.3g} ({r['train_s']:.0f}s)", flush=True)
        return
    if args.report:
        report(args)
    else:
        sweep(args)


if __name__ == "__main__":
    main()

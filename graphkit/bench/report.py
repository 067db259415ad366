"""Leaderboards from a results store: aggregation, Markdown / CSV, plots and exports.

Aggregation follows the OGB protocol: every run contributes its metric at its best-validation
epoch, and a group (experiment x grid point) reports the mean and the unbiased standard
deviation (:func:`graphkit.train.mean_std`, ``torch.std``) over its runs.

Exports:

- **OGB submission** (``ogb_submission/<dataset>__<group>.json``): the fields of OGB's leaderboard
  form (test / validation mean +- std, number of runs, #params, hardware, package versions) and
  the four lines OGB's example loggers print per run (Highest Train, Highest Valid, Final Train,
  Final Test).
- **RelBench predictions** (``relbench/<dataset>__<task>.csv``): for relational cells that wrote
  ``test_predictions.csv``, the file of the run with the best validation score of the best group,
  in RelBench v3's submission layout (key columns + ``prediction``; JSON lists of top-k ids for
  recommendation).
"""
from __future__ import annotations

import csv
import io
import json
import math
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

from graphkit.bench.store import ResultStore, _atomic_text


def _scale(metric: str) -> float:
    return 1.0 if metric in ("rmse", "mae", "mape", "nmae") else 100.0


def aggregate(rows: list[dict]) -> list[dict]:
    """One record per (experiment, options): mean +- unbiased std of val / test, runs, params,
    run times."""
    from graphkit.train.trainer import mean_std
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["experiment"], r["options"])].append(r)
    out = []
    for (exp, opts), rs in sorted(groups.items()):
        rs = sorted(rs, key=lambda r: (r["seed"], r["split"]))
        tm, ts = mean_std([r["test"] for r in rs])
        vm, vs = mean_std([r["val"] for r in rs])
        trm, trs = mean_std([r["train"] for r in rs])
        hm, hs = mean_std([r.get("train_highest", float("nan")) for r in rs])
        times = [r["train_s"] for r in rs]
        out.append({
            "experiment": exp, "options": opts, "dataset": rs[0]["dataset"],
            "task": rs[0].get("task"), "model": rs[0]["model"], "metric": rs[0]["metric"],
            "higher_is_better": rs[0]["higher_is_better"], "runs": len(rs),
            "test_mean": tm, "test_std": ts, "val_mean": vm, "val_std": vs,
            "train_mean": trm, "train_std": trs, "train_highest_mean": hm, "train_highest_std": hs,
            "num_parameters": rs[0]["num_parameters"],
            "time_per_run_s": sum(times) / len(times), "time_total_s": sum(times),
            "epochs_mean": sum(r["epochs_run"] for r in rs) / len(rs),
            "device": rs[0].get("device_name") or rs[0].get("device"),
            "seeds": sorted({r["seed"] for r in rs}), "splits": sorted({r["split"] for r in rs}),
            "tests": [r["test"] for r in rs], "vals": [r["val"] for r in rs],
            "versions": rs[0].get("versions") or {},
        })
    return out


def _pm(mu: float, sd: float, metric: str) -> str:
    if math.isnan(mu):
        return "n/a"
    s = _scale(metric)
    d = 2 if s == 100.0 else 4
    return f"{mu * s:.{d}f} ± {sd * s:.{d}f}"


def leaderboard_markdown(agg: list[dict], title: str = "leaderboard") -> str:
    lines = [f"### {title}", "",
             ("| dataset | experiment | model | options | metric | test | val | runs | #params | "
             "s / run | total s |"),
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for a in agg:
        unit = " (x100)" if _scale(a["metric"]) == 100.0 else ""
        lines.append(f"| {a['dataset']} | {a['experiment']} | {a['model']} | {a['options']} | "
                     f"{a['metric']}{unit} | {_pm(a['test_mean'], a['test_std'], a['metric'])} | "
                     f"{_pm(a['val_mean'], a['val_std'], a['metric'])} | {a['runs']} | "
                     f"{a['num_parameters']:,} | {a['time_per_run_s']:.1f} | {a['time_total_s']:.1f} |")
    lines.append("")
    lines.append("Mean ± unbiased std over runs (seeds x splits), test at the best-validation "
                 "epoch of each run.")
    return "\n".join(lines) + "\n"


_CSV_COLS = ["dataset", "experiment", "model", "options", "metric", "higher_is_better", "runs",
             "test_mean", "test_std", "val_mean", "val_std", "train_mean", "train_std",
             "num_parameters", "time_per_run_s", "time_total_s", "epochs_mean", "device"]


def leaderboard_csv(agg: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=_CSV_COLS, extrasaction="ignore")
    w.writeheader()
    for a in agg:
        w.writerow(a)
    return buf.getvalue()


def plot_leaderboard(agg: list[dict], out: Path) -> list[Path]:
    """``seed_spread.png`` (metric of every run per group) and ``metric_vs_time.png``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    by_metric: dict[str, list[dict]] = defaultdict(list)
    for a in agg:
        by_metric[a["metric"]].append(a)
    n = len(by_metric)
    if n == 0:
        return paths
    fig, axes = plt.subplots(1, n, figsize=(4.5 * n, 3.8), squeeze=False)
    for ax, (metric, items) in zip(axes[0], sorted(by_metric.items())):
        s = _scale(metric)
        for j, a in enumerate(items):
            ys = [t * s for t in a["tests"]]
            ax.scatter([j] * len(ys), ys, s=12, alpha=0.7)
            ax.errorbar([j + 0.25], [a["test_mean"] * s], yerr=[a["test_std"] * s], fmt="k_",
                        capsize=3)
        ax.set_xticks(range(len(items)))
        ax.set_xticklabels([f"{a['experiment']}\n{a['options']}"[:40] for a in items],
                           rotation=30, ha="right", fontsize=7)
        ax.set_ylabel(f"test {metric}" + (" (x100)" if s == 100.0 else ""))
        ax.set_title("spread over seeds / splits", fontsize=9)
    fig.tight_layout()
    p = out / "seed_spread.png"
    _save(fig, p, plt)
    paths.append(p)

    fig, axes = plt.subplots(1, n, figsize=(4.5 * n, 3.8), squeeze=False)
    for ax, (metric, items) in zip(axes[0], sorted(by_metric.items())):
        s = _scale(metric)
        for a in items:
            ax.errorbar([a["time_per_run_s"]], [a["test_mean"] * s], yerr=[a["test_std"] * s],
                        fmt="o", capsize=3, label=f"{a['experiment']} {a['options']}"[:40])
        ax.set_xscale("log")
        ax.set_xlabel("train time per run (s, log)")
        ax.set_ylabel(f"test {metric}" + (" (x100)" if s == 100.0 else ""))
        ax.legend(fontsize=6)
    fig.tight_layout()
    p = out / "metric_vs_time.png"
    _save(fig, p, plt)
    paths.append(p)
    return paths


def _save(fig, path: Path, plt) -> None:
    import os
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, path)


def ogb_submission(a: dict) -> dict:
    """The fields OGB's leaderboard form asks for, from one aggregated group."""
    return {
        "dataset": a["dataset"], "method": f"{a['model']} ({a['experiment']}: {a['options']})",
        "metric": a["metric"],
        "test_performance": f"{a['test_mean']:.4f} ± {a['test_std']:.4f}",
        "validation_performance": f"{a['val_mean']:.4f} ± {a['val_std']:.4f}",
        "test_mean": a["test_mean"], "test_std": a["test_std"],
        "valid_mean": a["val_mean"], "valid_std": a["val_std"],
        "num_runs": a["runs"], "seeds": a["seeds"], "splits": a["splits"],
        "num_parameters": a["num_parameters"], "hardware": a["device"],
        "package_versions": a["versions"],
        "logger": {"Highest Train": [a["train_highest_mean"], a["train_highest_std"]],
                   "Highest Valid": [a["val_mean"], a["val_std"]],
                   "Final Train": [a["train_mean"], a["train_std"]],
                   "Final Test": [a["test_mean"], a["test_std"]]},
        "std": "unbiased (torch.std), over runs",
    }


def export_ogb(agg: list[dict], out: Path) -> list[Path]:
    paths = []
    for a in agg:
        p = out / "ogb_submission" / f"{a['dataset']}__{a['experiment']}__{a['options']}.json"
        _atomic_text(p, json.dumps(ogb_submission(a), indent=2, default=str))
        paths.append(p)
    return paths


def export_relbench(rows: list[dict], agg: list[dict], out: Path) -> list[Path]:
    """Per RelBench (dataset, task): the prediction CSV of the best-validation run of the group
    (experiment x options) with the best mean validation score, as ``<dataset>__<task>.csv``."""
    groups = {(a["experiment"], a["options"]): a for a in agg}
    by_task: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        rb = r.get("relbench") or {}
        if r.get("predictions") and rb.get("dataset") and rb.get("task"):
            by_task[(rb["dataset"], rb["task"])].append(r)
    paths = []
    for (dataset, task), rs in sorted(by_task.items()):
        sign = 1 if rs[0]["higher_is_better"] else -1
        best_group = max({(r["experiment"], r["options"]) for r in rs},
                         key=lambda g: sign * groups[g]["val_mean"])
        r = max([r for r in rs if (r["experiment"], r["options"]) == best_group],
                key=lambda r: sign * r["val"])
        p = out / "relbench" / f"{dataset}__{task}.csv"
        p.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(r["predictions"], p)
        paths.append(p)
    return paths


def write_report(store: ResultStore | str | Path, out: str | Path | None = None,
                 title: str = "leaderboard") -> dict[str, Any]:
    """Write ``leaderboard.md``, ``leaderboard.csv``, the plots and the exports into ``out``."""
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    out = Path(out) if out is not None else store.root
    rows = store.rows()
    agg = aggregate(rows)
    md = leaderboard_markdown(agg, title)
    fails = store.failures()
    finished = {r["cell_id"] for r in rows}
    open_fail = sorted({f["cell_id"] for f in fails if f["cell_id"] not in finished})
    if fails:
        md += (f"\n{len(fails)} failed attempt(s); cells without a result: "
               f"{open_fail or 'none'} (see failures.jsonl).\n")
    _atomic_text(out / "leaderboard.md", md)
    _atomic_text(out / "leaderboard.csv", leaderboard_csv(agg))
    plots = plot_leaderboard(agg, out) if agg else []
    return {"markdown": str(out / "leaderboard.md"), "csv": str(out / "leaderboard.csv"),
            "plots": [str(p) for p in plots],
            "ogb": [str(p) for p in export_ogb(agg, out)],
            "relbench": [str(p) for p in export_relbench(rows, agg, out)],
            "groups": len(agg), "rows": len(rows), "unfinished_failed": open_fail}

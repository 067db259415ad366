"""``graphkit train | bench | data | info``: the command line.

Examples::

    graphkit train examples/configs/cora_gcn.yaml train.seeds=[0,1,2] model.hidden_channels=32
    graphkit train CONFIG --resume        # continue interrupted runs, skip finished ones
    graphkit bench benchmarks/suites/foundation.yaml --resume
    graphkit data list
    graphkit data info cora
    graphkit info
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table
    t = Table(title=title)
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*r)
    Console().print(t)


def _fmt(mu: float, sd: float, scale: float) -> str:
    return f"{mu * scale:.2f} ± {sd * scale:.2f}"


def print_summary(summary: dict) -> None:
    metric = summary["metric"]
    scale = 100.0 if metric not in ("rmse", "mae", "mape") else 1.0
    rows = [[str(r["seed"]), str(r["split"]), str(r["best_epoch"]), f"{r['val'] * scale:.2f}",
             f"{r['test'] * scale:.2f}", f"{r['train_s']:.1f}"] for r in summary["per_run"]]
    agg = summary["aggregate"]
    rows.append(["mean ± std", "", "", _fmt(agg[f"val_{metric}"]["mean"], agg[f"val_{metric}"]["std"], scale),
                 _fmt(agg[f"test_{metric}"]["mean"], agg[f"test_{metric}"]["std"], scale),
                 f"{summary['train_s_total']:.1f}"])
    unit = " (x100)" if scale == 100 else ""
    _table(f"{summary['name']}: {summary['dataset']['name']} ({summary['protocol']}), "
           f"{summary['num_parameters']:,} parameters",
           ["seed", "split", "best epoch", f"val {metric}{unit}", f"test {metric}{unit}", "time s"],
           rows)


def cmd_train(args) -> int:
    import graphkit.nn  # noqa: F401  (registers models)
    from graphkit.config import load_config
    from graphkit.train import Trainer
    cfg = load_config(args.config, args.overrides)
    if args.out_dir:
        cfg.out_dir = args.out_dir
    trainer = Trainer(cfg, resume=args.resume, overwrite=args.overwrite,
                      progress=not args.no_progress)
    summary = trainer.run()
    print_summary(summary)
    print(f"results: {trainer.out}/summary.json")
    return 0


def cmd_bench(args) -> int:
    from graphkit.bench import run_suite
    summary = run_suite(args.suite, args.out, resume=args.resume)
    rep = summary.get("report", {})
    print(f"bench: {summary['cells']} cells, {summary['ran']} ran, {summary['skipped']} skipped "
          f"(finished earlier), {len(summary['retried'])} retried, {len(summary['failed'])} failed "
          f"in {summary['wall_s']:.1f}s")
    for f in summary["failed"]:
        print(f"  failed: {f['cell_id']}: {f['error']}")
    if rep:
        print(Path(rep["markdown"]).read_text())
        print(f"leaderboard: {rep['markdown']}, {rep['csv']}; plots: {rep['plots']}")
    return 1 if summary["failed"] else 0


def cmd_data(args) -> int:
    from graphkit import data as gdata
    if args.data_cmd == "list":
        rows = []
        for name in gdata.list_datasets():
            e = gdata.info(name, load_data=False)
            rows.append([name, str(e.get("task", "")), str(e.get("metric", "")),
                         str(e.get("protocol", "")), str(e.get("loader", ""))])
        _table("graphkit datasets", ["name", "task", "metric", "protocol", "loader"], rows)
        return 0
    info = gdata.info(args.name, root=args.root)
    if getattr(args, "rewire", None):
        from graphkit.diagnostics import (
            rewiring_report,  # provided by the rewiring module
        )
        info["rewiring"] = rewiring_report(args.name, args.rewire, root=args.root)
    print(json.dumps(info, indent=2, default=str))
    return 0


def cmd_info(args) -> int:
    import torch
    import torch_geometric.typing as tgt

    from graphkit.train.trainer import versions
    out = {"versions": versions(),
           "device": "cuda" if torch.cuda.is_available() else "cpu",
           "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
           "extensions": {"pyg_lib": tgt.WITH_PYG_LIB, "torch_scatter": tgt.WITH_TORCH_SCATTER,
                          "torch_sparse": tgt.WITH_TORCH_SPARSE},
           "threads": torch.get_num_threads()}
    print(json.dumps(out, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="graphkit", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train and evaluate a config over its seeds and splits")
    t.add_argument("config", help="YAML config file")
    t.add_argument("overrides", nargs="*", help="section.key=value overrides")
    t.add_argument("--resume", action="store_true", help="continue interrupted runs, skip finished ones")
    t.add_argument("--overwrite", action="store_true", help="discard earlier results of this run name")
    t.add_argument("--out-dir", default=None, help="output folder (default: config's out_dir)")
    t.add_argument("--no-progress", action="store_true", help="no progress bars")
    t.set_defaults(fn=cmd_train)
    b = sub.add_parser("bench", help="run a leaderboard suite (datasets x models x options x seeds)")
    b.add_argument("suite", help="suite YAML file (benchmarks/suites/*.yaml)")
    b.add_argument("--resume", action="store_true", help="skip finished cells, retry the rest")
    b.add_argument("--out", default=None, help="output folder (default: runs/bench/<suite name>)")
    b.set_defaults(fn=cmd_bench)
    d = sub.add_parser("data", help="the dataset catalogue")
    dsub = d.add_subparsers(dest="data_cmd", required=True)
    dsub.add_parser("list", help="list catalogue entries")
    di = dsub.add_parser("info", help="catalogue entry and statistics of one dataset")
    di.add_argument("name")
    di.add_argument("--root", default=None)
    di.add_argument("--rewire", default=None, help="report over-squashing before/after a rewiring")
    d.set_defaults(fn=cmd_data)
    i = sub.add_parser("info", help="versions, device and optional extensions")
    i.set_defaults(fn=cmd_info)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except (ValueError, TypeError, FileNotFoundError, FileExistsError) as e:
        print(f"graphkit: error: {e}", file=sys.stderr)
        return 2

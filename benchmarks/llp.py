"""LLP benchmark: graph-free MLP student vs its GNN teacher (GraphSAGE 2 x 256 + Hadamard-MLP
head) on Cora / CiteSeer link prediction (random 85/5/10 splits), plus an MLP trained on the
links alone (no distillation), and the inference speed of student vs teacher.

Per (dataset, split): teacher trained with the graphkit Trainer (validation Hits@20 selects
the epoch), student distilled with :func:`graphkit.nn.link.distill` (validation Hits@20 every
5 epochs). Inference time: full inference over all nodes plus scoring the test links, median
of repeated runs in the same process (teacher: GNN forward over the training graph; student:
MLP over the features). One JSON line per (dataset, split) in
``benchmarks/results/llp.jsonl``; finished ones are skipped.

    OMP_NUM_THREADS=1 python benchmarks/llp.py --splits 3
    python benchmarks/llp.py --report
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "llp.jsonl"
sys.path.insert(0, str(ROOT / "examples"))
NAMES = ("hits@20", "auc", "ap")


def _median_time(fn, repeats: int) -> float:
    fn()                                          # warm-up
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def run(dataset: str, split: int, teacher_epochs: int, student_epochs: int, repeats: int) -> dict:
    from llp_distill import run_llp, student_metrics, train_teacher

    from graphkit.nn.link import LLPConfig
    from graphkit.train.metrics import link_metrics
    t0 = time.perf_counter()
    task, teacher, _ = train_teacher(dataset, split, teacher_epochs)
    t_teacher = time.perf_counter() - t0
    g, (tp, tn) = task.graph, task.pairs["test"]
    with torch.no_grad():
        z = teacher.encode(g)
        t_res = link_metrics(teacher.score(z, tp, g), teacher.score(z, tn, g), NAMES)
    row = {"dataset": dataset, "split": split, "teacher_epochs": teacher_epochs,
           "student_epochs": student_epochs, "teacher": t_res, "teacher_train_s": t_teacher}
    for kind, cfg in (("llp", LLPConfig(epochs=student_epochs, seed=split)),
                      ("mlp_no_kd", LLPConfig(epochs=student_epochs, seed=split, llp_d=0.0,
                                              llp_r=0.0, true_label=1.0))):
        t0 = time.perf_counter()
        student = run_llp(task, teacher, cfg, seed=split)
        row[kind] = student_metrics(student, g.x, (tp, tn), NAMES)
        row[f"{kind}_train_s"] = time.perf_counter() - t0
        row[f"{kind}_epochs_run"] = len(cfg.history)
    links = torch.cat([tp, tn], dim=1)
    with torch.no_grad():
        t_inf = _median_time(lambda: teacher.score(teacher.encode(g), links, g), repeats)
        s_inf = _median_time(lambda: student(g.x, links), repeats)
        ends = links.unique()                     # the student needs only the end nodes' rows
        remap = torch.full((g.num_nodes,), -1, dtype=torch.long)
        remap[ends] = torch.arange(ends.numel())
        s_sub = _median_time(lambda: student(g.x[ends], remap[links]), repeats)
    row.update(teacher_infer_s=t_inf, student_infer_s=s_inf, student_infer_endnodes_s=s_sub,
               speedup_full=t_inf / s_inf, speedup_endnodes=t_inf / s_sub)
    return row


def report() -> str:
    rows = [json.loads(line) for line in OUT.read_text().splitlines() if line.strip()]
    out = ["| dataset | splits | model | test Hits@20 x100 | test AUC x100 | test AP x100 |",
           "|---|---|---|---|---|---|"]
    speed = [("| dataset | teacher full inference (ms) | student full (ms) | speed-up | "
              "student, end nodes only (ms) | speed-up |"), "|---|---|---|---|---|---|"]
    for ds in sorted({r["dataset"] for r in rows}):
        rs = [r for r in rows if r["dataset"] == ds]
        for kind, label in (("teacher", "GNN teacher (SAGE)"), ("llp", "MLP student, LLP"),
                            ("mlp_no_kd", "MLP, links only (no KD)")):
            cells = []
            for m in NAMES:
                v = torch.tensor([r[kind][m] for r in rs]) * 100
                sd = float(v.std()) if v.numel() > 1 else 0.0
                cells.append(f"{float(v.mean()):.2f} ± {sd:.2f}")
            out.append(f"| {ds} | {len(rs)} | {label} | " + " | ".join(cells) + " |")
        med = {k: statistics.median(r[k] for r in rs) for k in (
            "teacher_infer_s", "student_infer_s", "speedup_full", "student_infer_endnodes_s",
            "speedup_endnodes")}
        speed.append(f"| {ds} | {med['teacher_infer_s'] * 1e3:.2f} | "
                     f"{med['student_infer_s'] * 1e3:.2f} | {med['speedup_full']:.1f}x | "
                     f"{med['student_infer_endnodes_s'] * 1e3:.2f} | "
                     f"{med['speedup_endnodes']:.1f}x |")
    return "\n".join(out) + "\n\n" + "\n".join(speed)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="*", default=["cora-link", "citeseer-link"])
    p.add_argument("--splits", type=int, default=3)
    p.add_argument("--teacher-epochs", type=int, default=200)
    p.add_argument("--student-epochs", type=int, default=300)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--report", action="store_true")
    args = p.parse_args()
    if args.report:
        print(report())
        return
    torch.set_num_threads(1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    finished = set()
    if OUT.exists():
        finished = {(json.loads(x)["dataset"], json.loads(x)["split"])
                    for x in OUT.read_text().splitlines() if x.strip()}
    for split in range(args.splits):
        for ds in args.datasets:
            if (ds, split) in finished:
                continue
            row = run(ds, split, args.teacher_epochs, args.student_epochs, args.repeats)
            with OUT.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

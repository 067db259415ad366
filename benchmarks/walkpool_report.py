"""Render the tables of the ``## WalkPool and subgraph link heads`` section of RESULTS.md from
``benchmarks/results/walkpool_speed.jsonl`` and ``link_auc.jsonl`` (prints markdown).

    python benchmarks/walkpool_report.py
"""
from __future__ import annotations

import json
import os
import statistics

RES = os.path.join(os.path.dirname(__file__), "results")
SEAL = {"usair": 97.09, "ns": 97.71, "pb": 95.01, "yeast": 97.20, "celegans": 86.54}
WALKPOOL = {"usair": 98.68, "ns": 98.95, "pb": 95.60, "yeast": 98.37, "celegans": 95.79}
NAMES = {"usair": "USAir", "ns": "NS", "pb": "PB", "yeast": "Yeast", "celegans": "C.ele",
         "cora-link": "Cora", "citeseer-link": "CiteSeer"}


def _rows(name: str) -> list[dict]:
    path = os.path.join(RES, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def speed_table() -> str:
    # the last run per (dataset, batch size)
    rows = {(r["dataset"], r["batch_size"]): r for r in _rows("walkpool_speed.jsonl")}
    out = [("| dataset | batch | subgraph nodes / edges (mean) | train links/s graphkit | train links/s "
           "official-style | speed-up train (excl. extraction) | inference links/s graphkit | "
           "inference links/s official-style | speed-up inference | epoch s graphkit | epoch s "
           "official-style | max abs feature diff |"), "|---" * 12 + "|"]
    for (d, bs), r in rows.items():
        diff = r.get("max_abs_feature_diff")
        out.append(
            f"| {NAMES.get(d, d)} | {bs} | {r['mean_subgraph_nodes']:.0f} / {r['mean_subgraph_edges']:.0f} "
            f"| {r['graphkit_train_links_per_s']:.1f} | {r['baseline_train_links_per_s']:.2f} "
            f"| **{r['speedup_train']:.1f}x** ({r['speedup_train_excl_extraction']:.1f}x) "
            f"| {r['graphkit_infer_links_per_s']:.1f} | {r['baseline_infer_links_per_s']:.2f} "
            f"| **{r['speedup_infer']:.1f}x** | {r['graphkit_epoch_s']:.0f} | "
            f"{r['baseline_epoch_s']:.0f} | {'n/a (random per-hop cap)' if diff is None else f'{diff:.1e}'} |")
    return "\n".join(out)


def auc_table(name: str = "link_auc.jsonl") -> str:
    seen, by = set(), {}
    for r in _rows(name):
        key = (r["dataset"], r["method"], r["split"])
        if key in seen:
            continue
        seen.add(key)
        by.setdefault((r["dataset"], r["method"]), []).append(100 * r["test_auc"])

    def cell(d: str, m: str) -> str:
        v = by.get((d, m))
        if not v:
            return "not run"
        if len(v) == 1:
            return f"{v[0]:.2f} (1 split)"
        return f"{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f} ({len(v)} splits)"

    out = [("| dataset | WalkPool (graphkit) | SEAL head (graphkit) | GAE dot (graphkit) | "
           "SEAL published | WalkPool published [R?] | WalkPool >= SEAL published | "
           "within 1.5 of WalkPool published |"), "|---" * 8 + "|"]
    for d, label in NAMES.items():
        if not any(k[0] == d for k in by):
            continue
        wp = by.get((d, "walkpool"))
        m = statistics.mean(wp) if wp else None
        ok1 = "n/a" if m is None or d not in SEAL else ("yes" if m >= SEAL[d] else "no")
        ok2 = "n/a" if m is None or d not in WALKPOOL else (
            "yes" if m >= WALKPOOL[d] - 1.5 else "no")
        out.append(f"| {label} | {cell(d, 'walkpool')} | {cell(d, 'seal')} | {cell(d, 'gae')} "
                   f"| {SEAL.get(d, '-')} | {WALKPOOL.get(d, '-')} | {ok1} | {ok2} |")
    return "\n".join(out)


if __name__ == "__main__":
    print(speed_table())
    print()
    print(auc_table())
    print()
    print(auc_table("link_auc_walkpool_400steps.jsonl"))

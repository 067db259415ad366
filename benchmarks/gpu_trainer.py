"""Trainer on GPU: the example configs through ``graphkit train`` on CPU, CUDA fp32 and CUDA with
bf16 autocast (``train.amp``), same seeds, same protocol: epoch time and the selected test
metric, so GPU batching (full graph, mini-batches of graphs, of sampled neighbourhoods and of
candidate links) and AMP are checked end to end through the CLI.

Usage (on a machine with a GPU; the data under ``$GRAPHKIT_DATA``)::

    python benchmarks/gpu_trainer.py --out benchmarks/results/gpu_trainer.json
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIGS = HERE.parent / "examples" / "configs"

#: name -> (config file, overrides, modes); ``cpu`` only where a CPU epoch is cheap
RUNS = {
    "cora gcn (full batch)": ("cora_gcn.yaml", ["train.seeds=[0,1,2]"], ["cpu", "cuda", "amp"]),
    "cora gcn (neighbor loader)": (
        "cora_gcn.yaml", ["train.seeds=[0]", "train.loader=neighbor", "train.batch_size=128",
                          "train.num_neighbors=[10,10]", "train.epochs=50"],
        ["cpu", "cuda", "amp"]),
    "proteins gin (fold 0)": ("proteins_gin.yaml", ["data.splits=[0]", "train.epochs=50"],
                              ["cpu", "cuda", "amp"]),
    "proteins gin (fold 0, deterministic off)": (
        "proteins_gin.yaml", ["data.splits=[0]", "train.epochs=50", "train.deterministic=false"],
        ["cuda"]),
    "usair walkpool": ("usair_walkpool.yaml", ["data.splits=[0]", "train.epochs=5"],
                       ["cuda", "amp"]),
    "molbace gin": ("molbace_gin.yaml", ["train.seeds=[0]", "train.epochs=30"],
                    ["cpu", "cuda", "amp"]),
    "proteins gpn (fold 0)": ("proteins_gpn.yaml", ["data.splits=[0]", "train.epochs=30"],
                              ["cuda", "amp"]),
    "usair gae": ("usair_gae.yaml", ["data.splits=[0]"], ["cpu", "cuda", "amp"]),
    "usair seal": ("usair_seal.yaml", ["data.splits=[0]", "train.epochs=5"], ["cuda", "amp"]),
}
MODE_OVERRIDES = {"cpu": ["train.device=cpu", "train.amp=false"],
                  "cuda": ["train.device=cuda", "train.amp=false"],
                  "amp": ["train.device=cuda", "train.amp=true"]}


def run(name: str, cfg: str, overrides: list[str], mode: str, work: Path, timeout: int) -> dict:
    out = work / f"{name.split()[0]}_{abs(hash(name)) % 10**6}_{mode}"
    cmd = [sys.executable, "-m", "graphkit", "train", "--no-progress", "--out-dir", str(out),
           str(CONFIGS / cfg), *overrides, *MODE_OVERRIDES[mode]]
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           check=False)
    except subprocess.TimeoutExpired:
        return {"run": name, "mode": mode, "error": f"timeout after {timeout}s"}
    wall = time.perf_counter() - t
    results = [json.loads(f.read_text()) for f in out.rglob("result.json")]
    if p.returncode != 0 or not results:
        return {"run": name, "mode": mode, "error": (p.stderr or p.stdout)[-2000:]}
    metric = results[0]["metric"]
    tests = [r["metrics"]["test"][metric] for r in results]
    return {"run": name, "mode": mode, "config": cfg, "overrides": overrides, "metric": metric,
            "test": tests, "epoch_s": [r["timings"]["epoch_s"] for r in results],
            "epochs": [r["epochs_run"] for r in results], "wall_s": wall,
            "device": results[0]["device"], "device_name": results[0]["device_name"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "results" / "gpu_trainer.json"))
    ap.add_argument("--runs", nargs="*", default=list(RUNS), help="subset of the run names")
    ap.add_argument("--timeout", type=int, default=240, help="seconds per graphkit train call")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="gk_gpu_trainer_") as work:
        for name in args.runs:
            cfg, overrides, modes = RUNS[name]
            for mode in modes:
                r = run(name, cfg, overrides, mode, Path(work), args.timeout)
                rows.append(r)
                print(json.dumps(r)[:400], flush=True)
                Path(args.out).write_text(json.dumps(rows, indent=1))
    print("| run | mode | test metric | s / epoch | vs CPU |")
    print("|---|---|---|---|---|")
    cpu = {r["run"]: sum(r["epoch_s"]) / len(r["epoch_s"]) for r in rows
           if r["mode"] == "cpu" and "error" not in r}
    for r in rows:
        if "error" in r:
            print(f"| {r['run']} | {r['mode']} | error | | |")
            continue
        ep = sum(r["epoch_s"]) / len(r["epoch_s"])
        test = sum(r["test"]) / len(r["test"])
        speed = f"{cpu[r['run']] / ep:.1f}x faster" if r["run"] in cpu and r["mode"] != "cpu" else ""
        print(f"| {r['run']} | {r['mode']} | {r['metric']} {test:.4f} | {ep:.4f} | {speed} |")


if __name__ == "__main__":
    main()

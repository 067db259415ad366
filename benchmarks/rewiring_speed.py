"""Rewiring time per graph vs graph size for LASER / FoSR / SDRF / BORF, and LASER against a
dense O(n^3) reference (full (A+I)^k and distance matrices, as the released code computes them).

Graphs: 2-D grids (sparse, degree <= 4) with n = 100 ... 100,000 nodes, built without networkx.
One torch / BLAS thread is requested. Each cell is the best of `--repeat` runs (1 above 10k
nodes); a method stops growing once one size takes longer than `--budget` seconds.

``--dataset NAME`` times every method once on one real graph instead (e.g. Film, whose hubs
make the radius-k balls cover most of the graph), with the peak of numpy / SciPy allocations
(tracemalloc) per method.

Command:
    .venv/bin/python benchmarks/rewiring_speed.py --out benchmarks/results/rewiring_speed.json
    GRAPHKIT_DATA=/work/shared/data .venv/bin/python benchmarks/rewiring_speed.py --dataset film \
        --methods "LASER,SDRF (10 loops)" --out benchmarks/results/rewiring_speed_film.json
"""
from __future__ import annotations

import argparse
import json
import os
import time
import tracemalloc

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import torch
from torch_geometric.data import Data

from graphkit.transforms import BORF, LASER, SDRF, FoSR
from graphkit.transforms.laser import laser_dense_reference


def grid(n: int) -> Data:
    w = int(np.ceil(np.sqrt(n)))
    h = int(np.ceil(n / w))
    idx = np.arange(w * h).reshape(h, w)
    e = np.concatenate([np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()]),
                        np.stack([idx[:-1].ravel(), idx[1:].ravel()])], axis=1)
    e = e[:, (e < n).all(0)]
    ei = torch.from_numpy(np.concatenate([e, e[::-1]], axis=1).copy())
    return Data(edge_index=ei, num_nodes=n)


def dense_laser(d: Data) -> None:
    laser_dense_reference(d.edge_index, d.num_nodes, num_snapshots=2, additions_factor=0.1)


def time_dataset(name: str, methods: dict, out: str | None) -> None:
    from graphkit.data import load
    d = load(name)[0]
    d = Data(edge_index=d.edge_index, num_nodes=d.num_nodes)
    rows = []
    for mname, fn in methods.items():
        tracemalloc.start()
        t = time.perf_counter()
        fn(d.clone())
        s = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        rows.append({"method": mname, "dataset": name, "n": d.num_nodes,
                     "edges": d.edge_index.size(1), "s": s, "peak_mb": peak})
        print(f"{name} {mname:18s} {s:9.2f} s  peak {peak:8.1f} MB", flush=True)
    if out:
        with open(out, "w") as f:
            json.dump({"rows": rows, "torch": torch.__version__, "load_avg": os.getloadavg()},
                      f, indent=1)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="100,1000,10000,100000")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--budget", type=float, default=60.0)
    p.add_argument("--methods", default=None, help="comma-separated subset (default: all)")
    p.add_argument("--dense-max", type=int, default=5000, help="largest n for the dense reference")
    p.add_argument("--dataset", default=None, help="time one graph of graphkit.data.load(NAME)")
    p.add_argument("--out", default=None)
    a = p.parse_args()
    torch.set_num_threads(1)
    sizes = [int(s) for s in a.sizes.split(",")]
    methods = {
        "LASER": lambda d: LASER(num_snapshots=2, additions_factor=0.1, cache=False)(d),
        "LASER dense ref": dense_laser,
        "FoSR (T=50)": lambda d: FoSR(num_iterations=50, cache=False)(d),
        "SDRF (10 loops)": lambda d: SDRF(loops=10, cache=False)(d),
        "BORF (3 x 4/2)": lambda d: BORF(loops=3, cache=False)(d),
    }
    if a.methods:
        methods = {k: v for k, v in methods.items() if k in a.methods.split(",")}
    if a.dataset:
        time_dataset(a.dataset, methods, a.out)
        return
    rows, stopped = [], set()
    for n in sizes:
        d = grid(n)
        for name, fn in methods.items():
            if name in stopped or (name == "LASER dense ref" and n > a.dense_max):
                rows.append({"method": name, "n": n, "edges": d.edge_index.size(1), "s": None})
                continue
            best = float("inf")
            for _ in range(a.repeat if n <= 10_000 else 1):
                t = time.perf_counter()
                fn(d.clone())
                best = min(best, time.perf_counter() - t)
            rows.append({"method": name, "n": n, "edges": d.edge_index.size(1), "s": best})
            print(f"{name:18s} n={n:>7d}  {best:9.4f} s", flush=True)
            if best > a.budget:
                stopped.add(name)
    print("\n| method | " + " | ".join(f"n={n:,}" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for name in methods:
        cells = [r["s"] for r in rows if r["method"] == name]
        print(f"| {name} | " + " | ".join("—" if s is None else f"{s:.3g} s" for s in cells) + " |")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"rows": rows, "torch": torch.__version__,
                       "load_avg": os.getloadavg()}, f, indent=1)


if __name__ == "__main__":
    main()

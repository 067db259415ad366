"""Cold (process raw files) vs warm (cached) load times of graphkit.data, one thread.

Usage:
    GRAPHKIT_DATA=/work/shared/data .venv/bin/python benchmarks/data_loading.py [names...]

Each data set is loaded once into a fresh temporary cache (cold: checksum verification, PyG /
ogb processing) and then three more times from that cache (warm: median reported).
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

import torch

DEFAULT = ["cora", "citeseer", "mutag", "proteins", "nci1", "imdb-binary", "usair", "pb",
           "film", "ogbg-molbace", "csbm", "random-link", "random-graphs"]


def main(names: list[str]) -> None:
    torch.set_num_threads(1)
    os.environ["GRAPHKIT_OFFLINE"] = "1"
    with tempfile.TemporaryDirectory() as cache:
        os.environ["GRAPHKIT_CACHE"] = cache
        from graphkit.data import load
        print("| dataset | cold load (s) | warm load (s) | object |")
        print("|---|---|---|---|")
        for name in names:
            t0 = time.perf_counter()
            obj, _ = load(name)
            cold = time.perf_counter() - t0
            warm = []
            for _ in range(3):
                t0 = time.perf_counter()
                load(name)
                warm.append(time.perf_counter() - t0)
            print(f"| {name} | {cold:.2f} | {statistics.median(warm):.3f} | {obj} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT)

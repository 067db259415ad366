"""GNP speed: forward + backward time of one SAGEConv layer with GNP vs sum / PowerMean /
Softmax aggregation on a random 10M-edge graph, all in the same process, interleaved.

Run:
    .venv/bin/python benchmarks/gnp_speed.py --edges 10000000 --nodes 1000000 --channels 8 \
        --threads 1 --reps 3
"""
from __future__ import annotations

import argparse
import gc
import statistics
import time

import torch
from torch_geometric.nn import SAGEConv
from torch_geometric.nn.aggr import PowerMeanAggregation, SoftmaxAggregation

from graphkit.nn.aggr import GNP


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edges", type=int, default=10_000_000)
    ap.add_argument("--nodes", type=int, default=1_000_000)
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    C = args.channels
    edge_index = torch.randint(0, args.nodes, (2, args.edges))
    x = torch.randn(args.nodes, C)
    makers = {
        "sum": lambda: "sum",
        "gnp (signed)": lambda: GNP(C, init="mean"),
        "gnp (signed=False)": lambda: GNP(C, init="mean", signed=False),
        "powermean(learn=True)": lambda: PowerMeanAggregation(learn=True, channels=C),
        "softmax(learn=True)": lambda: SoftmaxAggregation(learn=True, channels=C),
    }
    layers = {name: SAGEConv(C, C, aggr=make()) for name, make in makers.items()}
    times: dict[str, list[float]] = {name: [] for name in layers}
    for name, conv in layers.items():          # warm-up
        conv(x, edge_index).sum().backward()
    for _ in range(args.reps):
        for name, conv in layers.items():
            conv.zero_grad()
            gc.collect()
            t = time.perf_counter()
            out = conv(x, edge_index)
            out.square().mean().backward()
            times[name].append(time.perf_counter() - t)
            del out
    base = statistics.median(times["sum"])
    print(f"E={args.edges:,} N={args.nodes:,} C={C} threads={args.threads} reps={args.reps} "
          f"torch={torch.__version__}")
    print("| layer (SAGEConv, fwd+bwd) | median s | min s | x sum |")
    print("|---|---|---|---|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name} | {med:.2f} | {min(ts):.2f} | {med / base:.2f} |")


if __name__ == "__main__":
    main()

"""GNP speed: forward + backward time of one SAGEConv layer with GNP vs sum / PowerMean /
Softmax aggregation on a random 10M-edge graph, all in the same process, interleaved.
``GNPSAGEConv`` rows: the same layer evaluated with GNP's powers taken once per node
(:meth:`GNP.pool_neighbors`) instead of over the ``|E| x F`` messages.

Also prints a lower bound for any exact GNP evaluation (one ``log`` and one ``exp`` pass over
the messages' ``|E| x 2F`` sign-split values, the transcendental work GNP cannot avoid), and,
with ``--profile``, the torch profiler's top operators of one GNP layer pass. ``--compile``
wraps every layer (the baselines too) in ``torch.compile``.

Run:
    .venv/bin/python benchmarks/gnp_speed.py --edges 10000000 --nodes 1000000 --channels 8 \
        --threads 1 --reps 3 [--compile] [--profile] [--out benchmarks/results/gnp_speed.jsonl]
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
import warnings

import torch
from torch_geometric.nn import SAGEConv
from torch_geometric.nn.aggr import PowerMeanAggregation, SoftmaxAggregation

from graphkit.nn.aggr import GNP
from graphkit.nn.gnp_gnn import GNPSAGEConv


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn) -> float:
    gc.collect()
    _sync()
    t = time.perf_counter()
    fn()
    _sync()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edges", type=int, default=10_000_000)
    ap.add_argument("--nodes", type=int, default=1_000_000)
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--compile", action="store_true", help="torch.compile every layer")
    ap.add_argument("--profile", action="store_true", help="profile one GNP layer pass")
    ap.add_argument("--layers", nargs="+", default=None, help="subset of the layer names")
    ap.add_argument("--out", default=None, help="append one JSON line with the figures")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    ap.add_argument("--amp", action="store_true", help="bf16 autocast (CUDA)")
    args = ap.parse_args()
    dev = torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    C = args.channels
    edge_index = torch.randint(0, args.nodes, (2, args.edges), device=dev)
    x = torch.randn(args.nodes, C, device=dev)
    makers = {
        "sum": lambda: "sum",
        "sum, CSR adj_t": lambda: "sum",
        "gnp (signed)": lambda: GNP(C, init="mean"),
        "gnp (signed=False)": lambda: GNP(C, init="mean", signed=False),
        "powermean(learn=True)": lambda: PowerMeanAggregation(learn=True, channels=C),
        "softmax(learn=True)": lambda: SoftmaxAggregation(learn=True, channels=C),
    }
    # GNPSAGEConv: the same layer and parameters, GNP's powers taken per node (no messages)
    node_level = {
        "gnp (signed), GNPSAGEConv": lambda: GNPSAGEConv(C, C, aggr_kwargs={"init": "mean"}),
        "gnp (signed=False), GNPSAGEConv": lambda: GNPSAGEConv(
            C, C, aggr_kwargs={"init": "mean", "signed": False}),
        # a new edge_index object each call (sampled batches): gather / scatter, no CSR
        "gnp (signed), GNPSAGEConv, new graph each call": lambda: GNPSAGEConv(
            C, C, aggr_kwargs={"init": "mean"}),
    }
    names = args.layers or [*makers, *node_level]
    layers = {name: (node_level[name]() if name in node_level
                     else SAGEConv(C, C, aggr=makers[name]())).to(dev) for name in names}
    calls = {name: (torch.compile(conv) if args.compile else conv) for name, conv in layers.items()}

    # the sum layer on PyG's fused path: a CSR adj_t (sparse-dense product, no messages)
    adj_t = None
    if "sum, CSR adj_t" in names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            adj_t = torch.sparse_coo_tensor(edge_index.flip(0), torch.ones(args.edges, device=dev),
                                            (args.nodes, args.nodes)).coalesce().to_sparse_csr()

    def step(name: str) -> None:
        layers[name].zero_grad()
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=args.amp):
            graph = (adj_t if name == "sum, CSR adj_t" else
                     edge_index.clone() if name.endswith("new graph each call") else edge_index)
            out = calls[name](x, graph)
        out.float().square().mean().backward()

    warm = {name: timed(lambda n=name: step(n)) for name in names}    # includes compilation
    for name in names:                                                 # settle (recompiles)
        step(name)
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.reps):
        for name in names:
            times[name].append(timed(lambda n=name: step(n)))
    # lower bound: one log and one exp over |E| x 2F values (no scatter, no gather, no backward)
    vals = torch.rand(args.edges, 2 * C, device=dev) + 0.5
    bound = min(timed(lambda: vals.log().exp()) for _ in range(args.reps))
    base = statistics.median(times["sum"]) if "sum" in times else float("nan")
    print(f"E={args.edges:,} N={args.nodes:,} C={C} threads={args.threads} reps={args.reps} "
          f"compile={args.compile} device={dev} amp={args.amp} torch={torch.__version__}")
    print("| layer (SAGEConv, fwd+bwd) | median s | min s | x sum | first call s |")
    print("|---|---|---|---|---|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name} | {med:.3f} | {min(ts):.3f} | {med / base:.2f} | {warm[name]:.1f} |")
    print(f"| lower bound: log+exp over |E| x 2F, no backward | {bound:.3f} | | "
          f"{bound / base:.2f} | |")
    if args.profile and "gnp (signed)" in layers:
        from torch.profiler import profile
        with profile() as prof:
            step("gnp (signed)")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps({"args": vars(args), "median_s": {k: statistics.median(v)
                                for k, v in times.items()}, "first_s": warm,
                                "log_exp_bound_s": bound}) + "\n")


if __name__ == "__main__":
    main()

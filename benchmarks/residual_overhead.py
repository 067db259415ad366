"""Overhead of each residual kind relative to a plain residual at equal depth and width.

One process, one thread, Cora full batch, DeepGNN(conv="gcn", hidden 64, depth L). For every
kind it measures, in the same run:

- training-step time (forward + backward + Adam step), median over ``--rounds`` rounds; the
  kinds are interleaved round by round (round-robin, the order reversed every other round so no
  kind always runs after the same one) so a load change on a shared machine hits all kinds
  alike; besides the ratio of medians, the median of the per-round ratios (each kind against the
  baseline step of the same round) and the ratio of the fastest steps, which move less with load;
- activation memory: bytes of the tensors autograd saves for backward during one training
  forward (``torch.autograd.graph.saved_tensors_hooks``, deduplicated by storage), which is the
  part of peak memory that depends on the residual kind on CPU (CPU PyTorch has no allocator
  peak counter); plus parameter bytes.

Usage::

    GRAPHKIT_DATA=/work/shared/data .venv/bin/python benchmarks/residual_overhead.py --depth 16
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings

import torch
from torch_geometric.data import Data

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _residual_common import kind_spec, load

from graphkit.nn.backbone import DeepGNN

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ["plain", "none", "preact", "rezero", "laurel_rw", "laurel_lr", "laurel_pa",
         "hc_static", "hc_dynamic", "mhc", "gcnii", "jk_max", "dense"]


def saved_activation_bytes(model, data) -> int:
    seen: dict[int, int] = {}

    def pack(t):
        try:
            st = t.untyped_storage()
            seen[st.data_ptr()] = max(seen.get(st.data_ptr(), 0), st.nbytes())
        except (RuntimeError, NotImplementedError):  # sparse tensors
            pass
        return t

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(data.x, data.edge_index)
        torch.nn.functional.cross_entropy(out[data.train_mask], data.y[data.train_mask])
    return sum(seen.values())


def random_graph(spec: str) -> Data:
    """``random:N:E``: a uniform random graph with a Planetoid-like split, for timing only."""
    _, n, e = spec.split(":")
    n, e = int(n), int(e)
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, n, (2, e), generator=g)
    y = torch.randint(0, 8, (n,), generator=g)
    train = torch.zeros(n, dtype=torch.bool)
    train[: n // 10] = True
    return Data(x=torch.randn(n, 128, generator=g), edge_index=ei, y=y, train_mask=train)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--kinds", nargs="*", default=KINDS)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "residual_overhead.json"))
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    ap.add_argument("--dataset", default="cora",
                    help="cora, or random:N:E (N nodes, E directed edges, 128 features, 8 classes)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    dev = torch.device(args.device)
    data = random_graph(args.dataset) if args.dataset.startswith("random:") else load(args.dataset)
    data = data.to(dev)
    C = int(data.y.max()) + 1
    models, opts = {}, {}
    for k in args.kinds:
        torch.manual_seed(0)
        kind, kw, norm = kind_spec(k)
        models[k] = DeepGNN(data.num_features, args.hidden, C, args.depth, residual=kind,
                            norm=norm, dropout=0.5, **kw).to(dev)
        opts[k] = torch.optim.Adam(models[k].parameters(), lr=0.01)

    def step(k):
        m, o = models[k], opts[k]
        m.train()
        o.zero_grad()
        out = m(data.x, data.edge_index)
        torch.nn.functional.cross_entropy(out[data.train_mask], data.y[data.train_mask]).backward()
        o.step()

    for k in args.kinds:  # warm-up (caches, allocator)
        step(k)
        step(k)
    times: dict[str, list[float]] = {k: [] for k in args.kinds}
    peak_mb: dict[str, float] = {}
    for r in range(args.rounds):
        for k in (args.kinds if r % 2 == 0 else args.kinds[::-1]):
            if dev.type == "cuda":
                torch.cuda.synchronize()
                if r == 0:
                    torch.cuda.reset_peak_memory_stats()
                    base_alloc = torch.cuda.memory_allocated()
            t = time.perf_counter()
            step(k)
            if dev.type == "cuda":
                torch.cuda.synchronize()
                if r == 0:
                    peak_mb[k] = (torch.cuda.max_memory_allocated() - base_alloc) / 2**20
            times[k].append(time.perf_counter() - t)
    res = {}
    pre_t = statistics.median(times["preact"]) if "preact" in times else float("nan")
    base_t = statistics.median(times["plain"])
    ref = "preact" if "preact" in times else "plain"

    def paired(k: str) -> float:
        return statistics.median(a / b for a, b in zip(times[k], times[ref]))

    base_m = saved_activation_bytes(models["plain"], data)
    for k in args.kinds:
        t = statistics.median(times[k])
        mem = saved_activation_bytes(models[k], data)
        params = sum(p.numel() for p in models[k].parameters())
        res[k] = {"step_ms": 1000 * t, "time_ratio": t / base_t, "time_vs_preact": t / pre_t,
                  "ref": ref, "time_vs_ref_paired": paired(k),
                  "time_vs_ref_min": min(times[k]) / min(times[ref]),
                  "step_ms_rounds": [1000 * x for x in times[k]],
                  "activation_MB": mem / 2**20, "memory_ratio": mem / base_m,
                  "cuda_step_peak_MB": peak_mb.get(k),
                  "params": params, "extra_params_vs_plain": params - sum(
                      p.numel() for p in models["plain"].parameters())}
    meta = {"depth": args.depth, "hidden": args.hidden, "rounds": args.rounds,
            "threads": args.threads, "dataset": args.dataset, "device": str(dev),
            "load_avg": os.getloadavg(), "torch": torch.__version__}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"meta": meta, "results": res}, f, indent=1)
    print(f"{args.dataset} on {dev}, depth {args.depth}, hidden {args.hidden}, {args.rounds} "
          f"interleaved rounds, {args.threads} thread(s), load average {meta['load_avg']}")
    if peak_mb:
        print("CUDA peak MB of one training step (above the resident tensors): " + ", ".join(
            f"{k} {v:.0f}" for k, v in peak_mb.items()))
    print(f"| kind | step ms (median) | time vs plain | time vs preact | vs {ref}: median of "
          f"per-round ratios | vs {ref}: fastest steps | activation MB | memory vs plain | "
          f"extra params |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k, r in res.items():
        print(f"| {k} | {r['step_ms']:.0f} | {r['time_ratio']:.2f}x | {r['time_vs_preact']:.2f}x "
              f"| {r['time_vs_ref_paired']:.2f}x | {r['time_vs_ref_min']:.2f}x "
              f"| {r['activation_MB']:.1f} | {r['memory_ratio']:.2f}x "
              f"| {r['extra_params_vs_plain']:+d} |")


if __name__ == "__main__":
    main()

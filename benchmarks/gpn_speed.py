"""GPN speed and memory: training epoch time and peak memory vs EdgePooling, parse time vs graph
size, share of a GPN training step spent parsing.

Three parts, results as JSON lines in ``--out`` (resumable per row):

- ``epoch``: one training epoch (batch 128, Adam, forward + backward + step, no evaluation) of
  ``GPN`` and ``PooledGNN(pool=edge)`` (3 levels of GCN -> EdgePooling) on PROTEINS and NCI1, each
  in a fresh subprocess; time per epoch (median of ``--repeats`` epochs after a warm-up batch),
  activation memory (bytes autograd saves for backward, largest of 8 batches; the process's
  peak RSS is dominated by loading the data set and is reported for context), and for GPN the
  time inside the parse (``dominant_partner`` + ``components_of_partner``) as a share of the
  training step.
- ``parse``: :func:`parse_clusters` alone on batches of random graphs of growing total size:
  sparse Erdos-Renyi-like graphs (average degree 4), long paths with increasing scores (one
  in-tree of depth n: the worst case for pointer jumping) and dense ER graphs (p = 0.2, the
  official ``metric_time.py`` setting); time per edge should stay flat (linear scaling).

Command (what RESULTS.md reports):
    OMP_NUM_THREADS=1 GRAPHKIT_DATA=/work/shared/data .venv/bin/python benchmarks/gpn_speed.py \
        --out benchmarks/results/gpn_speed.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def epoch_worker(dataset: str, method: str, repeats: int, hidden: int,
                 mem_batches: int = 8, device: str = "cpu") -> dict:
    """Runs in a subprocess: train ``repeats`` epochs and report times and memory."""
    from torch_geometric.loader import DataLoader

    import graphkit.nn.pool.gpn as G
    from graphkit.data import load
    from graphkit.nn.pool import GPN, PooledGNN

    torch.set_num_threads(1)
    torch.manual_seed(0)
    ds, spec = load(dataset)
    data = [ds[i] for i in range(len(ds))]                      # materialise before measuring
    out_dim = spec.num_classes if hasattr(spec, "num_classes") else int(ds.y.max()) + 1
    if method == "gpn":
        model = GPN(ds.num_features, hidden, out_dim, num_layers=3, dropout=0.1)
    else:
        model = PooledGNN(ds.num_features, hidden, out_dim, num_layers=3, dropout=0.1,
                          pool=method)
    dev = torch.device(device)
    model = model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    parse_s = [0.0]
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    def timed(f):
        def g(*a, **k):
            sync()
            t = time.perf_counter()
            r = f(*a, **k)
            sync()
            parse_s[0] += time.perf_counter() - t
            return r
        return g

    G.dominant_partner = timed(G.dominant_partner)
    G.components_of_partner = timed(G.components_of_partner)
    loader = DataLoader(data, batch_size=128, shuffle=True)
    base = rss_mb()

    def step(b) -> None:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(b.x, b.edge_index, batch=b.batch), b.y)
        loss.backward()
        opt.step()

    step(next(iter(loader)).to(dev))                            # warm-up
    times, shares, levels = [], [], []
    for _ in range(repeats):
        parse_s[0] = 0.0
        batches = [b.to(dev) for b in loader]
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        sync()
        t0 = time.perf_counter()
        for b in batches:
            step(b)
            if method == "gpn":
                levels.append(len(model.last_parse))
        sync()
        dt = time.perf_counter() - t0
        times.append(dt)
        shares.append(parse_s[0] / dt)
    # activation memory: bytes of the tensors autograd saves for backward, largest batch of
    # the first ``mem_batches`` (process RSS is dominated by loading the data set)
    saved_peak = 0
    for b in batches[:mem_batches]:
        seen: dict[int, int] = {}

        def pack(t: torch.Tensor, seen: dict = seen):
            st = t.untyped_storage()
            seen[st.data_ptr()] = st.nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(b.x, b.edge_index, batch=b.batch),
                                                     b.y)
        loss.backward()
        saved_peak = max(saved_peak, sum(seen.values()))
    return {"part": "epoch", "dataset": dataset, "method": method,
            "saved_activations_mb": saved_peak / 2**20, "mem_batches": mem_batches,
            "epoch_s": statistics.median(times), "epoch_s_all": times,
            "parse_share": statistics.median(shares) if method == "gpn" else None,
            "peak_rss_growth_mb": rss_mb() - base, "peak_rss_mb": rss_mb(),
            "mean_levels": sum(levels) / len(levels) if levels else None,
            "hidden": hidden, "batches": len(loader), "device": str(dev),
            "cuda_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda"
            else None}


def make_graphs(kind: str, n: int, count: int, gen: torch.Generator):
    """``count`` graphs of ``n`` nodes, batched: (edge_index, score, num_nodes)."""
    from torch_geometric.utils import to_undirected
    eis = []
    for i in range(count):
        if kind == "path":
            ei = torch.stack([torch.arange(n - 1), torch.arange(1, n)])
        elif kind == "sparse":
            ei = torch.randint(0, n, (2, 2 * n), generator=gen)
        else:                                                    # dense ER, p = 0.2
            m = torch.rand(n, n, generator=gen) < 0.2
            ei = m.triu(1).nonzero().t()
        eis.append(to_undirected(ei, num_nodes=n) + i * n)
    ei = torch.cat(eis, 1)
    lo = ei.min(0).values
    if kind == "path":
        score = lo.float()                                      # increasing along the path
    else:
        hi = ei.max(0).values
        score = torch.sin(lo * 12.9898 + hi * 78.233).abs()     # symmetric pseudo-random
    return ei, score, n * count


def parse_rows(repeats: int) -> list[dict]:
    from graphkit.nn.pool.gpn import parse_clusters
    gen = torch.Generator().manual_seed(0)
    rows = []
    grid = {"sparse": [(1000, c) for c in (1, 4, 16, 64, 256)],
            "path": [(n, 1) for n in (1000, 10_000, 100_000, 1_000_000)],
            "dense": [(n, 1) for n in (100, 300, 600, 1100)]}
    for kind, cfgs in grid.items():
        for n, count in cfgs:
            ei, score, nn = make_graphs(kind, n, count, gen)
            parse_clusters(ei, score, nn)
            ts = []
            for _ in range(repeats):
                t = time.perf_counter()
                _, c = parse_clusters(ei, score, nn)
                ts.append(time.perf_counter() - t)
            t = statistics.median(ts)
            rows.append({"part": "parse", "kind": kind, "nodes": nn, "edges": ei.size(1),
                         "graphs": count, "clusters": c, "parse_s": t,
                         "ns_per_edge": 1e9 * t / ei.size(1)})
            print(f"parse {kind:6s} n={nn:8d} E={ei.size(1):9d} {1e3 * t:9.2f} ms "
                  f"({rows[-1]['ns_per_edge']:.1f} ns/edge)", flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--datasets", default="proteins,nci1")
    p.add_argument("--methods", default="gpn,edge")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--parts", default="parse,epoch")
    p.add_argument("--out", default="benchmarks/results/gpn_speed.jsonl")
    p.add_argument("--table-only", action="store_true")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (epoch part)")
    p.add_argument("--worker", nargs=2, default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    torch.set_num_threads(1)
    if a.worker:
        print(json.dumps(epoch_worker(a.worker[0], a.worker[1], a.repeats, a.hidden,
                                      device=a.device)))
        return
    out = Path(a.out)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.is_file() else []

    def emit(r: dict) -> None:
        rows.append(r)
        with out.open("a") as f:
            f.write(json.dumps({**r, "load_avg": os.getloadavg()}) + "\n")

    parts = [] if a.table_only else a.parts.split(",")
    if "parse" in parts and not any(r["part"] == "parse" for r in rows):
        for r in parse_rows(max(a.repeats, 3)):
            emit(r)
    if "epoch" in parts:
        done = {(r["dataset"], r["method"]) for r in rows if r["part"] == "epoch"}
        for ds in a.datasets.split(","):
            for m in a.methods.split(","):
                if (ds, m) in done:
                    continue
                res = subprocess.run([sys.executable, __file__, "--worker", ds, m,
                                      "--repeats", str(a.repeats), "--hidden", str(a.hidden),
                                      "--device", a.device],
                                     capture_output=True, text=True, check=True)
                r = json.loads(res.stdout.strip().splitlines()[-1])
                emit(r)
                print(f"epoch {ds:8s} {m:4s} {r['epoch_s']:7.2f} s  saved activations "
                      f"{r['saved_activations_mb']:.1f} MB  peak RSS {r['peak_rss_mb']:.0f} MB  "
                      f"parse share {r['parse_share']}",
                      flush=True)
    print(tables(read_rows(out)))


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def tables(rows: list[dict]) -> str:
    out = ["| graphs | nodes | edges | clusters | parse time | ns per edge |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        if r["part"] == "parse":
            out.append(f"| {r['kind']} ({r['graphs']} graph{'s' if r['graphs'] > 1 else ''}) | "
                       f"{r['nodes']:,} | {r['edges']:,} | {r['clusters']:,} | "
                       f"{1e3 * r['parse_s']:.2f} ms | {r['ns_per_edge']:.0f} |")
    out += ["", ("| data set | model | s / epoch | saved activations (MB) | peak RSS (MB) | "
                 "parse share of step | mean levels |"), "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["part"] == "epoch" and "saved_activations_mb" in r:
            share = "—" if r["parse_share"] is None else f"{100 * r['parse_share']:.1f}%"
            lv = "—" if r["mean_levels"] is None else f"{r['mean_levels']:.1f}"
            out.append(f"| {r['dataset']} | {r['method']} | {r['epoch_s']:.2f} | "
                       f"{r['saved_activations_mb']:.1f} | {r['peak_rss_mb']:.0f} | {share} | {lv} |")
    return "\n".join(out)


if __name__ == "__main__":
    main()

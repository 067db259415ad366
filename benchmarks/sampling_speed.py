"""Speed of graphkit's pure-PyTorch neighbor sampler (CPU or CUDA) and mini-batch training.

Parts (``--parts``, comma separated):

- ``speed``: synthetic graph (default 1M nodes, 10M random edges), fan-outs [15, 10], batch 1024:
  CSC build time, sampled seeds/s (median over batches, warm-up excluded) for graphkit's
  sampler alone, the full ``NeighborLoader`` batch (incl. 64-d feature gather), sampling with
  replacement, temporal (disjoint) sampling; torch-sparse's sampler when it is importable.
- ``scaling``: time per batch vs graph size (100k .. 10M edges, average degree 10, fixed batch
  and fan-out) and vs batch x fan-out (on the largest graph); writes a PNG.
- ``walks``: uniform and node2vec walks (100k walkers x 20 steps) on the big graph.
- ``train``: GraphSAGE (PyG's ``GraphSAGE``, 2 layers, hidden 64) mini-batch epoch over 10% of
  the nodes as training seeds on the big graph, and mini-batch vs full-batch epoch on a graph
  where full batch fits (100k nodes / 1M edges).

Example:
    .venv/bin/python benchmarks/sampling_speed.py --threads 1 --train-threads 2
    .venv/bin/python benchmarks/sampling_speed.py --device cuda          # on a GPU machine
    .venv/bin/python benchmarks/sampling_speed.py --quick                # smoke run
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import time

import torch
from torch_geometric.data import Data
from torch_geometric.sampler import NodeSamplerInput

from graphkit.sampling import GraphkitNeighborSampler, NeighborLoader

HERE = os.path.dirname(os.path.abspath(__file__))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device, reps, warmup=3):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        sync(device)
        t = time.perf_counter()
        fn()
        sync(device)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def make_graph(num_nodes, num_edges, device, feat=0, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(num_nodes, (2, num_edges), generator=g)
    data = Data(edge_index=ei, num_nodes=num_nodes)
    if feat:
        data.x = torch.randn(num_nodes, feat, generator=g)
        w = torch.randn(feat, 10, generator=g)
        data.y = (data.x @ w).argmax(-1)
    return data.to(device)


def sampler_rate(sampler, num_nodes, batch, device, reps):
    gen = torch.Generator().manual_seed(1)
    seeds = [torch.randint(num_nodes, (batch,), generator=gen) for _ in range(reps + 3)]
    it = iter(seeds)
    stats = {}

    def one():
        out = sampler.sample_from_nodes(NodeSamplerInput(None, next(it)))
        stats["sampled_nodes"] = int(out.node.numel())
        stats["sampled_edges"] = int(out.row.numel())

    t = timed(one, device, reps)
    return t, stats


def part_speed(args, device, res):
    N, E, B, fan = args.nodes, args.edges, args.batch, args.fanout
    t0 = time.perf_counter()
    data = make_graph(N, E, device, feat=64)
    res["graph"] = {"nodes": N, "edges": E, "gen_s": round(time.perf_counter() - t0, 2)}
    rows = []
    t0 = time.perf_counter()
    s = GraphkitNeighborSampler(data, fan)
    sync(device)
    build = time.perf_counter() - t0
    t, st = sampler_rate(s, N, B, device, args.reps)
    rows.append(dict(what="graphkit sampler", build_s=build, ms=t * 1e3, seeds_per_s=B / t, **st))

    loader = NeighborLoader(data, fan, input_nodes=torch.randint(N, (B * (args.reps + 3),)),
                            batch_size=B, neighbor_sampler=s)
    it = iter(loader)
    t = timed(lambda: next(it), device, args.reps)
    rows.append({"what": "graphkit NeighborLoader batch (+64-d x, y)", "ms": t * 1e3,
                     "seeds_per_s": B / t})

    s_rep = GraphkitNeighborSampler(data, fan, replace=True)
    t, st = sampler_rate(s_rep, N, B, device, args.reps)
    rows.append(dict(what="graphkit sampler, replace=True", ms=t * 1e3, seeds_per_s=B / t, **st))

    data.time = torch.randint(0, 1000, (N,), device=device)
    t0 = time.perf_counter()
    s_tmp = GraphkitNeighborSampler(data, fan, time_attr="time")
    sync(device)
    build = time.perf_counter() - t0
    t, st = sampler_rate(s_tmp, N, B, device, args.reps)
    rows.append(dict(what="graphkit temporal (node time, disjoint)", build_s=build, ms=t * 1e3,
                     seeds_per_s=B / t, **st))
    del data.time, s_rep, s_tmp

    try:
        import torch_sparse  # noqa: F401
        if device.type != "cpu":
            raise ImportError("torch-sparse sampling is CPU only")
        colptr, row = s.csc[("_N", "_to", "_N")].colptr, s.csc[("_N", "_to", "_N")].row
        gen = torch.Generator().manual_seed(1)
        seeds = iter([torch.randint(N, (B,), generator=gen) for _ in range(args.reps + 3)])
        t = timed(lambda: torch.ops.torch_sparse.neighbor_sample(colptr, row, next(seeds), fan,
                                                                 False, True), device, args.reps)
        rows.append({"what": "torch-sparse neighbor_sample (same CSC)", "ms": t * 1e3,
                         "seeds_per_s": B / t})
    except (ImportError, OSError, RuntimeError) as e:
        rows.append({"what": f"torch-sparse: not measured ({type(e).__name__}: {e})"})
    res["speed"] = rows
    return data, s


def part_scaling(args, device, res, big=None):
    B, fan = args.batch, args.fanout
    sizes = [int(x) for x in args.scaling_edges]
    by_size = []
    for E in sizes:
        N = max(E // 10, 1)
        if big is not None and E == args.edges and N == args.nodes:
            data, s = big
        else:
            data = make_graph(N, E, device)
            s = GraphkitNeighborSampler(data, fan)
        t, st = sampler_rate(s, N, B, device, args.reps)
        by_size.append(dict(edges=E, nodes=N, ms=t * 1e3, **st))
        print(f"  scaling size E={E:>9}: {t * 1e3:7.2f} ms/batch", flush=True)
        if big is None or E != args.edges:
            del data, s
            gc.collect()
    res["scaling_size"] = by_size

    E = sizes[-1]
    N = E // 10
    if big is not None and E == args.edges and N == args.nodes:
        data = big[0]
    else:
        data = make_graph(N, E, device)
    by_work = []
    for f in ([5, 5], [10, 5], [15, 10], [25, 15]):
        s = GraphkitNeighborSampler(data, f)
        for b in (256, 1024, 4096):
            t, st = sampler_rate(s, N, b, device, max(args.reps // 2, 3))
            by_work.append(dict(batch=b, fanout=f, work=b * f[0] * (1 + f[1]), ms=t * 1e3, **st))
            print(f"  scaling work B={b:>5} fan={f}: {t * 1e3:7.2f} ms, {st['sampled_edges']} edges",
                  flush=True)
    res["scaling_work"] = by_work
    plot_scaling(res, args)


def plot_scaling(res, args):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    sz = res["scaling_size"]
    e = [r["edges"] for r in sz]
    ax[0].plot(e, [r["ms"] for r in sz], "o-", label="ms per batch")
    ax[0].set_xscale("log")
    ax[0].set_ylim(bottom=0)
    ax[0].set_xlabel("graph edges (avg. degree 10)")
    ax[0].set_ylabel("ms per batch")
    tw = ax[0].twinx()
    tw.plot(e, [r["sampled_edges"] for r in sz], "s--", color="tab:orange")
    tw.set_ylim(bottom=0)
    tw.set_ylabel("sampled edges per batch (dashed)", color="tab:orange")
    ax[0].set_title(f"batch {args.batch}, fan-out {args.fanout}")
    ax[1].plot(e, [r["ms"] * 1e3 / max(r["sampled_edges"], 1) for r in sz], "o-")
    ax[1].set_xscale("log")
    ax[1].set_ylim(bottom=0)
    ax[1].set_xlabel("graph edges (avg. degree 10)")
    ax[1].set_ylabel("us per sampled edge")
    ax[1].set_title("cost per sampled edge vs graph size")
    wk = res["scaling_work"]
    ax[2].plot([r["sampled_edges"] for r in wk], [r["ms"] for r in wk], "o")
    for r in wk:
        ax[2].annotate(f"{r['batch']}x{r['fanout']}", (r["sampled_edges"], r["ms"]), fontsize=6)
    ax[2].set_xlabel("sampled edges per batch (~ batch x fan-out)")
    ax[2].set_ylabel("ms per batch")
    ax[2].set_title(f"{sz[-1]['edges']:,} edges graph")
    fig.suptitle(f"graphkit neighbor sampling on {res['device']}, {args.threads} thread(s)")
    fig.tight_layout()
    os.makedirs(os.path.join(HERE, "figures"), exist_ok=True)
    path = os.path.join(HERE, "figures", f"sampling_scaling_{res['device_kind']}.png")
    fig.savefig(path, dpi=120)
    res["figure"] = os.path.relpath(path, os.path.dirname(HERE))


def part_walks(args, device, res, big=None):
    from graphkit.sampling import RandomWalkSampler
    data = big[0] if big is not None else make_graph(args.nodes, args.edges, device)
    t0 = time.perf_counter()
    walker = RandomWalkSampler(data.edge_index, data.num_nodes)
    sync(device)
    build = time.perf_counter() - t0
    W, L = args.walkers, args.walk_length
    rows = []
    for p_, q_ in ((1.0, 1.0), (1.0, 0.5), (4.0, 0.25)):
        walker.p, walker.q = p_, q_
        gen = torch.Generator().manual_seed(3)
        starts = iter([torch.randint(data.num_nodes, (W,), generator=gen).to(device)
                       for _ in range(4)])
        t = timed(lambda it=starts: walker(next(it), L), device, reps=2, warmup=1)
        rows.append({"p": p_, "q": q_, "walkers": W, "steps": L, "s": t, "steps_per_s": W * L / t})
        print(f"  walks p={p_} q={q_}: {t:.2f} s for {W}x{L} steps", flush=True)
    res["walks"] = {"build_s": build, "runs": rows}


def sage_epoch(data, loader, model, opt, device):
    model.train()
    t = time.perf_counter()
    n = 0
    for batch in loader:
        batch = batch.to(device)
        opt.zero_grad()
        out = model(batch.x, batch.edge_index)[:batch.batch_size]
        loss = torch.nn.functional.cross_entropy(out, batch.y[:batch.batch_size])
        loss.backward()
        opt.step()
        n += 1
    sync(device)
    return time.perf_counter() - t, n, float(loss.detach())


def full_epoch(data, model, opt, mask, device):
    model.train()
    sync(device)
    t = time.perf_counter()
    opt.zero_grad()
    out = model(data.x, data.edge_index)
    loss = torch.nn.functional.cross_entropy(out[mask], data.y[mask])
    loss.backward()
    opt.step()
    sync(device)
    return time.perf_counter() - t, float(loss.detach())


def part_train(args, device, res, big=None):
    from torch_geometric.nn import GraphSAGE
    torch.set_num_threads(args.train_threads)
    out = []
    graphs = [(args.nodes, args.edges, False), (args.small_nodes, args.small_edges, True)]
    for N, E, do_full in graphs:
        data = big[0] if (big is not None and N == args.nodes) else make_graph(N, E, device, 64)
        if "x" not in data:
            data = make_graph(N, E, device, 64)
        g = torch.Generator().manual_seed(2)
        train = torch.randperm(N, generator=g)[: N // 10].to(device)
        torch.manual_seed(0)
        model = GraphSAGE(64, 64, 2, out_channels=10).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        loader = NeighborLoader(data, args.fanout, input_nodes=train, batch_size=args.batch,
                                shuffle=True)
        t, n, loss = sage_epoch(data, loader, model, opt, device)
        row = {"nodes": N, "edges": E, "train_seeds": int(train.numel()), "mini_batch_epoch_s": t,
                   "batches": n, "last_loss": loss}
        if do_full:
            mask = torch.zeros(N, dtype=torch.bool, device=device)
            mask[train] = True
            full_epoch(data, model, opt, mask, device)  # warm-up
            row["full_batch_epoch_s"] = statistics.median(
                full_epoch(data, model, opt, mask, device)[0] for _ in range(3))
        out.append(row)
        print(f"  train N={N}: {row}", flush=True)
        del loader, model, opt
        gc.collect()
    res["train"] = out
    torch.set_num_threads(args.threads)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--train-threads", type=int, default=2)
    p.add_argument("--nodes", type=int, default=1_000_000)
    p.add_argument("--edges", type=int, default=10_000_000)
    p.add_argument("--small-nodes", type=int, default=100_000)
    p.add_argument("--small-edges", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--fanout", type=int, nargs="+", default=[15, 10])
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--scaling-edges", nargs="+",
                   default=["100000", "300000", "1000000", "3000000", "10000000"])
    p.add_argument("--walkers", type=int, default=100_000)
    p.add_argument("--walk-length", type=int, default=20)
    p.add_argument("--parts", default="speed,scaling,walks,train")
    p.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    p.add_argument("--out", default=None, help="write the figures as JSON here")
    p.add_argument("--replot", default=None, help="only redraw the PNG from a --out JSON")
    args = p.parse_args()
    if args.replot:
        with open(args.replot) as f:
            res = json.load(f)
        args.threads, args.batch, args.fanout = res["threads"], res["batch"], res["fanout"]
        plot_scaling(res, args)
        print(res["figure"])
        return
    if args.quick:
        args.nodes, args.edges, args.small_nodes, args.small_edges = 20_000, 200_000, 5_000, 50_000
        args.reps, args.scaling_edges = 3, ["20000", "200000"]
        args.walkers, args.walk_length = 2000, 5
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        (platform.processor() or platform.machine())
    res = {"device": name, "device_kind": device.type, "threads": args.threads,
               "torch": torch.__version__, "fanout": args.fanout, "batch": args.batch,
               "load_avg": os.getloadavg()[0]}
    parts = args.parts.split(",")
    big = None
    t0 = time.perf_counter()
    if "speed" in parts:
        big = part_speed(args, device, res)
        for r in res["speed"]:
            print("  " + json.dumps({k: (round(v, 2) if isinstance(v, float) else v)
                                     for k, v in r.items()}), flush=True)
    if "scaling" in parts:
        part_scaling(args, device, res, big)
    if "walks" in parts:
        part_walks(args, device, res, big)
    if "train" in parts:
        part_train(args, device, res, big)
    res["total_s"] = time.perf_counter() - t0
    res["load_avg_end"] = os.getloadavg()[0]
    text = json.dumps(res, indent=1, default=float)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()

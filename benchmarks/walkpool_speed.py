"""WalkPool speed: graphkit's head vs a straightforward reimplementation of the official approach.

Baseline (``OfficialStyle``), as in ``DaDaCheng/WalkPooling`` (see the design notes, A.4): one
enclosing subgraph per link with PyG's ``k_hop_subgraph`` (every hop scans all edges), the
per-link ``Data`` objects batched with ``Batch.from_data_list``, a Python loop over the batch for
local node indices, and for every head and for G+ and G- separately a dense block-identity matrix
(``N_batch x n_max``) pushed through ``walk_len + 1`` propagation steps. It shares the GCN, the
attention and the classifier with the graphkit module, so both compute the same features (checked
here: max abs difference) and the same scores (same AUC by construction; both AUCs reported).

Measured in the same process on the same links: training steps (forward + backward + Adam) and
inference, in candidate links per second; the baseline's extraction time is reported apart and
included in its throughput (graphkit extracts on the fly inside the head). Time per epoch is
extrapolated from the measured throughput: ``2 * |train_pos| / (links per second)``.

    OMP_NUM_THREADS=1 python benchmarks/walkpool_speed.py --datasets usair pb yeast
"""
from __future__ import annotations

import argparse
import json
import os
import time

import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import to_undirected

from graphkit.data import load
from graphkit.nn.link import WalkPool
from graphkit.nn.link.walkpool import transition_weights

MAX_NODES_PER_HOP = {"pb": 100}  # the official main.py's choice


class OfficialStyle(torch.nn.Module):
    """The official pipeline's structure around a :class:`WalkPool` module's weights."""

    def __init__(self, wp: WalkPool) -> None:
        super().__init__()
        self.wp = wp

    def extract(self, pairs: torch.Tensor, edge_index: torch.Tensor, n: int) -> list[Data]:
        """Per link (Python loop), per hop an N-sized node mask and a scan of all edges, as the
        official modified ``k_hop_subgraph`` (with its random per-hop cap)."""
        row, col = edge_index
        cap = self.wp.max_nodes_per_hop
        out = []
        for i, j in pairs.t().tolist():
            visited = torch.zeros(n, dtype=torch.bool)
            visited[[i, j]] = True
            subsets = [torch.tensor([i, j])]
            for _ in range(self.wp.num_hops):
                node_mask = torch.zeros(n, dtype=torch.bool)
                node_mask[subsets[-1]] = True
                new = col[node_mask[row]].unique()
                new = new[~visited[new]]
                if cap is not None and new.numel() > cap:
                    new = new[torch.randperm(new.numel())[:cap]]
                visited[new] = True
                subsets.append(new)
            nodes = torch.cat(subsets)
            mapping = torch.full((n,), -1, dtype=torch.long)
            mapping[nodes] = torch.arange(nodes.numel())
            emask = visited[row] & visited[col]
            sub_ei = mapping[edge_index[:, emask]]
            keep = ~(((sub_ei[0] == 0) & (sub_ei[1] == 1)) | ((sub_ei[0] == 1) & (sub_ei[1] == 0)))
            sub_ei = torch.cat([torch.tensor([[0, 1], [1, 0]]), sub_ei[:, keep]], 1)
            mask = torch.ones(sub_ei.size(1), dtype=torch.bool)
            mask[:2] = False
            out.append(Data(node_id=nodes, edge_index=sub_ei, edge_mask=mask,
                            center=torch.tensor([[0, 1]]), num_nodes=nodes.numel()))
        return out

    def features(self, z: torch.Tensor, data_list: list[Data]) -> torch.Tensor:
        wp = self.wp
        batch = Batch.from_data_list(data_list)
        n_tot, num_graphs = batch.num_nodes, batch.num_graphs
        center = (batch.center + batch.ptr[:-1].unsqueeze(1)).t()
        from graphkit.nn.link.subgraph import EnclosingSubgraphs
        sub = EnclosingSubgraphs(node_id=batch.node_id, edge_index=batch.edge_index,
                                 batch=batch.batch, ptr=batch.ptr, center=center,
                                 hop=torch.zeros(n_tot, dtype=torch.long),
                                 cand_mask=~batch.edge_mask,
                                 edge_batch=batch.batch[batch.edge_index[0]])
        zs = wp.node_representations(z[sub.node_id], sub)
        logits = wp.attention(zs, sub.edge_index)
        w_plus, w_minus = transition_weights(logits, sub.edge_index, sub.cand_mask, n_tot)
        # Python loop over the batch for local indices (as the official forward does)
        sizes = [d.num_nodes for d in data_list]
        n_max = max(sizes)
        local = torch.cat([torch.arange(s) for s in sizes])
        src, dst = sub.edge_index
        ci, cj = center
        li, lj = ci - batch.ptr[:-1], cj - batch.ptr[:-1]
        feats = []
        for h in range(wp.heads):
            per_graph = []
            for w in (w_plus[:, h], w_minus[:, h]):
                x = torch.zeros(n_tot, n_max, dtype=w.dtype)
                x[torch.arange(n_tot), local] = 1.0  # block identity
                node, link, trace = [], [], []
                for step in range(wp.walk_len + 1):
                    x = torch.zeros_like(x).index_add_(0, dst, w.unsqueeze(-1) * x[src])
                    if step == 0:
                        continue
                    node.append(x[ci, li] + x[cj, lj])
                    link.append(x[ci, lj] + x[cj, li])
                    diag = x[torch.arange(n_tot), local]
                    trace.append(torch.zeros(num_graphs, dtype=w.dtype).index_add_(0, sub.batch, diag))
                per_graph.append((torch.stack(node, -1), torch.stack(link, -1),
                                  torch.stack(trace, -1)))
            (np_, lp, tp), (nm, lm, tm) = per_graph
            # P^tau[v, u] is entry [v, u] of the propagated identity: rows v; node i = row ci
            att = torch.sigmoid(logits[sub.cand_mask, h])
            att = torch.zeros(num_graphs, dtype=att.dtype).index_add_(
                0, sub.edge_batch[sub.cand_mask], att)
            feats.append(torch.cat([att.unsqueeze(-1), np_, nm, lp, lm, tp - tm], -1))
        return torch.stack(feats, 1).flatten(1)

    def forward(self, z, data_list):
        return self.wp.classifier(self.features(z, data_list)).view(-1)


def _auc(pos: torch.Tensor, neg: torch.Tensor) -> float:
    from sklearn.metrics import roc_auc_score
    y = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
    return float(roc_auc_score(y.numpy(), torch.cat([pos, neg]).numpy()))


def run(name: str, args) -> dict:
    torch.manual_seed(0)
    data, spec = load(name)
    split = spec.splits[0]
    n = data.num_nodes
    mp = to_undirected(split["train_pos"], num_nodes=n)
    graph = Data(edge_index=mp, num_nodes=n)
    z = torch.ones(n, 1)
    wp = WalkPool(1, in_channels=1, max_nodes_per_hop=MAX_NODES_PER_HOP.get(name))
    base = OfficialStyle(wp)
    g = torch.Generator().manual_seed(0)
    pos, neg = split["train_pos"], split["train_neg"]
    pick = lambda t, k: t[:, torch.randperm(t.size(1), generator=g)[:k]]
    bs = args.batch_size
    batches = [torch.cat([pick(pos, bs // 2), pick(neg, bs // 2)], 1) for _ in range(args.steps)]
    y = torch.cat([torch.ones(bs // 2), torch.zeros(bs // 2)])
    out = {"dataset": name, "num_nodes": n, "train_links_per_epoch": 2 * pos.size(1),
           "batch_size": bs, "steps": args.steps, "walk_len": wp.walk_len, "heads": wp.heads}
    if wp.max_nodes_per_hop is None:
        # same features (float64, eval mode)
        wp64 = WalkPool(1, in_channels=1).double().eval()
        wp64.load_state_dict({k: v.double() if v.is_floating_point() else v
                              for k, v in wp.state_dict().items()})
        b = batches[0][:, :8]
        with torch.no_grad():
            f_fast = wp64.features(z.double(), b, graph)
            f_base = OfficialStyle(wp64).features(z.double(), OfficialStyle(wp64).extract(b, mp, n))
        out["max_abs_feature_diff"] = float((f_fast - f_base).abs().max())
    sub = wp.extract(batches[0], graph)
    out["mean_subgraph_nodes"] = sub.num_nodes / bs
    out["mean_subgraph_edges"] = sub.edge_index.size(1) / bs

    def train_time(step_fn) -> float:
        opt = torch.optim.Adam(wp.parameters(), lr=1e-4)
        wp.train()
        t0 = time.perf_counter()
        for b in batches:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(step_fn(b), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return time.perf_counter() - t0

    def infer_time(score_fn) -> float:
        wp.eval()
        t0 = time.perf_counter()
        with torch.no_grad():
            for b in batches:
                score_fn(b)
        return time.perf_counter() - t0

    state = {k: v.clone() for k, v in wp.state_dict().items()}
    t_gk = train_time(lambda b: wp(z, b, graph))
    wp.load_state_dict(state)
    ext = [0.0]

    def base_step(b):
        t0 = time.perf_counter()
        dl = base.extract(b, mp, n)
        ext[0] += time.perf_counter() - t0
        return base(z, dl)

    t_base = train_time(base_step)
    out["baseline_extract_s_train"] = ext[0]
    ext[0] = 0.0
    i_base = infer_time(base_step)
    out["baseline_extract_s_infer"] = ext[0]
    i_gk = infer_time(lambda b: wp(z, b, graph))
    links = bs * args.steps
    out["graphkit_train_links_per_s"] = links / t_gk
    out["graphkit_infer_links_per_s"] = links / i_gk
    out["graphkit_epoch_s"] = out["train_links_per_epoch"] / out["graphkit_train_links_per_s"]
    out["baseline_train_links_per_s"] = links / t_base
    out["baseline_infer_links_per_s"] = links / i_base
    out["baseline_epoch_s"] = out["train_links_per_epoch"] / out["baseline_train_links_per_s"]
    out["speedup_train"] = t_base / t_gk
    out["speedup_infer"] = i_base / i_gk
    out["speedup_train_excl_extraction"] = (t_base - out["baseline_extract_s_train"]) / t_gk
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["usair", "yeast", "pb"])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--out", default="benchmarks/results/walkpool_speed.jsonl")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    for name in args.datasets:
        res = run(name, args)
        res["threads"] = torch.get_num_threads()
        print(json.dumps(res), flush=True)
        with open(args.out, "a") as f:
            f.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()

"""Graph Parsing Network pooling in your own PyG model, beside PyG's TopKPooling.

A small hierarchical classifier written with plain PyG pieces (``GCNConv``, ``DataLoader``,
``global_mean_pool`` / ``global_max_pool``); the only graphkit part is the pooling layer,
:class:`~graphkit.nn.pool.GraphParsingPool`, which returns the coarsened graph *and* the parse
(``cluster``: each node's cluster id), so you can inspect what it merged. The same model with
``--pool topk`` uses PyG's ``TopKPooling`` for comparison; both train on one 90/10 split of a TU
data set (graphkit's catalogue loader reads the raw files from ``$GRAPHKIT_DATA``).

    GRAPHKIT_DATA=/work/shared/data python examples/gpn_pooling_tu.py --dataset proteins
    python examples/gpn_pooling_tu.py --dataset mutag --pool topk
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch_geometric.loader import DataLoader
from torch_geometric.nn import GCNConv, TopKPooling, global_max_pool, global_mean_pool

from graphkit.data import load
from graphkit.nn.pool import GraphParsingPool


class HierarchicalGCN(torch.nn.Module):
    """conv -> pool, ``levels`` times; mean || max readout of every level, summed."""

    def __init__(self, in_channels: int, hidden: int, num_classes: int, levels: int = 3,
                 pool: str = "gpn") -> None:
        super().__init__()
        self.convs = torch.nn.ModuleList(
            [GCNConv(in_channels if i == 0 else hidden, hidden) for i in range(levels)])
        self.pools = torch.nn.ModuleList(
            [GraphParsingPool(hidden) if pool == "gpn" else TopKPooling(hidden, ratio=0.5)
             for _ in range(levels)])
        self.head = torch.nn.Sequential(torch.nn.Linear(2 * hidden, hidden), torch.nn.ReLU(),
                                        torch.nn.Linear(hidden, num_classes))
        self.pool = pool

    def forward(self, x, edge_index, batch, num_graphs: int):
        readout, parses = 0, []
        for conv, pool in zip(self.convs, self.pools):
            x = F.relu(conv(x, edge_index))
            if self.pool == "gpn":
                out = pool(x, edge_index, batch)
                x, edge_index, batch = out.x, out.edge_index, out.batch
                parses.append(out.cluster)                 # node -> cluster at this level
            else:
                x, edge_index, _, batch, _, _ = pool(x, edge_index, batch=batch)
            readout = readout + torch.cat([global_mean_pool(x, batch, num_graphs),
                                           global_max_pool(x, batch, num_graphs)], dim=-1)
        return self.head(readout), parses


def accuracy(model, loader) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for b in loader:
            logits, _ = model(b.x, b.edge_index, b.batch, b.num_graphs)
            correct += int((logits.argmax(-1) == b.y).sum())
            total += b.num_graphs
    return correct / total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="proteins", help="a TU set of graphkit's catalogue")
    p.add_argument("--pool", choices=["gpn", "topk"], default="gpn")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    ds, spec = load(args.dataset)
    split = spec.splits[0]                                   # fold 0 of the 10-fold protocol
    train = DataLoader(ds[split["train"]], batch_size=64, shuffle=True)
    test = DataLoader(ds[split["test"]], batch_size=256)
    model = HierarchicalGCN(ds.num_features, 64, ds.num_classes, pool=args.pool)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    for epoch in range(1, args.epochs + 1):
        model.train()
        for b in train:
            opt.zero_grad()
            logits, _ = model(b.x, b.edge_index, b.batch, b.num_graphs)
            F.cross_entropy(logits, b.y).backward()
            opt.step()
        if epoch % 10 == 0 or epoch == args.epochs:
            print(f"epoch {epoch:3d}  train acc {accuracy(model, train):.3f}  "
                  f"test acc {accuracy(model, test):.3f}")
    if args.pool == "gpn":          # what the parse did to the first test graph
        g = ds[int(split["test"][0])]
        model.eval()
        with torch.no_grad():
            _, parses = model(g.x, g.edge_index, torch.zeros(g.num_nodes, dtype=torch.long), 1)
        sizes = [g.num_nodes] + [int(c.max()) + 1 for c in parses]
        print("nodes per level of the first test graph:", " -> ".join(map(str, sizes)))


if __name__ == "__main__":
    main()

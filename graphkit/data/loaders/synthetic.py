r"""Synthetic data sets that need no files; every one is deterministic under ``seed``.

- ``csbm``: contextual stochastic block model (Deshpande et al., `"Contextual Stochastic Block
  Models" <https://arxiv.org/abs/1807.09596>`_), node classification.

  .. math::
      y_i \sim \mathrm{Uniform}\{0..C-1\}\ (\text{balanced}), \quad
      \mathbf{x}_i = \mu\,\mathbf{u}_{y_i} + \boldsymbol{\varepsilon}_i,\ 
      \boldsymbol{\varepsilon}_i \sim \mathcal{N}(0, \mathbf{I}_F), \quad
      P[(i, j) \in E] = p_{\text{in}} \text{ if } y_i = y_j \text{ else } p_{\text{out}}

  with unit class directions :math:`\mathbf{u}_c`. ``p_in`` / ``p_out`` come from
  ``avg_degree`` :math:`d` and ``homophily`` :math:`h` (expected share of intra-class edges):
  :math:`p_{\text{in}} = h d / (n/C - 1)`, :math:`p_{\text{out}} = (1 - h) d / (n - n/C)`,
  unless given directly. Random 60/20/20 splits (``num_splits`` of them).
- ``random-link``: an SBM (``graph="sbm"``, features as in csbm around block directions) or a
  Barabasi-Albert graph (``graph="ba"``, pure-noise features) split 85/5/10 by PyG's
  ``RandomLinkSplit`` with one negative per positive.
- ``random-graphs``: graph classification whose label is the generating model: Erdos-Renyi (0),
  Barabasi-Albert (1) or a two-community SBM (2), all at the same expected average degree, with
  constant node features, so only structure separates the classes.
"""
from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data, InMemoryDataset
from torch_geometric.transforms import RandomLinkSplit
from torch_geometric.utils import homophily as edge_homophily
from torch_geometric.utils import to_undirected

from graphkit._checks import check_choice, check_range
from graphkit.data.catalogue import Entry
from graphkit.data.loaders.base import register
from graphkit.data.spec import TaskSpec
from graphkit.data.splits import FOLD_SEED, random_splits, stratified_folds


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed torch, numpy and ``random`` (PyG's negative sampling uses ``random``) for one block
    and restore the caller's generator states afterwards."""
    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed % 2**32)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


def balanced_labels(n: int, num_classes: int, gen: torch.Generator) -> Tensor:
    return (torch.arange(n) % num_classes)[torch.randperm(n, generator=gen)]


def block_probs(n: int, num_classes: int, avg_degree: float, homophily: float
                ) -> tuple[float, float]:
    """``(p_in, p_out)`` giving expected degree ``avg_degree`` and edge homophily ``homophily``."""
    size = n / num_classes
    p_in = homophily * avg_degree / max(size - 1, 1)
    p_out = (1 - homophily) * avg_degree / max(n - size, 1)
    for k, p in (("p_in", p_in), ("p_out", p_out)):
        if p > 1:
            raise ValueError(f"graphkit.data: avg_degree={avg_degree} and homophily={homophily} "
                             f"need {k}={p:.3f} > 1 with {n} nodes in {num_classes} classes; "
                             f"lower avg_degree or add nodes")
    return p_in, p_out


def sbm_edges(y: Tensor, p_in: float, p_out: float, gen: torch.Generator) -> Tensor:
    """Undirected SBM edges (both directions) for labels ``y`` (balanced classes), sampled
    sparsely: edge counts are Binomial, endpoints uniform inside / across classes, duplicates
    and self-loops dropped (a deficit of order ``E^2 / N^2``)."""
    n, num_classes = y.numel(), int(y.max()) + 1
    order = torch.argsort(y, stable=True)
    sizes = torch.bincount(y, minlength=num_classes)
    offsets = torch.cumsum(sizes, 0) - sizes
    pairs_in = float((sizes * (sizes - 1) // 2).sum())
    pairs_out = n * (n - 1) / 2 - pairs_in

    def draw(pairs: float, p: float) -> int:
        if pairs <= 0 or p <= 0:
            return 0
        return int(torch.binomial(torch.tensor([pairs]), torch.tensor([p]), generator=gen))

    def member(cls: Tensor) -> Tensor:              # a uniform node of each class in ``cls``
        pos = (torch.rand(cls.numel(), generator=gen) * sizes[cls]).long()
        return order[offsets[cls] + pos]

    m_in, m_out = draw(pairs_in, p_in), draw(pairs_out, p_out)
    weights = (sizes * (sizes - 1)).double()
    cls = torch.multinomial(weights, m_in, replacement=True, generator=gen) if m_in else \
        torch.empty(0, dtype=torch.long)
    src_in, dst_in = member(cls), member(cls)
    src_out = torch.randint(n, (m_out,), generator=gen)
    shift = torch.randint(1, max(num_classes, 2), (m_out,), generator=gen)
    dst_out = member((y[src_out] + shift) % num_classes)
    src, dst = torch.cat([src_in, src_out]), torch.cat([dst_in, dst_out])
    keep = src != dst
    lo, hi = torch.minimum(src[keep], dst[keep]), torch.maximum(src[keep], dst[keep])
    key = torch.unique(lo * n + hi)
    return to_undirected(torch.stack([key // n, key % n]), num_nodes=n)


def ba_edges(n: int, m: int, gen: torch.Generator) -> Tensor:
    """Barabasi-Albert preferential attachment (undirected, both directions).

    Starts from a star on ``m + 1`` nodes; node ``t`` then links to ``m`` distinct earlier nodes
    drawn with probability proportional to their degree. The loop runs over nodes while the
    graph is grown (generation only, not a training hot path).
    """
    m = max(1, min(m, n - 1))
    deg = torch.zeros(n)
    src = [torch.zeros(m, dtype=torch.long)]
    dst = [torch.arange(1, m + 1)]
    deg[0], deg[1:m + 1] = m, 1
    for t in range(m + 1, n):
        targets = torch.multinomial(deg[:t], m, replacement=False, generator=gen)
        src.append(torch.full((m,), t, dtype=torch.long))
        dst.append(targets)
        deg[targets] += 1
        deg[t] = m
    return to_undirected(torch.stack([torch.cat(src), torch.cat(dst)]), num_nodes=n)


def gaussian_features(labels: Tensor | None, n: int, num_features: int, mu: float,
                      gen: torch.Generator) -> Tensor:
    x = torch.randn(n, num_features, generator=gen)
    if labels is not None:
        u = torch.randn(int(labels.max()) + 1, num_features, generator=gen)
        u = u / u.norm(dim=1, keepdim=True).clamp_min(1e-12)
        x = x + mu * u[labels]
    return x


@register("synthetic", {})
def load_synthetic(entry: Entry, raw_dir: Path | None, work_dir: Path | None, **options: Any
                   ) -> tuple[Any, TaskSpec]:
    gen_name = entry.generator or entry.name
    check_choice("graphkit.data.synthetic", "generator", gen_name, GENERATORS)
    return GENERATORS[gen_name](entry, **options)


def csbm(entry: Entry, num_nodes: int = 1000, num_classes: int = 2, avg_degree: float = 5.0,
         homophily: float = 0.8, p_in: float | None = None, p_out: float | None = None,
         mu: float = 1.0, num_features: int = 16, num_splits: int = 10, seed: int = 0
         ) -> tuple[Data, TaskSpec]:
    """Contextual SBM node classification (see the module docstring)."""
    owner = "csbm"
    check_range(owner, "num_nodes", num_nodes, low=2, integer=True)
    check_range(owner, "num_classes", num_classes, low=2, high=num_nodes, integer=True)
    check_range(owner, "num_features", num_features, low=1, integer=True)
    check_range(owner, "homophily", homophily, low=0.0, high=1.0)
    check_range(owner, "avg_degree", avg_degree, low=0.0)
    check_range(owner, "mu", mu, low=0.0)
    if (p_in is None) != (p_out is None):
        raise ValueError("csbm: pass both 'p_in' and 'p_out' or neither (then avg_degree and "
                         "homophily set them)")
    if p_in is None:
        p_in, p_out = block_probs(num_nodes, num_classes, avg_degree, homophily)
    else:
        check_range(owner, "p_in", p_in, low=0.0, high=1.0)
        check_range(owner, "p_out", p_out, low=0.0, high=1.0)
    gen = torch.Generator().manual_seed(seed)
    y = balanced_labels(num_nodes, num_classes, gen)
    edge_index = sbm_edges(y, p_in, p_out, gen)
    x = gaussian_features(y, num_nodes, num_features, mu, gen)
    data = Data(x=x, edge_index=edge_index, y=y)
    spec = TaskSpec(name=entry.name, task="node", kind="multiclass", metric="accuracy",
                    protocol="random", num_features=num_features, num_outputs=num_classes,
                    splits=random_splits(num_nodes, num_splits, seed),
                    extra={"p_in": p_in, "p_out": p_out, "seed": seed,
                           "edge_homophily": float(edge_homophily(edge_index, y))
                           if edge_index.numel() else float("nan")})
    return data, spec


def random_link(entry: Entry, graph: str = "sbm", num_nodes: int = 500, num_blocks: int = 4,
                avg_degree: float = 8.0, homophily: float = 0.9, num_features: int = 16,
                mu: float = 1.0, num_splits: int = 1, seed: int = 0) -> tuple[Data, TaskSpec]:
    """Synthetic link prediction with RandomLinkSplit-style 85/5/10 splits."""
    owner = "random-link"
    check_choice(owner, "graph", graph, ("sbm", "ba"))
    check_range(owner, "num_nodes", num_nodes, low=4, integer=True)
    check_range(owner, "num_blocks", num_blocks, low=1, high=num_nodes, integer=True)
    check_range(owner, "num_features", num_features, low=0, integer=True)
    check_range(owner, "num_splits", num_splits, low=1, integer=True)
    gen = torch.Generator().manual_seed(seed)
    if graph == "sbm":
        blocks = balanced_labels(num_nodes, num_blocks, gen)
        if num_blocks == 1:
            p = avg_degree / (num_nodes - 1)
            edge_index = sbm_edges(blocks, p, 0.0, gen)
        else:
            edge_index = sbm_edges(blocks, *block_probs(num_nodes, num_blocks, avg_degree,
                                                        homophily), gen)
    else:
        blocks = None
        edge_index = ba_edges(num_nodes, max(1, round(avg_degree / 2)), gen)
    x = gaussian_features(blocks, num_nodes, num_features, mu, gen) if num_features else None
    data = Data(x=x, edge_index=edge_index, num_nodes=num_nodes)
    splits = []
    for s in range(num_splits):
        with _seeded(seed * 1000 + s):
            tr, va, te = RandomLinkSplit(num_val=0.05, num_test=0.1, is_undirected=True,
                                         add_negative_train_samples=True,
                                         split_labels=True)(data)
        splits.append({"train_pos": tr.pos_edge_label_index, "train_neg": tr.neg_edge_label_index,
                       "val_pos": va.pos_edge_label_index, "val_neg": va.neg_edge_label_index,
                       "test_pos": te.pos_edge_label_index, "test_neg": te.neg_edge_label_index})
    spec = TaskSpec(name=entry.name, task="link", kind="binary", metric="auc", protocol="random",
                    num_features=num_features, num_outputs=1, splits=splits,
                    extra={"message_passing": "train_pos", "graph": graph, "seed": seed})
    return data, spec


class SyntheticGraphs(InMemoryDataset):
    """An in-memory graph data set built from a list of ``Data`` (no files)."""

    def __init__(self, data_list: list[Data], name: str) -> None:
        super().__init__(None)
        self.name = name
        self._data, self.slices = self.collate(data_list)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {len(self)})"


def random_graphs(entry: Entry, num_graphs: int = 300, min_nodes: int = 20, max_nodes: int = 40,
                  avg_degree: float = 4.0, seed: int = 0, protocol: str = "10fold",
                  num_splits: int = 10) -> tuple[SyntheticGraphs, TaskSpec]:
    """ER (0) vs BA (1) vs two-community SBM (2) graph classification."""
    owner = "random-graphs"
    check_range(owner, "num_graphs", num_graphs, low=30, integer=True)
    check_range(owner, "min_nodes", min_nodes, low=4, integer=True)
    check_range(owner, "max_nodes", max_nodes, low=min_nodes, integer=True)
    check_range(owner, "avg_degree", avg_degree, low=1.0, high=min_nodes / 2)
    check_choice(owner, "protocol", protocol, ("10fold", "random"))
    gen = torch.Generator().manual_seed(seed)
    labels = balanced_labels(num_graphs, 3, gen)
    sizes = torch.randint(min_nodes, max_nodes + 1, (num_graphs,), generator=gen)
    graphs = []
    for g in range(num_graphs):                     # generation only: one graph per step
        n, label = int(sizes[g]), int(labels[g])
        if label == 0:
            p = avg_degree / (n - 1)
            adj = torch.rand(n, n, generator=gen) < p
            ei = to_undirected(adj.triu(1).nonzero().t(), num_nodes=n)
        elif label == 1:
            ei = ba_edges(n, max(1, round(avg_degree / 2)), gen)
        else:
            blocks = torch.arange(n) % 2
            p_in, p_out = block_probs(n, 2, avg_degree, 0.9)
            prob = torch.where(blocks[:, None] == blocks[None, :], p_in, p_out)
            adj = torch.rand(n, n, generator=gen) < prob
            ei = to_undirected(adj.triu(1).nonzero().t(), num_nodes=n)
        graphs.append(Data(x=torch.ones(n, 1), edge_index=ei, y=torch.tensor([label])))
    ds = SyntheticGraphs(graphs, entry.name)
    splits = stratified_folds(labels, seed=FOLD_SEED) if protocol == "10fold" else \
        random_splits(num_graphs, num_splits, seed)
    spec = TaskSpec(name=entry.name, task="graph", kind="multiclass", metric="accuracy",
                    protocol=protocol, num_features=1, num_outputs=3, splits=splits,
                    extra={"classes": ["erdos_renyi", "barabasi_albert", "sbm_2_communities"],
                           "seed": seed})
    return ds, spec


GENERATORS = {"csbm": csbm, "random-link": random_link, "random-graphs": random_graphs}

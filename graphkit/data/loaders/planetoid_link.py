r"""Link prediction on the Planetoid citation graphs (``cora-link``, ``citeseer-link``).

The undirected edge set (self-loops and duplicates dropped) is cut into random 85/5/10
train / validation / test positives, ``num_splits`` times with recorded seeds
(``seed * 1000 + s`` for split ``s``), as in `"Variational Graph Auto-Encoders"
<https://arxiv.org/abs/1611.07308>`_ and PyG's ``RandomLinkSplit(num_val=0.05, num_test=0.1)``
(sizes ``floor(0.05 E)`` and ``floor(0.10 E)``).

Negative policy (pitfall: protocol drift, see the design notes F.1), option ``neg_policy``:

- ``"train"`` (default): validation / test negatives are distinct node pairs (no self-pairs)
  drawn uniformly from the **non-edges of the training graph**, i.e. without knowledge of the
  validation / test positives. A negative can then coincide with a held-out positive (expected
  count about :math:`E_{eval}^2 / \binom{N}{2}`, well below one pair on Cora); the actual number is
  recorded in ``spec.extra["neg_hits_positive"]`` per split.
- ``"full"``: negatives are non-edges of the whole graph (PyG ``RandomLinkSplit`` / OGB style:
  evaluation labels are exact, but the sampler has seen every positive).

Training negatives are never stored: the trainer draws fresh ones each epoch from non-edges of
the training graph. Validation and test negative sets are disjoint, one negative per positive.
Message passing uses ``train_pos`` only (``spec.extra["message_passing"] == "train_pos"``).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.datasets import Planetoid
from torch_geometric.utils import to_undirected

from graphkit._checks import check_choice, check_range
from graphkit.data.catalogue import Entry
from graphkit.data.loaders.base import register
from graphkit.data.spec import TaskSpec

NEG_POLICIES = ("train", "full")


def undirected_edges(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Each undirected edge once as ``(u, v)`` with ``u < v``, sorted; self-loops dropped."""
    lo = torch.minimum(edge_index[0], edge_index[1])
    hi = torch.maximum(edge_index[0], edge_index[1])
    key = torch.unique((lo * num_nodes + hi)[lo != hi])
    return torch.stack([key // num_nodes, key % num_nodes])


def sample_non_edges(forbidden: Tensor, num_nodes: int, k: int, gen: torch.Generator) -> Tensor:
    """``k`` distinct unordered pairs ``(u < v)`` that are not in ``forbidden`` (``(2, E)``, any
    orientation), uniform over the allowed pairs, drawn with ``gen`` by vectorised rejection."""
    total = num_nodes * (num_nodes - 1) // 2
    bad = torch.unique(torch.minimum(forbidden[0], forbidden[1]) * num_nodes
                       + torch.maximum(forbidden[0], forbidden[1]))
    if total - bad.numel() < k:
        raise ValueError(f"sample_non_edges: asked for k={k} non-edges but the graph with "
                         f"{num_nodes} nodes has only {total - bad.numel()}")
    keys = torch.empty(0, dtype=torch.long)
    while keys.numel() < k:
        m = int((k - keys.numel()) * 1.2) + 16
        u = torch.randint(0, num_nodes, (m,), generator=gen)
        v = torch.randint(0, num_nodes, (m,), generator=gen)
        lo, hi = torch.minimum(u, v), torch.maximum(u, v)
        cand = (lo * num_nodes + hi)[lo != hi]
        cand = cand[~torch.isin(cand, bad) & ~torch.isin(cand, keys)]
        uniq, inv = torch.unique(cand, return_inverse=True)      # keep first occurrences, in order
        first = torch.full((uniq.numel(),), cand.numel(), dtype=torch.long)
        first.scatter_reduce_(0, inv, torch.arange(cand.numel()), reduce="amin")
        keys = torch.cat([keys, cand[first.sort().values]])
    keys = keys[:k]
    return torch.stack([keys // num_nodes, keys % num_nodes])


def random_link_splits(edges: Tensor, num_nodes: int, num_splits: int = 10, seed: int = 0,
                       val: float = 0.05, test: float = 0.1, neg_policy: str = "train"
                       ) -> tuple[list[dict[str, Tensor]], list[int], list[int]]:
    """Random train / val / test positive splits with fixed val / test negatives.

    Args:
        edges (Tensor): undirected edges, each once, ``(2, E)``.
        num_nodes (int): number of nodes.
        num_splits (int): number of independent splits.
        seed (int): split ``s`` uses generator seed ``seed * 1000 + s``.
        val, test (float): shares of the edges held out (``floor(share * E)`` each).
        neg_policy (str): ``"train"`` or ``"full"`` (see the module docstring).

    Returns:
        ``(splits, seeds, hits)``: split dicts (``train_pos``, ``val_pos``, ``val_neg``,
        ``test_pos``, ``test_neg``), the seed of each split, and per split the number of
        evaluation negatives that are held-out positives (always 0 for ``"full"``).
    """
    owner = "random_link_splits"
    check_choice(owner, "neg_policy", neg_policy, NEG_POLICIES)
    check_range(owner, "num_splits", num_splits, low=1, integer=True)
    check_range(owner, "val", val, low=0.0, high=1.0)
    check_range(owner, "test", test, low=0.0, high=1.0 - val, low_open=True)
    e = edges.size(1)
    n_val, n_test = int(val * e), int(test * e)
    splits, seeds, hits = [], [], []
    keys_all = edges[0] * num_nodes + edges[1]
    for s in range(num_splits):
        sd = seed * 1000 + s
        gen = torch.Generator().manual_seed(sd)
        perm = torch.randperm(e, generator=gen)
        te, va, tr = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
        train_pos = edges[:, tr.sort().values]
        forbidden = train_pos if neg_policy == "train" else edges
        neg = sample_non_edges(forbidden, num_nodes, n_val + n_test, gen)
        neg_keys = neg[0] * num_nodes + neg[1]
        hits.append(int(torch.isin(neg_keys, keys_all).sum()))
        splits.append({"train_pos": train_pos, "val_pos": edges[:, va.sort().values],
                       "val_neg": neg[:, :n_val], "test_pos": edges[:, te.sort().values],
                       "test_neg": neg[:, n_val:]})
        seeds.append(sd)
    return splits, seeds, hits


@register("planetoid_link", {"num_splits": 10, "seed": 0, "neg_policy": "train",
                             "metric": None})
def load_planetoid_link(entry: Entry, raw_dir: Path, work_dir: Path, num_splits: int = 10,
                        seed: int = 0, neg_policy: str = "train", metric: str | None = None
                        ) -> tuple[Data, TaskSpec]:
    """Planetoid graph (features kept, labels dropped) with random 85/5/10 link splits.

    ``metric`` overrides the entry's headline metric (e.g. ``"hits@20"``; AUC and AP are always
    reported too). The returned ``Data`` holds **all** edges; models must pass only
    ``train_pos`` (both directions) to message passing.
    """
    ds = Planetoid(str(work_dir.parent), name=work_dir.name, split="public")
    full = ds[0]
    n = full.num_nodes
    edges = undirected_edges(full.edge_index, n)
    splits, seeds, hits = random_link_splits(edges, n, num_splits, seed, neg_policy=neg_policy)
    data = Data(x=full.x, edge_index=to_undirected(edges, num_nodes=n), num_nodes=n)
    spec = TaskSpec(name=entry.name, task="link", kind="binary", metric=metric or entry.metric,
                    protocol="random_85_5_10", num_features=ds.num_features, num_outputs=1,
                    splits=splits,
                    extra={"message_passing": "train_pos", "neg_policy": neg_policy,
                           "split_seeds": seeds, "neg_hits_positive": hits,
                           "num_undirected_edges": int(edges.size(1))})
    return data, spec

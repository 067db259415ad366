"""Shared machinery of the rewiring transforms (LASER, FoSR, SDRF, BORF).

A rewiring transform computes, from an undirected simple graph, a set of edges to add (each
with a relation id) and optionally a set of original edges to remove. The base class turns that
into a new ``Data``:

- ``edge_index``: the kept original edges (in their input order, self-loops and duplicates
  untouched) followed by the added edges, both directions of each added pair;
- ``edge_type`` (long, ``(E',)``): ``0`` for original edges, ``r >= 1`` for added ones (LASER:
  ``r`` = snapshot, i.e. hop distance - 1; FoSR / SDRF / BORF: ``1``);
- ``edge_attr``: with ``edge_attr="relation"`` (default) it *is* the relation id (a long
  ``(E',)`` vector), so graphkit's trainer hands it to relational backbones
  (:class:`graphkit.nn.relational.RelationalGNN`) and the input edge features, if any, move to
  ``orig_edge_attr`` (added rows filled with ``fill_value``); with ``edge_attr="keep"`` the input
  features stay in ``edge_attr`` (added rows = ``fill_value``).

Results are memoised per graph (keyed by a hash of ``edge_index`` and the node count), so the
transform is cheap when applied on every access as ``dataset.transform``; it is a
``BaseTransform`` so PyG's ``pre_transform=`` caches the rewired dataset on disk, and
:func:`rewire_dataset` does the same for any dataset.
"""
from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor
from torch_geometric.data import Data, InMemoryDataset
from torch_geometric.transforms import BaseTransform

from graphkit._checks import check_choice, check_edge_index, check_range, check_type

EDGE_ATTR_MODES = ("relation", "keep")


def simple_undirected(edge_index: Tensor, num_nodes: int) -> np.ndarray:
    """``(2, E)`` int64 numpy array of the undirected simple graph under ``edge_index``: both
    directions, no self-loops, no duplicates, sorted by ``(row, col)``."""
    ei = edge_index.detach().cpu().numpy().astype(np.int64, copy=False)
    r, c = np.concatenate([ei[0], ei[1]]), np.concatenate([ei[1], ei[0]])
    keep = r != c
    key = np.unique(r[keep] * num_nodes + c[keep])
    return np.stack([key // num_nodes, key % num_nodes]) if key.size else np.zeros((2, 0), np.int64)


def to_csr(ei: np.ndarray, num_nodes: int, dtype=np.float64) -> sp.csr_matrix:
    """Sparse adjacency (ones) of a ``(2, E)`` array without duplicate entries."""
    return sp.csr_matrix((np.ones(ei.shape[1], dtype=dtype), (ei[0], ei[1])),
                         shape=(num_nodes, num_nodes))


def edge_keys(ei: np.ndarray, num_nodes: int) -> np.ndarray:
    """Sorted ``row * N + col`` keys of an edge array (for vectorised membership tests)."""
    return np.sort(ei[0] * num_nodes + ei[1])


def is_member(keys_sorted: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Boolean mask: which ``query`` keys are in ``keys_sorted``."""
    if keys_sorted.size == 0:
        return np.zeros(query.shape, dtype=bool)
    pos = np.searchsorted(keys_sorted, query).clip(max=keys_sorted.size - 1)
    return keys_sorted[pos] == query


def both_directions(pairs: np.ndarray) -> np.ndarray:
    """``(2, A)`` pairs -> ``(2, 2A)`` with the reverse of every pair after it."""
    return np.stack([np.stack([pairs[0], pairs[1]], 1).reshape(-1),
                     np.stack([pairs[1], pairs[0]], 1).reshape(-1)])


class RewiringTransform(BaseTransform):
    r"""Base class: subclasses implement :meth:`rewire` on a simple undirected graph.

    Args:
        seed (int, optional): seed of every random choice (tie breaking, sampling); the same seed
            gives the same rewiring. (default: :obj:`0`)
        edge_attr (str, optional): ``"relation"`` (``edge_attr`` = relation id) or ``"keep"``
            (input edge features stay, added rows get ``fill_value``). (default: ``"relation"``)
        fill_value (float, optional): edge features of added edges. (default: :obj:`0.0`)
        cache (bool, optional): memoise results per graph. (default: :obj:`True`)
    """

    max_cache_entries = 200_000

    def __init__(self, seed: int = 0, edge_attr: str = "relation", fill_value: float = 0.0,
                 cache: bool = True) -> None:
        name = type(self).__name__
        check_range(name, "seed", seed, 0, integer=True)
        check_choice(name, "edge_attr", edge_attr, EDGE_ATTR_MODES)
        check_type(name, "fill_value", fill_value, (int, float))
        self.seed, self.edge_attr, self.fill_value, self.cache = seed, edge_attr, fill_value, cache
        self._memo: OrderedDict[tuple, tuple] = OrderedDict()

    # ------------------------------------------------------------------ subclass interface
    def rewire(self, ei: np.ndarray, num_nodes: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Return ``(added, added_type, removed)``: ``added`` a ``(2, A)`` array of new
        undirected pairs (one direction each, never an existing edge or a self-loop),
        ``added_type`` their relation ids ``(A,)``, ``removed`` a ``(2, R)`` array of original
        pairs to delete (both directions are deleted) or ``None``."""
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        """Arguments that define the rewiring (for ``__repr__`` and the cache key)."""
        return {}

    # ------------------------------------------------------------------ BaseTransform
    def _compute(self, edge_index: Tensor, num_nodes: int):
        key = None
        if self.cache:
            h = hashlib.sha1(edge_index.detach().cpu().numpy().astype(np.int64).tobytes())
            key = (num_nodes, h.hexdigest())
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        ei = simple_undirected(edge_index, num_nodes)
        rng = np.random.default_rng(self.seed)
        added, added_type, removed = self.rewire(ei, num_nodes, rng)
        out = (added.astype(np.int64), added_type.astype(np.int64),
               None if removed is None else removed.astype(np.int64))
        if key is not None:
            self._memo[key] = out
            if len(self._memo) > self.max_cache_entries:
                self._memo.popitem(last=False)
        return out

    def forward(self, data: Data) -> Data:
        name = type(self).__name__
        N = data.num_nodes
        edge_index = check_edge_index(name, data.edge_index, N)
        added, added_type, removed = self._compute(edge_index, N)
        E = edge_index.size(1)
        keep = torch.ones(E, dtype=torch.bool)
        if removed is not None and removed.size:
            rk = np.sort(np.concatenate([removed[0] * N + removed[1], removed[1] * N + removed[0]]))
            ei_np = edge_index.cpu().numpy()
            keep = torch.from_numpy(~is_member(rk, ei_np[0] * N + ei_np[1]))
        new = torch.from_numpy(both_directions(added)).to(edge_index.device)
        new_type = torch.from_numpy(np.repeat(added_type, 2))
        kept = edge_index[:, keep.to(edge_index.device)]
        data.edge_index = torch.cat([kept, new], dim=1)
        edge_type = torch.cat([torch.zeros(kept.size(1), dtype=torch.long), new_type])
        data.edge_type = edge_type.to(edge_index.device)
        old = getattr(data, "edge_attr", None)
        if old is not None:
            old = old[keep.to(old.device)]
            fill = old.new_full((new.size(1),) + tuple(old.shape[1:]), self.fill_value)
            old = torch.cat([old, fill], dim=0)
        if self.edge_attr == "relation":
            if old is not None:
                data.orig_edge_attr = old
            data.edge_attr = data.edge_type
        elif old is not None:
            data.edge_attr = old
        if getattr(data, "edge_weight", None) is not None:
            w = data.edge_weight[keep.to(data.edge_weight.device)]
            data.edge_weight = torch.cat([w, w.new_ones(new.size(1))])
        return data

    def num_relations(self) -> int:
        """Relation ids this transform writes are in ``[0, num_relations)``."""
        return 2

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in {**self._params(), "seed": self.seed}.items())
        return f"{type(self).__name__}({args})"


class _ListDataset(InMemoryDataset):
    """An in-memory dataset over already built ``Data`` objects (no files)."""

    def __init__(self, data_list: list[Data], template: Any = None) -> None:
        super().__init__(None)
        self.data, self.slices = self.collate(data_list)
        for attr in ("name",):
            if template is not None and hasattr(template, attr):
                setattr(self, attr, getattr(template, attr))


def rewire_dataset(dataset: Any, transform: BaseTransform,
                   cache_dir: str | os.PathLike | None = None) -> InMemoryDataset:
    """Apply ``transform`` once to every graph of ``dataset`` and return an in-memory dataset of
    the rewired graphs (what ``pre_transform=`` does), cached on disk under ``cache_dir`` (keyed by
    the transform's repr and a hash of the dataset's edges) when given.

    Example:
        >>> ds, spec = graphkit.data.load("mutag")
        >>> ds = rewire_dataset(ds, LASER(num_snapshots=2), cache_dir="~/.cache/graphkit/rewired")
    """
    h = hashlib.sha1(b"dicts-v2" + repr(transform).encode())  # v2: files of to_dict() lists
    for g in dataset:
        h.update(g.edge_index.numpy().astype(np.int64).tobytes())
        h.update(str(g.num_nodes).encode())
    path = None
    if cache_dir is not None:
        path = Path(cache_dir).expanduser() / f"{h.hexdigest()[:20]}.pt"
        if path.is_file():  # plain dicts of tensors: loads with weights_only=True
            stored = torch.load(path, weights_only=True)
            return _ListDataset([type(g).from_dict(d) for g, d in zip(dataset, stored)], dataset)
    data_list = [transform(g.clone()) for g in dataset]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp")  # one per writer, then renamed
        torch.save([g.to_dict() for g in data_list], tmp)
        os.replace(tmp, path)
    return _ListDataset(data_list, dataset)

"""Split protocols shared by the loaders.

- ``10fold`` (graph classification, Xu et al. 2019 "How Powerful are Graph Neural Networks?"
  arXiv:1810.00826 and Errica et al. 2020 "A Fair Comparison of Graph Neural Networks for Graph
  Classification" arXiv:1912.09893): ``StratifiedKFold(10, shuffle=True, random_state=12345)``
  on the graph labels. For fold ``i``: ``test`` = fold ``i``; ``val`` = a stratified 10% of the
  other nine folds (``train_test_split(..., stratify=y, random_state=12345)``); ``train`` = the
  rest. The ten test folds partition the data set.
- ``random`` node splits: ``num_splits`` independent random permutations cut 60/20/20.
- masks -> index tensors for the public / Geom-GCN splits.
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold, train_test_split
from torch import Tensor

from graphkit._checks import check_range

FOLD_SEED = 12345


def stratified_folds(y: Tensor, num_folds: int = 10, seed: int = FOLD_SEED,
                     val_ratio: float = 0.1) -> list[dict[str, Tensor]]:
    """The ``10fold`` protocol described in the module docstring.

    Args:
        y (Tensor): one label per graph, shape ``(G,)`` or ``(G, 1)``.
        num_folds (int, optional): number of folds. (default: :obj:`10`)
        seed (int, optional): seed of the fold shuffle and the validation carve-out.
            (default: :obj:`12345`)
        val_ratio (float, optional): share of the non-test graphs kept for validation.
            (default: :obj:`0.1`)

    Returns:
        ``num_folds`` dicts with sorted long ``train`` / ``val`` / ``test`` index tensors.
    """
    check_range("stratified_folds", "num_folds", num_folds, low=2, integer=True)
    check_range("stratified_folds", "val_ratio", val_ratio, low=0.0, high=1.0, low_open=True,
                high_open=True)
    labels = y.view(-1).cpu().numpy()
    _, counts = np.unique(labels, return_counts=True)
    if counts.min() < num_folds:
        raise ValueError(f"stratified_folds: the rarest class has {counts.min()} graphs, fewer "
                         f"than num_folds={num_folds}; use fewer folds")
    skf = StratifiedKFold(n_splits=num_folds, shuffle=True, random_state=seed)
    out = []
    for rest, test in skf.split(np.zeros(len(labels)), labels):
        train, val = train_test_split(rest, test_size=val_ratio, stratify=labels[rest],
                                      random_state=seed)
        out.append({k: torch.from_numpy(np.sort(v)).long()
                    for k, v in (("train", train), ("val", val), ("test", test))})
    return out


def random_splits(num_items: int, num_splits: int, seed: int, train: float = 0.6,
                  val: float = 0.2) -> list[dict[str, Tensor]]:
    """``num_splits`` random ``train``/``val``/``test`` index splits (default 60/20/20)."""
    check_range("random_splits", "num_splits", num_splits, low=1, integer=True)
    check_range("random_splits", "train", train, low=0.0, high=1.0, low_open=True)
    check_range("random_splits", "val", val, low=0.0, high=1.0 - train)
    gen = torch.Generator().manual_seed(seed)
    n_train, n_val = round(train * num_items), round(val * num_items)
    out = []
    for _ in range(num_splits):
        perm = torch.randperm(num_items, generator=gen)
        out.append({"train": perm[:n_train].sort().values,
                    "val": perm[n_train:n_train + n_val].sort().values,
                    "test": perm[n_train + n_val:].sort().values})
    return out


def masks_to_splits(train_mask: Tensor, val_mask: Tensor, test_mask: Tensor
                    ) -> list[dict[str, Tensor]]:
    """Boolean masks ``(N,)`` (one split) or ``(N, S)`` (S splits) -> index splits."""
    if train_mask.dim() == 1:
        train_mask, val_mask, test_mask = (m.view(-1, 1) for m in (train_mask, val_mask, test_mask))
    return [{"train": train_mask[:, s].nonzero().view(-1),
             "val": val_mask[:, s].nonzero().view(-1),
             "test": test_mask[:, s].nonzero().view(-1)} for s in range(train_mask.size(1))]

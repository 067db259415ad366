r"""RelBench's metrics in torch (vectorised, on any device), checked against ``relbench.metrics``
in the tests: AUROC (binary), NMAE = MAE / std(train targets, ddof=1) (regression) and MAP@k
(recommendation):

.. math::
    \mathrm{MAP@}k = \frac{1}{|U^+|} \sum_{u \in U^+} \frac{1}{\min(|D_u|, k)}
        \sum_{i=1}^{k} \mathrm{P@}i(u)\, \mathbb{1}[\hat d_{u,i} \in D_u]

over sources :math:`U^+` with at least one true destination.

Shapes:
    - ``map_at_k``: ``pred`` :math:`(N, k)` destination ids, ``target`` :math:`(N, |D|)` multi-hot.
"""
from __future__ import annotations

import torch
from torch import Tensor

from graphkit.train.metrics import mae, roc_auc


def nmae(y_pred: Tensor, y_true: Tensor, train_std: float) -> float:
    """MAE divided by the train targets' standard deviation (ddof=1)."""
    if not train_std > 0:
        raise ValueError(f"nmae: train_std must be > 0; got {train_std!r}")
    return mae(y_pred, y_true) / train_std


def map_at_k(pred: Tensor, target: Tensor) -> float:
    """MAP@k of top-k predictions ``pred`` against multi-hot ``target``."""
    if pred.dim() != 2 or target.dim() != 2 or pred.size(0) != target.size(0):
        raise ValueError(f"map_at_k: pred must be (N, k) and target (N, |D|) with the same N; "
                         f"got {tuple(pred.shape)} and {tuple(target.shape)}")
    target = target.bool()
    count = target.sum(1)
    keep = count > 0
    if not keep.any():
        return float("nan")
    hit = target.gather(1, pred.long())[keep].double()
    k = pred.size(1)
    prec = hit.cumsum(1) / torch.arange(1, k + 1, device=hit.device)
    ap = (prec * hit).sum(1) / count[keep].clamp(max=k).double()
    return float(ap.mean())


__all__ = ["mae", "map_at_k", "nmae", "roc_auc"]

"""Metrics in torch, vectorised, with OGB / scikit-learn semantics (parity-tested in
``tests/train/test_metrics.py``), and an adapter to OGB's own Evaluators for OGB datasets.

All functions take predictions and targets as tensors and return a Python float.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from graphkit._checks import check_choice


def accuracy(y_pred: Tensor, y_true: Tensor) -> float:
    """Share of correct predictions; ``y_pred`` holds logits ``(N, C)`` or class ids ``(N,)``."""
    if y_pred.dim() == 2 and y_pred.size(1) > 1:
        y_pred = y_pred.argmax(dim=-1)
    elif y_pred.dim() == 2:
        y_pred = (y_pred.view(-1) > 0).long()
    y_true = y_true.view(-1)
    if y_true.numel() == 0:
        return float("nan")
    return float((y_pred.view(-1) == y_true).float().mean())


def _binary_auc(score: Tensor, label: Tensor) -> float:
    """ROC-AUC by the rank-sum (Mann-Whitney U) formula with average ranks for ties, as
    :func:`sklearn.metrics.roc_auc_score`."""
    label = label.view(-1).bool()
    score = score.view(-1).double()
    n_pos = int(label.sum())
    n_neg = label.numel() - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = score.argsort()
    s = score[order]
    # average rank of each run of equal scores (1-based)
    _, inv, counts = torch.unique_consecutive(s, return_inverse=True, return_counts=True)
    ends = counts.cumsum(0).double()
    avg_rank = ends - (counts.double() - 1) / 2
    ranks = torch.empty_like(score)
    ranks[order] = avg_rank[inv]
    u = ranks[label].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def _binary_ap(score: Tensor, label: Tensor) -> float:
    """Average precision as :func:`sklearn.metrics.average_precision_score` (step-wise, ties
    grouped)."""
    label = label.view(-1).double()
    score = score.view(-1).double()
    n_pos = float(label.sum())
    if n_pos == 0:
        return float("nan")
    order = score.argsort(descending=True)
    s, lab = score[order], label[order]
    tp = lab.cumsum(0)
    # keep the last index of each run of equal scores
    last = torch.ones_like(s, dtype=torch.bool)
    last[:-1] = s[1:] != s[:-1]
    tp = tp[last]
    fp = (torch.arange(1, s.numel() + 1, dtype=torch.double, device=s.device))[last] - tp
    precision = tp / (tp + fp)
    recall = tp / n_pos
    prev = torch.cat([recall.new_zeros(1), recall[:-1]])
    return float(((recall - prev) * precision).sum())


def _per_task(fn: Callable[[Tensor, Tensor], float], y_pred: Tensor, y_true: Tensor) -> float:
    """Mean over tasks (columns) that hold both classes, NaN labels ignored (OGB semantics)."""
    if y_pred.dim() == 1:
        y_pred = y_pred.view(-1, 1)
    if y_true.dim() == 1:
        y_true = y_true.view(-1, 1)
    vals = []
    for t in range(y_true.size(1)):  # loop over tasks, not samples
        mask = ~torch.isnan(y_true[:, t].float())
        lab = y_true[mask, t]
        if lab.numel() and 0 < float(lab.float().sum()) < lab.numel():
            vals.append(fn(y_pred[mask, t], lab))
    return float(sum(vals) / len(vals)) if vals else float("nan")


def roc_auc(y_pred: Tensor, y_true: Tensor) -> float:
    """ROC-AUC; multi-column input is averaged over tasks as OGB does."""
    return _per_task(_binary_auc, y_pred, y_true)


def average_precision(y_pred: Tensor, y_true: Tensor) -> float:
    """Average precision; multi-column input is averaged over tasks as OGB does."""
    return _per_task(_binary_ap, y_pred, y_true)


def rmse(y_pred: Tensor, y_true: Tensor) -> float:
    mask = ~torch.isnan(y_true.float())
    return float(((y_pred[mask].double() - y_true[mask].double()) ** 2).mean().sqrt())


def mae(y_pred: Tensor, y_true: Tensor) -> float:
    mask = ~torch.isnan(y_true.float())
    return float((y_pred[mask].double() - y_true[mask].double()).abs().mean())


def hits_at_k(pos: Tensor, neg: Tensor, k: int) -> float:
    """OGB Hits@K: share of positives scored strictly above the K-th best negative
    (1.0 when there are fewer than K negatives)."""
    pos, neg = pos.view(-1), neg.view(-1)
    if neg.numel() < k:
        return 1.0
    kth = torch.topk(neg, k).values[-1]
    return float((pos > kth).float().mean())


def mrr(pos: Tensor, neg: Tensor) -> float:
    """OGB MRR: each positive ``(E,)`` ranked against its own negatives ``(E, K)``; ties get the
    mean of the optimistic and pessimistic rank."""
    pos = pos.view(-1, 1)
    if neg.dim() != 2 or neg.size(0) != pos.size(0):
        raise ValueError(f"mrr: 'neg' must have shape (E, K) with E = {pos.size(0)} positives; "
                         f"got {tuple(neg.shape)}")
    rank = 0.5 * ((neg > pos).sum(1) + (neg >= pos).sum(1)) + 1
    return float((1.0 / rank.double()).mean())


def link_metrics(pos: Tensor, neg: Tensor, names: tuple[str, ...] = ("auc", "ap")) -> dict:
    """AUC / AP / Hits@K over positive and negative link scores (a shared negative pool)."""
    score = torch.cat([pos.view(-1), neg.view(-1)])
    label = torch.cat([torch.ones(pos.numel()), torch.zeros(neg.numel())])
    out = {}
    for name in names:
        if name == "auc":
            out[name] = _binary_auc(score, label)
        elif name == "ap":
            out[name] = _binary_ap(score, label)
        elif name.startswith("hits@") or name == "mrr":
            out[name] = ogb_link_metric(name, pos, neg)
        else:
            check_choice("link_metrics", "names", name, {"auc", "ap", "hits@K", "mrr"})
    return out


def ogb_link_metric(name: str, pos: Tensor, neg: Tensor) -> float:
    """``hits@K`` or ``mrr`` computed by ``ogb.linkproppred.Evaluator`` (``ogbl-collab``'s
    Hits@K with ``K`` set; ``ogbl-citation2``'s MRR). ``neg`` is a shared pool ``(M,)`` (each
    positive is ranked against all of it) or per-positive negatives ``(E, K)`` for MRR."""
    from ogb.linkproppred import Evaluator
    pos, neg = pos.detach().float().cpu().view(-1), neg.detach().float().cpu()
    if name == "mrr":
        if neg.dim() == 1:
            neg = neg.view(1, -1).expand(pos.numel(), -1)
        if neg.size(0) != pos.size(0):
            raise ValueError(f"ogb_link_metric: 'neg' for mrr must be (M,) or (E, K) with "
                             f"E = {pos.numel()} positives; got {tuple(neg.shape)}")
        return float(Evaluator("ogbl-citation2").eval(
            {"y_pred_pos": pos, "y_pred_neg": neg})["mrr_list"].mean())
    k = name[5:]
    if not k.isdigit() or int(k) < 1:
        raise ValueError(f"ogb_link_metric: expected 'hits@K' with an integer K >= 1; got {name!r}")
    ev = Evaluator("ogbl-collab")
    ev.K = int(k)
    return float(ev.eval({"y_pred_pos": pos, "y_pred_neg": neg.view(-1)})[name])


METRIC_FNS: dict[str, Callable[[Tensor, Tensor], float]] = {
    "accuracy": accuracy, "rocauc": roc_auc, "auc": roc_auc, "ap": average_precision,
    "rmse": rmse, "mae": mae,
}


class OGBEvaluator:
    """Adapter around ``ogb``'s Evaluator for graph / node property datasets: same call as the
    functions above, ``(y_pred, y_true) -> float`` for the dataset's own metric."""

    def __init__(self, name: str, metric: str) -> None:
        if name.startswith("ogbg"):
            from ogb.graphproppred import Evaluator
        elif name.startswith("ogbn"):
            from ogb.nodeproppred import Evaluator
        else:
            from ogb.linkproppred import Evaluator
        self.name, self.metric = name, metric
        self.evaluator = Evaluator(name)

    def __call__(self, y_pred: Tensor, y_true: Tensor) -> float:
        if self.metric == "accuracy" and y_pred.dim() == 2 and y_pred.size(1) > 1:
            y_pred = y_pred.argmax(-1, keepdim=True)
        y_true = y_true.view(y_true.size(0), -1)
        y_pred = y_pred.view(y_pred.size(0), -1)
        out = self.evaluator.eval({"y_true": y_true.cpu().numpy(), "y_pred": y_pred.detach().cpu().numpy()})
        return float(out[self.metric])

    def __repr__(self) -> str:
        return f"OGBEvaluator({self.name!r}, metric={self.metric!r})"


def get_metric(metric: str, evaluator: str | None = None) -> Callable[[Tensor, Tensor], float]:
    """The scoring function for a task: OGB's Evaluator when the dataset names one."""
    if evaluator:
        return OGBEvaluator(evaluator, metric)
    if metric.startswith("hits@") or metric == "mrr":       # link ranking metrics, label form
        def ranking(y_pred: Tensor, y_true: Tensor) -> float:
            y_pred, y_true = y_pred.view(-1), y_true.view(-1).bool()
            return ogb_link_metric(metric, y_pred[y_true], y_pred[~y_true])
        return ranking
    check_choice("get_metric", "metric", metric, METRIC_FNS)
    return METRIC_FNS[metric]

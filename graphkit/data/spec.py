"""The task description every catalogue loader returns next to its PyG object."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor

TASKS = ("node", "link", "graph", "relational_entity", "relational_rec")
KINDS = ("multiclass", "binary", "multilabel", "regression", "recommendation")
#: metric name -> True when higher is better
METRICS = {
    "accuracy": True, "rocauc": True, "auc": True, "ap": True, "f1": True, "mrr": True,
    "hits@10": True, "hits@20": True, "hits@50": True, "hits@100": True,
    "rmse": False, "mae": False, "mape": False,
    "nmae": False, "map": True,  # RelBench v3: MAE / train std, MAP@k
}

#: one split (or fold): name -> index tensor.
#: node / graph tasks: ``train`` / ``val`` / ``test`` long index tensors (``val`` may be absent,
#: the trainer then carves it out of ``train``).
#: link tasks: ``train_pos`` / ``train_neg`` / ``val_pos`` / ``val_neg`` / ``test_pos`` /
#: ``test_neg``, each a ``(2, E)`` long tensor (``*_neg`` and ``val_*`` may be absent).
Split = dict[str, Tensor]


@dataclass
class TaskSpec:
    """What to predict, how to score it, and on which splits.

    Args:
        name: catalogue name (``"cora"``).
        task: ``"node"``, ``"link"`` or ``"graph"``.
        kind: ``"multiclass"``, ``"binary"``, ``"multilabel"`` or ``"regression"``.
        metric: the headline metric (a key of :data:`METRICS`).
        protocol: how splits are made (``"public_split"``, ``"geom_gcn"``, ``"10fold"``,
            ``"seal_fixed"``, ``"random"``, ``"ogb"`` ...), recorded in results.
        num_features: input node feature size.
        num_outputs: classes (multiclass), tasks (binary / multilabel / regression), 1 for links.
        splits: one :data:`Split` per split / fold / repetition.
        evaluator: OGB evaluator name when the metric must come from ``ogb``.
        extra: anything else a loader wants to pass on (e.g. ``num_edge_features``).
    """

    name: str
    task: str
    kind: str
    metric: str
    protocol: str
    num_features: int
    num_outputs: int
    splits: list[Split] = field(default_factory=list)
    evaluator: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from graphkit._checks import check_choice
        check_choice("TaskSpec", "task", self.task, TASKS)
        check_choice("TaskSpec", "kind", self.kind, KINDS)
        check_choice("TaskSpec", "metric", self.metric, METRICS)

    @property
    def higher_is_better(self) -> bool:
        return METRICS[self.metric]

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "task": self.task, "kind": self.kind, "metric": self.metric,
                "protocol": self.protocol, "num_features": self.num_features,
                "num_outputs": self.num_outputs, "num_splits": len(self.splits),
                "evaluator": self.evaluator}

"""A relational task packaged for graphkit's :class:`~graphkit.train.Trainer`: the RelBench task,
its temporal graph and the label tables, plus the :class:`~graphkit.data.spec.TaskSpec` that
routes it to the relational task adapters (``graphkit/train/relational_tasks.py``).

Example:
    >>> bundle, spec = load_bench_task("chinook", "customer-buy")
    >>> Trainer(cfg, data=(bundle, spec)).run()
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import torch

import graphkit.train.relational_tasks  # noqa: F401  (registers the relational task adapters)
from graphkit.data.spec import TaskSpec


@dataclass
class RelationalBundle:
    """Everything a relational run needs.

    Attributes:
        task: the RelBench task (``EntityTask`` or ``RecommendationTask``).
        data: the temporal ``HeteroData`` of ``task.get_db()`` (cut at the test timestamp).
        col_stats: per-table column statistics.
        tables: split -> label table (test with its labels, for scoring only).
        dataset_name, task_name: names for results and RelBench prediction files.
    """

    task: Any
    data: Any
    col_stats: dict
    tables: dict
    dataset_name: str
    task_name: str
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        sizes = {k: len(v) for k, v in self.tables.items()}
        return f"RelationalBundle({self.dataset_name}/{self.task_name}, rows={sizes})"


def make_bundle(task, dataset_name: str, task_name: str, text_embedder=None,
                stypes: dict | None = None) -> tuple[RelationalBundle, TaskSpec]:
    """Build the graph and label tables of a RelBench task and its ``TaskSpec``."""
    from relbench.base import RecommendationTask, TaskType

    from graphkit.relational.graph import build_hetero_graph
    db = task.get_db()
    data, col_stats = build_hetero_graph(db, text_embedder=text_embedder, stypes=stypes)
    tables = {s: task.get_table(s, mask_input_cols=False) for s in ("train", "val", "test")}
    for s, t in tables.items():
        if len(t) == 0:
            raise ValueError(f"relational task {dataset_name}/{task_name}: the {s} split has no "
                             f"rows; move the val / test timestamps or widen the window")
    bundle = RelationalBundle(task, data, col_stats, tables, dataset_name, task_name)
    rows = {s: torch.arange(len(t)) for s, t in tables.items()}
    if isinstance(task, RecommendationTask):
        spec = TaskSpec(name=f"{dataset_name}/{task_name}", task="relational_rec",
                        kind="recommendation", metric="map", protocol="relbench_temporal",
                        num_features=0, num_outputs=data[task.dst_entity_table].num_nodes,
                        splits=[rows], extra={"eval_k": task.eval_k})
    else:
        binary = task.task_type == TaskType.BINARY_CLASSIFICATION
        if not binary and task.task_type != TaskType.REGRESSION:
            raise ValueError(f"relational task {task_name!r}: task type {task.task_type} is not "
                             f"supported (binary classification, regression, recommendation)")
        spec = TaskSpec(name=f"{dataset_name}/{task_name}", task="relational_entity",
                        kind="binary" if binary else "regression",
                        metric="rocauc" if binary else "nmae", protocol="relbench_temporal",
                        num_features=0, num_outputs=1, splits=[rows])
    return bundle, spec


@functools.lru_cache(maxsize=8)
def _cached(dataset: str, task: str, root: str | None, text_dim: int):
    from graphkit.relational.graph import HashingTextEmbedder
    if dataset == "chinook":
        from graphkit.relational.chinook import TASK_NAMES, chinook_tasks
        if task not in TASK_NAMES:
            raise ValueError(f"chinook has tasks {list(TASK_NAMES)}; got {task!r}")
        from graphkit.relational.chinook import chinook_stypes
        _, tasks = chinook_tasks(root)
        t = tasks[task]
        return make_bundle(t, "chinook", task, HashingTextEmbedder(text_dim),
                           stypes=chinook_stypes(t.get_db()))
    from pathlib import Path

    from graphkit.relational.relbench_data import load_relbench_task
    t = load_relbench_task(dataset, task, root=root)
    name = Path(dataset).name if (Path(dataset) / "manifest.yaml").exists() else dataset
    return make_bundle(t, name, task, HashingTextEmbedder(text_dim))


def load_bench_task(dataset: str = "chinook", task: str = "customer-buy",
                    root: str | None = None, text_dim: int = 64) -> tuple[RelationalBundle, TaskSpec]:
    """``(bundle, spec)`` for a named relational task (cached per process).

    Args:
        dataset: ``"chinook"`` (``$GRAPHKIT_DATA/relational/chinook``), a RelBench dataset name
            (``"rel-f1"``, needs the network or RelBench's HF cache) or a local folder in
            RelBench's v3 layout.
        task: the task name.
        root: data folder (Chinook) or ignored.
        text_dim: size of the hashing text embeddings.
    """
    return _cached(dataset, task, root, int(text_dim))

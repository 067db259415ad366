"""Relational deep learning (RelBench-style): import a database, define time-window tasks,
build the temporal heterogeneous graph, and train the RelBench baseline GNN with graphkit's
trainer and temporal neighbor sampler. Needs the ``relbench`` extra
(``pip install -c constraints.txt 'graphkit[relbench]'``: relbench 3.0.2, pytorch-frame 0.3.0).

Example:
    >>> from graphkit.relational import from_sqlite, RelationalDataset, EntityWindowTask
    >>> db = from_sqlite("shop.sqlite", inherit_time={"OrderLine": "OrderId"}).db
    >>> ds = RelationalDataset(db, val_timestamp="2024-07-01", test_timestamp="2025-01-01")
    >>> churn = EntityWindowTask(ds, "Customer", events=my_events, window_days=90, agg="exists")
    >>> bundle, spec = make_bundle(churn, "shop", "customer-buy")
    >>> Trainer(cfg, data=(bundle, spec)).run()
"""
from graphkit.relational.database import (
    ImportedDatabase,
    from_csv,
    from_frames,
    from_parquet,
    from_sqlite,
)

__all__ = [
    "EntityWindowTask",
    "HashingTextEmbedder",
    "ImportedDatabase",
    "RDLModel",
    "RDLRecommender",
    "RecommendationWindowTask",
    "RelationalBundle",
    "RelationalDataset",
    "build_hetero_graph",
    "export_relbench_folder",
    "from_csv",
    "from_frames",
    "from_parquet",
    "from_sqlite",
    "gbdt_baseline",
    "load_bench_task",
    "load_relbench_task",
    "make_bundle",
]

_LAZY = {
    "RelationalDataset": "graphkit.relational.tasks",
    "EntityWindowTask": "graphkit.relational.tasks",
    "RecommendationWindowTask": "graphkit.relational.tasks",
    "HashingTextEmbedder": "graphkit.relational.graph",
    "build_hetero_graph": "graphkit.relational.graph",
    "RDLModel": "graphkit.relational.model",
    "RDLRecommender": "graphkit.relational.model",
    "RelationalBundle": "graphkit.relational.bench",
    "make_bundle": "graphkit.relational.bench",
    "load_bench_task": "graphkit.relational.bench",
    "load_relbench_task": "graphkit.relational.relbench_data",
    "export_relbench_folder": "graphkit.relational.relbench_data",
    "gbdt_baseline": "graphkit.relational.baseline",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'graphkit.relational' has no attribute {name!r}")

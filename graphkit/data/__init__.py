"""Dataset catalogue and loaders: ``load(name) -> (PyG object, TaskSpec)``.

The catalogue lives in ``datasets/*.yaml`` (one entry per data set; see
:mod:`graphkit.data.catalogue`). Raw files are read from ``root=`` / ``$GRAPHKIT_DATA``
(read-only) and processed into ``$GRAPHKIT_CACHE`` (see :mod:`graphkit.data.storage`).

Example:
    >>> from graphkit.data import load, list_datasets, info
    >>> data, spec = load("usair", split_ratio=0.1)     # Data + 10 fixed SEAL splits
    >>> spec.task, spec.metric, len(spec.splits)
    ('link', 'auc', 10)
"""
from __future__ import annotations

from graphkit.data.api import info, list_datasets, load
from graphkit.data.spec import TaskSpec
from graphkit.data.storage import ChecksumError
from graphkit.data.validate import validate_graph

__all__ = ["ChecksumError", "TaskSpec", "info", "list_datasets", "load", "validate_graph"]

"""One loader per raw layout; each turns staged raw files into ``(PyG object, TaskSpec)``."""
from __future__ import annotations

# importing the modules registers their loaders in LOADERS
from graphkit.data.loaders import (  # noqa: F401
    geom_gcn,
    lrgb,
    ogb,
    planetoid,
    planetoid_link,
    seal_mat,
    synthetic,
    tu,
)
from graphkit.data.loaders.base import LOADERS, Loader

__all__ = ["LOADERS", "Loader"]

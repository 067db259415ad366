"""One loader per raw layout; each turns staged raw files into ``(PyG object, TaskSpec)``."""
from __future__ import annotations

# importing the modules registers their loaders in LOADERS
from graphkit.data.loaders import geom_gcn, lrgb, ogb, planetoid, planetoid_link, seal_mat, synthetic, tu  # noqa: F401
from graphkit.data.loaders.base import LOADERS, Loader

__all__ = ["LOADERS", "Loader"]

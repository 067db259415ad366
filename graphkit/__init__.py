"""graphkit: deep GNNs, learnable pooling, rewiring and link prediction on PyTorch Geometric."""
from __future__ import annotations

__version__ = "0.1.0"

from graphkit.registry import Registry

__all__ = ["Registry", "__version__"]

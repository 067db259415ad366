"""Link-prediction heads (``HEADS`` registry)."""
from graphkit.nn.link.dot import DotHead

__all__ = ["DotHead"]

"""Graph transforms (PyG ``BaseTransform``\\ s), registered in ``TRANSFORMS`` by name.

PyG's own feature transforms are registered as they are; graphkit's rewiring transforms
(LASER, FoSR, SDRF, BORF) register here too.
"""
from torch_geometric import transforms as T

from graphkit.registry import TRANSFORMS

TRANSFORMS.register("normalize_features", T.NormalizeFeatures)
TRANSFORMS.register("degree", T.LocalDegreeProfile)
TRANSFORMS.register("to_undirected", T.ToUndirected)
TRANSFORMS.register("add_self_loops", T.AddSelfLoops)
TRANSFORMS.register("gdc", T.GDC)

__all__ = ["TRANSFORMS"]

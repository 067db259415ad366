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

# rewiring (one method per file); edge_type / edge_attr mark added edges (see _rewire.py)
from graphkit.transforms._rewire import RewiringTransform, rewire_dataset
from graphkit.transforms.borf import BORF
from graphkit.transforms.fosr import FoSR
from graphkit.transforms.gdc import GDC
from graphkit.transforms.laser import LASER
from graphkit.transforms.sdrf import SDRF
from graphkit.transforms.standardize import StandardizeFeatures

TRANSFORMS.register("gdc", GDC)

__all__ = [
           "BORF",
           "GDC",
           "LASER",
           "SDRF",
           "TRANSFORMS",
           "FoSR",
           "RewiringTransform",
           "StandardizeFeatures",
           "rewire_dataset",
]

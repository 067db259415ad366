"""Pure-PyTorch graph samplers: neighbor sampling (homogeneous, heterogeneous, temporal,
weighted, link-level) as PyG ``BaseSampler`` s, PyG-compatible loaders, and random walks
(uniform and node2vec), all vectorised and running on the device the graph lives on."""
from graphkit.sampling.csr import CSC, build_csr
from graphkit.sampling.loader import LinkNeighborLoader, NeighborLoader
from graphkit.sampling.neighbor import hetero_neighbor_sample, sample_ranges
from graphkit.sampling.sampler import GraphkitNeighborSampler, available_backends
from graphkit.sampling.walks import RandomWalkSampler, random_walk

__all__ = [
    "CSC",
    "GraphkitNeighborSampler",
    "LinkNeighborLoader",
    "NeighborLoader",
    "RandomWalkSampler",
    "available_backends",
    "build_csr",
    "hetero_neighbor_sample",
    "random_walk",
    "sample_ranges",
]

"""Pooling layers and global readouts."""
from graphkit.nn.pool.edge_pool import VectorizedEdgePooling, greedy_edge_matching
from graphkit.nn.pool.gpn import (
    GPN,
    GPNNode,
    GraphParsingPool,
    parse_clusters,
)
from graphkit.nn.pool.hierarchical import PooledGNN
from graphkit.nn.pool.readout import build_readout

__all__ = ["GPN", "GPNNode", "GraphParsingPool", "PooledGNN", "VectorizedEdgePooling",
           "build_readout", "greedy_edge_matching", "parse_clusters"]

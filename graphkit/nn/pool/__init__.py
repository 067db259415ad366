"""Pooling layers and global readouts."""
from graphkit.nn.pool.readout import build_readout

__all__ = ["build_readout"]

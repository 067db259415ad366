"""Aggregations (``aggr=`` of message-passing layers, and readouts).

Importing this package registers ``"gnp"`` in ``AGGRS`` and ``READOUTS`` and makes
``aggr="gnp"`` resolve inside PyG layers (see :func:`graphkit.nn.aggr.gnp.register_with_pyg`).
"""
from graphkit.nn.aggr.gnp import GNP, GNP_INITS, gnp_reduce, register_with_pyg

register_with_pyg()

__all__ = ["GNP", "GNP_INITS", "gnp_reduce", "register_with_pyg"]

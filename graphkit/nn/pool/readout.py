"""Global readouts: one vector per graph from node vectors and a ``batch`` vector.

Each is a PyG :class:`~torch_geometric.nn.aggr.Aggregation`, registered in ``READOUTS``, so a
readout is built by name (``READOUTS.build("sum")``) and called as ``readout(x, batch)``.
``attention`` is PyG's :class:`~torch_geometric.nn.aggr.AttentionalAggregation` (Li et al.,
"Gated Graph Sequence Neural Networks") with a linear gate.
"""
from __future__ import annotations

import torch
from torch_geometric.nn.aggr import (
    AttentionalAggregation,
    MaxAggregation,
    MeanAggregation,
    SumAggregation,
)

from graphkit.registry import READOUTS

READOUTS.register("sum", SumAggregation)
READOUTS.register("add", SumAggregation)
READOUTS.register("mean", MeanAggregation)
READOUTS.register("max", MaxAggregation)


@READOUTS.register("attention")
def attention_readout(channels: int) -> AttentionalAggregation:
    """Gated attention readout: :math:`\\sum_i \\mathrm{softmax}(w^\\top x_i) x_i`."""
    return AttentionalAggregation(gate_nn=torch.nn.Linear(channels, 1))


def build_readout(name: str, channels: int) -> torch.nn.Module:
    """Build a readout by name; readouts with parameters get the channel count."""
    factory = READOUTS.get(name)
    try:
        return factory(channels)
    except TypeError:
        return factory()

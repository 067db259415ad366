"""GNPConv / GNPGNN: every aggregation by name, edge features, registry, errors."""
from __future__ import annotations

import pytest
import torch

from graphkit.nn.aggr import GNP
from graphkit.nn.gnp_gnn import GNPGNN, GNPConv, build_aggregation
from graphkit.registry import MODELS


@pytest.mark.parametrize("aggr", ["gnp", "sum", "mean", "max", "min", "powermean", "softmax"])
def test_model_contract_every_aggregation(aggr):
    model = MODELS.build("gnp_gnn", in_channels=3, hidden_channels=8, out_channels=2,
                         num_layers=2, dropout=0.1, aggr=aggr, edge_dim=1)
    x = torch.randn(7, 3)
    edge_index = torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])     # nodes 5, 6 isolated
    out = model(x, edge_index, torch.rand(5, 1))
    assert out.shape == (7, 2) and torch.isfinite(out).all()
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    aggrs = [c.aggr_module for c in model.convs]
    assert aggrs[0] is not aggrs[1]


def test_gnp_everywhere_and_repr_and_reset():
    model = GNPGNN(3, 8, 1, num_layers=3)
    assert all(isinstance(c.aggr_module, GNP) and c.aggr_module.channels == 8
               for c in model.convs)
    assert str(model) == "GNPGNN(3, 8, 1, num_layers=3, aggr='gnp')"
    assert str(model.convs[0]) == "GNPConv(3, 8, aggr='gnp')"
    with torch.no_grad():
        for c in model.convs:
            c.aggr_module.p.add_(1.0)
    model.reset_parameters()
    assert all(torch.equal(c.aggr_module.p, torch.ones(2, 8)) for c in model.convs)


def test_build_aggregation_and_errors():
    assert isinstance(build_aggregation("gnp", 4, {"init": "max"}), GNP)
    inst = GNP(4)
    assert build_aggregation(inst, 4) is inst
    with pytest.raises(ValueError, match="built with edge_dim=None but edge_attr is given"):
        GNPConv(3, 4)(torch.randn(2, 3), torch.tensor([[0], [1]]), torch.ones(1, 1))
    with pytest.raises(ValueError, match="'num_layers' must be an int"):
        GNPGNN(3, 4, 1, num_layers=0)

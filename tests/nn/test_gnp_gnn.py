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


@pytest.mark.parametrize("signed", [True, False])
def test_gnp_sage_conv_equals_sage_with_gnp_messages(signed):
    """GNPSAGEConv (node-level powers, no message tensor) == SAGEConv(aggr=GNP): outputs and
    every gradient, with repeated edges, an isolated node, zeros and a bipartite input."""
    from torch_geometric.nn import SAGEConv

    from graphkit.nn.gnp_gnn import GNPSAGEConv
    torch.manual_seed(0)
    fast = GNPSAGEConv(4, 5, aggr_kwargs={"init": "mixed", "signed": signed}).double()
    ref = SAGEConv(4, 5, aggr=GNP(4, init="mixed", signed=signed)).double()
    ref.load_state_dict(fast.state_dict())
    with torch.no_grad():
        for conv in (fast, ref):
            conv.aggr_module.p.mul_(0.3).add_(0.5)                 # moderate exponents
    x = torch.randn(9, 4, dtype=torch.float64)
    x[2] = 0.0
    ei = torch.tensor([[0, 1, 2, 3, 3, 4, 5, 6, 7, 1], [1, 2, 3, 4, 4, 0, 0, 7, 6, 0]])  # 8 isolated
    outs = []
    for conv in (fast, ref):
        xx = x.clone().requires_grad_(True)
        out = conv(xx, ei)
        out.square().sum().backward()
        outs.append((out, xx.grad, *[p.grad for p in conv.parameters()]))
    for a, b in zip(*outs):
        assert torch.allclose(a, b, rtol=1e-8, atol=1e-10)
    xs, xd = torch.randn(6, 4, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    eb = torch.tensor([[0, 1, 5, 4], [0, 0, 2, 2]])
    assert torch.allclose(fast((xs, xd), eb), ref((xs, xd), eb), rtol=1e-8, atol=1e-10)


def test_gnp_sage_conv_generic_path_and_errors():
    from torch_geometric.nn.aggr import MeanAggregation

    from graphkit.nn.gnp_gnn import GNPSAGEConv
    conv = GNPSAGEConv(3, 2)
    calls = []
    conv.register_message_forward_hook(lambda *a: calls.append(1))  # hooks see real messages
    x, ei = torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])
    out = conv(x, ei)
    assert calls and out.shape == (4, 2)
    assert GNPSAGEConv(3, 2).aggr_module.channels == 3
    assert GNPSAGEConv(3, 2, aggr_kwargs={"channels": 1}).aggr_module.channels == 1
    with pytest.raises(TypeError, match="'aggr' must be a GNP instance"):
        GNPSAGEConv(3, 2, aggr=MeanAggregation())
    with pytest.raises(ValueError, match="either 'aggr' or 'aggr_kwargs'"):
        GNPSAGEConv(3, 2, aggr=GNP(3), aggr_kwargs={"init": "max"})
    with pytest.raises(ValueError, match="'edge_index' must be a \\(2, E\\) tensor"):
        GNP(3).pool_neighbors(x, ei[0])


def test_sage_backbone_with_gnp_uses_the_node_level_layer():
    """``MODELS.build("sage", aggr="gnp")`` builds GNPSAGEConv layers with exactly the
    parameters (and outputs) of PyG's GraphSAGE with the same aggregation."""
    from torch_geometric.nn.models import GraphSAGE

    from graphkit.nn.aggr.gnp import register_with_pyg
    from graphkit.nn.gnp_gnn import GNPSAGEConv
    register_with_pyg()
    kw = {"in_channels": 3, "hidden_channels": 6, "num_layers": 2, "out_channels": 2,
          "aggr": "gnp", "aggr_kwargs": {"init": "rms"}}
    torch.manual_seed(0)
    fast = MODELS.build("sage", **kw)
    ref = GraphSAGE(**kw)
    assert all(isinstance(c, GNPSAGEConv) for c in fast.convs)
    ref.load_state_dict(fast.state_dict())
    x, ei = torch.randn(6, 3), torch.tensor([[0, 1, 2, 3, 4, 5, 5], [1, 2, 3, 4, 5, 0, 1]])
    fast.eval(), ref.eval()
    assert torch.allclose(fast(x, ei), ref(x, ei), atol=1e-5)
    assert not isinstance(MODELS.build("sage", in_channels=3, hidden_channels=4, num_layers=1,
                                       aggr="max").convs[0], GNPSAGEConv)

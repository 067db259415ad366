"""RelationalGNN / RelationalConv: shapes, repr, gradients, relation ids, parity with one conv."""
import networkx as nx
import pytest
import torch
from torch_geometric.nn import GCNConv
from torch_geometric.utils import from_networkx

import graphkit.nn  # noqa: F401
from graphkit.nn.relational import RelationalConv, RelationalGNN, relation_ids
from graphkit.registry import MODELS
from graphkit.transforms import LASER


def data():
    d = from_networkx(nx.barbell_graph(5, 3))
    d.x = torch.randn(d.num_nodes, 6)
    return LASER(num_snapshots=2, additions_factor=0.5)(d)


@pytest.mark.parametrize("conv", ["gcn", "sage", "gin", "graphconv", "gat"])
def test_forward_backward_every_parameter(conv):
    d = data()
    m = MODELS.build("relational", in_channels=6, hidden_channels=8, out_channels=3,
                     num_layers=3, dropout=0.1, num_relations=3, conv=conv, norm="batch")
    out = m(d.x, d.edge_index, edge_attr=d.edge_attr)
    assert out.shape == (d.num_nodes, 3)
    out.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in m.parameters())
    assert m.uses_edge_attr


def test_edge_type_and_edge_attr_agree_and_relations_matter():
    d = data()
    m = RelationalGNN(6, 8, 3, num_layers=2, num_relations=3).eval()
    a = m(d.x, d.edge_index, edge_attr=d.edge_attr)
    b = m(d.x, d.edge_index, edge_type=d.edge_type)
    c = m(d.x, d.edge_index, edge_attr=d.edge_attr.view(-1, 1).float())
    assert torch.allclose(a, b) and torch.allclose(a, c)
    assert not torch.allclose(a, m(d.x, d.edge_index))   # all edges as relation 0


def test_single_relation_equals_the_conv():
    d = data()
    rc = RelationalConv(6, 4, num_relations=1)
    ref = GCNConv(6, 4)
    ref.load_state_dict(rc.convs[0].state_dict())
    rel = torch.zeros(d.edge_index.size(1), dtype=torch.long)
    assert torch.allclose(rc(d.x, d.edge_index, rel), ref(d.x, d.edge_index), atol=1e-6)


def test_sum_over_relations():
    d = data()
    rc = RelationalConv(6, 4, num_relations=3)
    rel = d.edge_type
    ref = sum(rc.convs[r](d.x, d.edge_index[:, rel == r]) for r in range(3))
    assert torch.allclose(rc(d.x, d.edge_index, rel), ref, atol=1e-6)


def test_repr_reset_and_errors():
    m = RelationalGNN(6, 8, 3, num_layers=2, num_relations=4)
    assert repr(m) == "RelationalGNN(6, 8, 3, num_layers=2, num_relations=4)"
    assert repr(m.convs[0]) == "RelationalConv(6, 8, num_relations=4, conv='gcn')"
    state = {k: v.clone() for k, v in m.state_dict().items()}
    torch.manual_seed(1)
    m.reset_parameters()
    assert any(not torch.equal(state[k], v) for k, v in m.state_dict().items())
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="relation ids must be one per edge"):
        relation_ids(ei, torch.zeros(2, 3))
    with pytest.raises(ValueError, match="'num_layers'"):
        RelationalGNN(6, 8, 3, num_layers=0)
    assert "rgcn_laser" in MODELS

"""DeepGNN backbone: model interface, every kind x norm, fast paths vs PyG, deep gradients."""
from __future__ import annotations

import pytest
import torch
from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from graphkit.nn.backbone import (
    DeepGNN,
    GCNLayer,
    GCNPropagate,
    SparseAdj,
    feature_dropout,
)
from graphkit.registry import MODELS, RESIDUALS


def graph(n: int = 20, f: int = 6, e: int = 50, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, f, generator=g)
    ei = torch.randint(0, n, (2, e), generator=g)
    return x, torch.cat([ei, ei.flip(0)], 1)


@pytest.mark.parametrize("kind", RESIDUALS.names())
def test_every_kind_builds_by_name(kind):
    x, ei = graph()
    model = MODELS.build("deepgnn", in_channels=6, hidden_channels=8, out_channels=3,
                         num_layers=3, dropout=0.1, residual=kind, norm="layer")
    out = model(x, ei, edge_attr=None, batch=None)
    assert out.shape == (20, 3)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("norm", ["batch", "layer", "pair", "none"])
@pytest.mark.parametrize("conv", ["gcn", "prop", "sage", "gin", "gat", "graphconv"])
def test_convs_and_norms(conv, norm):
    x, ei = graph()
    batch = torch.arange(20) // 10
    model = DeepGNN(6, 8, 2, 2, conv=conv, residual="preact", norm=norm, drop_path=0.3,
                    drop_path_mode="graph")
    assert model(x, ei, batch=batch).shape == (20, 2)
    model.eval()
    assert torch.isfinite(model(x, ei, batch=batch)).all()


def test_errors_and_repr():
    with pytest.raises(ValueError, match="DeepGNN: unknown conv 'gnc'"):
        DeepGNN(6, 8, 2, 2, conv="gnc")
    with pytest.raises(ValueError, match="unknown residual 'rezer'"):
        DeepGNN(6, 8, 2, 2, residual="rezer")
    with pytest.raises(ValueError, match=r"DeepGNN: 'num_layers' must be an int in \[1, inf\)"):
        DeepGNN(6, 8, 2, 0)
    with pytest.raises(ValueError, match="unknown norm 'group'"):
        DeepGNN(6, 8, 2, 2, norm="group")
    m = DeepGNN(6, 8, 2, 2, residual="hc_dynamic", num_streams=2)
    assert str(m).startswith("DeepGNN(\n  6, 8, 2, num_layers=2, conv='gcn', "
                             "residual='hc_dynamic', norm='none'")
    assert str(GCNLayer(4, 5)) == "GCNLayer(4, 5)"


def test_gcn_layer_matches_pyg_on_both_paths():
    """GCNLayer equals PyG's GCNConv; the CSR path equals the scatter path, values and grads."""
    x, ei = graph()
    x.requires_grad_(True)
    ref = GCNConv(6, 4)
    ours = GCNLayer(6, 4)
    with torch.no_grad():
        ours.lin.weight.copy_(ref.lin.weight)
        ours.bias.copy_(torch.randn(4))
        ref.bias.copy_(ours.bias)
    torch.testing.assert_close(ours(x, ei), ref(x, ei), atol=1e-5, rtol=1e-5)
    ein, w = gcn_norm(ei, None, 20, add_self_loops=True)
    ours_n = GCNLayer(6, 4, normalize=False)
    ours_n.load_state_dict(ours.state_dict())
    g = torch.randn(20, 4)
    a = ours_n(x, ein, w)
    ga = torch.autograd.grad((a * g).sum(), x)[0]
    b = ours_n(x, SparseAdj(ein, w, 20))
    gb = torch.autograd.grad((b * g).sum(), x)[0]
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ga, gb, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(GCNPropagate()(x, ei), SparseAdj(ein, w, 20).matmul(x),
                               atol=1e-5, rtol=1e-5)


def test_directed_graph_sparse_backward():
    """SparseAdj's backward uses the transpose (non-symmetric weights)."""
    ei = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]])
    w = torch.tensor([0.5, 2.0, 3.0, -1.0])
    x = torch.randn(3, 2, requires_grad=True)
    dense = torch.zeros(3, 3)
    dense[ei[1], ei[0]] = w
    g = torch.randn(3, 2)
    gx = torch.autograd.grad((SparseAdj(ei, w, 3).matmul(x) * g).sum(), x)[0]
    torch.testing.assert_close(gx, dense.t() @ g)


def test_feature_dropout():
    x = torch.randn(50, 40)
    assert torch.equal(feature_dropout(x, 0.5, False), x)
    torch.manual_seed(0)
    big = torch.ones(1000, 2000)
    y = feature_dropout(big, 0.3, True)
    assert abs(float(y.mean()) - 1.0) < 0.01
    vals = y.unique()
    assert vals.numel() == 2 and vals[0] == 0 and abs(float(vals[1]) - 1 / 0.7) < 1e-6
    sparse = torch.zeros(1000, 2000)
    sparse[::7, ::3] = 1.0
    ys = feature_dropout(sparse, 0.5, True)
    assert (ys[sparse == 0] == 0).all()
    assert abs(float(ys.sum() / sparse.sum()) - 1.0) < 0.02


def test_sparse_input_projection_matches_dense():
    torch.manual_seed(0)
    x = (torch.rand(800, 1500) < 0.02).float()
    ei = torch.randint(0, 800, (2, 3000))
    model = DeepGNN(1500, 8, 3, 2, residual="plain").eval()
    out = model(x, ei)
    assert model._x_cache[1] is not None            # went through the sparse path
    ref = model.lin_out(model.stack(torch.relu(model.lin_in(x)),
                                    model.normalized_adjacency(ei, 800, x.dtype), None))
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["plain", "preact", "rezero", "laurel_lr", "hc_dynamic",
                                  "mhc", "gcnii"])
def test_gradient_reaches_first_layer_of_64(kind):
    """Gradients reach layer 1 of a 64-layer stack with a finite, non-zero norm."""
    x, ei = graph(n=30, f=5, e=60)
    torch.manual_seed(0)
    model = DeepGNN(5, 8, 3, 64, residual=kind, norm="layer" if kind != "gcnii" else "none",
                    dropout=0.0, num_streams=2) if kind in ("hc_dynamic", "mhc") else DeepGNN(
        5, 8, 3, 64, residual=kind, norm="layer" if kind != "gcnii" else "none", dropout=0.0)
    model(x, ei).logsumexp(-1).sum().backward()
    first = torch.stack([p.grad.norm() for p in model.blocks[0].parameters()]).norm()
    assert torch.isfinite(first) and first > 0
    assert torch.isfinite(model.lin_in.weight.grad).all() and model.lin_in.weight.grad.abs().sum() > 0


def test_gcnii_factory_and_reset():
    x, ei = graph()
    model = MODELS.build("gcnii", in_channels=6, hidden_channels=8, out_channels=3,
                         num_layers=4, dropout=0.6)
    assert model.conv_name == "prop" and model.residual == "gcnii"
    assert [round(b.beta, 4) for b in model.blocks][:2] == [0.4055, 0.2231]
    model.eval()
    a = model(x, ei)
    torch.manual_seed(5)
    model.reset_parameters()
    assert model(x, ei).shape == a.shape


def test_caches_follow_the_graph():
    """A new edge_index (mini-batches) or an in-place change rebuilds the cached adjacency."""
    x, ei = graph()
    model = DeepGNN(6, 8, 2, 2, residual="plain").eval()
    a = model(x, ei)
    ei2 = ei.clone()
    ei2[1] = ei2[1].flip(0)
    b = model(x, ei2)
    fresh = DeepGNN(6, 8, 2, 2, residual="plain").eval()
    fresh.load_state_dict(model.state_dict())
    torch.testing.assert_close(b, fresh(x, ei2))
    ei2[0, :5] = 0     # in place: version counter changes
    fresh2 = DeepGNN(6, 8, 2, 2, residual="plain").eval()
    fresh2.load_state_dict(model.state_dict())
    torch.testing.assert_close(model(x, ei2), fresh2(x, ei2))
    torch.testing.assert_close(model(x, ei), a)


@pytest.mark.parametrize("kind", ["hc_static", "hc_dynamic", "mhc", "laurel_rw"])
def test_deepgnn_starts_as_preact_residual(kind):
    """At init (same seed), hyper-connection / LAuReL-RW backbones equal the pre-norm residual
    backbone exactly: same convs, same output."""
    x, ei = graph()
    torch.manual_seed(0)
    ref = DeepGNN(6, 8, 3, 5, residual="preact", norm="layer").eval()
    torch.manual_seed(0)
    kw = {"num_streams": 3} if kind != "laurel_rw" else {}
    model = DeepGNN(6, 8, 3, 5, residual=kind, norm="layer", **kw).eval()
    torch.testing.assert_close(model(x, ei), ref(x, ei), atol=1e-5, rtol=1e-5)


def test_sparse_adj_rectangular_matches_scatter_sum():
    """A bipartite SparseAdj (num_src != num_nodes): P x sums the sources into the targets,
    repeated edges counted twice, and its backward is P^T g."""
    from torch_geometric.utils import scatter
    ei = torch.tensor([[0, 4, 4, 2, 5], [1, 0, 0, 2, 1]])        # 6 sources -> 3 targets
    w = torch.tensor([1.0, 2.0, 2.0, 0.5, 1.0])
    x = torch.randn(6, 4, requires_grad=True)
    adj = SparseAdj(ei, w, 3, num_src=6)
    out = adj.matmul(x)
    ref = scatter(w.view(-1, 1) * x[ei[0]], ei[1], 0, 3, "sum")
    torch.testing.assert_close(out, ref)
    g = torch.randn(3, 4)
    gx = torch.autograd.grad((out * g).sum(), x)[0]
    torch.testing.assert_close(gx, scatter(w.view(-1, 1) * g[ei[1]], ei[0], 0, 6, "sum"))

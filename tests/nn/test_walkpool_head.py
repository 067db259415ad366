"""WalkPool: fast walk profile == explicit transition-matrix powers, closed forms, invariances,
edge cases, and an end-to-end run through the trainer."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from graphkit.nn.link import (
    WalkPool,
    enclosing_subgraphs,
    walk_profile,
    walk_profile_dense,
)
from graphkit.nn.link.walkpool import transition_weights


def _graph(n, m, seed):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, m), generator=g)
    return to_undirected(ei[:, ei[0] != ei[1]], num_nodes=n)


def _pairs(n, b, seed):
    g = torch.Generator().manual_seed(seed + 1)
    u = torch.randint(0, n, (b,), generator=g)
    return torch.stack([u, (u + torch.randint(1, n, (b,), generator=g)) % n])


def _head(**kw):
    torch.manual_seed(0)
    head = WalkPool(3, **{"walk_len": 4, "heads": 2, "hidden_channels": 8, **kw}).double()
    return head.eval()


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 20), m=st.integers(0, 50), b=st.integers(1, 5), heads=st.integers(1, 3),
       walk_len=st.integers(1, 6), seed=st.integers(0, 10_000))
def test_fast_profile_equals_dense_powers(n, m, b, heads, walk_len, seed):
    ei, pairs = _graph(n, m, seed), _pairs(n, b, seed)
    sub = enclosing_subgraphs(ei, n, pairs, 2)
    logits = torch.randn(sub.edge_index.size(1), heads, generator=torch.Generator().manual_seed(seed),
                         dtype=torch.float64)
    wp, wm = transition_weights(logits, sub.edge_index, sub.cand_mask, sub.num_nodes)
    args = (wp, wm, sub.edge_index, sub.center, sub.batch, b, walk_len)
    fast, dense = walk_profile(*args), walk_profile_dense(*args)
    assert fast.shape == (b, heads, 5, walk_len)
    torch.testing.assert_close(fast, dense, atol=1e-10, rtol=1e-8)
    # P+ is row-stochastic on nodes with in-edges; P- too except where e was the only edge
    rows_p = torch.zeros(sub.num_nodes, heads, dtype=torch.float64).index_add_(0, sub.edge_index[1], wp)
    rows_m = torch.zeros(sub.num_nodes, heads, dtype=torch.float64).index_add_(0, sub.edge_index[1], wm)
    has_in = torch.bincount(sub.edge_index[1], minlength=sub.num_nodes) > 0
    has_in_minus = torch.bincount(sub.edge_index[1][~sub.cand_mask], minlength=sub.num_nodes) > 0
    torch.testing.assert_close(rows_p[has_in], torch.ones_like(rows_p[has_in]))
    torch.testing.assert_close(rows_m[has_in_minus], torch.ones_like(rows_m[has_in_minus]))
    assert torch.all(rows_m[~has_in_minus] == 0)


def test_triangle_closed_form_under_uniform_attention():
    ei = to_undirected(torch.tensor([[0, 1], [2, 2]]), num_nodes=3)  # i=0, j=1, k=2; e=(0,1) absent
    sub = enclosing_subgraphs(ei, 3, torch.tensor([[0], [1]]), 1)
    logits = torch.zeros(sub.edge_index.size(1), 1, dtype=torch.float64)
    wp, wm = transition_weights(logits, sub.edge_index, sub.cand_mask, sub.num_nodes)
    f = walk_profile(wp, wm, sub.edge_index, sub.center, sub.batch, 1, 1)[0, 0, :, 0]
    # tau=2: P+^2[i,i] = 1/2, P+^2[i,j] = 1/4; P-^2[i,i] = 1/2, P-^2[i,j] = 1/2 (walk i->k->j);
    # tr P+^2 = 3/2, tr P-^2 = 1/2 + 1/2 + 1
    torch.testing.assert_close(f, torch.tensor([1.0, 1.0, 0.5, 1.0, -0.5], dtype=torch.float64))


def test_graph_term_vanishes_without_candidate_mask():
    ei, pairs = _graph(15, 40, 1), _pairs(15, 4, 1)
    sub = enclosing_subgraphs(ei, 15, pairs, 2)
    logits = torch.randn(sub.edge_index.size(1), 2, dtype=torch.float64)
    none = torch.zeros_like(sub.cand_mask)
    wp, wm = transition_weights(logits, sub.edge_index, none, sub.num_nodes)
    f = walk_profile(wp, wm, sub.edge_index, sub.center, sub.batch, 4, 5)
    assert torch.allclose(f[:, :, 4], torch.zeros_like(f[:, :, 4]), atol=1e-12)
    torch.testing.assert_close(f[:, :, 0], f[:, :, 1])


def test_module_features_match_dense_path_and_uniform_attention_scalar():
    ei, pairs = _graph(20, 50, 2), _pairs(20, 6, 2)
    g, z = Data(edge_index=ei, num_nodes=20), torch.randn(20, 3, dtype=torch.float64)
    head = _head()
    dense = _head(dense=True)
    torch.testing.assert_close(head.features(z, pairs, g), dense.features(z, pairs, g))
    torch.nn.init.zeros_(head.attention.query[-1].weight)
    torch.nn.init.zeros_(head.attention.query[-1].bias)
    f = head.features(z, pairs, g).view(6, 2, -1)
    torch.testing.assert_close(f[:, :, 0], torch.ones(6, 2, dtype=torch.float64))  # 2 sigmoid(0)


def test_invariant_to_relabelling_and_to_swapping_the_end_nodes():
    n = 18
    ei, pairs = _graph(n, 45, 5), _pairs(n, 5, 5)
    z = torch.randn(n, 3, dtype=torch.float64)
    head = _head()
    ref = head(z, pairs, Data(edge_index=ei, num_nodes=n))
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))  # old id -> new id
    z_new = torch.empty_like(z)
    z_new[perm] = z
    out = head(z_new, perm[pairs], Data(edge_index=perm[ei], num_nodes=n))
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(head(z, pairs.flip(0), Data(edge_index=ei, num_nodes=n)), ref)


def test_edge_cases_isolated_duplicates_self_pairs_and_gradients():
    ei = to_undirected(torch.tensor([[0, 1], [1, 2]]), num_nodes=6)
    g, z = Data(edge_index=ei, num_nodes=6), torch.randn(6, 3, dtype=torch.float64)
    head = _head()
    pairs = torch.tensor([[4, 4, 0, 0], [5, 5, 1, 3]])  # isolated pair twice, train edge, 0-3
    out = head(z, pairs, g)
    assert torch.isfinite(out).all() and out[0] == out[1]
    with pytest.raises(ValueError, match="self-pair"):
        head(z, torch.tensor([[2], [2]]), g)
    with pytest.raises(ValueError, match="in_channels=3"):
        head(torch.randn(6, 4, dtype=torch.float64), pairs, g)
    head.train()
    assert head(z, pairs[:, :1], g).shape == (1,)  # a lone link in training mode
    head(z, pairs, g).sum().backward()
    grads = [p.grad for p in head.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(gr).all() for gr in grads)


def test_bad_arguments():
    with pytest.raises(ValueError, match="walk_len"):
        WalkPool(4, walk_len=0)
    with pytest.raises(ValueError, match="heads"):
        WalkPool(4, heads=0)
    assert repr(WalkPool(4)) == "WalkPool(4, hidden=32, heads=2, walk_len=7, num_hops=2)"


def test_trains_end_to_end_with_the_identity_backbone(tmp_path):
    from graphkit.config import from_dict
    from graphkit.train import Trainer
    cfg = from_dict({"name": "t", "out_dir": str(tmp_path),
                     "data": {"name": "random-link"},
                     "model": {"name": "identity", "input_encoder": "ones", "head": "walkpool",
                               "head_kwargs": {"in_channels": 1, "hidden_channels": 8,
                                               "walk_len": 3, "max_nodes_per_hop": 10}},
                     "train": {"epochs": 1, "patience": 0, "loader": "links", "batch_size": 64,
                               "max_steps_per_epoch": 3, "eval_batch_size": 512,
                               "checkpoint_every": 0, "lr": 0.001}})
    s = Trainer(cfg, progress=False).run()
    assert 0.0 <= s["aggregate"]["test_auc"]["mean"] <= 1.0


def test_learned_gnn_node_features_train_end_to_end():
    from torch_geometric.nn.models import GCN

    from graphkit.train.models import InputEncoder, LinkPredictor
    torch.manual_seed(0)
    ei, pairs = _graph(16, 40, 4), _pairs(16, 8, 4)
    model = LinkPredictor(InputEncoder("embedding", 8, 16), GCN(8, 8, 2, 8),
                          WalkPool(8, hidden_channels=8, walk_len=3))
    g = Data(edge_index=ei, num_nodes=16)
    model(g, pairs).sum().backward()
    for p in list(model.encoder.parameters()) + list(model.backbone.parameters()):
        assert p.grad is not None and p.grad.abs().sum() > 0

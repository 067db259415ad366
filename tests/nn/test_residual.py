"""Residual kinds: registry contract, identity-at-init properties, drop-path, parameter counts."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.nn import GCNConv

from graphkit.nn.residual import (
    DepthState,
    DropPath,
    HyperConnections,
    InitialResidual,
    LaurelLR,
    LaurelPA,
    LaurelRW,
    ResidualStack,
    ReZero,
    drop_path,
    drop_path_rates,
    sinkhorn_log,
    weighted_sum,
)
from graphkit.registry import RESIDUALS

F = 8


def graph(n: int = 12, e: int = 40, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, F, generator=g)
    ei = torch.randint(0, n, (2, e), generator=g)
    return x, torch.cat([ei, ei.flip(0)], 1)


def convs(L: int, seed: int = 0) -> list[GCNConv]:
    torch.manual_seed(seed)
    return [GCNConv(F, F) for _ in range(L)]


def stack(kind: str, L: int, seed: int = 0, **kw) -> ResidualStack:
    return ResidualStack(kind, convs(L, seed), F, **kw)


def residual_reference(x, ei, branches):
    h = x
    for f in branches:
        h = h + f(h, ei)
    return h


@pytest.mark.parametrize("name", RESIDUALS.names())
def test_residual_contract(name):
    """Every kind builds by name, keeps the shape and gives every parameter a gradient."""
    x, ei = graph()
    s = stack(name, 3)
    out = s(x, ei)
    width = 3 * F if name == "jk_cat" else F
    assert out.shape == (x.size(0), width)
    out.pow(2).sum().backward()
    missing = [n for n, p in s.named_parameters() if p.grad is None]
    assert not missing
    assert all(torch.isfinite(p.grad).all() for p in s.parameters())


@pytest.mark.parametrize("name", RESIDUALS.names())
def test_residual_empty_graph(name):
    """Zero edges (isolated nodes) and zero nodes both work."""
    s = stack(name, 2)
    x = torch.randn(5, F)
    assert s(x, torch.empty(2, 0, dtype=torch.long)).shape[0] == 5
    assert s(torch.randn(0, F), torch.empty(2, 0, dtype=torch.long)).shape[0] == 0


@pytest.mark.parametrize("name", ["rezero", "laurel_rw", "laurel_lr", "laurel_pa", "hc_static",
                                  "hc_dynamic", "mhc", "plain", "gcnii"])
def test_permutation_equivariance(name):
    x, ei = graph(seed=3)
    s = stack(name, 3)
    with torch.no_grad():
        for p in s.parameters():
            p.add_(0.1 * torch.randn_like(p))
    perm = torch.randperm(x.size(0))
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(perm.numel())
    out = s(x, ei)
    out_p = s(x[perm], inv[ei])
    torch.testing.assert_close(out_p, out[perm], atol=1e-5, rtol=1e-5)


def test_registry_names_and_errors():
    for name in ["plain", "preact", "rezero", "laurel_rw", "laurel_lr", "laurel_pa",
                 "hc_static", "hc_dynamic", "mhc", "gcnii", "dense", "jk_cat", "jk_max",
                 "jk_lstm", "none"]:
        assert name in RESIDUALS
    with pytest.raises(ValueError, match="did you mean 'rezero'"):
        RESIDUALS.get("rezro")
    with pytest.raises(ValueError, match=r"LaurelLR: 'rank' must be an int in \[1, inf\); got 0"):
        LaurelLR(None, F, rank=0)
    with pytest.raises(ValueError, match="'num_streams' must be >= 2 for manifold"):
        RESIDUALS.build("mhc", None, F, num_streams=1)
    with pytest.raises(ValueError, match="LAuReL: 'normalize' must be one of"):
        LaurelRW(None, F, normalize="tanh")
    with pytest.raises(TypeError, match="'branch' must be a module or callable"):
        ReZero(3, F)
    with pytest.raises(ValueError, match="InitialResidual: needs the initial representation"):
        InitialResidual(GCNConv(F, F), F)(*graph())
    with pytest.raises(ValueError, match=r"expects streams of shape \(4, N, 8\)"):
        HyperConnections(GCNConv(F, F), F)(*graph())
    with pytest.raises(ValueError, match="'branches' must hold at least one layer"):
        ResidualStack("plain", [], F)


def test_repr():
    assert str(ReZero(None, 8)) == ("ReZero(\n  8, layer=0/1, init_alpha=0.0\n"
                                    "  (drop): DropPath(p=0.0, mode=node)\n)")
    assert "num_streams=4, dynamic=False, manifold=False" in str(
        RESIDUALS.build("hc_static", None, 8))
    assert str(DropPath(0.25, "graph")) == "DropPath(p=0.25, mode=graph)"


# ---------------------------------------------------------------- identity at init ------------

def test_rezero_identity_and_gate_gradient():
    """ReZero at init is the identity map; dL/da = <dL/dy, f(x)>."""
    x, ei = graph()
    conv = GCNConv(F, F)
    block = ReZero(conv, F)
    y = block(x, ei)
    assert torch.equal(y, x)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    expected = (g * conv(x, ei)).sum()
    torch.testing.assert_close(block.alpha.grad[0], expected.detach())


@pytest.mark.parametrize("kind,kw", [
    ("laurel_rw", {"normalize": "softmax"}), ("laurel_rw", {"normalize": "sigmoid"}),
    ("laurel_rw", {"normalize": "none"}), ("laurel_lr", {"rank": 3}),
    ("laurel_lr", {"rank": 2, "init": "column_orthogonal", "rw": True}),
    ("laurel_pa", {"num_prev": 3}), ("laurel_pa", {"num_prev": 2, "rank": 2}),
    ("plain", {}), ("hc_static", {"num_streams": 1}), ("hc_dynamic", {"num_streams": 1}),
])
@pytest.mark.parametrize("L", [1, 4])
def test_starts_as_plain_residual(kind, kw, L):
    """LAuReL variants and n = 1 hyper-connections equal x + f(x) per layer at init."""
    x, ei = graph()
    out = stack(kind, L, **kw)(x, ei)
    ref = residual_reference(x, ei, convs(L))
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("kind", ["hc_static", "hc_dynamic", "mhc"])
@pytest.mark.parametrize("n,L", [(2, 1), (4, 3), (3, 5)])
def test_hyper_connections_equal_residual_net_at_init(kind, n, L):
    """n > 1 at init: mean-reduced output = residual net; sum-reduce = n times it; all streams
    stay identical after every layer."""
    x, ei = graph()
    ref = residual_reference(x, ei, convs(L))
    s = stack(kind, L, num_streams=n)
    torch.testing.assert_close(s(x, ei), ref, atol=1e-5, rtol=1e-5)
    s_sum = stack(kind, L, num_streams=n, reduce="sum")
    torch.testing.assert_close(s_sum(x, ei), n * ref, atol=1e-5, rtol=1e-5)
    state = s.new_state()
    s.history_size = None
    s(x, ei, state=state)
    for H in state.history:
        torch.testing.assert_close(H, H[:1].expand_as(H), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["hc_static", "hc_dynamic", "mhc"])
@pytest.mark.parametrize("part", ["width", "depth", "input"])
def test_hyper_connection_weights_are_used(kind, part):
    """Perturbing A_r (width), B (depth) or A_m changes the output: guards against the bug where
    the mixing matrix is silently unused."""
    x, ei = graph()
    s = stack(kind, 3, num_streams=4)
    with torch.no_grad():  # streams must differ first: a (doubly) stochastic mixing of
        s.blocks[0].static_beta += torch.randn(4)  # identical streams is a no-op (mHC)
    base = s(x, ei)
    block = s.blocks[1]
    with torch.no_grad():
        if part == "width":
            block.static_alpha[:, 1:] += 0.5 * torch.randn(4, 4)
        elif part == "depth":
            block.static_beta += 0.5 * torch.randn(4)
        else:
            block.static_alpha[:, 0] += 0.5 * torch.randn(4)
    assert not torch.allclose(s(x, ei), base, atol=1e-4)


def test_dynamic_hc_with_zero_w_equals_static_and_w_matters():
    x, ei = graph()
    dyn, sta = stack("hc_dynamic", 3), stack("hc_static", 3)
    with torch.no_grad():
        for bd, bs in zip(dyn.blocks, sta.blocks):
            noise = torch.randn_like(bs.static_alpha) * 0.3
            bs.static_alpha += noise
            bd.static_alpha += noise
    torch.testing.assert_close(dyn(x, ei), sta(x, ei), atol=1e-6, rtol=1e-6)
    with torch.no_grad():
        dyn.blocks[0].dynamic_alpha.normal_()
        dyn.blocks[0].scale_alpha.fill_(0.5)
    assert not torch.allclose(dyn(x, ei), sta(x, ei), atol=1e-4)


def test_reset_is_exact():
    """Resetting the residual parameters restores the starting output exactly, and wrapping a
    layer does not re-initialise it."""
    x, ei = graph()
    conv = GCNConv(F, F)
    w = conv.lin.weight.detach().clone()
    assert torch.equal(ReZero(conv, F).branch.lin.weight, w)
    for kind in ["hc_dynamic", "mhc", "laurel_lr", "laurel_rw", "rezero", "laurel_pa"]:
        s = stack(kind, 2)
        before = s(x, ei)
        with torch.no_grad():
            for b in s.blocks:
                for n, p in b.named_parameters():
                    if not n.startswith("branch."):
                        p.add_(torch.randn_like(p))
        assert not torch.allclose(s(x, ei), before), kind
        for b in s.blocks:
            b.reset_residual_parameters()
        torch.testing.assert_close(s(x, ei), before)


def test_laurel_pa_uses_previous_activations():
    x, ei = graph()
    s = stack("laurel_pa", 4, num_prev=3)
    base = s(x, ei)
    with torch.no_grad():
        s.blocks[3].gamma[2] = 0.7       # weight of x_{i-2}
    state = s.new_state()
    out = s(x, ei, state=state)
    assert len(state.history) == 3       # keeps exactly k past activations
    assert not torch.allclose(out, base)


# ---------------------------------------------------------------- mHC / Sinkhorn --------------

@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.floats(-5, 5), st.integers(0, 10_000))
def test_sinkhorn_doubly_stochastic(n, shift, seed):
    g = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(7, n, n, generator=g) + shift
    # 50 iterations: at mHC's 20 the column error of such spread logits reaches 0.055 (worst of
    # 15,000 draws), so a 5e-2 bound there failed about once in 10^4 draws
    M = sinkhorn_log(logits, 50)
    assert (M >= 0).all()
    torch.testing.assert_close(M.sum(-1), torch.ones(7, n), atol=1e-5, rtol=0)
    assert (M.sum(-2) - 1).abs().max() < 5e-2
    if n == 1:
        assert torch.allclose(M, torch.ones_like(M))


def test_sinkhorn_fp32_and_dtype():
    logits = (4 * torch.randn(4, 4)).half()
    M = sinkhorn_log(logits, 50)
    assert M.dtype == torch.float16
    assert (M.float().sum(0) - 1).abs().max() < 1e-2
    P = torch.eye(4, dtype=torch.float64)
    for _ in range(30):   # products of doubly-stochastic matrices keep unit gain
        P = sinkhorn_log(torch.randn(4, 4), 50).double() @ P
    assert (P.sum(1) - 1).abs().max() < 1e-3


def test_mhc_init_matrices():
    block = RESIDUALS.build("mhc", None, F, num_streams=4, layer_index=1, num_layers=3)
    a_m, a_r, b = block.mixing(torch.randn(4, 5, F))   # (streams, nodes, features)
    torch.testing.assert_close(a_m.sum(-1), torch.ones_like(a_m.sum(-1)))
    assert int(a_m.argmax(-1)[0]) == 1
    torch.testing.assert_close(b, torch.ones_like(b))
    torch.testing.assert_close(a_r.sum(-2), torch.ones(1, 4))


# ---------------------------------------------------------------- GCNII ----------------------

def test_gcnii_limits():
    x, ei = graph()
    x0 = torch.randn_like(x)
    conv = GCNConv(F, F)
    block = InitialResidual(conv, F, alpha=1.0, theta=0.5, act=None, layer_index=1,
                            num_layers=3)
    beta = math.log(0.5 / 2 + 1)
    assert block.beta == pytest.approx(beta)
    out = block(x, ei, state=DepthState(x0=x0))
    ref = (1 - beta) * x0 + beta * block.weight(x0)
    torch.testing.assert_close(out, ref)


# ---------------------------------------------------------------- drop-path -------------------

def test_drop_path_eval_noop_and_rates():
    x, ei = graph()
    torch.manual_seed(0)
    s = stack("hc_dynamic", 4, drop_path=0.5)
    torch.manual_seed(0)
    s0 = stack("hc_dynamic", 4)
    s.eval()
    s0.eval()
    torch.testing.assert_close(s(x, ei), s0(x, ei))
    assert [round(b.drop.p, 3) for b in s.blocks] == [0.125, 0.25, 0.375, 0.5]
    assert drop_path_rates(0.2, 2) == [0.1, 0.2]
    assert torch.equal(drop_path(x, 0.0, True), x)


@pytest.mark.parametrize("mode", ["node", "graph"])
def test_drop_path_unbiased(mode):
    torch.manual_seed(0)
    x = torch.randn(400, 3)
    batch = torch.arange(400) // 4
    acc = torch.zeros_like(x)
    reps = 1000
    for _ in range(reps):
        acc += drop_path(x, 0.3, True, mode, batch)
    rel = ((acc / reps - x).abs().mean() / x.abs().mean()).item()
    assert rel < 0.05
    y = drop_path(torch.ones(400, 3), 0.5, True, mode, batch)
    assert set(y.unique().tolist()) <= {0.0, 2.0}
    if mode == "graph":
        assert (y.view(100, 4, 3) == y.view(100, 4, 3)[:, :1]).all()


@pytest.mark.parametrize("kind", ["plain", "rezero", "laurel_lr", "hc_static", "gcnii"])
def test_drop_path_block_mean_equals_eval(kind):
    """Train-mode Monte-Carlo mean of a block with per-node drop-path = its eval output (the
    branch has no dropout, so the path drop is the only randomness). The Monte-Carlo copies are
    R disjoint copies of one graph in a single forward pass."""
    x, ei = graph(n=30, e=60)
    R = 2000
    xb = x.repeat(R, 1)
    eib = torch.cat([ei + 30 * r for r in range(R)], dim=1)
    torch.manual_seed(1)
    s = stack(kind, 1, drop_path=0.5, **({"act": None} if kind == "gcnii" else {}))
    with torch.no_grad():
        for p in s.parameters():
            p.add_(0.2 * torch.randn_like(p))
        s.eval()
        ref = s(x, ei)
        s.train()
        mean = s(xb, eib).view(R, 30, F).mean(0)
    assert ((mean - ref).abs().mean() / ref.abs().mean()).item() < 0.05


# ---------------------------------------------------------------- parameter counts ------------

def _count(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("n", [1, 2, 4])
def test_parameter_counts(n):
    d, r, k = 16, 3, 2
    assert _count(ReZero(None, d)) == 1
    assert _count(LaurelRW(None, d)) == 2
    assert _count(LaurelRW(None, d, normalize="sigmoid")) == 1
    assert _count(LaurelLR(None, d, rank=r)) == 2 * r * d
    assert _count(LaurelLR(None, d, rank=r, rw=True)) == 2 * r * d + 2
    assert _count(LaurelPA(None, d, num_prev=k)) == k
    assert _count(LaurelPA(None, d, num_prev=k, rank=r)) == k + 2 * r * d * k
    assert _count(RESIDUALS.build("hc_static", None, d, num_streams=n)) == n * n + 2 * n
    assert _count(RESIDUALS.build("hc_dynamic", None, d, num_streams=n)) == (
        n * n + 2 * n + d * (n + 1) + d + 2 + 2 * d)
    if n > 1:
        assert _count(RESIDUALS.build("mhc", None, d, num_streams=n)) == (
            n * n + 2 * n + d + d + 2 + 2 * d)
    assert _count(InitialResidual(None, d)) == d * d


def test_laurel_lr_depth_scale():
    """scale='depth' starts as a plain residual and scales the learned skip update by 1/L."""
    x, _ = graph()
    plain = LaurelLR(None, F, rank=2, num_layers=8, layer_index=3)
    scaled = LaurelLR(None, F, rank=2, num_layers=8, layer_index=3, scale="depth")
    fx = torch.randn_like(x)
    torch.testing.assert_close(scaled.combine(x, fx, None), x + fx)
    with torch.no_grad():
        for m in (plain, scaled):
            m.lowrank.down.weight.copy_(torch.eye(2, F))
            m.lowrank.up.weight.copy_(torch.eye(F, 2))
    upd_plain = plain.combine(x, fx, None) - x - fx
    upd_scaled = scaled.combine(x, fx, None) - x - fx
    torch.testing.assert_close(upd_scaled, upd_plain / 8)
    assert "scale='depth'" in repr(scaled)
    with pytest.raises(ValueError, match="LaurelLR: 'scale' must be one of"):
        LaurelLR(None, F, scale="width")
    with pytest.raises(ValueError, match="LaurelLR: 'scale'"):
        LaurelLR(None, F, scale=0.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=5), st.integers(0, 10_000))
def test_weighted_sum_matches_autograd_reference(weighted, seed):
    g = torch.Generator().manual_seed(seed)
    terms = [torch.randn(7, 3, generator=g, dtype=torch.float64, requires_grad=True)
             for _ in weighted]
    weights = [torch.randn((), generator=g, dtype=torch.float64, requires_grad=True) if w
               else None for w in weighted]
    out = weighted_sum(terms, weights)
    ref = sum(t if w is None else w * t for t, w in zip(terms, weights))
    assert torch.allclose(out, ref)
    leaves = terms + [w for w in weights if w is not None]
    upstream = torch.randn(7, 3, generator=g, dtype=torch.float64)
    got = torch.autograd.grad(out, leaves, upstream)
    want = torch.autograd.grad(ref, leaves, upstream)
    for a, b in zip(got, want):
        assert torch.allclose(a, b)
    n = len(terms)

    def fn(*xs):
        return weighted_sum(list(xs[:n]), [None if w is None else xs[n + i]
                                           for i, w in enumerate(weights)])

    fillers = [torch.zeros((), dtype=torch.float64) if w is None else w for w in weights]
    assert torch.autograd.gradcheck(fn, (*terms, *fillers))


def test_weighted_sum_promotes_dtypes_and_validates():
    a, b = torch.ones(2, 2, dtype=torch.float16), torch.ones(2, 2)
    w = torch.tensor([2.0], requires_grad=True)
    out = weighted_sum([a, b], [None, w])
    assert out.dtype == torch.float32 and torch.equal(out, torch.full((2, 2), 3.0))
    out.sum().backward()
    assert w.grad.shape == (1,) and float(w.grad) == 4.0
    with pytest.raises(ValueError, match="every term must have shape"):
        weighted_sum([torch.ones(2, 2), torch.ones(2, 3)], [None, None])
    with pytest.raises(ValueError, match="one element; got shape \\(2,\\)"):
        weighted_sum([torch.ones(2, 2)], [torch.ones(2)])
    with pytest.raises(ValueError, match="2 terms and 1 weights"):
        weighted_sum([torch.ones(2), torch.ones(2)], [None])


# ---------------------------------------------------------------- jumping knowledge ----------

@pytest.mark.parametrize("mode", ["cat", "max", "lstm"])
def test_jumping_knowledge_equals_pyg(mode):
    """A jk_* stack = the branches chained without skips, then PyG's JumpingKnowledge."""
    from torch_geometric.nn import JumpingKnowledge
    x, ei = graph(seed=5)
    L = 4
    s = stack(f"jk_{mode}", L, seed=2)
    branches = convs(L, seed=2)
    hs, h = [], x
    for f in branches:
        h = f(h, ei)
        hs.append(h)
    ref = JumpingKnowledge(mode, F, L)
    if mode == "lstm":
        ref.load_state_dict(s.io.jk.state_dict())
        assert s.io.jk.lstm.hidden_size == L * F // 2        # PyG's size by default
    torch.testing.assert_close(s(x, ei), ref(hs))


def test_jk_lstm_channels_is_depth_independent():
    """``lstm_channels`` sets the bi-LSTM size; the output is the LSTM-attention formula."""
    x, ei = graph(seed=6)
    L, H = 6, 5
    s = stack("jk_lstm", L, seed=1, lstm_channels=H)
    lstm, att = s.io.jk.lstm, s.io.jk.att
    assert (lstm.hidden_size, lstm.bidirectional, att.in_features) == (H, True, 2 * H)
    n_lstm = sum(p.numel() for p in lstm.parameters())
    assert n_lstm == 2 * (4 * H * (F + H) + 8 * H)            # two directions, 2 biases each
    hs, h = [], x
    for f in convs(L, seed=1):
        h = f(h, ei)
        hs.append(h)
    seq = torch.stack(hs, 1)                                   # (N, L, F)
    score = att(lstm(seq)[0]).squeeze(-1).softmax(-1)          # (N, L)
    torch.testing.assert_close(s(x, ei), (seq * score.unsqueeze(-1)).sum(1))
    assert "lstm_channels=5" in repr(s.io)
    with pytest.raises(ValueError, match=r"JumpingKnowledgeLSTM: 'lstm_channels' must be an "
                                         r"int in \[1, inf\); got 0"):
        stack("jk_lstm", 2, lstm_channels=0)

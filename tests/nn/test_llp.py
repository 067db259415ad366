"""LLP: losses against naive references, context sampling on the training graph only, and a
graph-free student that learns from a teacher."""
import inspect
import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.nn import MessagePassing

from graphkit.nn.link import LLPConfig, MLPLinkPredictor, TeacherScores, distill
from graphkit.nn.link.llp import distribution_loss, rank_loss, sample_context
from graphkit.sampling import build_csr
from graphkit.train.metrics import link_metrics


def _naive_rank(s, t, m):
    total, count = 0.0, 0
    for b in range(s.size(0)):
        for i in range(s.size(1)):
            for j in range(i + 1, s.size(1)):
                d = float(t[b, i] - t[b, j])
                y = 1.0 if d > m else (-1.0 if d < -m else 0.0)
                if y:
                    total += max(0.0, -y * float(s[b, i] - s[b, j]) + m)
                count += 1
    return total / count


@settings(max_examples=30, deadline=None)
@given(b=st.integers(1, 4), k=st.integers(2, 7), m=st.floats(0.0, 0.5), seed=st.integers(0, 999))
def test_rank_loss_matches_naive_and_official_gradient(b, k, m, seed):
    g = torch.Generator().manual_seed(seed)
    s, t = torch.rand(b, k, generator=g), torch.rand(b, k, generator=g)
    assert rank_loss(s, t, m).item() == pytest.approx(_naive_rank(s, t, m), abs=1e-6)
    # the official MarginRankingLoss over all pairs differs by a constant (target-0 pairs)
    i, j = torch.triu_indices(k, k, offset=1)
    gap = t[:, i] - t[:, j]
    y = torch.where(gap > m, 1.0, torch.where(gap < -m, -1.0, 0.0))
    s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    torch.nn.MarginRankingLoss(margin=m)(s1[:, i].reshape(-1), s1[:, j].reshape(-1),
                                         y.reshape(-1)).backward()
    rank_loss(s2, t, m).backward()
    assert torch.allclose(s1.grad, s2.grad, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(b=st.integers(1, 5), k=st.integers(1, 8), temp=st.floats(0.5, 4.0), seed=st.integers(0, 999))
def test_distribution_loss_is_kl_of_softmaxes(b, k, temp, seed):
    g = torch.Generator().manual_seed(seed)
    s, t = torch.randn(b, k, generator=g) * 3, torch.randn(b, k, generator=g) * 3
    p = F.softmax(t / temp, -1)
    q = F.softmax(s / temp, -1)
    ref = (p * (p.log() - q.log())).sum(-1).mean() * temp ** 2
    assert distribution_loss(s, t, temp).item() == pytest.approx(ref.item(), abs=1e-5)
    # shift-invariant, up to float32 round-off of the shifted logits (scaled by temp^2 <= 16)
    assert distribution_loss(t + 5.0, t, temp).item() == pytest.approx(0.0, abs=1e-5 * temp ** 2)


def test_context_walks_follow_training_edges_only():
    n = 30
    g = torch.Generator().manual_seed(0)
    train = torch.randint(0, n - 2, (2, 60), generator=g)
    train = train[:, train[0] != train[1]]
    und = torch.cat([train, train.flip(0)], 1)
    rowptr, col, _ = build_csr(und, n)
    anchors = torch.tensor([0, 5, n - 1, 3])                 # n-1 is isolated in training
    torch.manual_seed(0)
    ctx = sample_context(rowptr, col, anchors, n, rw_step=3, hops=2, ns_rate=2, generator=g)
    assert ctx.shape == (4, 3 * 2 * 3)
    near = ctx[:, :6].view(4, 3, 2)
    keys = set((und[0] * n + und[1]).tolist())
    for a in range(4):
        for w in range(3):
            path = [int(anchors[a])] + near[a, w].tolist()
            for u, v in itertools.pairwise(path):             # each step is a training edge
                assert u * n + v in keys or (u == v and rowptr[u] == rowptr[u + 1])
    assert (near[2] == n - 1).all()                            # isolated anchor stays put
    assert ((ctx >= 0) & (ctx < n)).all()


def _toy(n=120, f=12, seed=0):
    """Two groups; links inside a group; features reveal the group."""
    g = torch.Generator().manual_seed(seed)
    grp = torch.arange(n) % 2
    x = torch.randn(n, f, generator=g) + 1.5 * grp.view(-1, 1) * torch.ones(f)
    src = torch.randint(0, n, (900,), generator=g)
    dst = torch.randint(0, n, (900,), generator=g)
    keep = (grp[src] == grp[dst]) & (src < dst)
    e = torch.unique(src[keep] * n + dst[keep])
    e = torch.stack([e // n, e % n])
    perm = torch.randperm(e.size(1), generator=g)
    return x, e[:, perm[40:]], e[:, perm[:40]]


def test_student_learns_from_teacher_and_needs_no_graph():
    torch.manual_seed(0)
    x, train, test = _toy()
    n = x.size(0)
    grp = (x.mean(1) > 0.75).float()
    # an oracle-like teacher: high score iff same group
    teacher = TeacherScores(grp.view(-1, 1) * 2 - 1, lambda z, eli: 3 * (z[eli[0]] * z[eli[1]]).view(-1))
    student = MLPLinkPredictor(x.size(1), 16, num_layers=2, dropout=0.0)
    assert not any(isinstance(m, MessagePassing) for m in student.modules())
    assert list(inspect.signature(student.forward).parameters) == ["x", "edge_label_index"]
    cfg = LLPConfig(epochs=60, lr=0.01, eval_every=0)
    distill(student, teacher, x, train, n, cfg)
    assert all(math.isfinite(h["loss"]) for h in cfg.history)
    g = torch.Generator().manual_seed(1)
    neg = torch.randint(0, n, (2, 400), generator=g)
    neg = neg[:, grp[neg[0]] != grp[neg[1]]]
    with torch.no_grad():
        m = link_metrics(student(x, test), student(x, neg), ("auc",))
    assert m["auc"] > 0.9
    # inference is a function of x alone: a graph-free call on a subset of nodes agrees
    sub = torch.tensor([[0, 1], [2, 3]])
    with torch.no_grad():
        full = student(x, sub)
        only = student(x[:4], sub)
        sparse = student(x.to_sparse(), sub)                   # sparse features, same scores
    assert torch.allclose(full, only) and torch.allclose(full, sparse, atol=1e-5)


def test_distill_rejects_bad_config():
    x, train, _ = _toy(n=20)
    with pytest.raises(ValueError, match="hops"):
        distill(MLPLinkPredictor(12, 4), TeacherScores(torch.zeros(20, 1), lambda z, e: z[e[0], 0]),
                x, train, 20, LLPConfig(hops=0))
    with pytest.raises(ValueError, match="train_pos"):
        distill(MLPLinkPredictor(12, 4), TeacherScores(torch.zeros(20, 1), lambda z, e: z[e[0], 0]),
                x, train, 5, LLPConfig(epochs=1))

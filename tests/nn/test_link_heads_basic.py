"""Dot and Hadamard-MLP link heads: parity with a naive reference and the edge cases every head
must define (isolated end nodes, self-pairs, duplicate candidates, bad ids)."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.config import from_dict
from graphkit.nn.link import DotHead, HadamardMLPHead
from graphkit.registry import HEADS
from graphkit.train.models import build_task_model


def _heads(f):
    torch.manual_seed(0)
    return [DotHead(f), HadamardMLPHead(f, hidden_channels=8, num_layers=3)]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 12), f=st.integers(1, 6), b=st.integers(1, 20), seed=st.integers(0, 99))
def test_hadamard_matches_naive_mlp_and_is_symmetric(n, f, b, seed):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, f, generator=g)
    eli = torch.randint(0, n, (2, b), generator=g)
    head = HadamardMLPHead(f, hidden_channels=5, num_layers=2).eval()
    lin0, lin1 = head.mlp.lins
    ref = torch.stack([lin1(torch.relu(lin0(z[u] * z[v]))).squeeze() for u, v in eli.t().tolist()])
    assert torch.allclose(head(z, eli), ref, atol=1e-5)
    assert torch.allclose(head(z, eli), head(z, eli.flip(0)), atol=1e-6)


def test_edge_cases_have_defined_scores():
    f = 4
    z = torch.randn(6, f)
    z[5] = 0.0                                   # an isolated, featureless end node
    eli = torch.tensor([[0, 0, 2, 5, 3], [1, 1, 2, 0, 3]])   # duplicate, self-pairs, isolated
    for head in _heads(f):
        head.eval()
        out = head(z, eli)
        assert out.shape == (5,) and torch.isfinite(out).all()
        assert out[0] == out[1]                  # duplicates score the same
        single = head(z, torch.tensor([[2], [2]]))
        assert torch.allclose(out[2], single[0])  # a self-pair is scored like any other pair
    assert DotHead()(z, eli)[3] == 0.0           # zero embedding: inner product 0
    assert torch.allclose(DotHead()(z, eli)[2], z[2].pow(2).sum())


@pytest.mark.parametrize("head", _heads(3), ids=lambda h: type(h).__name__)
def test_bad_candidates_are_clear_errors(head):
    z = torch.randn(4, 3)
    with pytest.raises(ValueError, match="edge_label_index"):
        head(z, torch.tensor([[0, 4], [1, 2]]))
    with pytest.raises(ValueError, match="edge_label_index"):
        head(z, torch.tensor([0, 1]))


def test_hadamard_checks_channels_and_args():
    with pytest.raises(ValueError, match="channels"):
        HadamardMLPHead(4)(torch.randn(3, 5), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match="num_layers"):
        HadamardMLPHead(4, num_layers=0)
    assert "hidden_channels=7" in repr(HadamardMLPHead(4, hidden_channels=7))


def test_registered_and_built_from_config():
    assert isinstance(HEADS.build("hadamard", 8), HadamardMLPHead)
    cfg = from_dict({"model": {"name": "gcn", "hidden_channels": 8, "head": "hadamard",
                               "head_kwargs": {"num_layers": 3}}})
    model = build_task_model("link", cfg.model, num_features=5, num_outputs=1)
    assert isinstance(model.head, HadamardMLPHead) and model.head.num_layers == 3
    from torch_geometric.data import Data
    g = Data(x=torch.randn(6, 5), edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=6)
    out = model(g, torch.tensor([[0, 5, 4], [1, 5, 3]]))      # 3, 4, 5 are isolated
    assert out.shape == (3,) and torch.isfinite(out).all()


def test_pretrained_vgae_features_use_training_edges_only(tmp_path):
    """``input_encoder: vgae``: the link model sees the unsupervised embeddings of the task's
    training graph (message-passing edges only), computed once per task."""
    from graphkit.data import load
    from graphkit.nn.link import pretrain_embeddings
    from graphkit.train.tasks import make_task
    data, spec = load("random-link")
    cfg = from_dict({"name": "t", "out_dir": str(tmp_path),
                     "model": {"name": "identity", "input_encoder": "vgae", "head": "dot"}})
    task = make_task(data, spec, 0, cfg, torch.device("cpu"), 0)
    model = task.build_model()
    x = task.graph.x
    assert x.shape == (task.graph.num_nodes, 16) and torch.isfinite(x).all()
    ones = torch.ones(task.graph.num_nodes, 1)
    # allclose: multithreaded scatter sums may differ in the last bits between two runs
    assert torch.allclose(x, pretrain_embeddings(ones if data.x is None else data.x,
                                                 task.graph.edge_index, seed=0), atol=1e-5)
    assert torch.equal(model.encode(task.graph), x)               # identity backbone passes it on
    task.build_model()
    assert task.graph.x is x                                       # computed once per task
    with pytest.raises(ValueError, match="only link tasks"):
        build_task_model("node", cfg.model, num_features=5, num_outputs=2)


def test_pretrain_embeddings_separate_communities():
    """Two cliques joined by one edge: VGAE embeddings of same-clique nodes are closer."""
    from graphkit.nn.link import pretrain_embeddings
    a = torch.combinations(torch.arange(6)).t()
    ei = torch.cat([a, a + 6, torch.tensor([[5], [6]])], 1)
    ei = torch.cat([ei, ei.flip(0)], 1)
    z = pretrain_embeddings(torch.eye(12), ei, epochs=150, seed=1)
    d = torch.cdist(z, z)
    same = d[:6, :6].mean() + d[6:, 6:].mean()
    assert same / 2 < d[:6, 6:].mean()
    with pytest.raises(ValueError, match="'epochs'"):
        pretrain_embeddings(torch.eye(3), ei[:, :2], epochs=0)


def test_vgae_encoder_kwargs_set_the_embedding_and_bad_options_fail(tmp_path):
    """``model.encoder_kwargs`` reaches :func:`pretrain_embeddings` (WalkPool's 32-channel
    inputs); an unknown option, or options for another encoder, fail naming the key."""
    from graphkit.data import load
    from graphkit.train.tasks import make_task
    data, spec = load("random-link")

    def task(model):
        cfg = from_dict({"name": "t", "out_dir": str(tmp_path), "model": model})
        return make_task(data, spec, 0, cfg, torch.device("cpu"), 0), cfg

    t, cfg = task({"name": "identity", "input_encoder": "vgae", "head": "dot",
                   "encoder_kwargs": {"out_channels": 8, "hidden_channels": 12, "epochs": 5}})
    t.build_model()
    assert t.graph.x.shape == (t.graph.num_nodes, 8)
    assert cfg.fingerprint() != task({"name": "identity", "input_encoder": "vgae",
                                      "head": "dot"})[1].fingerprint()
    t, _ = task({"name": "identity", "input_encoder": "vgae", "head": "dot",
                 "encoder_kwargs": {"dim": 8}})
    with pytest.raises(ValueError, match=r"model.encoder_kwargs.*\['dim'\]"):
        t.build_model()
    t, _ = task({"name": "gcn", "input_encoder": "embedding", "head": "dot",
                 "encoder_kwargs": {"out_channels": 8}})
    with pytest.raises(ValueError, match=r"encoder_kwargs.*only.*'vgae'.*'embedding'"):
        t.build_model()

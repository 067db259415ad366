"""Deep Graph Infomax input embeddings for link heads: the DGI objective against a naive
formula, determinism, community structure, early stopping, checks, and the config path."""
import pytest
import torch

from graphkit.config import from_dict
from graphkit.nn.link import dgi_embeddings


def _two_cliques():
    a = torch.combinations(torch.arange(6)).t()
    ei = torch.cat([a, a + 6, torch.tensor([[5], [6]])], 1)
    return torch.cat([ei, ei.flip(0)], 1)


def test_pyg_dgi_loss_is_the_papers_objective():
    """The loss :func:`dgi_embeddings` minimises (PyG's DeepGraphInfomax) equals the DGI
    binary cross-entropy written out with the bilinear discriminator."""
    from torch_geometric.nn import DeepGraphInfomax

    from graphkit.nn.link.infomax import _GCNPReLU, _summary
    torch.manual_seed(0)
    x, ei = torch.randn(12, 5), _two_cliques()
    perm = torch.randperm(12)
    m = DeepGraphInfomax(7, _GCNPReLU(5, 7), summary=_summary,
                         corruption=lambda x, ei: (x[perm], ei))
    pos, neg, s = m(x, ei)
    h, h_neg = m.encoder(x, ei), m.encoder(x[perm], ei)
    assert torch.allclose(s, torch.sigmoid(h.mean(0)))
    d_pos = torch.sigmoid(h @ (m.weight @ s))
    d_neg = torch.sigmoid(h_neg @ (m.weight @ s))
    ref = -(torch.log(d_pos + 1e-15).mean() + torch.log(1 - d_neg + 1e-15).mean())
    assert torch.allclose(m.loss(pos, neg, s), ref, atol=1e-6)


def test_deterministic_per_seed_and_global_rng_untouched():
    x, ei = torch.randn(12, 4, generator=torch.Generator().manual_seed(3)), _two_cliques()
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    z1 = dgi_embeddings(x, ei, out_channels=8, epochs=30, seed=1)
    assert torch.equal(torch.rand(3), before)                    # global RNG left as it was
    z2 = dgi_embeddings(x, ei, out_channels=8, epochs=30, seed=1)
    z3 = dgi_embeddings(x, ei, out_channels=8, epochs=30, seed=2)
    assert z1.shape == (12, 8) and not z1.requires_grad and torch.isfinite(z1).all()
    assert torch.allclose(z1, z2) and not torch.allclose(z1, z3)


def test_embeddings_separate_communities():
    """Two cliques joined by one edge, featureless (identity) input: same-clique embeddings
    are closer than cross-clique ones."""
    z = dgi_embeddings(torch.eye(12), _two_cliques(), out_channels=16, epochs=200, seed=0)
    d = torch.cdist(z, z)
    assert (d[:6, :6].mean() + d[6:, 6:].mean()) / 2 < d[:6, 6:].mean()


def test_best_loss_weights_are_kept(monkeypatch):
    """Early stopping returns the encoder of the lowest loss seen (the weights that produced
    it, before their optimiser step), not the last step's."""
    import copy

    from torch_geometric.nn import DeepGraphInfomax

    from graphkit.nn.link.infomax import _GCNPReLU
    losses, states = [], []
    real_loss = DeepGraphInfomax.loss

    def spy(self, pos, neg, s):
        out = real_loss(self, pos, neg, s)
        losses.append(float(out.detach()))
        states.append(copy.deepcopy(self.encoder.state_dict()))
        return out
    monkeypatch.setattr(DeepGraphInfomax, "loss", spy)
    x, ei = torch.randn(12, 4, generator=torch.Generator().manual_seed(0)), _two_cliques()
    z = dgi_embeddings(x, ei, out_channels=6, epochs=60, lr=0.05, patience=60, seed=0)
    best = min(range(len(losses)), key=losses.__getitem__)
    assert len(losses) == 60 and best < 59 and losses[best] < losses[-1]   # not the last
    enc = _GCNPReLU(4, 6)
    enc.load_state_dict(states[best])
    with torch.no_grad():
        assert torch.allclose(z, enc(x, ei), atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    ({"out_channels": 0}, "'out_channels' must be an int"),
    ({"epochs": 0}, "'epochs' must be an int"),
    ({"patience": 0}, "'patience' must be an int"),
    ({"lr": 0.0}, "'lr' must be a number in \\(0"),
])
def test_bad_options_name_the_argument(kwargs, match):
    x, ei = torch.randn(12, 4), _two_cliques()
    with pytest.raises(ValueError, match=match):
        dgi_embeddings(x, ei, **kwargs)
    with pytest.raises(ValueError, match="'x' must be"):
        dgi_embeddings(x[0], ei)
    with pytest.raises(ValueError, match="'edge_index' must be"):
        dgi_embeddings(x, ei[0])


def test_dgi_input_encoder_uses_training_edges_only(tmp_path):
    """``input_encoder: dgi``: the link model sees the DGI embeddings of the task's training
    graph (message-passing edges only), with ``encoder_kwargs`` passed on."""
    from graphkit.data import load
    from graphkit.train.tasks import make_task
    data, spec = load("random-link")
    cfg = from_dict({"name": "t", "out_dir": str(tmp_path),
                     "model": {"name": "identity", "input_encoder": "dgi", "head": "dot",
                               "encoder_kwargs": {"out_channels": 8, "epochs": 20}}})
    task = make_task(data, spec, 0, cfg, torch.device("cpu"), 0)
    model = task.build_model()
    x = task.graph.x
    assert x.shape == (task.graph.num_nodes, 8)
    base = data.x if data.x is not None else torch.ones(task.graph.num_nodes, 1)
    assert torch.allclose(x, dgi_embeddings(base, task.graph.edge_index, out_channels=8,
                                            epochs=20, seed=0), atol=1e-5)
    assert torch.equal(model.encode(task.graph), x)
    bad = from_dict({"name": "t", "out_dir": str(tmp_path),
                     "model": {"name": "identity", "input_encoder": "dgi", "head": "dot",
                               "encoder_kwargs": {"hidden_channels": 8}}})
    with pytest.raises(ValueError, match=r"\['hidden_channels'\] for input_encoder 'dgi'"):
        make_task(data, spec, 0, bad, torch.device("cpu"), 0).build_model()

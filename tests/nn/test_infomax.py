"""Deep Graph Infomax and Graph InfoClust input embeddings for link heads: the objectives
against naive formulas, soft k-means against a loop reference, determinism, community
structure, early stopping, checks, and the config path."""
import pytest
import torch

from graphkit.config import from_dict
from graphkit.nn.link import GraphInfoClust, dgi_embeddings, gic_embeddings
from graphkit.nn.link.infomax import _GCNPReLU, _summary, soft_kmeans


def _two_cliques():
    a = torch.combinations(torch.arange(6)).t()
    ei = torch.cat([a, a + 6, torch.tensor([[5], [6]])], 1)
    return torch.cat([ei, ei.flip(0)], 1)


def test_pyg_dgi_loss_is_the_papers_objective():
    """The loss :func:`dgi_embeddings` minimises (PyG's DeepGraphInfomax) equals the DGI
    binary cross-entropy written out with the bilinear discriminator."""
    from torch_geometric.nn import DeepGraphInfomax
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


# ---------------------------------------------------------------- Graph InfoClust


def _naive_soft_kmeans(z, init, beta, iters):
    """ClusterNet's loop as written: unit rows, then per step, per cluster."""
    zn = [row / row.norm() for row in z]
    mu = [c.clone() for c in init]
    for _ in range(iters + 1):
        mun = [c / c.norm() for c in mu]
        r = torch.stack([torch.softmax(beta * torch.stack([zi @ c for c in mun]), 0)
                         for zi in zn])
        mu = [sum(r[i, k] * zn[i] for i in range(len(zn))) / r[:, k].sum()
              for k in range(len(mun))]
    return torch.stack(mu), r


def test_soft_kmeans_matches_loop_reference():
    g = torch.Generator().manual_seed(0)
    z, init = torch.randn(9, 3, generator=g, dtype=torch.float64), torch.rand(4, 3, generator=g,
                                                                           dtype=torch.float64)
    for beta in (1.0, 10.0):
        mu, r = soft_kmeans(z, init, beta, num_iters=3)
        mu_ref, r_ref = _naive_soft_kmeans(z, init, beta, 3)
        assert torch.allclose(mu, mu_ref, atol=1e-10) and torch.allclose(r, r_ref, atol=1e-10)
        assert torch.allclose(r.sum(1), torch.ones(9, dtype=torch.float64))


def test_soft_kmeans_gradient_only_through_last_step():
    z = torch.randn(8, 3, generator=torch.Generator().manual_seed(1), requires_grad=True)
    mu, r = soft_kmeans(z, torch.rand(3, 3), 5.0, num_iters=4)
    (mu.sum() + (r * torch.arange(3.0)).sum()).backward()
    assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


def _gic(alpha, perm, **kw):
    torch.manual_seed(0)
    return GraphInfoClust(7, _GCNPReLU(5, 7), summary=_summary,
                          corruption=lambda x, ei: (x[perm], ei), alpha=alpha, **kw)


def test_gic_loss_is_the_papers_objective():
    """alpha * DGI loss + (1 - alpha) * the cluster-level BCE, with the cluster summary
    sigmoid(R mu) of the loop k-means and the inner-product discriminator."""
    from torch_geometric.nn import DeepGraphInfomax
    x, ei, perm = torch.randn(12, 5), _two_cliques(), torch.randperm(12)
    m = _gic(0.3, perm, num_clusters=3, beta=4.0)
    pos, neg, s = m(x, ei)
    mu, r = _naive_soft_kmeans(pos.detach().double(), m.centres_init.double(), 4.0, 10)
    c = torch.sigmoid(r @ mu).float()
    cl = -(torch.log(torch.sigmoid((pos * c).sum(1))).mean()
           + torch.log(1 - torch.sigmoid((neg * c).sum(1))).mean())
    ref = 0.3 * DeepGraphInfomax.loss(m, pos, neg, s) + 0.7 * cl
    assert torch.allclose(m.loss(pos, neg, s), ref, atol=1e-5)
    # alpha = 1 is DGI; alpha = 0 trains the encoder through the cluster term alone
    m1 = _gic(1.0, perm, num_clusters=3)
    assert torch.allclose(m1.loss(*m1(x, ei)), DeepGraphInfomax.loss(m1, *m1(x, ei)))
    m0 = _gic(0.0, perm, num_clusters=3)
    m0.loss(*m0(x, ei)).backward()
    assert m0.encoder.conv.lin.weight.grad.abs().sum() > 0
    assert m0.weight.grad is None or m0.weight.grad.abs().sum() == 0   # DGI term weighted 0
    assert "num_clusters=3" in repr(m0)


def test_gic_embeddings_unit_rows_deterministic_and_separate_communities():
    x, ei = torch.eye(12), _two_cliques()
    torch.manual_seed(5)
    before = torch.rand(2)
    torch.manual_seed(5)
    z1 = gic_embeddings(x, ei, out_channels=16, epochs=150, num_clusters=4, seed=0)
    assert torch.equal(torch.rand(2), before)
    z2 = gic_embeddings(x, ei, out_channels=16, epochs=150, num_clusters=4, seed=0)
    assert torch.allclose(z1, z2) and not z1.requires_grad
    assert torch.allclose(z1.norm(dim=1), torch.ones(12), atol=1e-5)
    d = torch.cdist(z1, z1)
    assert (d[:6, :6].mean() + d[6:, 6:].mean()) / 2 < d[:6, 6:].mean()
    raw = gic_embeddings(x, ei, out_channels=16, epochs=150, num_clusters=4, seed=0,
                         normalize=False)
    assert torch.allclose(torch.nn.functional.normalize(raw, dim=1), z1, atol=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    ({"num_clusters": 0}, "'num_clusters' must be an int"),
    ({"alpha": 1.5}, "'alpha' must be a number in \\[0"),
    ({"beta": 0.0}, "'beta' must be a number in \\(0"),
    ({"normalize": "yes"}, "'normalize' must be a bool; got 'yes'"),
])
def test_gic_bad_options_name_the_argument(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        gic_embeddings(torch.randn(12, 4), _two_cliques(), epochs=2, **kwargs)


def test_gic_input_encoder_through_the_config(tmp_path):
    from graphkit.data import load
    from graphkit.train.tasks import make_task
    data, spec = load("random-link")
    opts = {"out_channels": 8, "epochs": 20, "num_clusters": 3}
    cfg = from_dict({"name": "t", "out_dir": str(tmp_path),
                     "model": {"name": "identity", "input_encoder": "gic", "head": "dot",
                               "encoder_kwargs": opts}})
    task = make_task(data, spec, 0, cfg, torch.device("cpu"), 0)
    task.build_model()
    base = data.x if data.x is not None else torch.ones(task.graph.num_nodes, 1)
    assert torch.allclose(task.graph.x, gic_embeddings(base, task.graph.edge_index, seed=0,
                                                       **opts), atol=1e-5)

"""(V)GAE encoders over graphkit backbones: KL against the closed form, deterministic
evaluation, GAE = DotHead on the backbone, ResVGAE-style depth with distinct weights, and the
KL term reaching the LinkTask loss."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Normal, kl_divergence
from torch_geometric.data import Data

from graphkit.config import from_dict
from graphkit.nn.link import DotHead, GraphAutoEncoder, kl_normal, regularization_loss
from graphkit.registry import MODELS
from graphkit.train import Trainer
from graphkit.train.models import LinkPredictor, build_task_model


def _graph(n=8, f=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n - 1, (2, 14), generator=g)     # node n-1 stays isolated
    return torch.randn(n, f, generator=g), torch.cat([ei, ei.flip(0)], 1)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 10), d=st.integers(1, 6), seed=st.integers(0, 999))
def test_kl_matches_closed_form(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    mu, logstd = torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)
    ref = kl_divergence(Normal(mu, logstd.exp()), Normal(0.0, 1.0)).sum(-1).mean()
    assert torch.allclose(kl_normal(mu, logstd), ref, atol=1e-5)
    assert kl_normal(torch.zeros(n, d), torch.zeros(n, d)) == 0


def test_vgae_regularization_is_weighted_kl_of_last_forward():
    x, ei = _graph()
    enc = GraphAutoEncoder(5, 8, 3, num_layers=2, variational=True)
    enc.train()
    z = enc(x, ei)
    assert z.shape == (8, 3)
    mu, logstd = enc.encode_distribution(x, ei)
    assert torch.allclose(enc.regularization_loss(), kl_normal(mu, logstd) / 8, atol=1e-6)
    enc2 = GraphAutoEncoder(5, 8, 3, num_layers=2, variational=True, kl_weight=0.5)
    enc2.load_state_dict(enc.state_dict())
    enc2.train()
    enc2(x, ei)
    assert torch.allclose(enc2.regularization_loss(), 0.5 * kl_normal(mu, logstd), atol=1e-6)
    enc.eval()
    enc(x, ei)
    assert enc.regularization_loss() is None          # nothing to add at evaluation


def test_eval_is_deterministic_mean_and_training_samples():
    x, ei = _graph()
    enc = GraphAutoEncoder(5, 8, 3, num_layers=2, variational=True).eval()
    a, b = enc(x, ei), enc(x, ei)
    assert torch.equal(a, b)
    assert torch.allclose(a, enc.encode_distribution(x, ei)[0])
    enc.train()
    torch.manual_seed(0)
    s1 = enc(x, ei)
    s2 = enc(x, ei)
    assert not torch.allclose(s1, s2)
    mu, logstd = enc.mu, enc.logstd
    eps = (s2 - mu) / logstd.exp()                      # reparameterisation: z = mu + sigma * eps
    assert torch.isfinite(eps).all() and eps.std() > 0.3


def test_gae_path_equals_dot_head_on_the_backbone():
    x, ei = _graph()
    torch.manual_seed(1)
    enc = MODELS.build("gae", in_channels=5, hidden_channels=8, out_channels=4, num_layers=2)
    backbone = enc.encoder
    enc.eval()
    eli = torch.tensor([[0, 1, 7, 2, 2], [3, 1, 0, 6, 6]])  # self-pair, isolated node, duplicate
    model = LinkPredictor(torch.nn.Identity(), enc, DotHead())
    model.encoder = type("E", (torch.nn.Module,), {"forward": lambda self, x, n, i=None: x})()
    out = model(Data(x=x, edge_index=ei, num_nodes=8), eli)
    ref = DotHead()(backbone(x, ei), eli)
    assert torch.allclose(out, ref) and out[3] == out[4]
    assert regularization_loss(model) is None


def test_resvgae_style_depth_has_distinct_weights_per_layer():
    enc = MODELS.build("vgae", in_channels=5, hidden_channels=8, out_channels=4, num_layers=8,
                       encoder="deepgnn", residual="plain", latent_channels=3)
    blocks = enc.encoder.blocks
    assert len(blocks) == 8
    ptrs = {p.data_ptr() for b in blocks for p in b.parameters()}
    assert len(ptrs) == sum(1 for b in blocks for _ in b.parameters())   # nothing shared
    x, ei = _graph()
    enc.eval()
    assert enc(x, ei).shape == (8, 3)
    shallow = MODELS.build("vgae", in_channels=5, hidden_channels=8, out_channels=4, num_layers=2,
                           encoder="deepgnn", residual="plain")
    n = lambda m: sum(p.numel() for p in m.parameters())
    assert n(enc) > n(shallow)


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="variational"):
        MODELS.build("vgae", in_channels=5, hidden_channels=8, out_channels=4, num_layers=2,
                     variational=False)
    with pytest.raises(ValueError, match="encoder"):
        GraphAutoEncoder(5, 8, 4, 2, encoder="vgae")
    with pytest.raises(ValueError, match="kl_weight"):
        GraphAutoEncoder(5, 8, 4, 2, variational=True, kl_weight=-1.0)
    with pytest.raises(ValueError, match="variational=True"):
        GraphAutoEncoder(5, 8, 4, 2).encode_distribution(*_graph())


def test_link_task_adds_the_kl_term(tmp_path, monkeypatch):
    from graphkit.train import tasks
    seen = []
    orig = tasks._with_reg

    def spy(model, loss):
        out = orig(model, loss)
        seen.append(float((out - loss).detach()))
        return out
    monkeypatch.setattr(tasks, "_with_reg", spy)
    cfg = from_dict({"name": "v", "out_dir": str(tmp_path),
                     "data": {"name": "random-link", "splits": [0]},
                     "model": {"name": "vgae", "hidden_channels": 16, "dropout": 0.0,
                               "kwargs": {"latent_channels": 8}},
                     "train": {"epochs": 30, "patience": 0, "weight_decay": 0.0,
                               "checkpoint_every": 0}})
    s = Trainer(cfg, progress=False).run()
    assert len(seen) == 30 and all(v > 0 for v in seen)       # KL > 0 was added every step
    assert s["aggregate"]["test_auc"]["mean"] > 0.75
    gae = build_task_model("link", from_dict({"model": {"name": "gae"}}).model, 4, 1)
    gae.train()
    gae(Data(x=torch.randn(5, 4), edge_index=torch.tensor([[0], [1]]), num_nodes=5),
        torch.tensor([[0], [1]]))
    assert regularization_loss(gae) is None

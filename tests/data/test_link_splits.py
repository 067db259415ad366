"""Link-prediction protocol: cora-link / citeseer-link random 85/5/10 splits, SEAL's fixed
90/10 and 50/50 splits end to end, no held-out positive in message passing, training
negatives drawn without knowledge of held-out positives, Hits@K / MRR through ogb."""
import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.config import from_dict
from graphkit.data import load
from graphkit.data.loaders.planetoid_link import sample_non_edges
from graphkit.train import Trainer
from graphkit.train.metrics import hits_at_k, link_metrics, mrr
from graphkit.train.tasks import make_task


def _keys(e, n):
    return set((torch.minimum(e[0], e[1]) * n + torch.maximum(e[0], e[1])).tolist())


@pytest.mark.parametrize("name", ["cora-link", "citeseer-link"])
def test_planetoid_link_splits(data_root, name):
    data, spec = load(name)
    n = data.num_nodes
    all_edges = _keys(data.edge_index, n)
    e = len(all_edges)
    assert spec.protocol == "random_85_5_10" and len(spec.splits) == 10
    assert spec.extra["split_seeds"] == list(range(10))
    for i, s in enumerate(spec.splits[:3]):
        tr, va, te = (_keys(s[k], n) for k in ("train_pos", "val_pos", "test_pos"))
        assert len(va) == int(0.05 * e) and len(te) == int(0.1 * e)
        assert not (tr & va) and not (tr & te) and not (va & te) and tr | va | te == all_edges
        vn, tn = _keys(s["val_neg"], n), _keys(s["test_neg"], n)
        assert len(vn) == s["val_neg"].size(1) == len(va) and len(tn) == len(te)   # distinct
        assert not (vn & tn)
        for neg in (s["val_neg"], s["test_neg"]):
            assert (neg[0] != neg[1]).all()
        assert not ((vn | tn) & tr)                         # non-edges of the training graph
        assert len((vn | tn) & all_edges) == spec.extra["neg_hits_positive"][i]
    _, again = load(name)
    assert all(torch.equal(a[k], b[k]) for a, b in zip(spec.splits, again.splits) for k in a)


def test_full_negative_policy_and_metric_option(data_root):
    data, spec = load("cora-link", neg_policy="full", num_splits=2, seed=3, metric="hits@20")
    assert spec.metric == "hits@20" and spec.extra["split_seeds"] == [3000, 3001]
    all_edges = _keys(data.edge_index, data.num_nodes)
    for s in spec.splits:
        assert not (_keys(torch.cat([s["val_neg"], s["test_neg"]], 1), data.num_nodes) & all_edges)
    with pytest.raises(ValueError, match="neg_policy"):
        load("cora-link", neg_policy="test")


def test_sample_non_edges_is_uniform_and_checks_capacity():
    g = torch.Generator().manual_seed(0)
    forbidden = torch.tensor([[0, 1], [1, 2]])
    out = sample_non_edges(forbidden, 4, 4, g)          # 6 pairs, 2 forbidden -> all 4 left
    assert _keys(out, 4) == {0 * 4 + 2, 0 * 4 + 3, 1 * 4 + 3, 2 * 4 + 3}
    with pytest.raises(ValueError, match="k=5"):
        sample_non_edges(forbidden, 4, 5, g)
    counts = {}
    for s in range(300):
        o = sample_non_edges(torch.empty(2, 0, dtype=torch.long), 5, 1, torch.Generator().manual_seed(s))
        assert o[0, 0] < o[1, 0]
        key = int(o[0, 0]) * 5 + int(o[1, 0])
        counts[key] = counts.get(key, 0) + 1
    assert len(counts) == 10 and min(counts.values()) > 10   # all 10 pairs, roughly uniform


def _task(data, spec, split, cfg):
    return make_task(data, spec, split, cfg, torch.device("cpu"), seed=0)


@pytest.mark.parametrize("name,opts", [("cora-link", {}), ("usair", {"split_ratio": 0.1}),
                                       ("usair", {"split_ratio": 0.5})])
def test_no_held_out_positive_in_message_passing(data_root, name, opts):
    data, spec = load(name, **opts)
    cfg = from_dict({"data": {"name": name}})
    task = _task(data, spec, 0, cfg)
    n = data.num_nodes
    mp = _keys(task.graph.edge_index, n)
    assert mp == _keys(task.pairs["train"][0], n)
    for k in ("val", "test"):
        assert not (mp & _keys(task.pairs[k][0], n))
    assert not (mp & _keys(spec.splits[0]["test_pos"], n))


@pytest.mark.parametrize("name,opts", [("cora-link", {}), ("usair", {"split_ratio": 0.1})])
def test_val_edges_as_input_only_for_test_scoring(data_root, name, opts):
    """``train.val_edges_as_input``: the test links are scored over the training graph plus the
    validation positives (never a test positive); training and validation graphs unchanged."""
    data, spec = load(name, **opts)
    n = data.num_nodes
    task_off = _task(data, spec, 0, from_dict({"data": {"name": name}}))
    task = _task(data, spec, 0, from_dict({"data": {"name": name},
                                           "train": {"val_edges_as_input": True}}))
    train_keys, val_keys = _keys(task.pairs["train"][0], n), _keys(task.pairs["val"][0], n)
    for t in (task, task_off):
        for k in ("train", "val"):
            assert t.eval_graph(k) is t.graph and _keys(t.graph.edge_index, n) == train_keys
    assert task_off.eval_graph("test") is task_off.graph
    test_graph = task.eval_graph("test")
    assert _keys(test_graph.edge_index, n) == train_keys | val_keys
    assert not _keys(test_graph.edge_index, n) & _keys(task.pairs["test"][0], n)
    ei = test_graph.edge_index                     # undirected, no duplicates
    assert ei.size(1) == 2 * len(train_keys | val_keys)


class _Scorer(torch.nn.Module):
    """Scores a link by how many message edges touch its end nodes (so the graph matters)."""

    def encode(self, graph):
        return torch.bincount(graph.edge_index[0], minlength=graph.num_nodes).float()

    def score(self, z, eli, graph):
        return z[eli[0]] + z[eli[1]]


def test_val_edges_as_input_changes_only_test_scores(data_root):
    data, spec = load("usair", split_ratio=0.1)
    on = _task(data, spec, 0, from_dict({"data": {"name": "usair"},
                                         "train": {"val_edges_as_input": True}}))
    off = _task(data, spec, 0, from_dict({"data": {"name": "usair"}}))
    model = _Scorer()
    for k in ("train", "val"):
        assert all(torch.equal(a, b) for a, b in zip(on.score_pairs(model, k),
                                                       off.score_pairs(model, k)))
    sp_on, _ = on.score_pairs(model, "test")
    sp_off, _ = off.score_pairs(model, "test")
    assert (sp_on >= sp_off).all() and (sp_on > sp_off).any()


class _Recorder(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner, self.seen = inner, []

    def forward(self, batch, eli):
        self.seen.append(eli.clone())
        return self.inner(batch, eli)


@pytest.mark.parametrize("loader", ["full", "links"])
def test_training_negatives_ignore_held_out_positives(data_root, loader):
    """Same training graph, different held-out positives -> identical training candidates:
    the negative sampler never looks at validation or test links."""
    data, spec = load("cora-link", num_splits=1)
    s = spec.splits[0]
    g = torch.Generator().manual_seed(5)
    other = dict(s, test_pos=torch.randint(0, data.num_nodes, s["test_pos"].shape, generator=g),
                 val_pos=torch.randint(0, data.num_nodes, s["val_pos"].shape, generator=g))
    cfg = from_dict({"data": {"name": "cora-link"}, "model": {"hidden_channels": 8},
                     "train": {"loader": loader, "batch_size": 4096, "device": "cpu"}})
    seen = []
    for split in (s, other):
        spec.splits = [split]
        task = _task(data, spec, 0, cfg)
        model = _Recorder(task.build_model())
        opt = torch.optim.SGD(model.parameters(), lr=0.0)
        torch.manual_seed(0)
        random.seed(0)                                  # PyG's negative_sampling draws here
        task.train_epoch(model, opt, epoch=1)
        seen.append(torch.cat(model.seen, 1))
    assert torch.equal(seen[0], seen[1])


@pytest.mark.parametrize("ratio,n_test", [(0.1, 212), (0.5, 1063)])
def test_seal_fixed_splits_end_to_end(data_root, tmp_path, ratio, n_test):
    data, spec = load("usair", split_ratio=ratio)
    assert spec.splits[0]["test_pos"].size(1) == n_test
    cfg = from_dict({"name": f"u{ratio}", "out_dir": str(tmp_path),
                     "data": {"name": "usair", "options": {"split_ratio": ratio}, "splits": [0, 1]},
                     "model": {"name": "gae", "hidden_channels": 16, "dropout": 0.0,
                               "input_encoder": "embedding"},
                     "train": {"epochs": 15, "patience": 0, "weight_decay": 0.0,
                               "checkpoint_every": 0, "device": "cpu"}})
    s = Trainer(cfg, progress=False, data=(data, spec)).run()
    agg = s["aggregate"]
    assert agg["test_auc"]["n"] == 2 and agg["test_auc"]["std"] >= 0
    assert agg["test_auc"]["mean"] > 0.65 and s["protocol"] == "seal_fixed"


def test_hits_at_k_through_the_trainer_uses_ogb(tmp_path, monkeypatch):
    from graphkit.train import metrics
    calls = []
    real = metrics.ogb_link_metric
    monkeypatch.setattr(metrics, "ogb_link_metric", lambda *a: calls.append(a[0]) or real(*a))
    data, spec = load("random-link")
    spec.metric = "hits@20"
    cfg = from_dict({"name": "h", "out_dir": str(tmp_path), "data": {"name": "random-link"},
                     "model": {"hidden_channels": 16, "dropout": 0.0},
                     "train": {"epochs": 8, "patience": 0, "checkpoint_every": 0, "device": "cpu"}})
    s = Trainer(cfg, progress=False, data=(data, spec)).run()
    assert s["metric"] == "hits@20"
    for k in ("test_hits@20", "test_auc", "test_ap"):
        assert 0.0 <= s["aggregate"][k]["mean"] <= 1.0
    assert calls and set(calls) == {"hits@20"}          # every Hits@20 came from ogb's Evaluator


@settings(max_examples=40, deadline=None)
@given(p=st.lists(st.integers(-4, 4), min_size=1, max_size=30),
       q=st.lists(st.integers(-4, 4), min_size=1, max_size=40), k=st.integers(1, 25))
def test_ogb_link_metrics_match_naive(p, q, k):
    pos, neg = torch.tensor(p, dtype=torch.float), torch.tensor(q, dtype=torch.float)
    got = link_metrics(pos, neg, (f"hits@{k}", "mrr"))
    if neg.numel() < k:
        ref = 1.0
    else:
        kth = sorted(q, reverse=True)[k - 1]
        ref = sum(v > kth for v in p) / len(p)
    assert got[f"hits@{k}"] == pytest.approx(ref) == pytest.approx(hits_at_k(pos, neg, k))
    ranks = [1 + 0.5 * (sum(n > v for n in q) + sum(n >= v for n in q)) for v in p]
    assert got["mrr"] == pytest.approx(sum(1 / r for r in ranks) / len(p), abs=1e-6)
    assert got["mrr"] == pytest.approx(mrr(pos, neg.view(1, -1).expand(len(p), -1)), abs=1e-6)
    with pytest.raises(ValueError, match="hits@K"):
        link_metrics(pos, neg, ("hits@x",))


@settings(max_examples=30, deadline=None)
@given(s=st.lists(st.floats(-30, 30), min_size=1, max_size=20), data=st.data())
def test_link_loss_matches_definitions(s, data):
    from graphkit.train.tasks import link_loss
    logits = torch.tensor(s, dtype=torch.float64)
    y = torch.tensor(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=len(s),
                                        max_size=len(s))), dtype=torch.float64)
    prob = 1 / (1 + torch.exp(-logits))
    mse = ((prob - y) ** 2).mean()
    bce = -(y * torch.log(prob) + (1 - y) * torch.log1p(-prob)).mean()
    assert float(link_loss("mse", logits, y)) == pytest.approx(float(mse), abs=1e-12)
    if (prob > 1e-6).all() and (prob < 1 - 1e-6).all():           # naive form is exact here
        assert float(link_loss("bce", logits, y)) == pytest.approx(float(bce), rel=1e-6)
    assert float(link_loss("mse", logits, y)) <= 1.0        # bounded, unlike BCE


def test_link_loss_rejects_unknown_kind():
    from graphkit.config import ConfigError
    from graphkit.train.tasks import link_loss
    with pytest.raises(ValueError, match="'kind' must be 'bce' or 'mse'; got 'hinge'"):
        link_loss("hinge", torch.zeros(2), torch.zeros(2))
    with pytest.raises(ConfigError, match=r"'train.link_loss' must be one of \['bce', 'mse'\]"):
        from_dict({"train": {"link_loss": "l2"}})


@pytest.mark.parametrize("loader", ["full", "links"])
def test_link_loss_option_is_the_training_loss(data_root, loader, monkeypatch):
    """``train.link_loss: mse`` trains on the squared error of the sigmoid scores: the loss an
    epoch reports equals the MSE of the scores the model gave (lr 0 keeps the model fixed)."""
    from graphkit.train import tasks
    data, spec = load("cora-link", num_splits=1)
    base = {"data": {"name": "cora-link"}, "model": {"hidden_channels": 8, "dropout": 0.0},
            "train": {"loader": loader, "batch_size": 100_000, "device": "cpu"}}
    got, calls, real = {}, [], tasks.link_loss
    monkeypatch.setattr(tasks, "link_loss", lambda k, s, y: calls.append((k, s, y)) or real(k, s, y))
    for kind in ("bce", "mse"):
        cfg = from_dict({**base, "train": {**base["train"], "link_loss": kind}})
        task = _task(data, spec, 0, cfg)
        calls.clear()
        model = task.build_model()
        torch.manual_seed(0)
        random.seed(0)
        loss = task.train_epoch(model, torch.optim.SGD(model.parameters(), lr=0.0), epoch=1)
        assert len(calls) == 1 and calls[0][0] == kind
        _, s, y = calls[0]
        ref = (torch.nn.functional.mse_loss(torch.sigmoid(s), y) if kind == "mse"
               else torch.nn.functional.binary_cross_entropy_with_logits(s, y))
        assert loss == pytest.approx(float(ref.detach()), rel=1e-6)
        got[kind] = loss
    assert got["mse"] < got["bce"]
    assert from_dict({"train": {"link_loss": "mse"}}).fingerprint() != from_dict({}).fingerprint()
    assert from_dict({"train": {"link_loss": "bce"}}).fingerprint() == from_dict({}).fingerprint()

"""graphkit's metrics equal RelBench's own on fixed inputs."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("relbench")
from relbench import metrics as rbm

from graphkit.relational.metrics import map_at_k, nmae
from graphkit.train.metrics import roc_auc


def test_auroc_matches_relbench():
    g = np.random.default_rng(0)
    y = g.integers(0, 2, 200).astype(float)
    p = g.random(200) + 0.3 * y
    assert roc_auc(torch.tensor(p), torch.tensor(y)) == pytest.approx(rbm.roc_auc(y, p), abs=1e-12)


def test_nmae_matches_relbench():
    g = np.random.default_rng(1)
    train = g.normal(3, 2, 100)
    y, p = g.normal(3, 2, 50), g.normal(3, 2, 50)
    std = float(np.std(train, ddof=1))
    ours = nmae(torch.tensor(p), torch.tensor(y), std)
    assert ours == pytest.approx(rbm.make_nmae(lambda: std)(y, p), rel=1e-12)
    with pytest.raises(ValueError, match="train_std"):
        nmae(torch.tensor(p), torch.tensor(y), 0.0)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(1, 6), st.integers(6, 20), st.integers(0, 10_000))
def test_map_matches_relbench(n, k, num_dst, seed):
    g = np.random.default_rng(seed)
    target = g.random((n, num_dst)) < 0.25
    pred = np.stack([g.permutation(num_dst)[:k] for _ in range(n)])
    isin = np.take_along_axis(target, pred, 1)
    want = rbm.map(isin, target.sum(1)) if target.sum(1).any() else float("nan")
    ours = map_at_k(torch.tensor(pred), torch.tensor(target))
    if np.isnan(want):
        assert np.isnan(ours)
    else:
        assert ours == pytest.approx(want, abs=1e-12)

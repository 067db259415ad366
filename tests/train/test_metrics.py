import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from graphkit.train.metrics import (
    OGBEvaluator,
    accuracy,
    average_precision,
    hits_at_k,
    link_metrics,
    mae,
    mrr,
    rmse,
    roc_auc,
)

scores = st.lists(st.integers(-5, 5), min_size=4, max_size=60)


@settings(max_examples=60, deadline=None)
@given(scores, st.data())
def test_auc_ap_match_sklearn_with_ties(vals, data):
    s = torch.tensor(vals, dtype=torch.float) / 2
    y = torch.tensor(data.draw(st.lists(st.integers(0, 1), min_size=len(vals), max_size=len(vals))))
    if y.sum() in (0, len(vals)):
        assert np.isnan(roc_auc(s, y))
        return
    assert roc_auc(s, y) == pytest.approx(roc_auc_score(y.numpy(), s.numpy()), abs=1e-10)
    assert average_precision(s, y) == pytest.approx(average_precision_score(y.numpy(), s.numpy()), abs=1e-10)


def test_multitask_rocauc_matches_ogb_evaluator():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (50, 3)).float()
    y[:5, 1] = float("nan")
    p = torch.randn(50, 3, generator=g)
    ev = OGBEvaluator("ogbg-molbace", "rocauc")
    ref = ev.evaluator.eval({"y_true": y[:, :1].numpy(), "y_pred": p[:, :1].numpy()})["rocauc"]
    assert roc_auc(p[:, :1], y[:, :1]) == pytest.approx(ref, abs=1e-10)
    from ogb.graphproppred import Evaluator
    ev2 = Evaluator("ogbg-moltox21")
    yt = torch.randint(0, 2, (50, 12)).float(); yt[::7, 3] = float("nan")
    pt = torch.randn(50, 12)
    assert roc_auc(pt, yt) == pytest.approx(ev2.eval({"y_true": yt.numpy(), "y_pred": pt.numpy()})["rocauc"], abs=1e-10)
    ya = torch.randint(0, 2, (60, 128)).float(); ya[::5, 7] = float("nan")
    pa = torch.randn(60, 128)
    ref = Evaluator("ogbg-molpcba").eval({"y_true": ya.numpy(), "y_pred": pa.numpy()})["ap"]
    assert average_precision(pa, ya) == pytest.approx(ref, abs=1e-10)


def test_hits_and_mrr_match_ogb():
    from ogb.linkproppred import Evaluator
    g = torch.Generator().manual_seed(1)
    pos, neg = torch.randn(100, generator=g), torch.randn(500, generator=g)
    ev = Evaluator("ogbl-collab")  # Hits@50
    assert hits_at_k(pos, neg, 50) == pytest.approx(ev.eval({"y_pred_pos": pos, "y_pred_neg": neg})["hits@50"])
    assert hits_at_k(pos, neg[:10], 50) == 1.0
    negm = torch.randint(-3, 3, (100, 20)).float()
    posm = torch.randint(-3, 3, (100,)).float()
    ref = Evaluator("ogbl-citation2").eval({"y_pred_pos": posm, "y_pred_neg": negm})["mrr_list"].mean()
    assert mrr(posm, negm) == pytest.approx(float(ref))
    with pytest.raises(ValueError, match=r"'neg' must have shape \(E, K\)"):
        mrr(posm, negm[:5])


def test_simple_metrics():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    assert accuracy(logits, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    assert rmse(torch.tensor([1.0, 3.0]), torch.tensor([1.0, 1.0])) == pytest.approx(np.sqrt(2))
    assert mae(torch.tensor([1.0, 3.0]), torch.tensor([1.0, 1.0])) == pytest.approx(1.0)
    m = link_metrics(torch.tensor([3.0, 2.0]), torch.tensor([1.0, 0.0]), ("auc", "ap", "hits@1"))
    assert m == {"auc": 1.0, "ap": 1.0, "hits@1": 1.0}

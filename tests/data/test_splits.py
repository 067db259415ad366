"""Split protocols: stratified 10-fold, random splits, masks."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.data.splits import masks_to_splits, random_splits, stratified_folds


@settings(max_examples=15, deadline=None)
@given(n=st.integers(40, 200), classes=st.integers(2, 4), seed=st.integers(0, 5))
def test_folds_partition_and_stratify(n, classes, seed):
    y = torch.arange(n) % classes
    y = y[torch.randperm(n, generator=torch.Generator().manual_seed(seed))]
    folds = stratified_folds(y)
    assert len(folds) == 10
    assert torch.equal(torch.cat([f["test"] for f in folds]).sort().values, torch.arange(n))
    for f in folds:
        assert torch.equal(torch.cat([f["train"], f["val"], f["test"]]).sort().values,
                           torch.arange(n))
        # stratified: each class's share of a test fold is floor or ceil of (class size / 10)
        counts = torch.bincount(y[f["test"]], minlength=classes)
        sizes = torch.bincount(y, minlength=classes)
        assert bool(((counts >= sizes // 10) & (counts <= (sizes + 9) // 10)).all())


def test_folds_fixed_seed_is_deterministic_and_seed_matters():
    y = torch.arange(100) % 2
    a, b, c = stratified_folds(y), stratified_folds(y), stratified_folds(y, seed=1)
    assert all(torch.equal(x["test"], z["test"]) for x, z in zip(a, b))
    assert not all(torch.equal(x["test"], z["test"]) for x, z in zip(a, c))


def test_folds_match_sklearn_reference():
    from sklearn.model_selection import StratifiedKFold
    y = torch.arange(50) % 3
    ref = [t for _, t in StratifiedKFold(10, shuffle=True, random_state=12345).split(y, y)]
    assert all(torch.equal(f["test"], torch.as_tensor(sorted(r)))
               for f, r in zip(stratified_folds(y), ref))


def test_folds_reject_too_rare_class():
    with pytest.raises(ValueError, match="rarest class has 3 graphs"):
        stratified_folds(torch.tensor([0] * 30 + [1] * 3))


def test_random_splits_partition():
    splits = random_splits(101, 3, seed=0)
    for s in splits:
        assert [s[k].numel() for k in ("train", "val")] == [61, 20]
        assert torch.equal(torch.cat(list(s.values())).sort().values, torch.arange(101))
    assert not torch.equal(splits[0]["train"], splits[1]["train"])
    assert torch.equal(random_splits(101, 3, seed=0)[2]["test"], splits[2]["test"])


def test_masks_to_splits_one_and_many():
    m = torch.tensor([True, False, False, True])
    (s,) = masks_to_splits(m, ~m, torch.zeros(4, dtype=torch.bool))
    assert s["train"].tolist() == [0, 3] and s["val"].tolist() == [1, 2] and s["test"].numel() == 0
    many = masks_to_splits(torch.eye(3, dtype=torch.bool), ~torch.eye(3, dtype=torch.bool),
                           torch.zeros(3, 3, dtype=torch.bool))
    assert [x["train"].tolist() for x in many] == [[0], [1], [2]]

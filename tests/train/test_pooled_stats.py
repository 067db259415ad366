"""pooled_mean_std: fold groups run separately combine exactly into the whole run's mean / std."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.train import mean_std, pooled_mean_std

values = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=12)


@settings(max_examples=80, deadline=None)
@given(st.lists(values, min_size=1, max_size=4))
def test_pooling_group_stats_equals_stats_of_the_union(groups):
    stats = [(len(g), *mean_std(g)) for g in groups]
    n, mu, sd = pooled_mean_std(stats)
    flat = [v for g in groups for v in g]
    ref_mu, ref_sd = mean_std(flat)
    assert n == len(flat)
    assert mu == pytest.approx(ref_mu, rel=1e-9, abs=1e-9)
    assert sd == pytest.approx(ref_sd, rel=1e-6, abs=1e-6)


def test_pooling_rejects_empty_and_malformed_groups():
    with pytest.raises(ValueError, match="'groups'"):
        pooled_mean_std([])
    with pytest.raises(ValueError, match=r"\(n >= 1, mean, std\); got \(0, 1.0, 0.0\)"):
        pooled_mean_std([(0, 1.0, 0.0)])

"""StandardizeFeatures: z-scores against a reference, training-only statistics, errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch_geometric.data import Data, InMemoryDataset

from graphkit.transforms import TRANSFORMS, StandardizeFeatures


class _Graphs(InMemoryDataset):
    def __init__(self, graphs, transform=None):
        super().__init__(None, transform)
        self.data, self.slices = self.collate(graphs)


def _graphs(n_graphs=7, features=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n_graphs):
        n = 2 + i % 4
        x = torch.randn(n, features, generator=g) * torch.tensor([1.0, 50.0, 1e-3])[:features] + i
        out.append(Data(x=x, edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=n))
    return out


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 30), st.integers(1, 5)),
              elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)))
def test_matches_numpy_reference(x):
    data = Data(x=torch.tensor(x, dtype=torch.float32), num_nodes=x.shape[0])
    out = StandardizeFeatures().fit(data)(data).x.double().numpy()
    xf = data.x.double().numpy()
    mean, std = xf.mean(0), xf.std(0)
    std = np.where(std > 1e-8, std, 1.0)      # constant columns are only centred
    np.testing.assert_allclose(out, (xf - mean) / std, rtol=1e-4, atol=1e-4)


def test_training_statistics_only_and_input_unchanged():
    data = Data(x=torch.cat([torch.zeros(5, 2), 100 * torch.ones(5, 2)]), num_nodes=10)
    train = torch.arange(5)
    raw = data.x.clone()
    t = StandardizeFeatures().fit(data, mask=train)  # training nodes are all zero: std -> 1
    out = t(data)
    assert torch.equal(data.x, raw)                   # BaseTransform works on a copy
    assert torch.equal(out.x[:5], torch.zeros(5, 2))
    assert torch.equal(out.x[5:], torch.full((5, 2), 100.0))  # no test statistic used


def test_dataset_fit_gathers_by_slices_as_a_loop_would():
    ds = _Graphs(_graphs())
    idx = torch.tensor([5, 0, 3, 3])                  # any order, repeats allowed
    fast = StandardizeFeatures().fit(ds[idx])
    ref = torch.cat([ds[int(i)].x for i in idx]).double()
    torch.testing.assert_close(fast.mean, ref.mean(0).float())
    torch.testing.assert_close(fast.std, ref.std(0, correction=0).float())
    # a data set with a transform of its own is read graph by graph, after that transform
    shifted = _Graphs(_graphs(), transform=lambda d: Data(x=d.x + 1, num_nodes=d.num_nodes))
    slow = StandardizeFeatures().fit(shifted[idx])
    torch.testing.assert_close(slow.mean, fast.mean + 1)
    batch_x = torch.cat([fast(ds[int(i)]).x for i in idx])
    torch.testing.assert_close(batch_x.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(batch_x.std(0, correction=0), torch.ones(3), atol=1e-4, rtol=0)


def test_registered_and_repr():
    t = TRANSFORMS.build("standardize")
    assert isinstance(t, StandardizeFeatures) and "unfitted" in repr(t)
    t.fit(Data(x=torch.randn(4, 6)))
    assert "6 columns" in repr(t)


def test_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="call fit"):
        StandardizeFeatures()(Data(x=torch.ones(2, 2)))
    t = StandardizeFeatures().fit(Data(x=torch.randn(3, 2)))
    with pytest.raises(ValueError, match="3 columns; the transform was fit on 2"):
        t(Data(x=torch.randn(3, 3)))
    with pytest.raises(ValueError, match="no node features 'x' to standardise"):
        t(Data(num_nodes=3))
    with pytest.raises(ValueError, match="NaN or inf"):
        StandardizeFeatures().fit(Data(x=torch.tensor([[1.0], [float("nan")]])))
    with pytest.raises(ValueError, match="no node features"):
        StandardizeFeatures().fit(Data(num_nodes=3))
    with pytest.raises(ValueError, match="'mask' selects nodes of one graph"):
        StandardizeFeatures().fit(_Graphs(_graphs()), mask=torch.tensor([0]))
    with pytest.raises(ValueError, match="'eps' must be >= 0"):
        StandardizeFeatures(eps=-1.0)

"""Over-smoothing diagnostics: Dirichlet energy, MAD / MADGap, per-layer recorder, plot."""
from __future__ import annotations

import itertools
import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.utils import to_undirected

from graphkit.diagnostics import (
    DiagnosticsRecorder,
    dirichlet_energy,
    hop_distances,
    mad,
    mad_gap,
    plot_energy_vs_depth,
)
from graphkit.nn.backbone import DeepGNN


def random_graph(n, e, seed):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    return to_undirected(ei, num_nodes=n)


def dense_reference(x, ei, n):
    A = torch.zeros(n, n, dtype=torch.float64)
    A[ei[0], ei[1]] = 1.0
    L = torch.diag(A.sum(1)) - A
    x = x.double()
    return (2.0 / n) * torch.trace(x.t() @ L @ x)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 15), st.integers(0, 40), st.integers(1, 5), st.integers(0, 10_000))
def test_dirichlet_matches_dense_reference(n, e, d, seed):
    ei = random_graph(n, e, seed)
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(seed + 1))
    e_ours = dirichlet_energy(x, ei, sqrt=False).double()
    torch.testing.assert_close(e_ours, dense_reference(x, ei, n), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(dirichlet_energy(x, ei), e_ours.float().sqrt())
    # constant features -> 0; invariant to a constant shift; sqrt-energy scales with |c|
    const = torch.randn(1, d).expand(n, d)
    assert float(dirichlet_energy(const, ei)) == 0.0
    shift = torch.randn(1, d)
    torch.testing.assert_close(dirichlet_energy(x + shift, ei), dirichlet_energy(x, ei),
                               atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(dirichlet_energy(-3 * x, ei), 3 * dirichlet_energy(x, ei),
                               atol=1e-4, rtol=1e-4)


def test_dirichlet_path_graph_by_hand():
    ei = to_undirected(torch.tensor([[0, 1, 2], [1, 2, 3]]))
    x = torch.tensor([[0.0], [1.0], [3.0], [6.0]])
    # edges (0,1),(1,2),(2,3): squared differences 1, 4, 9, each counted twice, / N = 4
    assert float(dirichlet_energy(x, ei, sqrt=False)) == pytest.approx(2 * 14 / 4)
    with pytest.raises(ValueError, match="dirichlet_energy: 'edge_index' holds node ids"):
        dirichlet_energy(x[:2], ei)
    assert float(dirichlet_energy(torch.zeros(0, 3), torch.empty(2, 0, dtype=torch.long))) == 0


def mad_loop(x, mask):
    n = x.size(0)
    d_bar = []
    for i in range(n):
        vals = []
        for j in range(n):
            if mask[i, j]:
                c = torch.nn.functional.cosine_similarity(x[i], x[j], dim=0, eps=1e-8)
                dist = max(float(1 - c), 0.0)
                if dist > 1e-6:
                    vals.append(dist)
        d_bar.append(sum(vals) / len(vals) if vals else 0.0)
    pos = [v for v in d_bar if v > 0]
    return sum(pos) / len(pos) if pos else 0.0


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 9), st.integers(0, 10_000))
def test_mad_matches_loop_and_range(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    mask = torch.rand(n, n, generator=g) < 0.5
    assert float(mad(x, mask)) == pytest.approx(mad_loop(x, mask), abs=1e-5)
    m = float(mad(x))
    assert 0.0 <= m <= 2.0


def test_mad_degenerate_inputs():
    x = torch.randn(1, 4).expand(6, 4)
    assert float(mad(x)) == pytest.approx(0.0, abs=1e-6)
    z = torch.zeros(5, 4)
    assert torch.isfinite(mad(z))
    with pytest.raises(ValueError, match=r"mad: 'mask' must have shape \(5, 5\)"):
        mad(z, torch.ones(4, 4))


def test_hop_distances_and_mad_gap():
    n = 12
    ei = to_undirected(torch.stack([torch.arange(n - 1), torch.arange(1, n)]))
    dist = hop_distances(ei, n)
    i = torch.arange(n, dtype=torch.float64)
    torch.testing.assert_close(dist, (i[:, None] - i[None, :]).abs())
    x = torch.randn(n, 4)
    out = mad_gap(x, ei, near=3, far=8)
    assert set(out) == {"mad_neb", "mad_rmt", "mad_gap"}
    assert out["mad_gap"] == pytest.approx(out["mad_rmt"] - out["mad_neb"])
    with pytest.raises(ValueError, match=r"mad_gap: 'far' must be an int in \[4, inf\)"):
        mad_gap(x, ei, near=3, far=2)


@pytest.mark.parametrize("kind", ["none", "rezero", "hc_dynamic", "jk_max"])
def test_recorder_measure_and_grad_norms(kind, tmp_path):
    torch.manual_seed(0)
    n = 40
    ei = random_graph(n, 120, 0)
    x = torch.randn(n, 5)
    model = DeepGNN(5, 8, 3, 6, residual=kind, norm="layer")
    rec = DiagnosticsRecorder(model)
    data = type("D", (), {"x": x, "edge_index": ei})()
    stats = rec.measure(data)
    assert model.training  # mode restored
    assert stats["depth"] == list(range(7))
    assert len(stats["dirichlet_energy"]) == len(stats["mad"]) == 7
    assert stats["energy_ratio"][0] == pytest.approx(1.0)
    # the recorded energies equal those of a manual layer-by-layer pass
    model.eval()
    h = torch.relu(model.lin_in(x))
    torch.testing.assert_close(torch.tensor(stats["dirichlet_energy"][0]),
                               dirichlet_energy(h, ei), atol=1e-5, rtol=1e-5)
    model.train()
    assert rec.grad_norms()["grad_norm"] == [0.0] * 6
    model(x, ei).sum().backward()
    g = rec.grad_norms()
    assert len(g["grad_norm"]) == 6 and all(v >= 0 for v in g["grad_norm"])
    entry = rec.record(data, step=3)
    json.dumps(entry)
    assert rec.log[-1]["step"] == 3
    path = plot_energy_vs_depth({kind: stats}, str(tmp_path / "e.png"), title="t")
    assert (tmp_path / "e.png").stat().st_size > 0 and path.endswith("e.png")
    plot_energy_vs_depth(stats, str(tmp_path / "single.png"))
    rec.remove()
    model(x, ei)
    assert rec._outputs == []


def test_recorder_errors_and_collapse_signal():
    with pytest.raises(ValueError, match="has no 'blocks'; pass layers"):
        DiagnosticsRecorder(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="'layers' is empty"):
        DiagnosticsRecorder(torch.nn.Linear(2, 2), layers=[])
    # repeated GCN propagation without residuals drives the energy towards 0 on a regular graph
    # (where the GCN fixed point is constant; on irregular graphs it is D^1/2 1, energy > 0)
    torch.manual_seed(0)
    n = 30
    i = torch.arange(n)
    ei = to_undirected(torch.cat([torch.stack([i, (i + k) % n]) for k in (1, 2, 3)], 1))
    model = DeepGNN(4, 8, 2, 32, conv="prop", residual="none", norm="none", act=None)
    stats = DiagnosticsRecorder(model).measure(
        type("D", (), {"x": torch.randn(n, 4), "edge_index": ei})())
    e = stats["dirichlet_energy"]
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(e))
    assert stats["energy_ratio"][-1] < 1e-2

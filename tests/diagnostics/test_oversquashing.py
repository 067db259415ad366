"""Over-squashing measures: effective resistance identities, spectral gap, curvature hand values
and references, sensitivity, and the rewiring report."""
import networkx as nx
import numpy as np
import pytest
import torch
from scipy.optimize import linprog
from torch_geometric.utils import from_networkx

from graphkit.diagnostics import (
    balanced_forman_curvature,
    effective_resistance,
    jacobian_sensitivity,
    ollivier_ricci_curvature,
    propagation_sensitivity,
    rewiring_report,
    spectral_gap,
    total_effective_resistance,
)


def ei_of(G):
    G = nx.convert_node_labels_to_integers(G)
    return from_networkx(G).edge_index, G.number_of_nodes()


# ----------------------------------------------------------------- effective resistance
@pytest.mark.parametrize("dense_threshold", [10_000, 0])
def test_resistance_on_a_path_is_hop_distance(dense_threshold):
    ei, n = ei_of(nx.path_graph(9))
    pairs = torch.tensor([[0, 0, 2, 8], [8, 3, 5, 8]])
    R = effective_resistance(ei, n, pairs, dense_threshold=dense_threshold)
    assert torch.allclose(R, torch.tensor([8.0, 3.0, 3.0, 0.0], dtype=torch.float64), atol=1e-9)


@pytest.mark.parametrize("N", [3, 7, 12])
def test_complete_graph_is_two_over_n(N):
    ei, n = ei_of(nx.complete_graph(N))
    R = effective_resistance(ei, n)
    off = R[~torch.eye(N, dtype=torch.bool)]
    assert torch.allclose(off, torch.full_like(off, 2.0 / N))
    assert np.isclose(total_effective_resistance(ei, n), (N * (N - 1) / 2) * 2.0 / N)


@pytest.mark.parametrize("G", [nx.barbell_graph(5, 3), nx.grid_2d_graph(5, 6),
                               nx.barabasi_albert_graph(60, 2, seed=0),
                               nx.random_labeled_tree(40, seed=1)])
@pytest.mark.parametrize("dense_threshold", [10_000, 0])
def test_foster_theorem(G, dense_threshold):
    """Sum of R over the edges of a connected graph is N - 1 (dense and sparse paths)."""
    ei, n = ei_of(G)
    und = ei[:, ei[0] < ei[1]]
    R = effective_resistance(ei, n, und, dense_threshold=dense_threshold)
    assert np.isclose(float(R.sum()), n - 1)


def test_disconnected_pairs_are_infinite_and_sparse_total_estimates_dense():
    ei, n = ei_of(nx.disjoint_union(nx.path_graph(4), nx.cycle_graph(5)))
    R = effective_resistance(ei, n, torch.tensor([[0, 4], [5, 6]]), dense_threshold=0)
    assert torch.isinf(R[0]) and np.isclose(float(R[1]), 6 / 5)   # pairs (0, 5), (4, 6)
    exact = total_effective_resistance(ei, n)
    assert np.isclose(exact, 10.0 + 5 * (1 * 4 / 5 + 2 * 3 / 5))   # path: sum |i-j|; C5
    est = total_effective_resistance(ei, n, dense_threshold=0, num_probes=400)
    assert abs(est - exact) / exact < 0.15
    with pytest.raises(ValueError, match="pass 'pairs' instead"):
        effective_resistance(ei, n, dense_threshold=2)


# ----------------------------------------------------------------- spectral gap
def test_spectral_gap_values_and_sparse_path():
    ei, n = ei_of(nx.complete_graph(6))
    assert np.isclose(spectral_gap(ei, n), 6 / 5)
    ei, n = ei_of(nx.cycle_graph(20))
    assert np.isclose(spectral_gap(ei, n), 1 - np.cos(2 * np.pi / 20))
    assert np.isclose(spectral_gap(ei, n, dense_threshold=0), 1 - np.cos(2 * np.pi / 20))
    ei, n = ei_of(nx.disjoint_union(nx.path_graph(3), nx.path_graph(3)))
    assert spectral_gap(ei, n) == 0.0


# ----------------------------------------------------------------- curvature
@pytest.mark.parametrize("G,value", [(nx.complete_graph(5), 5 / 4), (nx.complete_graph(3), 3 / 2),
                                     (nx.cycle_graph(4), 1.0), (nx.cycle_graph(5), 0.0),
                                     (nx.cycle_graph(9), 0.0), (nx.path_graph(6), 0.0),
                                     (nx.star_graph(4), 0.0)])
def test_bfc_hand_values(G, value):
    ei, n = ei_of(G)
    assert torch.allclose(balanced_forman_curvature(ei, n), torch.full((ei.size(1),), value,
                                                                       dtype=torch.float64))


def test_bfc_hand_values_mixed():
    """K4 minus an edge (0-1 missing): edge (0,2): d=2,3, one triangle (3):
    2/2 + 2/3 - 2 + 2/3 + 1/2 = 5/6; the bridge of two triangles joined at nodes (2,3): d=3,3,
    no triangle, no 4-cycle: 2/3 + 2/3 - 2 = -2/3; grid interior edges are flat."""
    G = nx.complete_graph(4)
    G.remove_edge(0, 1)
    ei, n = ei_of(G)
    C = balanced_forman_curvature(ei, n)
    k = ((ei[0] == 0) & (ei[1] == 2)).nonzero()[0, 0]
    assert np.isclose(float(C[k]), 5 / 6)
    B = nx.Graph([(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (4, 5), (3, 5)])
    ei, n = ei_of(B)
    C = balanced_forman_curvature(ei, n)
    k = ((ei[0] == 2) & (ei[1] == 3)).nonzero()[0, 0]
    assert np.isclose(float(C[k]), -2 / 3)
    grid = nx.grid_2d_graph(5, 5)
    ei, n = ei_of(grid)
    names = list(grid.nodes())
    C = balanced_forman_curvature(ei, n)
    inner = [(a, b) for a, b in ei.t().tolist()
             if all(0 < c < 4 for c in names[a] + names[b])]
    idx = [i for i, (a, b) in enumerate(ei.t().tolist()) if (a, b) in inner]
    assert torch.allclose(C[idx], torch.zeros(len(idx), dtype=torch.float64), atol=1e-12)


def _bfc_loop(A):
    """Plain-loop Definition 1 (tests only)."""
    n = A.shape[0]
    N = [set(np.nonzero(A[i])[0]) for i in range(n)]
    out = {}
    for i in range(n):
        for j in N[i]:
            di, dj = len(N[i]), len(N[j])
            if min(di, dj) <= 1:
                out[i, j] = 0.0
                continue
            tri = len(N[i] & N[j])
            sqi = {k for k in N[i] - N[j] - {j} if any(w != i and w not in N[i] for w in N[k] & N[j])}
            sqj = {w for w in N[j] - N[i] - {i} if any(k != j and k not in N[j] for k in N[w] & N[i])}
            gam = max([len(N[k] & sqj) for k in sqi] + [len(N[w] & sqi) for w in sqj] + [0])
            c = 2 / di + 2 / dj - 2 + 2 * tri / max(di, dj) + tri / min(di, dj)
            if gam > 0:
                c += (len(sqi) + len(sqj)) / (gam * max(di, dj))
            out[i, j] = c
    return out


@pytest.mark.parametrize("seed", range(4))
def test_bfc_matches_loop_reference(seed):
    G = nx.gnp_random_graph(25, 0.2, seed=seed)
    ei, n = ei_of(G)
    A = nx.to_numpy_array(nx.convert_node_labels_to_integers(G))
    ref = _bfc_loop(A)
    C = balanced_forman_curvature(ei, n)
    assert np.allclose(C.numpy(), [ref[i, j] for i, j in ei.t().tolist()])


def _sdrf_kernel_loop(A, buggy):
    """Port of the released numba kernel; ``buggy`` keeps its ``break`` (tests only)."""
    N = A.shape[0]
    A2 = A @ A
    d_in, d_out = A.sum(0), A.sum(1)
    C = np.zeros((N, N))
    for i in range(N):
        for j in range(N):
            if A[i, j] == 0:
                C[i, j] = 0
                if buggy:
                    break
                continue
            d_max, d_min = (d_in[i], d_out[j]) if d_in[i] > d_out[j] else (d_out[j], d_in[i])
            if d_max * d_min == 0:
                C[i, j] = 0
                if buggy:
                    break
                continue
            sharp, lam = 0, 0
            for k in range(N):
                for t in (A[k, j] * (A2[i, k] - A[i, k]) * A[i, j],
                          A[i, k] * (A2[k, j] - A[k, j]) * A[i, j]):
                    if t > 0:
                        sharp += 1
                        lam = max(lam, t)
            C[i, j] = 2 / d_max + 2 / d_min - 2 + (2 / d_max + 1 / d_min) * A2[i, j] * A[i, j]
            if lam > 0:
                C[i, j] += sharp / (d_max * lam)
    return C


def test_sdrf_kernel_fixed_and_buggy():
    """kind='sdrf_kernel' equals the released kernel with `continue`; the `break` version
    differs exactly on edges that follow a non-edge in their row (left at 0)."""
    G = nx.gnp_random_graph(20, 0.25, seed=3)
    ei, n = ei_of(G)
    A = nx.to_numpy_array(nx.convert_node_labels_to_integers(G))
    fixed, buggy = _sdrf_kernel_loop(A, False), _sdrf_kernel_loop(A, True)
    ours = balanced_forman_curvature(ei, n, kind="sdrf_kernel").numpy()
    r, c = ei.numpy()
    assert np.allclose(ours, fixed[r, c])
    first_gap = np.array([np.argmin(A[i]) if (A[i] == 0).any() else n for i in range(n)])
    skipped = c > first_gap[r]
    assert skipped.any() and np.allclose(buggy[r[skipped], c[skipped]], 0.0)
    assert not np.allclose(buggy[r, c], fixed[r, c])
    assert np.allclose(buggy[r[~skipped], c[~skipped]], fixed[r[~skipped], c[~skipped]])


def _orc_lp(G, x, y):
    """Exact W1 by linear programming (tests only), alpha = 0."""
    sx, sy = list(G[x]), list(G[y])
    D = dict(nx.all_pairs_shortest_path_length(G))
    cost = np.array([[D[u][v] for v in sy] for u in sx], dtype=float)
    a, b = np.full(len(sx), 1 / len(sx)), np.full(len(sy), 1 / len(sy))
    m, k = cost.shape
    Aeq = np.zeros((m + k, m * k))
    for i in range(m):
        Aeq[i, i * k:(i + 1) * k] = 1
    for j in range(k):
        Aeq[m + j, j::k] = 1
    res = linprog(cost.ravel(), A_eq=Aeq, b_eq=np.concatenate([a, b]), bounds=(0, None))
    return 1 - res.fun


@pytest.mark.parametrize("G", [nx.complete_graph(6), nx.cycle_graph(4), nx.cycle_graph(7),
                               nx.path_graph(5), nx.gnp_random_graph(18, 0.25, seed=5),
                               nx.barbell_graph(4, 2)])
def test_orc_matches_linear_programming(G):
    ei, n = ei_of(G)
    G = nx.convert_node_labels_to_integers(G)
    k = ollivier_ricci_curvature(ei, n)
    ref = [_orc_lp(G, x, y) for x, y in ei.t().tolist()]
    assert np.allclose(k.numpy(), ref, atol=5e-3)
    if nx.is_isomorphic(G, nx.complete_graph(6)):
        assert np.allclose(k.numpy(), 4 / 5, atol=1e-3)


# ----------------------------------------------------------------- sensitivity and report
def test_jacobian_sensitivity_vanishes_beyond_depth():
    from torch_geometric.nn import GCN
    ei, n = ei_of(nx.path_graph(10))
    torch.manual_seed(0)
    model = GCN(3, 8, 2, out_channels=4)
    x = torch.randn(n, 3)
    f = lambda x, ei: model(x, ei)
    assert jacobian_sensitivity(f, x, ei, r=2) > 0
    assert jacobian_sensitivity(f, x, ei, r=3) == 0.0


def test_laser_raises_propagation_sensitivity_on_a_path():
    from graphkit.transforms import LASER
    ei, n = ei_of(nx.path_graph(30))
    from torch_geometric.data import Data
    out = LASER(num_snapshots=3, additions_factor=0.5)(Data(edge_index=ei, num_nodes=n))
    for r in (3, 4, 5):     # at r = 2 the higher degrees dilute the normalisation more
        assert propagation_sensitivity(out.edge_index, n, r, reference=ei) > \
            propagation_sensitivity(ei, n, r) > 0
    assert total_effective_resistance(out.edge_index, n) < total_effective_resistance(ei, n)
    assert spectral_gap(out.edge_index, n) > spectral_gap(ei, n)


def test_rewiring_report_on_synthetic_graphs():
    rep = rewiring_report("random-graphs", "laser", max_graphs=3)
    assert rep["graphs"] == 3 and rep["transform"].startswith("LASER(")
    b, a = rep["before"], rep["after"]
    for k in ("num_edges", "total_resistance", "spectral_gap", "bfc_mean", "orc_min",
              "sensitivity_r2"):
        assert k in b and k in a
    assert a["num_edges"] > b["num_edges"]
    assert a["total_resistance"] < b["total_resistance"]
    assert a["sensitivity_r3"] > b["sensitivity_r3"]
    rep = rewiring_report("random-graphs", {"name": "fosr", "num_iterations": 3}, max_graphs=2)
    assert rep["after"]["num_edges"] == rep["before"]["num_edges"] + 6

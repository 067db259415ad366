"""Random walks: follow edges, uniform when p = q = 1, node2vec bias exact and directional."""
import pytest
import torch
from scipy.stats import chisquare
from torch_geometric.utils import to_undirected

from graphkit.registry import SAMPLERS
from graphkit.sampling import RandomWalkSampler, build_csr, random_walk


def graph(n=60, e=240, seed=0):
    g = torch.Generator().manual_seed(seed)
    return to_undirected(torch.randint(n, (2, e), generator=g), num_nodes=n)


@pytest.mark.parametrize("p,q", [(1.0, 1.0), (0.25, 4.0), (4.0, 0.25)])
def test_walks_only_follow_existing_edges(p, q):
    ei = graph()
    rowptr, col, _ = build_csr(ei, 60)
    torch.manual_seed(0)
    w = random_walk(rowptr, col, torch.arange(60).repeat(5), 12, p, q)
    assert w.shape == (300, 13) and torch.equal(w[:, 0], torch.arange(60).repeat(5))
    edges = set(map(tuple, ei.t().tolist()))
    deg = rowptr[1:] - rowptr[:-1]
    for a, b in zip(w[:, :-1].reshape(-1).tolist(), w[:, 1:].reshape(-1).tolist()):
        assert (a, b) in edges or (a == b and deg[a] == 0)


def test_dead_end_walkers_stay():
    rowptr, col, _ = build_csr(torch.tensor([[0], [1]]), 3)
    w = random_walk(rowptr, col, torch.tensor([0, 2]), 3, p=0.5, q=2.0)
    assert w.tolist() == [[0, 1, 1, 1], [2, 2, 2, 2]]


def test_uniform_transitions_when_p_q_one():
    """From a hub with 10 neighbors every neighbor is equally likely (chi-square)."""
    hub = torch.stack([torch.zeros(10, dtype=torch.long), torch.arange(1, 11)])
    ei = to_undirected(torch.cat([hub, torch.tensor([[1, 2], [2, 3]])], 1))
    rowptr, col, _ = build_csr(ei, 11)
    torch.manual_seed(0)
    w = random_walk(rowptr, col, torch.zeros(20000, dtype=torch.long), 2)
    counts = torch.bincount(w[:, 1], minlength=11)
    assert counts[0] == 0 and chisquare(counts[1:].numpy()).pvalue > 1e-3
    # second step from node 1 (neighbors 0, 2) is also uniform with p = q = 1
    at1 = w[w[:, 1] == 1, 2]
    assert chisquare(torch.bincount(at1, minlength=3)[[0, 2]].numpy()).pvalue > 1e-3


@pytest.mark.parametrize("p,q", [(0.25, 4.0), (4.0, 0.25), (1.0, 1.0), (0.5, 0.5)])
def test_node2vec_second_order_probabilities_are_exact(p, q):
    """Walk t=0 -> v=1: next is 0 (1/p), 2 (neighbor of t: 1) or 3, 4 (1/q), normalised."""
    ei = to_undirected(torch.tensor([[0, 0, 1, 1, 1], [1, 2, 2, 3, 4]]))
    rowptr, col, _ = build_csr(ei, 5)
    torch.manual_seed(1)
    w = random_walk(rowptr, col, torch.zeros(40000, dtype=torch.long), 2, p=p, q=q)
    nxt = w[w[:, 1] == 1, 2]
    counts = torch.bincount(nxt, minlength=5)[[0, 2, 3, 4]]
    alpha = torch.tensor([1 / p, 1.0, 1 / q, 1 / q], dtype=torch.float64)
    expected = alpha / alpha.sum() * counts.sum().item()
    assert chisquare(counts.numpy(), expected.numpy()).pvalue > 1e-3


def _rates(p, q):
    ei = graph(n=200, e=800, seed=3)
    rowptr, col, _ = build_csr(ei, 200)
    torch.manual_seed(2)
    w = random_walk(rowptr, col, torch.arange(200).repeat(20), 10, p, q)
    t, x = w[:, :-2].reshape(-1), w[:, 2:].reshape(-1)
    returns = (t == x).float().mean()
    keys = set(map(tuple, ei.t().tolist()))
    far = torch.tensor([(a != b) and (a, b) not in keys for a, b in zip(t.tolist(), x.tolist())])
    return float(returns), float(far.float().mean())


def test_small_p_returns_more_and_small_q_moves_outward():
    ret_base, far_base = _rates(1.0, 1.0)
    ret_small_p, _ = _rates(0.1, 1.0)
    _, far_small_q = _rates(1.0, 0.1)
    assert ret_small_p > 2 * ret_base
    assert far_small_q > far_base + 0.05


def test_argument_errors():
    rowptr, col, _ = build_csr(graph(), 60)
    with pytest.raises(ValueError, match="'p' must be a number in \\(0.0, inf\\)"):
        random_walk(rowptr, col, torch.arange(3), 3, p=0.0)
    with pytest.raises(ValueError, match="'start' holds ids in \\[0, 60\\]"):
        random_walk(rowptr, col, torch.tensor([0, 60]), 3)


def test_sampler_registry_and_repr():
    s = SAMPLERS.build("random_walk", graph(), p=0.5, q=2.0)
    assert isinstance(s, RandomWalkSampler)
    assert repr(s) == "RandomWalkSampler(num_nodes=60, p=0.5, q=2.0)"
    assert s(torch.arange(4), 5).shape == (4, 6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_walks_follow_edges():
    ei = graph()
    s = RandomWalkSampler(ei.cuda(), 60, p=0.5, q=2.0)
    w = s(torch.arange(60, device="cuda"), 8).cpu()
    edges = set(map(tuple, ei.t().tolist()))
    assert all((a, b) in edges for a, b in zip(w[:, :-1].reshape(-1).tolist(),
                                               w[:, 1:].reshape(-1).tolist()))

"""CSC / CSR layouts: slot order, temporal keys, weights, errors."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.sampling.csr import CSC, build_csr


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 20), st.integers(0, 60), st.integers(0, 2**31 - 1))
def test_csc_groups_in_edges_and_keeps_order(n, e, seed):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(n, (2, e), generator=g)
    c = CSC.from_edge_index(ei, n, n)
    assert torch.equal(c.colptr.diff(), torch.bincount(ei[1], minlength=n))
    assert torch.equal(c.row, ei[0, c.perm])
    for v in range(n):  # slots of v are its in-edges in input order
        assert c.perm[c.colptr[v]:c.colptr[v + 1]].tolist() == (ei[1] == v).nonzero().view(-1).tolist()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 15), st.integers(0, 50), st.integers(0, 2**31 - 1))
def test_temporal_key_counts_neighbors_up_to_a_time(n, e, seed):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(n, (2, e), generator=g)
    t = torch.randint(0, 6, (n,), generator=g).double() / 2
    c = CSC.from_edge_index(ei, n, n, src_node_time=t)
    R = c.time_values.numel()
    for v in range(n):
        for s in [-1.0, 0.0, 1.0, 1.5, 9.0]:
            r = torch.searchsorted(c.time_values, torch.tensor(s, dtype=torch.float64), right=True)
            end = int(torch.searchsorted(c.time_key, v * (R + 1) + r, right=True))
            slots = range(int(c.colptr[v]), end)
            want = int(((ei[1] == v) & (t[ei[0]] <= s)).sum())
            assert len(slots) == want and all(t[c.row[i]] <= s for i in slots)


def test_weights_and_errors():
    ei = torch.tensor([[0, 1, 2], [1, 1, 0]])
    c = CSC.from_edge_index(ei, 3, 3, edge_weight=torch.tensor([1.0, 2.0, 3.0]))
    assert c.cum_weight.tolist() == [0.0, 3.0, 4.0, 6.0] and c.weight.dtype == torch.float64
    with pytest.raises(ValueError, match="edge weights must be >= 0"):
        CSC.from_edge_index(ei, 3, 3, edge_weight=torch.tensor([1.0, -2.0, 3.0]))
    with pytest.raises(ValueError, match="'is_sorted=True' but the edges are not sorted"):
        CSC.from_edge_index(ei, 3, 3, is_sorted=True)
    with pytest.raises(ValueError, match="outside"):
        CSC.from_edge_index(ei, 2, 3)
    with pytest.raises(ValueError, match="either a node time or an edge time"):
        CSC.from_edge_index(ei, 3, 3, src_node_time=torch.zeros(3), edge_time=torch.zeros(3))
    assert repr(c) == "CSC(num_src=3, num_dst=3, num_edges=3, weighted, device=cpu)"


def test_build_csr_sorted_keys():
    ei = torch.tensor([[2, 0, 0, 1], [0, 2, 1, 2]])
    rowptr, col, perm = build_csr(ei, 3)
    assert rowptr.tolist() == [0, 2, 3, 4] and col.tolist() == [1, 2, 2, 0]
    assert torch.equal(ei[1, perm], col)

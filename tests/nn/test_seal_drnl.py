"""DRNL labels (table values, BFS distances vs networkx) and the SEAL head's edge cases."""
import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from graphkit.nn.link import SEALHead, enclosing_subgraphs
from graphkit.nn.link.seal import drnl_from_distances, drnl_labels, subgraph_distances


def test_drnl_table():
    d_i = torch.tensor([0, 1, 1, 2, 1, 3, 2, 1, 2, 3, -1, 2])
    d_j = torch.tensor([3, 0, 1, 1, 2, 1, 2, 3, 3, 3, 2, -1])
    want = [1, 1, 2, 3, 3, 4, 5, 4, 7, 10, 0, 0]
    assert drnl_from_distances(d_i, d_j).tolist() == want
    assert torch.equal(drnl_from_distances(d_i, d_j), drnl_from_distances(d_j, d_i))


def test_drnl_is_a_perfect_hash_of_unordered_distance_pairs():
    pairs = [(a, b) for a in range(1, 8) for b in range(a, 8)]
    d = torch.tensor(pairs)
    labels = drnl_from_distances(d[:, 0], d[:, 1])
    assert labels.unique().numel() == len(pairs)


@settings(max_examples=12, deadline=None)
@given(n=st.integers(2, 20), m=st.integers(0, 50), seed=st.integers(0, 10_000),
       candidate=st.sampled_from(["add", "remove"]))
def test_distances_match_networkx_without_the_other_end_node(n, m, seed, candidate):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, m), generator=g)
    ei = to_undirected(ei[:, ei[0] != ei[1]], num_nodes=n)
    u = torch.randint(0, n, (3,), generator=g)
    pairs = torch.stack([u, (u + torch.randint(1, n, (3,), generator=g)) % n])
    sub = enclosing_subgraphs(ei, n, pairs, 2, candidate=candidate)
    dist = subgraph_distances(sub)
    for k in range(3):
        sel = (sub.batch == k).nonzero().view(-1)
        keep = (sub.edge_batch == k) & ~sub.cand_mask
        local = sub.edge_index[:, keep] - int(sub.ptr[k])
        gr = nx.Graph()
        gr.add_nodes_from(range(sel.numel()))
        gr.add_edges_from(local.t().tolist())
        for col, (src, drop) in enumerate(((0, 1), (1, 0))):
            h = gr.copy()
            h.remove_node(drop)
            ref = nx.single_source_shortest_path_length(h, src)
            for v in range(sel.numel()):
                want = 0 if v == src else (-1 if v == drop else ref.get(v, -1))
                assert int(dist[sel[v], col]) == want


def test_labels_of_a_path():
    # 0 - 2 - 3 - 1 with candidate (0, 1): d(2) = (1, 2) -> 3, d(3) = (2, 1) -> 3
    ei = to_undirected(torch.tensor([[0, 2, 3], [2, 3, 1]]), num_nodes=4)
    sub = enclosing_subgraphs(ei, 4, torch.tensor([[0], [1]]), 2, candidate="remove")
    lab = dict(zip(sub.node_id.tolist(), drnl_labels(sub).tolist()))
    assert lab == {0: 1, 1: 1, 2: 3, 3: 3}
    # the direct edge is ignored: a training positive is labelled like a test candidate
    ei2 = to_undirected(torch.tensor([[0, 2, 3, 0], [2, 3, 1, 1]]), num_nodes=4)
    sub2 = enclosing_subgraphs(ei2, 4, torch.tensor([[0], [1]]), 2, candidate="add")
    assert dict(zip(sub2.node_id.tolist(), drnl_labels(sub2).tolist())) == lab


@pytest.mark.parametrize("pooling", ["sort", "sum", "center"])
def test_seal_head_edge_cases(pooling):
    torch.manual_seed(0)
    ei = to_undirected(torch.tensor([[0, 1, 2], [1, 2, 3]]), num_nodes=7)
    g, z = Data(edge_index=ei, num_nodes=7), torch.ones(7, 1)
    head = SEALHead(1, pooling=pooling, sort_k=10).eval()
    pairs = torch.tensor([[5, 5, 0, 0], [6, 6, 1, 3]])  # isolated twice, a train edge, 2 hops
    out = head(z, pairs, g)
    assert out.shape == (4,) and torch.isfinite(out).all() and out[0] == out[1]
    # invariant to swapping the end nodes
    torch.testing.assert_close(head(z, pairs.flip(0), g), out)
    with pytest.raises(ValueError, match="self-pair"):
        head(z, torch.tensor([[2], [2]]), g)
    with pytest.raises(ValueError, match="pooling"):
        SEALHead(1, pooling="max")
    head.train()
    head(z, pairs, g).sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in head.parameters() if p.grad is not None)

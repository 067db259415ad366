"""Batched enclosing-subgraph extraction: parity with PyG's per-link k_hop_subgraph, candidate
handling, caps, bad input, and no test-edge leakage through LinkTask."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.utils import k_hop_subgraph, to_undirected

from graphkit.nn.link import enclosing_subgraphs


def _graph(n, m, seed):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, m), generator=g)
    ei = to_undirected(ei[:, ei[0] != ei[1]], num_nodes=n)
    return ei


def _pairs(n, b, seed):
    g = torch.Generator().manual_seed(seed + 1)
    u = torch.randint(0, n, (b,), generator=g)
    v = (u + torch.randint(1, n, (b,), generator=g)) % n
    return torch.stack([u, v])


def _global_edges(sub, b, mask=None):
    sel = sub.edge_batch == b
    if mask is not None:
        sel &= mask
    e = sub.node_id[sub.edge_index[:, sel]]
    return {tuple(x) for x in e.t().tolist()}


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 25), m=st.integers(0, 60), b=st.integers(1, 6), hops=st.integers(1, 3),
       seed=st.integers(0, 10_000), candidate=st.sampled_from(["add", "remove"]))
def test_matches_pyg_k_hop_subgraph_per_link(n, m, b, hops, seed, candidate):
    ei, pairs = _graph(n, m, seed), _pairs(n, b, seed)
    sub = enclosing_subgraphs(ei, n, pairs, hops, candidate=candidate)
    assert torch.equal(sub.batch, torch.sort(sub.batch).values)
    for k in range(b):
        i, j = pairs[:, k].tolist()
        nodes, sei, _, _ = k_hop_subgraph(pairs[:, k], hops, ei, num_nodes=n)
        got = sub.node_id[sub.batch == k]
        assert sorted(got.tolist()) == sorted(nodes.tolist())
        assert got[:2].tolist() == [i, j]  # end nodes first
        assert sub.center[:, k].tolist() == [int(sub.ptr[k]), int(sub.ptr[k]) + 1]
        want = {tuple(x) for x in sei.t().tolist()}
        want -= {(i, j), (j, i)}
        if candidate == "add":
            want |= {(i, j), (j, i)}
            assert _global_edges(sub, k, sub.cand_mask) == {(i, j), (j, i)}
        assert _global_edges(sub, k) == want
        # the candidate never appears in its own "without" graph
        assert not ({(i, j), (j, i)} & _global_edges(sub, k, ~sub.cand_mask))
    assert int(sub.cand_mask.sum()) == (2 * b if candidate == "add" else 0)


@settings(max_examples=8, deadline=None)
@given(n=st.integers(3, 30), m=st.integers(5, 80), seed=st.integers(0, 10_000))
def test_hop_is_bfs_distance_to_the_pair(n, m, seed):
    import networkx as nx
    ei, pairs = _graph(n, m, seed), _pairs(n, 3, seed)
    sub = enclosing_subgraphs(ei, n, pairs, 3)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(ei.t().tolist())
    for k in range(3):
        d = nx.multi_source_dijkstra_path_length(g, pairs[:, k].tolist())
        sel = sub.batch == k
        for v, h in zip(sub.node_id[sel].tolist(), sub.hop[sel].tolist()):
            assert d[v] == h


def test_max_nodes_per_hop_caps_every_hop_and_is_a_subset():
    ei, pairs = _graph(60, 400, 3), _pairs(60, 8, 3)
    full = enclosing_subgraphs(ei, 60, pairs, 2)
    cap = enclosing_subgraphs(ei, 60, pairs, 2, max_nodes_per_hop=3,
                              generator=torch.Generator().manual_seed(0))
    for k in range(8):
        for h in (1, 2):
            assert int(((cap.batch == k) & (cap.hop == h)).sum()) <= 3
        assert set(cap.node_id[cap.batch == k].tolist()) <= set(full.node_id[full.batch == k].tolist())
    assert cap.num_nodes < full.num_nodes


def test_isolated_end_nodes_and_duplicates():
    ei = torch.tensor([[0, 1], [1, 0]])
    pairs = torch.tensor([[2, 2, 0], [3, 3, 1]])  # 2, 3 isolated; a duplicate; a train edge
    sub = enclosing_subgraphs(ei, 4, pairs, 2)
    assert sub.ptr.tolist() == [0, 2, 4, 6]
    assert _global_edges(sub, 0) == {(2, 3), (3, 2)} == _global_edges(sub, 1)
    assert _global_edges(sub, 2) == {(0, 1), (1, 0)}  # the train edge only as the candidate
    assert int(sub.cand_mask.sum()) == 6 and int((~sub.cand_mask).sum()) == 0


def test_bad_input_raises_clear_errors():
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="self-pair"):
        enclosing_subgraphs(ei, 3, torch.tensor([[0, 2], [1, 2]]), 2)
    with pytest.raises(ValueError, match="edge_label_index"):
        enclosing_subgraphs(ei, 3, torch.tensor([[0], [5]]), 2)
    with pytest.raises(ValueError, match="candidate"):
        enclosing_subgraphs(ei, 3, torch.tensor([[0], [1]]), 2, candidate="keep")
    with pytest.raises(ValueError, match="num_hops"):
        enclosing_subgraphs(ei, 3, torch.tensor([[0], [1]]), -1)


def test_test_edges_never_appear_in_training_subgraphs(tmp_path):
    from graphkit.config import from_dict
    from graphkit.data import load
    from graphkit.train.tasks import make_task
    data, spec = load("random-link")
    cfg = from_dict({"name": "t", "out_dir": str(tmp_path),
                     "train": {"loader": "links", "batch_size": 64}})
    task = make_task(data, spec, 0, cfg, torch.device("cpu"), 0)
    n = task.graph.num_nodes
    held = torch.cat([task.pairs["val"][0], task.pairs["test"][0]], 1)
    held_keys = torch.cat([held[0] * n + held[1], held[1] * n + held[0]])
    train = torch.cat([p[:, :150] for p in task.pairs["train"]], 1)  # positives + negatives
    sub = enclosing_subgraphs(task.graph.edge_index, n, train, 2)
    e = sub.node_id[sub.edge_index]
    assert not torch.isin(e[0] * n + e[1], held_keys).any()
    # a test candidate is present only as its own flagged copies
    sub = enclosing_subgraphs(task.graph.edge_index, n, task.pairs["test"][0][:, :150], 2)
    e = sub.node_id[sub.edge_index]
    assert torch.equal(torch.isin(e[0] * n + e[1], held_keys), sub.cand_mask)

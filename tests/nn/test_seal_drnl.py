"""DRNL labels (table values, BFS distances vs networkx) and the SEAL head's edge cases."""
import math

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


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("q", [0.1, 0.6, 1.0])
def test_sort_k_percentile_matches_per_link_khop(seed, q):
    from torch_geometric.utils import k_hop_subgraph, to_undirected

    from graphkit.nn.link import sort_k_percentile
    g = torch.Generator().manual_seed(seed)
    n = 40
    ei = to_undirected(torch.randint(0, n, (2, 70), generator=g), num_nodes=n)
    ei = ei[:, ei[0] != ei[1]]
    links = torch.randint(0, n, (2, 30), generator=g)
    links = links[:, links[0] != links[1]]
    sizes = sorted(k_hop_subgraph(links[:, b], 2, ei, num_nodes=n)[0].numel()
                   for b in range(links.size(1)))                 # naive: one BFS per link
    want = max(3, sizes[math.ceil(q * len(sizes)) - 1])
    assert sort_k_percentile(ei, n, links, 2, percentile=q, min_k=3, chunk_size=7) == want


def test_sort_k_percentile_rejects_bad_input():
    from graphkit.nn.link import sort_k_percentile
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="'percentile' must be in"):
        sort_k_percentile(ei, 2, torch.tensor([[0], [1]]), percentile=1.5)
    with pytest.raises(ValueError, match="'links' must be a non-empty"):
        sort_k_percentile(ei, 2, torch.empty(2, 0, dtype=torch.long))


def test_trainer_resolves_fractional_sort_k_from_training_links(tmp_path):
    """``head_kwargs.sort_k: 0.6`` becomes SEAL's 60th-percentile subgraph size, an integer."""
    from graphkit.config import from_dict
    from graphkit.data import load
    from graphkit.nn.link import sort_k_percentile
    from graphkit.train.tasks import make_task
    data, spec = load("random-link")
    cfg = from_dict({"name": "t", "out_dir": str(tmp_path),
                     "model": {"name": "identity", "input_encoder": "ones", "head": "seal",
                               "head_kwargs": {"in_channels": 1, "sort_k": 0.6,
                                               "num_hops": 1}},
                     "train": {"loader": "links", "batch_size": 64}})
    task = make_task(data, spec, 0, cfg, torch.device("cpu"), 0)
    head = task.build_model().head
    want = sort_k_percentile(task.graph.edge_index, task.graph.num_nodes,
                             torch.cat(task.pairs["train"], 1), 1, percentile=0.6)
    assert isinstance(head.sort_k, int) and head.sort_k == want >= 10
    assert cfg.model.head_kwargs["sort_k"] == 0.6                    # the config is not mutated

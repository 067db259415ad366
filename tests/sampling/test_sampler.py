"""GraphkitNeighborSampler as a PyG BaseSampler: batch contents, properties, errors."""
import pytest
import torch
from scipy.stats import chisquare
from torch_geometric.data import Data, HeteroData
from torch_geometric.loader import LinkLoader, NodeLoader
from torch_geometric.sampler import NegativeSampling
from torch_geometric.utils import coalesce, subgraph

from graphkit.registry import SAMPLERS
from graphkit.sampling import GraphkitNeighborSampler, available_backends


def make_graph(n=300, e=2400, seed=0, **extra):
    g = torch.Generator().manual_seed(seed)
    ei = coalesce(torch.randint(n, (2, e), generator=g), num_nodes=n)  # no parallel edges
    e = ei.size(1)
    return Data(x=torch.randn(n, 8, generator=g), y=torch.randint(3, (n,), generator=g),
                edge_index=ei, edge_attr=torch.randn(e, 2, generator=g), **extra)


def batches(data, seeds, fan=(5, 3), batch_size=32, **kw):
    sampler = GraphkitNeighborSampler(data, list(fan), **kw)
    return list(NodeLoader(data, node_sampler=sampler, input_nodes=seeds, batch_size=batch_size))


def check_batch(data, b, fan, seeds, replace=False):
    # every sampled edge exists, with its features
    assert torch.equal(data.edge_index[:, b.e_id], b.n_id[b.edge_index])
    assert torch.equal(data.edge_attr[b.e_id], b.edge_attr)
    assert torch.equal(data.x[b.n_id], b.x)
    # seeds come first and are all present
    assert torch.equal(b.n_id[:b.batch_size], seeds[b.input_id])
    assert b.num_sampled_nodes[0] == b.batch_size
    assert sum(b.num_sampled_nodes) == b.num_nodes
    assert sum(b.num_sampled_edges) == b.edge_index.size(1)
    # per hop: destinations are the previous hop's nodes, fan-outs respected, no duplicates
    ns = torch.tensor([0] + b.num_sampled_nodes).cumsum(0)
    es = torch.tensor([0] + b.num_sampled_edges).cumsum(0)
    for hop, k in enumerate(fan):
        src, dst = b.edge_index[:, es[hop]:es[hop + 1]]
        assert bool(((dst >= ns[hop]) & (dst < ns[hop + 1])).all())
        assert torch.bincount(dst).max() <= k if dst.numel() else True
        if not replace:  # no duplicate neighbor of one node within a hop
            pair = dst * b.num_nodes + src
            assert pair.unique().numel() == pair.numel()
        # new nodes of hop+1 are exactly the not-yet-seen sources of this hop
        assert bool((src < ns[hop + 2]).all())


@pytest.mark.parametrize("replace", [False, True])
def test_node_batches_are_valid_subgraphs(replace):
    data = make_graph()
    seeds = torch.randperm(300, generator=torch.Generator().manual_seed(0))[:100]
    for b in batches(data, seeds, replace=replace):
        check_batch(data, b, (5, 3), seeds, replace)
    assert b.n_id.unique().numel() == b.n_id.numel()  # non-disjoint: nodes are unique


def test_full_fanout_takes_every_in_edge():
    data = make_graph(n=50, e=200)
    (b,) = batches(data, torch.arange(5), fan=(-1,), batch_size=5)
    assert sorted(b.e_id.tolist()) == torch.isin(data.edge_index[1], torch.arange(5)).nonzero().view(-1).tolist()


def test_sampling_without_replacement_has_no_duplicate_neighbors_on_multigraph():
    """Parallel edges are distinct edges; a node's k draws never repeat one edge."""
    ei = torch.tensor([[1, 1, 1, 2, 3, 4], [0, 0, 0, 0, 0, 0]])
    data = Data(edge_index=ei, num_nodes=5)
    torch.manual_seed(0)
    for _ in range(20):
        (b,) = batches(data, torch.tensor([0]), fan=(4,), batch_size=1)
        assert b.e_id.unique().numel() == 4


def test_uniform_on_star_graph_chi_square():
    """Center with 20 leaves, fan-out 5: each leaf is drawn 1/4 of the time."""
    leaves = torch.arange(1, 21)
    data = Data(edge_index=torch.stack([leaves, torch.zeros(20, dtype=torch.long)]), num_nodes=21)
    sampler = GraphkitNeighborSampler(data, [5])
    torch.manual_seed(0)
    # 2000 copies of the center as seeds: every copy draws its own 5 leaves (5 edges)
    loader = NodeLoader(data, node_sampler=sampler, input_nodes=torch.zeros(2000, dtype=torch.long),
                        batch_size=2000)
    (b,) = list(loader)
    counts = torch.bincount(b.n_id[b.edge_index[0]], minlength=21)
    assert counts[0] == 0 and counts[1:].sum() == 2000 * 5
    assert torch.equal(torch.bincount(b.edge_index[1], minlength=2000), torch.full((2000,), 5))
    assert chisquare(counts[1:].numpy()).pvalue > 1e-3


def test_weighted_sampling_follows_edge_weight():
    leaves = torch.arange(1, 5)
    w = torch.tensor([1.0, 2.0, 3.0, 0.0])
    data = Data(edge_index=torch.stack([leaves, torch.zeros(4, dtype=torch.long)]), num_nodes=5, w=w)
    sampler = GraphkitNeighborSampler(data, [1], weight_attr="w")
    torch.manual_seed(0)
    out = sampler._sample(torch.zeros(3000, dtype=torch.long))
    counts = torch.bincount(out.node[out.row], minlength=5)
    assert counts[4] == 0
    assert chisquare(counts[1:4].numpy(), (w[:3] / 6 * 3000).numpy()).pvalue > 1e-3


def test_reproducible_under_seed():
    data = make_graph()
    seeds = torch.arange(64)
    torch.manual_seed(7); a = batches(data, seeds)
    torch.manual_seed(7); b = batches(data, seeds)
    torch.manual_seed(8); c = batches(data, seeds)
    assert all(torch.equal(x.n_id, y.n_id) and torch.equal(x.e_id, y.e_id) for x, y in zip(a, b))
    assert not all(torch.equal(x.e_id, y.e_id) for x, y in zip(a, c))


def test_disjoint_gives_one_subgraph_per_seed():
    data = make_graph()
    seeds = torch.tensor([5, 5, 9, 17])
    (b,) = batches(data, seeds, disjoint=True, batch_size=4)
    assert torch.equal(b.batch[:4], torch.arange(4))
    assert torch.equal(data.edge_index[:, b.e_id], b.n_id[b.edge_index])
    assert torch.equal(b.batch[b.edge_index[0]], b.batch[b.edge_index[1]])  # no cross edges
    key = b.batch * 1000 + b.n_id
    assert key.unique().numel() == key.numel()


@pytest.mark.parametrize("level", ["node", "edge"])
@pytest.mark.parametrize("strategy", ["uniform", "last"])
def test_temporal_constraint_holds_for_every_node_and_edge(level, strategy):
    data = make_graph()
    g = torch.Generator().manual_seed(1)
    if level == "node":
        data.time = torch.randint(0, 50, (300,), generator=g)
    else:
        data.etime = torch.randint(0, 50, (data.num_edges,), generator=g)
    attr = "time" if level == "node" else "etime"
    seeds = torch.arange(40)
    stime = torch.randint(0, 50, (40,), generator=g)
    sampler = GraphkitNeighborSampler(data, [4, 3], time_attr=attr, temporal_strategy=strategy)
    assert sampler.disjoint and sampler.is_temporal
    loader = NodeLoader(data, node_sampler=sampler, input_nodes=seeds, input_time=stime,
                        batch_size=16)
    for b in loader:
        root_time = b.seed_time[b.batch]
        hop_nodes = torch.arange(b.batch_size, b.num_nodes)
        if level == "node":
            assert bool((data.time[b.n_id[hop_nodes]] <= root_time[hop_nodes]).all())
        else:
            assert bool((data.etime[b.e_id] <= root_time[b.edge_index[1]]).all())
        assert torch.equal(b.batch[b.edge_index[0]], b.batch[b.edge_index[1]])


def test_temporal_last_takes_most_recent():
    leaves = torch.arange(1, 7)
    data = Data(edge_index=torch.stack([leaves, torch.zeros(6, dtype=torch.long)]), num_nodes=7,
                time=torch.tensor([100, 1, 2, 3, 4, 5, 6]))
    s = GraphkitNeighborSampler(data, [2], time_attr="time", temporal_strategy="last")
    out = s._sample(torch.tensor([0]), torch.tensor([4]))
    assert sorted(out.node[1:].tolist()) == [3, 4]


def test_seed_time_defaults_to_node_time():
    """Without input_time each seed's own time bounds its subgraph (time = node id here)."""
    data = make_graph(time=torch.arange(300))
    s = GraphkitNeighborSampler(data, [10, 10], time_attr="time")
    (b,) = list(NodeLoader(data, node_sampler=s, input_nodes=torch.tensor([50, 150]), batch_size=2))
    assert bool((b.n_id <= b.n_id[:2][b.batch]).all()) and b.num_nodes > 2


def make_hetero():
    g = torch.Generator().manual_seed(0)
    h = HeteroData()
    h["user"].x = torch.randn(40, 4, generator=g)
    h["item"].x = torch.randn(25, 3, generator=g)
    ui = torch.stack([torch.randint(40, (150,), generator=g), torch.randint(25, (150,), generator=g)])
    h["user", "buys", "item"].edge_index = ui
    h["item", "rev_buys", "user"].edge_index = ui.flip(0)
    h["user", "follows", "user"].edge_index = torch.randint(40, (2, 80), generator=g)
    h["user", "buys", "item"].edge_attr = torch.randn(150, 2, generator=g)
    return h


def test_hetero_batches_have_right_types_and_edges():
    h = make_hetero()
    fan = {("user", "buys", "item"): [4, 2], ("item", "rev_buys", "user"): [3, 2],
           ("user", "follows", "user"): [2, 0]}
    s = GraphkitNeighborSampler(h, fan)
    loader = NodeLoader(h, node_sampler=s, input_nodes=("user", torch.arange(12)), batch_size=6)
    for b in loader:
        assert set(b.node_types) == {"user", "item"} and set(b.edge_types) == set(h.edge_types)
        assert torch.equal(b["user"].n_id[:6], b["user"].input_id)
        assert b["item"].num_sampled_nodes[0] == 0
        for et in h.edge_types:
            src, _, dst = et
            ei = b[et].edge_index
            assert torch.equal(h[et].edge_index[:, b[et].e_id],
                               torch.stack([b[src].n_id[ei[0]], b[dst].n_id[ei[1]]]))
            assert b[et].num_sampled_edges[1] == 0 if et[1] == "follows" else True
        assert torch.equal(b["user", "buys", "item"].edge_attr,
                           h["user", "buys", "item"].edge_attr[b["user", "buys", "item"].e_id])


def test_hetero_temporal_node_time():
    h = make_hetero()
    h["user"].time = torch.randint(0, 10, (40,))
    h["item"].time = torch.randint(0, 10, (25,))
    s = GraphkitNeighborSampler(h, [3, 3], time_attr="time")
    b = next(iter(NodeLoader(h, node_sampler=s, input_nodes=("item", torch.arange(10)),
                             input_time=torch.full((10,), 4), batch_size=10)))
    for t in ("user", "item"):
        extra = b[t].num_sampled_nodes[0]
        assert bool((h[t].time[b[t].n_id[extra:]] <= 4).all())


def test_link_sampling_binary_and_triplet():
    data = make_graph()
    pos = data.edge_index[:, :64]
    s = GraphkitNeighborSampler(data, [3, 2])
    loader = LinkLoader(data, link_sampler=s, edge_label_index=pos, batch_size=32,
                        neg_sampling=NegativeSampling("binary", 1.0))
    for b in loader:
        n = b.input_id.numel()
        assert torch.equal(b.n_id[b.edge_label_index[:, :n]], pos[:, b.input_id])
        assert b.edge_label[:n].eq(1).all() and b.edge_label[n:].eq(0).all()
        assert torch.equal(data.edge_index[:, b.e_id], b.n_id[b.edge_index])
    loader = LinkLoader(data, link_sampler=s, edge_label_index=pos, batch_size=32,
                        neg_sampling=NegativeSampling("triplet", 2))
    b = next(iter(loader))
    assert torch.equal(b.n_id[b.src_index], pos[0, b.input_id])
    assert torch.equal(b.n_id[b.dst_pos_index], pos[1, b.input_id])
    assert b.dst_neg_index.shape == (32, 2)


def test_temporal_link_sampling():
    data = make_graph(time=torch.randint(0, 20, (300,)))
    pos = data.edge_index[:, :32]
    t = torch.full((32,), 10)
    s = GraphkitNeighborSampler(data, [3, 2], time_attr="time")
    b = next(iter(LinkLoader(data, link_sampler=s, edge_label_index=pos, edge_label_time=t,
                             batch_size=32, neg_sampling="binary")))
    seeds = 2 * 64  # src + dst of positives and negatives, one subgraph each
    assert bool((data.time[b.n_id[seeds:]] <= 10).all())


def test_bidirectional_subgraph():
    data = make_graph()
    (b,) = batches(data, torch.arange(8), batch_size=8, subgraph_type="bidirectional")
    key = set(map(tuple, b.edge_index.t().tolist()))
    assert all((j, i) in key for i, j in key)


# Errors ###################################################################################

@pytest.mark.parametrize("kw,match", [
    ({"num_neighbors": [5, 3], "num_layers": 3}, "has 2 hops but the model has num_layers=3"),
    ({"num_neighbors": [5, -2]}, "ints >= -1"),
    ({"num_neighbors": 5}, "must be a list of ints"),
    ({"num_neighbors": {("a", "b", "c"): [1]}}, "homogeneous"),
    ({"num_neighbors": [5], "time_attr": "when"}, "temporal sampling asked .*'when'"),
    ({"num_neighbors": [5], "weight_attr": "w"}, "weight_attr='w' is missing"),
    ({"num_neighbors": [5], "backend": "dgl"}, "'backend' must be one of"),
    ({"num_neighbors": [5], "subgraph_type": "full"}, "'subgraph_type' must be one of"),
    ({"num_neighbors": [5], "subgraph_type": "induced", "disjoint": True}, "cannot be combined"),
])
def test_bad_arguments_raise_clear_errors(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        GraphkitNeighborSampler(make_graph(), **kw)


def test_hetero_fanout_errors():
    h = make_hetero()
    with pytest.raises(ValueError, match="not in the graph.*known edge types"):
        GraphkitNeighborSampler(h, {("user", "likes", "item"): [2]})
    fan = {et: [2, 2] for et in h.edge_types}
    fan[("user", "follows", "user")] = [2]
    with pytest.raises(ValueError, match="same number of hops"):
        GraphkitNeighborSampler(h, fan)
    del fan[("user", "follows", "user")]
    with pytest.raises(ValueError, match="no fan-outs for edge type"):
        GraphkitNeighborSampler(h, fan)


def test_seed_errors():
    data = make_graph()
    s = GraphkitNeighborSampler(data, [2])
    with pytest.raises(ValueError, match=r"seed nodes hold ids in \[0, 300\] but the graph has 300"):
        list(NodeLoader(data, node_sampler=s, input_nodes=torch.tensor([0, 300]), batch_size=2))
    h = make_hetero()
    s = GraphkitNeighborSampler(h, [2], time_attr=None)
    h["user"].time = torch.zeros(40, dtype=torch.long)
    s = GraphkitNeighborSampler(h, [2], time_attr="time")
    with pytest.raises(ValueError, match="seeds of type 'item' have no 'time'"):
        next(iter(NodeLoader(h, node_sampler=s, input_nodes=("item", torch.arange(3)), batch_size=3)))


@pytest.mark.skipif(len(available_backends()) > 1, reason="a compiled backend is installed")
def test_missing_backend_raises_import_error():
    with pytest.raises(ImportError, match="backend='pyg-lib' needs the 'pyg-lib' package"):
        GraphkitNeighborSampler(make_graph(), [2], backend="pyg-lib")


@pytest.mark.parametrize("backend", ["pyg-lib", "torch-sparse"])
def test_backend_parity_full_neighborhood(backend):
    """With fan-out -1 the sampled subgraph is deterministic: compare node/edge sets per hop."""
    if backend not in available_backends():
        pytest.skip(f"{backend} not installed")
    data = make_graph()
    seeds = torch.arange(20)
    ours = batches(data, seeds, fan=(-1, -1), batch_size=20)[0]
    theirs = batches(data, seeds, fan=(-1, -1), batch_size=20, backend=backend)[0]
    assert torch.equal(ours.n_id[:20], theirs.n_id[:20])
    if backend == "pyg-lib":  # PyG's torch-sparse path records no per-hop counts
        assert ours.num_sampled_nodes == list(theirs.num_sampled_nodes)
    assert sorted(ours.e_id.tolist()) == sorted(theirs.e_id.tolist())
    assert set(ours.n_id.tolist()) == set(theirs.n_id.tolist())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu_on_full_neighborhood():
    data = make_graph()
    seeds = torch.arange(30)
    cpu = batches(data, seeds, fan=(-1, -1), batch_size=30)[0]
    gpu = batches(data.to("cuda"), seeds, fan=(-1, -1), batch_size=30)[0]
    assert gpu.n_id.is_cuda
    assert torch.equal(cpu.n_id, gpu.n_id.cpu()) and torch.equal(cpu.e_id, gpu.e_id.cpu())
    b = batches(data.to("cuda"), seeds, fan=(5, 3), batch_size=30)[0]
    check_batch(data.to("cuda"), b, (5, 3), seeds.cuda())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_sampling_on_cuda_with_features_on_cpu():
    data = make_graph()
    s = GraphkitNeighborSampler(data, [5, 3], device="cuda")
    assert s.csc[("_N", "_to", "_N")].colptr.is_cuda
    (b,) = list(NodeLoader(data, node_sampler=s, input_nodes=torch.arange(16), batch_size=16))
    assert not b.n_id.is_cuda
    check_batch(data, b, (5, 3), torch.arange(16))


def test_hetero_edge_time_and_weighted_temporal():
    h = make_hetero()
    for et in h.edge_types:
        h[et].t = torch.randint(0, 10, (h[et].num_edges,))
        h[et].w = torch.rand(h[et].num_edges)
    s = GraphkitNeighborSampler(h, [3, 2], time_attr="t", weight_attr="w")
    b = next(iter(NodeLoader(h, node_sampler=s, input_nodes=("user", torch.arange(8)),
                             input_time=torch.full((8,), 5), batch_size=8)))
    for et in h.edge_types:
        assert bool((h[et].t[b[et].e_id] <= 5).all())
        assert torch.bincount(b[et].edge_index[1]).max() <= 3 if b[et].num_edges else True


def test_induced_subgraph_holds_every_edge_among_sampled_nodes():
    data = make_graph()
    (b,) = batches(data, torch.arange(10), batch_size=10, subgraph_type="induced")
    ei, _, mask = subgraph(b.n_id, data.edge_index, relabel_nodes=True, num_nodes=300,
                           return_edge_mask=True)
    want = sorted(zip(ei[0].tolist(), ei[1].tolist(), mask.nonzero().view(-1).tolist()))
    got = sorted(zip(*b.edge_index.tolist(), b.e_id.tolist()))
    assert got == want and "num_sampled_edges" not in b


def test_registry_and_repr():
    data = make_graph()
    s = SAMPLERS.build("neighbor", data, [5, 3], replace=True)
    assert isinstance(s, GraphkitNeighborSampler)
    assert repr(s) == ("GraphkitNeighborSampler(num_neighbors=[5, 3], backend='torch', "
                       "device=cpu, replace=True)")

"""VectorizedEdgePooling / greedy_edge_matching: parity with PyG's EdgePooling and a naive greedy."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Batch, Data
from torch_geometric.nn import EdgePooling

from graphkit.nn.pool import VectorizedEdgePooling, greedy_edge_matching


def naive_greedy(edge_index: torch.Tensor, score: torch.Tensor, n: int) -> list[int]:
    """Plain Python: walk the edges by decreasing score (PyG's order), take an edge whose two
    ends are both free."""
    order = torch.argsort(score, descending=True).tolist()
    free, taken = [True] * n, []
    for e in order:
        u, v = edge_index[:, e].tolist()
        if free[u] and free[v]:
            taken.append(e)
            free[u] = free[v] = False
    return taken


def random_graph(seed: int, n: int, e: int, ties: bool):
    g = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, n, (2, e), generator=g)       # self-loops and duplicates too
    score = torch.rand(e, generator=g)
    if ties:
        score = (score * 3).round() / 3
    return edge_index, score


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 25), st.integers(0, 70), st.booleans())
def test_matching_equals_naive_greedy(seed, n, e, ties):
    edge_index, score = random_graph(seed, n, e, ties)
    edges, free = greedy_edge_matching(edge_index, score, n)
    assert edges.tolist() == naive_greedy(edge_index, score, n)
    ends = edge_index[:, edges]
    assert (~free[ends.view(-1)]).all()
    nodes = torch.cat([ends[0], ends[1][ends[0] != ends[1]]])
    assert nodes.unique().numel() == nodes.numel()               # a matching
    assert not (free[edge_index[0]] & free[edge_index[1]]).any()  # maximal


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(1, 12), min_size=1, max_size=4),
       st.booleans())
def test_layer_equals_pyg_edge_pooling(seed, sizes, ties):
    torch.manual_seed(seed)
    graphs = []
    for n in sizes:
        ei, _ = random_graph(seed + n, n, 3 * n, False)
        graphs.append(Data(x=torch.randn(n, 4), edge_index=ei))
    b = Batch.from_data_list(graphs)
    ref, new = EdgePooling(4), VectorizedEdgePooling(4)
    new.load_state_dict(ref.state_dict())
    if ties:
        def coarse(raw, edge_index, num_nodes):
            return (torch.sigmoid(raw) * 2).round() / 2
        ref.compute_edge_score = new.compute_edge_score = coarse
    outs = [m(b.x, b.edge_index, b.batch) for m in (ref, new)]
    torch.testing.assert_close(outs[1][0], outs[0][0])
    for i in (1, 2):
        assert torch.equal(outs[1][i], outs[0][i])
    assert torch.equal(outs[1][3].cluster, outs[0][3].cluster)
    torch.testing.assert_close(outs[1][3].new_edge_score, outs[0][3].new_edge_score)
    grads = []
    for m, o in zip((ref, new), outs):
        (o[0] ** 2).sum().backward()
        grads.append(m.lin.weight.grad.clone())
    torch.testing.assert_close(grads[1], grads[0])
    for m, o in zip((ref, new), outs):                           # unpooling too
        x_back = m.unpool(o[0], o[3])[0]
        assert x_back.shape == b.x.shape


def test_rising_path_matches_every_other_edge():
    n = 9
    edge_index = torch.stack([torch.arange(n - 1), torch.arange(1, n)])
    score = torch.arange(n - 1, dtype=torch.float)              # best edge at the end
    edges, free = greedy_edge_matching(edge_index, score, n)
    assert edges.tolist() == [7, 5, 3, 1]
    assert free.nonzero().view(-1).tolist() == [0]


def test_empty_and_isolated():
    edges, free = greedy_edge_matching(torch.empty(2, 0, dtype=torch.long), torch.empty(0), 3)
    assert edges.numel() == 0 and free.all()
    pool = VectorizedEdgePooling(2)
    x = torch.randn(3, 2)
    out, ei, batch, info = pool(x, torch.empty(2, 0, dtype=torch.long),
                                torch.zeros(3, dtype=torch.long))
    torch.testing.assert_close(out, x)                          # singletons keep score 1
    assert ei.numel() == 0 and info.cluster.tolist() == [0, 1, 2] and batch.tolist() == [0] * 3


def test_bad_input_names_the_argument():
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="'edge_score' must have shape \\(2,\\)"):
        greedy_edge_matching(ei, torch.ones(3), 3)
    with pytest.raises(ValueError, match="'edge_score' must be finite"):
        greedy_edge_matching(ei, torch.tensor([1.0, float("nan")]), 3)
    with pytest.raises(ValueError, match="'edge_index' holds node ids"):
        greedy_edge_matching(ei, torch.ones(2), 2)

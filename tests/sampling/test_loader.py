"""NeighborLoader / LinkNeighborLoader: PyG signatures, same batches as NodeLoader + sampler."""
import inspect

import pytest
import torch
from torch_geometric import loader as pyg_loader
from torch_geometric.data import Data, HeteroData
from torch_geometric.loader import NodeLoader
from torch_geometric.transforms import ToUndirected

from graphkit.sampling import (
    GraphkitNeighborSampler,
    LinkNeighborLoader,
    NeighborLoader,
    available_backends,
)


def make_graph(n=200, e=1200):
    g = torch.Generator().manual_seed(0)
    return Data(x=torch.randn(n, 4, generator=g), y=torch.randint(2, (n,), generator=g),
                edge_index=torch.randint(n, (2, e), generator=g),
                train_mask=torch.rand(n, generator=g) < 0.3)


@pytest.mark.parametrize("ours,theirs", [(NeighborLoader, pyg_loader.NeighborLoader),
                                         (LinkNeighborLoader, pyg_loader.LinkNeighborLoader)])
def test_signature_is_a_superset_of_pyg(ours, theirs):
    mine = inspect.signature(ours.__init__).parameters
    pyg = inspect.signature(theirs.__init__).parameters
    missing = [k for k in pyg if k not in mine and k != "directed"]
    assert not missing
    assert list(mine)[:4] == list(pyg)[:4]  # same positional order


def test_same_batches_as_node_loader_with_sampler():
    data = make_graph()
    torch.manual_seed(0)
    a = list(NeighborLoader(data, [4, 2], input_nodes=data.train_mask, batch_size=16))
    torch.manual_seed(0)
    s = GraphkitNeighborSampler(data, num_neighbors=[4, 2])
    b = list(NodeLoader(data, node_sampler=s, input_nodes=data.train_mask, batch_size=16))
    assert len(a) == len(b) == -(-int(data.train_mask.sum()) // 16)
    for x, y in zip(a, b):
        assert torch.equal(x.n_id, y.n_id) and torch.equal(x.edge_index, y.edge_index)
        assert x.batch_size == y.batch_size and x.num_sampled_nodes == y.num_sampled_nodes
    seeds = torch.cat([x.n_id[:x.batch_size] for x in a])
    assert torch.equal(seeds, data.train_mask.nonzero().view(-1))


def test_shuffle_transform_and_workers():
    data = make_graph()
    loader = NeighborLoader(data, [3], input_nodes=torch.arange(40), batch_size=20, shuffle=True,
                            transform=ToUndirected(), num_workers=1)
    seen = torch.cat([b.n_id[:b.batch_size] for b in loader])
    assert sorted(seen.tolist()) == list(range(40))


@pytest.mark.skipif(len(available_backends()) > 1, reason="a compiled backend is installed")
@pytest.mark.filterwarnings("ignore:Using 'NeighborSampler' without")
def test_works_where_pyg_needs_compiled_extensions():
    data = make_graph()
    with pytest.raises(ImportError):
        next(iter(pyg_loader.NeighborLoader(data, [2], batch_size=4)))
    assert next(iter(NeighborLoader(data, [2], batch_size=4))).batch_size == 4


def test_loader_errors():
    data = make_graph()
    with pytest.raises(ValueError, match="'input_time' is set but 'time_attr' is not"):
        NeighborLoader(data, [2], input_time=torch.zeros(200), batch_size=4)
    with pytest.raises(ValueError, match=r"input_nodes hold ids in \[0, 999\]"):
        NeighborLoader(data, [2], input_nodes=torch.tensor([0, 999]), batch_size=4)
    with pytest.raises(ValueError, match="'edge_label_time' and 'time_attr' go together"):
        LinkNeighborLoader(data, [2], edge_label_index=data.edge_index,
                           edge_label_time=torch.zeros(1200), batch_size=4)
    with pytest.raises(ValueError, match="num_layers=3"):
        NeighborLoader(data, [2, 2], num_layers=3, batch_size=4)


def test_link_neighbor_loader_binary():
    data = make_graph()
    loader = LinkNeighborLoader(data, [3, 2], edge_label_index=data.edge_index[:, :100],
                                neg_sampling_ratio=2.0, batch_size=50, shuffle=True)
    b = next(iter(loader))
    assert b.edge_label_index.shape == (2, 150) and int(b.edge_label.sum()) == 50
    pos = b.n_id[b.edge_label_index[:, :50]]
    assert torch.equal(pos, data.edge_index[:, b.input_id])
    assert repr(loader).startswith("LinkNeighborLoader(GraphkitNeighborSampler(")


def test_hetero_link_neighbor_loader():
    h = HeteroData()
    h["u"].x, h["i"].x = torch.randn(30, 2), torch.randn(20, 2)
    h["u", "r", "i"].edge_index = torch.stack([torch.randint(30, (90,)), torch.randint(20, (90,))])
    h = ToUndirected()(h)
    et = ("u", "r", "i")
    loader = LinkNeighborLoader(h, [3, 2], edge_label_index=(et, h[et].edge_index),
                                neg_sampling="binary", batch_size=30)
    b = next(iter(loader))
    eli = b[et].edge_label_index
    assert torch.equal(torch.stack([b["u"].n_id[eli[0, :30]], b["i"].n_id[eli[1, :30]]]),
                       h[et].edge_index[:, b[et].input_id])
    assert set(b.edge_types) == set(h.edge_types)


def test_hetero_disjoint_link_batches_pair_endpoints():
    """Disjoint link sampling: the subgraph of link j holds both of its endpoints (batch j)."""
    h = HeteroData()
    h["u"].x, h["i"].x = torch.randn(30, 2), torch.randn(20, 2)
    h["u", "r", "i"].edge_index = torch.stack([torch.randint(30, (90,)), torch.randint(20, (90,))])
    h = ToUndirected()(h)
    et = ("u", "r", "i")
    b = next(iter(LinkNeighborLoader(h, [2, 2], edge_label_index=(et, h[et].edge_index),
                                     disjoint=True, batch_size=10)))
    eli = b[et].edge_label_index
    assert torch.equal(b["u"].batch[eli[0]], torch.arange(10))
    assert torch.equal(b["i"].batch[eli[1]], torch.arange(10))
    for key in b.edge_types:
        s, _, d = key
        ei = b[key].edge_index
        assert torch.equal(b[s].batch[ei[0]], b[d].batch[ei[1]])


def test_full_neighborhood_batches_reproduce_full_graph_gnn_outputs():
    """With fan-out -1 per layer, a 2-layer GNN on each batch gives the full-graph outputs of its
    seeds (the sampled subgraph holds every message they depend on)."""
    from torch_geometric.nn import GraphSAGE
    data = make_graph()
    torch.manual_seed(0)
    model = GraphSAGE(4, 8, num_layers=2, out_channels=3).eval()
    full = model(data.x, data.edge_index)
    for b in NeighborLoader(data, [-1, -1], input_nodes=torch.arange(200), batch_size=50):
        out = model(b.x, b.edge_index)[:b.batch_size]
        assert torch.allclose(out, full[b.n_id[:b.batch_size]], atol=1e-5)


@pytest.fixture
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: extra OpenMP threads only add contention
    yield
    torch.set_num_threads(n)


def test_minibatch_training_learns(one_thread):
    """GraphSAGE trained only through NeighborLoader batches classifies an SBM graph."""
    from torch_geometric.nn import GraphSAGE
    from torch_geometric.utils import stochastic_blockmodel_graph
    torch.manual_seed(0)
    ei = stochastic_blockmodel_graph([100, 100], [[0.08, 0.01], [0.01, 0.08]])
    y = torch.cat([torch.zeros(100), torch.ones(100)]).long()
    x = torch.randn(200, 4) + y.view(-1, 1).float()
    data = Data(x=x, y=y, edge_index=ei)
    train = torch.randperm(200)[:100]
    test = torch.ones(200, dtype=torch.bool)
    test[train] = False
    model = GraphSAGE(4, 16, num_layers=2, out_channels=2)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    loader = NeighborLoader(data, [5, 5], input_nodes=train, batch_size=25, shuffle=True)
    for _ in range(10):
        for b in loader:
            opt.zero_grad()
            out = model(b.x, b.edge_index)[:b.batch_size]
            torch.nn.functional.cross_entropy(out, b.y[:b.batch_size]).backward()
            opt.step()
    acc = (model(data.x, data.edge_index).argmax(-1)[test] == y[test]).float().mean()
    assert acc > 0.9

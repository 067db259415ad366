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

"""GPN models (graphkit.nn.pool): shapes, adaptive depth, gradients, baselines, training."""
import math
import os
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import to_undirected

from graphkit.nn.pool import GPN, GPNNode, GraphParsingPool, PooledGNN
from graphkit.nn.pool.gpn import parse_clusters
from graphkit.registry import MODELS, POOLS

REPO = Path(__file__).resolve().parents[2]


def random_connected(n: int, seed: int, feats: int = 4) -> Data:
    gen = torch.Generator().manual_seed(seed)
    parent = (torch.rand(n - 1, generator=gen) * torch.arange(1, n)).long()
    ei = torch.cat([torch.stack([torch.arange(1, n), parent]),
                    torch.randint(0, n, (2, n // 2), generator=gen)], 1)
    return Data(x=torch.randn(n, feats, generator=gen),
                edge_index=to_undirected(ei, num_nodes=n), num_nodes=n)


def test_gpn_pools_each_connected_graph_to_one_node_within_log2_levels():
    torch.manual_seed(0)
    sizes = [1, 2, 7, 33, 64]
    batch = Batch.from_data_list([random_connected(n, i) for i, n in enumerate(sizes)])
    model = GPN(4, 16, 3, num_layers=1).eval()
    out = model(batch.x, batch.edge_index, batch=batch.batch)
    assert out.shape == (len(sizes), 3)
    assert len(model.last_parse) <= math.ceil(math.log2(max(sizes)))
    last = model.last_parse[-1]
    assert last.num_clusters == len(sizes) and last.edge_index.numel() == 0
    assert torch.equal(last.batch, torch.arange(len(sizes)))
    # every level's assignment is a partition that respects the batch
    n = batch.num_nodes
    for lvl in model.last_parse:
        assert lvl.cluster.numel() == n and int(lvl.cluster.max()) + 1 == lvl.num_clusters
        n = lvl.num_clusters


def test_gpn_batch_equals_single_graphs_and_is_permutation_invariant():
    torch.manual_seed(0)
    graphs = [random_connected(n, 10 + n) for n in (5, 12, 20)]
    model = GPN(4, 16, 2, num_layers=2).eval()
    b = Batch.from_data_list(graphs)
    out = model(b.x, b.edge_index, batch=b.batch)
    for i, g in enumerate(graphs):
        assert torch.allclose(model(g.x, g.edge_index), out[i:i + 1], atol=1e-4)
        perm = torch.randperm(g.num_nodes)
        inv = torch.empty_like(perm)
        inv[perm] = torch.arange(g.num_nodes)
        assert torch.allclose(model(g.x[perm], inv[g.edge_index]), out[i:i + 1], atol=1e-4)
    rev = Batch.from_data_list(graphs[::-1])
    assert torch.allclose(model(rev.x, rev.edge_index, batch=rev.batch), out.flip(0), atol=1e-4)


def test_gpn_edgeless_and_single_node_graphs_keep_features():
    model = GPN(3, 8, 2).eval()
    x = torch.randn(4, 3)
    out = model(x, torch.empty(2, 0, dtype=torch.long), batch=torch.arange(4))
    assert model.last_parse == []
    assert torch.allclose(out, model.lin_out(model.lin_in(x)), atol=1e-6)


def test_gradients_reach_the_edge_scorer():
    torch.manual_seed(0)
    g = Batch.from_data_list([random_connected(15, 1), random_connected(9, 2)])
    model = GPN(4, 16, 2)
    model(g.x, g.edge_index, batch=g.batch).sum().backward()
    for p in model.pool.scorer.parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0
    pool = GraphParsingPool(4)
    pool(g.x, g.edge_index, g.batch).x.sum().backward()
    assert all(p.grad.abs().sum() > 0 for p in pool.scorer.parameters())


def test_constant_features_ties_still_valid():
    g = random_connected(30, 3)
    pool = GraphParsingPool(4).eval()
    out = pool(torch.ones(30, 4), g.edge_index)                      # all scores equal
    assert torch.allclose(out.edge_score, out.edge_score[0].expand_as(out.edge_score))
    ref, c = parse_clusters(g.edge_index, out.edge_score, 30)
    assert torch.equal(out.cluster, ref) and 1 <= c <= 15


def test_parsing_dropout_only_in_training():
    torch.manual_seed(0)
    g = random_connected(40, 4)
    pool = GraphParsingPool(4, dropout_parsing=0.5)
    out = pool.train()(g.x, g.edge_index)
    assert out.edge_index_parse.size(1) < g.edge_index.size(1)
    assert out.edge_index.size(1) > 0                    # coarsened from all edges
    out_eval = pool.eval()(g.x, g.edge_index)
    assert out_eval.edge_index_parse.size(1) == g.edge_index.size(1)


def test_gpn_node_unpools_to_every_node():
    torch.manual_seed(0)
    g = random_connected(25, 5)
    model = GPNNode(4, 16, 3, dropout_parsing=0.0)
    out = model(g.x, g.edge_index)
    assert out.shape == (25, 3) and len(model.last_parse) >= 1
    out.sum().backward()
    assert model.pool.scorer.lins[0].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("pool", ["gpn", "topk", "sag", "asap", "edge", "edge_pyg"])
def test_pooled_gnn_with_every_pool(pool):
    torch.manual_seed(0)
    g = Batch.from_data_list([random_connected(n, n) for n in (6, 11, 3)])
    model = MODELS.build("pooled_gnn", in_channels=4, hidden_channels=8, out_channels=2,
                         num_layers=2, dropout=0.0, pool=pool)
    out = model(g.x, g.edge_index, batch=g.batch)
    assert out.shape == (3, 2) and model.graph_level
    out.sum().backward()


def test_registry_and_errors():
    assert {"gpn", "gpn_node", "pooled_gnn"} <= set(MODELS.names())
    assert {"gpn", "topk", "sag", "asap", "edge", "edge_pyg"} <= set(POOLS.names())
    m = MODELS.build("gpn", in_channels=3, hidden_channels=8, out_channels=4, num_layers=2,
                     dropout=0.1)
    assert "GPN(3, 4" in repr(m)
    with pytest.raises(ValueError, match="'pool' must be one of"):
        PooledGNN(3, 8, 2, pool="diff")
    with pytest.raises(ValueError, match="'conv' must be one of"):
        GPN(3, 8, 2, conv="nope")
    with pytest.raises(ValueError, match="'dropout_parsing'"):
        GraphParsingPool(8, dropout_parsing=1.0)
    with pytest.raises(TypeError, match="unexpected arguments"):
        GPN(3, 8, 2, ratio=0.5)


@pytest.fixture
def shared_tu(tmp_path, monkeypatch):
    root = Path(os.environ.get("GRAPHKIT_DATA") or REPO.parent / "shared" / "data")
    if not (root / "tu" / "MUTAG").is_dir():
        pytest.skip(f"shared TU data not found at {root}")
    monkeypatch.setenv("GRAPHKIT_DATA", str(root))
    monkeypatch.setenv("GRAPHKIT_OFFLINE", "1")
    monkeypatch.setenv("GRAPHKIT_CACHE", str(tmp_path / "cache"))
    return root


@pytest.mark.shared_data
def test_train_gpn_config_through_the_cli(shared_tu, tmp_path):
    from graphkit.cli import main
    cfg = REPO / "examples" / "configs" / "proteins_gpn.yaml"
    rc = main(["train", str(cfg), "data.name=mutag", "data.splits=[0]", "train.epochs=2",
               "model.hidden_channels=16", "train.checkpoint_every=0",
               "--out-dir", str(tmp_path / "runs"), "--no-progress", "--overwrite"])
    assert rc in (0, None)
    import json
    res = json.loads(next((tmp_path / "runs").rglob("result.json")).read_text())
    assert res["epochs_run"] == 2 and 0.0 <= res["metrics"]["test"]["accuracy"] <= 1.0

"""graphkit Node2Vec: sample shapes as PyG's, training separates communities, link baseline."""
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch_geometric.utils import stochastic_blockmodel_graph, to_undirected

from graphkit.nn.node2vec import Node2Vec


def sbm(seed=0):
    torch.manual_seed(seed)
    ei = stochastic_blockmodel_graph([40, 40], [[0.25, 0.01], [0.01, 0.25]])
    return ei, torch.cat([torch.zeros(40), torch.ones(40)]).long()


def test_samples_match_pyg_layout():
    ei, _ = sbm()
    m = Node2Vec(ei, 8, walk_length=6, context_size=3, walks_per_node=2, num_negative_samples=3)
    pos, neg = m.sample(torch.arange(5))
    assert pos.shape == (5 * 2 * (6 - 3 + 1), 3) and neg.shape == (5 * 2 * 3 * 4, 3)
    assert torch.equal(pos[:10, 0], torch.arange(5).repeat(2))  # window 0 starts at the seeds
    edges = set(map(tuple, ei.t().tolist()))
    assert all((a, b) in edges or a == b for a, b in pos[:, :2].tolist())
    loss = m.loss(pos, neg)
    loss.backward()
    assert torch.isfinite(loss) and m.embedding.weight.grad.abs().sum() > 0


def test_training_separates_communities_and_predicts_links():
    ei, y = sbm()
    und = ei[:, ei[0] < ei[1]]
    test_pos = und[:, :20]
    train_ei = to_undirected(und[:, 20:], num_nodes=80)
    torch.manual_seed(0)
    m = Node2Vec(train_ei, 16, walk_length=10, context_size=5, walks_per_node=5, p=1.0, q=0.5,
                 num_nodes=80)
    opt = torch.optim.Adam(m.parameters(), lr=0.05)
    for _ in range(40):
        for pos, neg in m.loader(batch_size=80, shuffle=True):
            opt.zero_grad()
            m.loss(pos, neg).backward()
            opt.step()
    z = m()
    idx = torch.randperm(80)
    acc = m.test(z[idx[:40]], y[idx[:40]], z[idx[40:]], y[idx[40:]], max_iter=200)
    assert acc >= 0.9
    neg = torch.randint(80, (2, 200))
    neg = neg[:, y[neg[0]] != y[neg[1]]][:, :20]  # cross-community non-edges
    score = torch.cat([m.link_score(test_pos), m.link_score(neg)])
    label = torch.cat([torch.ones(test_pos.size(1)), torch.zeros(neg.size(1))])
    assert roc_auc_score(label.numpy(), score.numpy()) > 0.8
    assert m.link_score(test_pos, "dot").min() >= 0 and m.link_score(test_pos).max() <= 1 + 1e-6


def test_reset_repr_and_errors():
    ei, _ = sbm()
    m = Node2Vec(ei, 8, walk_length=5, context_size=2, p=0.5, q=2.0)
    w = m.embedding.weight.detach().clone()
    m.reset_parameters()
    assert not torch.equal(w, m.embedding.weight) and torch.isfinite(m.embedding.weight).all()
    assert repr(m) == "Node2Vec(80, 8, p=0.5, q=2.0)"
    with pytest.raises(ValueError, match="'walk_length' must be an int in \\[5, inf\\)"):
        Node2Vec(ei, 8, walk_length=3, context_size=5)
    with pytest.raises(ValueError, match="'q' must be a number"):
        Node2Vec(ei, 8, walk_length=5, context_size=2, q=-1.0)


def test_pyg_node2vec_needs_extensions_ours_does_not():
    import torch_geometric.typing as t
    if t.WITH_PYG_LIB:
        pytest.skip("pyg-lib installed")
    from torch_geometric.nn import Node2Vec as PyGNode2Vec
    ei, _ = sbm()
    with pytest.raises(ImportError):
        PyGNode2Vec(ei, 8, walk_length=5, context_size=2)
    assert Node2Vec(ei, 8, walk_length=5, context_size=2).pos_sample(torch.arange(3)).shape == (12, 2)

r"""node2vec node embeddings on graphkit's pure-PyTorch walker (no pyg-lib, no torch-cluster).

`"node2vec: Scalable Feature Learning for Networks" <https://arxiv.org/abs/1607.00653>`_:
skip-gram with negative sampling over biased second-order random walks
(:func:`graphkit.sampling.random_walk`). PyG's :class:`~torch_geometric.nn.Node2Vec` needs
pyg-lib or torch-cluster for its walks, so it fails with torch + torch-geometric alone; this
module has the same API (``loader``, ``pos_sample``, ``neg_sample``, ``loss``, ``test``) and adds
``link_score`` for use as a link-prediction baseline.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader

from graphkit._checks import check_choice, check_edge_index, check_range
from graphkit.sampling.csr import build_csr
from graphkit.sampling.walks import random_walk

__all__ = ["Node2Vec"]


class Node2Vec(torch.nn.Module):
    r"""node2vec embeddings, from `"node2vec: Scalable Feature Learning for Networks"
    <https://arxiv.org/abs/1607.00653>`_, trained by skip-gram with negative sampling.

    For a walk window :math:`(u, c_1, \dots, c_{K-1})` and random negative windows
    :math:`(u, n_1, \dots)`:

    .. math::
        \mathcal{L} = -\frac{1}{|P|}\sum_{(u, c) \in P} \log \sigma(\mathbf{z}_u^\top
        \mathbf{z}_c) - \frac{1}{|N|}\sum_{(u, n) \in N} \log \sigma(-\mathbf{z}_u^\top
        \mathbf{z}_n)

    Args:
        edge_index (Tensor): :math:`(2, |\mathcal{E}|)` edges (both directions if undirected).
        embedding_dim (int): embedding size :math:`D`.
        walk_length (int): nodes per walk (as PyG: ``walk_length - 1`` steps).
        context_size (int): window size :math:`K` (``<= walk_length``).
        walks_per_node (int): walks started at each node per batch. (default: :obj:`1`)
        p (float), q (float): node2vec return / in-out parameters. (default: :obj:`1.0`)
        num_negative_samples (int): negative windows per positive one. (default: :obj:`1`)
        num_nodes (int, optional): :math:`|\mathcal{V}|`. (default: ``max id + 1``)
        sparse (bool): sparse embedding gradients (use ``torch.optim.SparseAdam``).

    Shapes:
        - **forward:** ``batch`` :math:`(B,)` or :obj:`None` -> :math:`(B, D)` or
          :math:`(|\mathcal{V}|, D)`
        - **pos_sample / neg_sample:** :math:`(B \cdot w \cdot (L - K + 1), K)`

    Example:
        >>> model = Node2Vec(edge_index, 64, walk_length=20, context_size=10, p=1, q=0.5)
        >>> opt = torch.optim.SparseAdam(list(model.parameters()), lr=0.01)  # sparse=True
        >>> for pos, neg in model.loader(batch_size=128, shuffle=True):
        ...     opt.zero_grad(); model.loss(pos, neg).backward(); opt.step()
    """

    def __init__(self, edge_index: Tensor, embedding_dim: int, walk_length: int,
                 context_size: int, walks_per_node: int = 1, p: float = 1.0, q: float = 1.0,
                 num_negative_samples: int = 1, num_nodes: int | None = None,
                 sparse: bool = False) -> None:
        super().__init__()
        owner = type(self).__name__
        if num_nodes is None:
            num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
        check_edge_index(owner, edge_index, num_nodes)
        check_range(owner, "embedding_dim", embedding_dim, low=1, integer=True)
        check_range(owner, "context_size", context_size, low=2, integer=True)
        check_range(owner, "walk_length", walk_length, low=context_size, integer=True)
        check_range(owner, "walks_per_node", walks_per_node, low=1, integer=True)
        check_range(owner, "num_negative_samples", num_negative_samples, low=1, integer=True)
        check_range(owner, "p", float(p), low=0.0, low_open=True)
        check_range(owner, "q", float(q), low=0.0, low_open=True)
        rowptr, col, _ = build_csr(edge_index, num_nodes)
        self.register_buffer("rowptr", rowptr, persistent=False)
        self.register_buffer("col", col, persistent=False)
        self.num_nodes, self.embedding_dim = num_nodes, embedding_dim
        self.walk_length, self.context_size = walk_length, context_size
        self.walks_per_node, self.num_negative_samples = walks_per_node, num_negative_samples
        self.p, self.q = float(p), float(q)
        self.embedding = torch.nn.Embedding(num_nodes, embedding_dim, sparse=sparse)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.embedding.reset_parameters()

    def forward(self, batch: Tensor | None = None) -> Tensor:
        """Embeddings of the nodes in ``batch`` (all nodes when :obj:`None`)."""
        emb = self.embedding.weight
        return emb if batch is None else emb[batch]

    def loader(self, **kwargs) -> DataLoader:
        """A :class:`~torch.utils.data.DataLoader` over start nodes yielding ``(pos, neg)``."""
        return DataLoader(range(self.num_nodes), collate_fn=self.sample, **kwargs)

    def _windows(self, rw: Tensor) -> Tensor:
        n = rw.size(1) - self.context_size + 1
        return rw.unfold(1, self.context_size, 1).transpose(0, 1).reshape(-1, self.context_size) \
            if n > 0 else rw.new_empty(0, self.context_size)

    def pos_sample(self, batch: Tensor) -> Tensor:
        """Context windows of node2vec walks started at ``batch`` (``walks_per_node`` each)."""
        batch = batch.to(self.rowptr.device).repeat(self.walks_per_node)
        rw = random_walk(self.rowptr, self.col, batch, self.walk_length - 1, self.p, self.q)
        return self._windows(rw)

    def neg_sample(self, batch: Tensor) -> Tensor:
        """Windows of uniformly random nodes after each start node."""
        batch = batch.to(self.rowptr.device).repeat(self.walks_per_node *
                                                    self.num_negative_samples)
        rw = torch.randint(self.num_nodes, (batch.numel(), self.walk_length - 1),
                           device=batch.device)
        return self._windows(torch.cat([batch.view(-1, 1), rw], dim=-1))

    def sample(self, batch: list[int] | Tensor) -> tuple[Tensor, Tensor]:
        if not isinstance(batch, Tensor):
            batch = torch.tensor(batch, dtype=torch.long)
        return self.pos_sample(batch), self.neg_sample(batch)

    def _score(self, rw: Tensor) -> Tensor:
        h_start = self.embedding(rw[:, :1])                      # (W, 1, D)
        h_rest = self.embedding(rw[:, 1:])                       # (W, K-1, D)
        return (h_start * h_rest).sum(-1).view(-1)

    def loss(self, pos_rw: Tensor, neg_rw: Tensor) -> Tensor:
        """Skip-gram negative-sampling loss of positive and negative windows."""
        return -F.logsigmoid(self._score(pos_rw)).mean() - F.logsigmoid(-self._score(neg_rw)).mean()

    @torch.no_grad()
    def link_score(self, edge_label_index: Tensor, metric: str = "cosine") -> Tensor:
        r"""Link-prediction baseline score per pair :math:`(u, v)`: the cosine similarity
        :math:`\cos(\mathbf{z}_u, \mathbf{z}_v)` (default; insensitive to the degree-driven
        norms of skip-gram vectors) or :math:`\sigma(\mathbf{z}_u^\top \mathbf{z}_v)` (``"dot"``).
        """
        check_choice(type(self).__name__, "metric", metric, {"cosine", "dot"})
        z = self.embedding.weight
        zu, zv = z[edge_label_index[0]], z[edge_label_index[1]]
        if metric == "dot":
            return torch.sigmoid((zu * zv).sum(-1))
        return F.cosine_similarity(zu, zv, dim=-1)

    def test(self, train_z: Tensor, train_y: Tensor, test_z: Tensor, test_y: Tensor,
             solver: str = "lbfgs", *args, **kwargs) -> float:
        """Accuracy of a logistic regression trained on the embeddings (as PyG's ``test``)."""
        from sklearn.linear_model import LogisticRegression
        clf = LogisticRegression(*args, solver=solver, **kwargs).fit(
            train_z.detach().cpu().numpy(), train_y.detach().cpu().numpy())
        return float(clf.score(test_z.detach().cpu().numpy(), test_y.detach().cpu().numpy()))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.num_nodes}, {self.embedding_dim}, "
                f"p={self.p}, q={self.q})")

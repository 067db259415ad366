r"""LLP: relational distillation of a GNN link predictor into a graph-free MLP, from
`"Linkless Link Prediction via Relational Distillation" <https://arxiv.org/abs/2210.05801>`_
(Guo et al., ICML 2023).

For a batch of anchor nodes :math:`v`, context nodes :math:`C_v` (:math:`k` of them) are drawn:
``rw_step`` random walks of ``hops`` steps from :math:`v` (nearby nodes) plus ``ns_rate``
times as many uniform random nodes. With teacher logits :math:`t_{vu}` and student logits
:math:`s_{vu}` for :math:`u \in C_v`:

.. math::
    \mathcal{L}_D &= \frac{1}{|B|}\sum_v \mathrm{KL}\big(\mathrm{softmax}(t_{v\cdot})\,\|\,
        \mathrm{softmax}(s_{v\cdot})\big) \\
    \mathcal{L}_R &= \frac{1}{|B|\binom{k}{2}}\sum_v \sum_{i<j,\ |p^t_{vi} - p^t_{vj}| > m}
        \max\big(0, -\mathrm{sign}(p^t_{vi} - p^t_{vj})\,(p^s_{vi} - p^s_{vj}) + m\big) \\
    \mathcal{L} &= w\,\mathcal{L}_{BCE} + \lambda_D \mathcal{L}_D + \lambda_R \mathcal{L}_R

where :math:`p = \sigma(\cdot)` are link probabilities, :math:`m` the margin and
:math:`\mathcal{L}_{BCE}` the usual loss on training links with random negatives. Differences
from the official code: the distribution loss compares softmaxes of *logits* (the official code
applies the softmax to sigmoid outputs, which squashes every distribution towards uniform);
the rank loss keeps the official probability scale and margin but drops the constant
:math:`m` that pairs with target 0 add (same gradient); training negatives avoid training
edges by rejection instead of a dense :math:`N \times N` mask.

The student (:class:`MLPLinkPredictor`) scores a link from node features only: inference
needs no graph.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.models import MLP

from graphkit._checks import check_edge_index, check_range
from graphkit.nn.link.hadamard import HadamardMLPHead
from graphkit.sampling.csr import build_csr
from graphkit.sampling.walks import random_walk


class MLPLinkPredictor(torch.nn.Module):
    r"""Graph-free link predictor: an MLP node encoder and a Hadamard-MLP head,
    :math:`s_{uv} = \mathrm{MLP}_2(\mathrm{MLP}_1(\mathbf{x}_u) \odot \mathrm{MLP}_1(\mathbf{x}_v))`.

    Args:
        in_channels (int): node feature size.
        hidden_channels (int): width of both MLPs.
        num_layers (int, optional): encoder depth. (default: :obj:`2`)
        head_layers (int, optional): head depth. (default: :obj:`2`)
        dropout (float, optional): dropout in the encoder. (default: :obj:`0.5`)

    Shapes:
        - **input:** ``x`` :math:`(N, F)`, ``edge_label_index`` :math:`(2, B)`
        - **output:** logits :math:`(B,)`
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int = 2,
                 head_layers: int = 2, dropout: float = 0.5) -> None:
        super().__init__()
        check_range("MLPLinkPredictor", "num_layers", num_layers, low=1, integer=True)
        self.in_channels, self.hidden_channels = in_channels, hidden_channels
        self.num_layers, self.dropout = num_layers, float(dropout)
        # first layer apart so that sparse bag-of-words features take a sparse product
        self.lin_in = torch.nn.Linear(in_channels, hidden_channels)
        self.encoder = MLP([hidden_channels] * num_layers, dropout=dropout, norm=None) \
            if num_layers > 1 else None
        self.head = HadamardMLPHead(hidden_channels, num_layers=head_layers)

    def reset_parameters(self) -> None:
        self.lin_in.reset_parameters()
        if self.encoder is not None:
            self.encoder.reset_parameters()
        self.head.reset_parameters()

    def encode(self, x: Tensor) -> Tensor:
        """Node embeddings :math:`(N, H)` from features ``x`` (dense or sparse COO) alone."""
        if x.is_sparse:
            h = torch.sparse.mm(x, self.lin_in.weight.t()) + self.lin_in.bias
        else:
            h = self.lin_in(x)
        if self.encoder is None:
            return h
        h = F.dropout(h.relu(), self.dropout, self.training)
        return self.encoder(h)

    def score(self, h: Tensor, edge_label_index: Tensor) -> Tensor:
        return self.head(h, edge_label_index)

    def forward(self, x: Tensor, edge_label_index: Tensor) -> Tensor:
        check_edge_index(type(self).__name__, edge_label_index, int(x.size(0)), "edge_label_index")
        return self.score(self.encode(x), edge_label_index)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.hidden_channels}, "
                f"encoder_layers={self.num_layers}, head={self.head!r})")


def sample_context(rowptr: Tensor, col: Tensor, anchors: Tensor, num_nodes: int,
                   rw_step: int = 3, hops: int = 2, ns_rate: int = 1,
                   generator: torch.Generator | None = None) -> Tensor:
    r"""Context nodes of every anchor: ``rw_step`` walks of ``hops`` steps (the nodes they
    visit after the anchor) followed by ``rw_step * hops * ns_rate`` uniform random nodes.

    Returns:
        :math:`(B, k)` node ids, :math:`k = \text{rw\_step} \cdot \text{hops} \cdot
        (1 + \text{ns\_rate})`. An isolated anchor's walk stays on itself.
    """
    b = anchors.numel()
    starts = anchors.repeat_interleave(rw_step)                         # (B * rw_step,)
    walks = random_walk(rowptr, col, starts, hops)[:, 1:]               # (B * rw_step, hops)
    near = walks.reshape(b, rw_step * hops)
    far = torch.randint(0, num_nodes, (b, rw_step * hops * ns_rate), generator=generator)
    return torch.cat([near, far.to(near.device)], dim=1)


def distribution_loss(student: Tensor, teacher: Tensor, temperature: float = 1.0) -> Tensor:
    r""":math:`\mathcal{L}_D`: batch mean of KL(softmax(teacher / T) || softmax(student / T))
    over the context dimension, times :math:`T^2`; inputs are logits :math:`(B, k)`."""
    log_s = F.log_softmax(student / temperature, dim=-1)
    log_t = F.log_softmax(teacher / temperature, dim=-1)
    kl = (log_t.exp() * (log_t - log_s)).sum(dim=-1)
    return kl.mean() * temperature ** 2


def rank_loss(student: Tensor, teacher: Tensor, margin: float = 0.1) -> Tensor:
    r""":math:`\mathcal{L}_R` over all :math:`\binom{k}{2}` context pairs of each anchor;
    inputs are probabilities :math:`(B, k)`. Pairs whose teacher gap is at most ``margin``
    contribute nothing (they count in the mean, as in the official code)."""
    k = student.size(-1)
    i, j = torch.triu_indices(k, k, offset=1, device=student.device)
    gap = teacher[:, i] - teacher[:, j]
    target = torch.where(gap > margin, 1.0, torch.where(gap < -margin, -1.0, 0.0))
    hinge = (-target * (student[:, i] - student[:, j]) + margin).clamp_min(0)
    return (hinge * (target != 0)).sum() / max(target.numel(), 1)


@dataclass
class LLPConfig:
    """Hyper-parameters of :func:`distill` (defaults: the official ``main.py``)."""

    epochs: int = 200
    lr: float = 5e-3
    weight_decay: float = 0.0
    link_batch_size: int = 65536
    rw_step: int = 3
    hops: int = 2
    ns_rate: int = 1
    margin: float = 0.1
    true_label: float = 0.1      # weight of the BCE term
    llp_d: float = 1.0
    llp_r: float = 1.0
    temperature: float = 1.0
    grad_clip: float = 1.0
    eval_every: int = 5
    patience: int = 20           # in evaluations
    seed: int = 0
    history: list = field(default_factory=list)


class TeacherScores:
    """Frozen teacher: node embeddings computed once from the training graph, then a head.

    Args:
        z (Tensor): teacher node embeddings :math:`(N, F)`.
        head (callable): ``head(z, edge_label_index) -> logits``; pairs of any batch shape
            are scored through it.
    """

    def __init__(self, z: Tensor, head: Any) -> None:
        self.z, self.head = z.detach(), head

    @torch.no_grad()
    def __call__(self, src: Tensor, dst: Tensor) -> Tensor:
        shape = src.shape
        return self.head(self.z, torch.stack([src.reshape(-1), dst.reshape(-1)])).view(shape)

    @classmethod
    @torch.no_grad()
    def from_link_predictor(cls, model: torch.nn.Module, graph) -> TeacherScores:
        """From a trained :class:`graphkit.train.models.LinkPredictor` and its training graph."""
        model.eval()
        z = model.encode(graph)
        return cls(z, lambda zz, eli: model.score(zz, eli, graph))


def _neg_pairs(edge_keys: Tensor, n: int, k: int, gen: torch.Generator) -> Tensor:
    """``k`` random non-self pairs that are not training edges (rejection, no dense mask)."""
    out = torch.empty(2, 0, dtype=torch.long)
    while out.size(1) < k:
        c = torch.randint(0, n, (2, int((k - out.size(1)) * 1.2) + 8), generator=gen)
        c = c[:, (c[0] != c[1]) & ~torch.isin(c[0] * n + c[1], edge_keys)]
        out = torch.cat([out, c], dim=1)
    return out[:, :k]


def distill(student: MLPLinkPredictor, teacher: TeacherScores, x: Tensor, train_pos: Tensor,
            num_nodes: int, cfg: LLPConfig | None = None,
            evaluate: Any = None) -> MLPLinkPredictor:
    r"""Train ``student`` by LLP from ``teacher`` (see the module docstring).

    Args:
        student (MLPLinkPredictor): the MLP to train (in place).
        teacher (TeacherScores): frozen teacher scores.
        x (Tensor): node features :math:`(N, F)`.
        train_pos (Tensor): training links :math:`(2, E)` (one direction is enough); they are
            the only graph the context sampler and the negative sampler see.
        num_nodes (int): :math:`N`.
        cfg (LLPConfig, optional): hyper-parameters.
        evaluate (callable, optional): ``evaluate(student) -> float`` (validation score, higher
            is better) called every ``cfg.eval_every`` epochs; the best state is restored.

    Returns:
        ``student``, with the best validation state when ``evaluate`` is given.
    """
    cfg = cfg or LLPConfig()
    for name in ("rw_step", "hops", "epochs", "link_batch_size"):
        check_range("distill", name, getattr(cfg, name), low=1, integer=True)
    check_range("distill", "ns_rate", cfg.ns_rate, low=0, integer=True)
    if evaluate is not None:
        check_range("distill", "eval_every", cfg.eval_every, low=1, integer=True)
    check_edge_index("distill", train_pos, num_nodes, "train_pos")
    device = x.device
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    und = torch.cat([train_pos, train_pos.flip(0)], dim=1).cpu()
    rowptr, col, _ = build_csr(und, num_nodes)
    keys = und[0] * num_nodes + und[1]
    opt = torch.optim.Adam(student.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    e = train_pos.size(1)
    n_steps = math.ceil(e / cfg.link_batch_size)
    node_bs = math.ceil(num_nodes / n_steps)      # every node is an anchor once per epoch
    best, best_state, bad = -math.inf, None, 0
    for epoch in range(cfg.epochs):
        student.train()
        link_perm = torch.randperm(e, generator=gen).split(cfg.link_batch_size)
        node_perm = torch.randperm(num_nodes, generator=gen).split(node_bs)
        for lp, anchors in zip(link_perm, node_perm):
            pos = train_pos[:, lp.to(train_pos.device)].cpu()
            neg = _neg_pairs(keys, num_nodes, pos.size(1), gen)
            ctx = sample_context(rowptr, col, anchors, num_nodes, cfg.rw_step, cfg.hops,
                                 cfg.ns_rate, gen)                      # (B, k)
            src = anchors.view(-1, 1).expand_as(ctx)
            t = teacher(src.to(device), ctx.to(device)).float()         # (B, k) logits
            h = student.encode(x)
            s = student.head.score_pairs(h[src.to(device)], h[ctx.to(device)])
            links = torch.cat([pos, neg], dim=1).to(device)
            y = torch.cat([torch.ones(pos.size(1)), torch.zeros(neg.size(1))]).to(device)
            loss = cfg.true_label * F.binary_cross_entropy_with_logits(
                student.score(h, links), y)
            if cfg.llp_d:
                loss = loss + cfg.llp_d * distribution_loss(s, t, cfg.temperature)
            if cfg.llp_r:
                loss = loss + cfg.llp_r * rank_loss(s.sigmoid(), t.sigmoid(), cfg.margin)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(student.parameters(), cfg.grad_clip)
            opt.step()
        cfg.history.append({"epoch": epoch, "loss": float(loss.detach())})
        if evaluate is not None and (epoch + 1) % cfg.eval_every == 0:
            student.eval()
            with torch.no_grad():
                score = float(evaluate(student))
            cfg.history[-1]["val"] = score
            if score > best:
                best, bad = score, 0
                best_state = {k: v.detach().clone() for k, v in student.state_dict().items()}
            else:
                bad += 1
                if cfg.patience and bad >= cfg.patience:
                    break
    if best_state is not None:
        student.load_state_dict(best_state)
    student.eval()
    return student

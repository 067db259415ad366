r"""Unsupervised node embeddings by Deep Graph Infomax, as inputs of subgraph link heads.

`"Deep Graph Infomax" <https://arxiv.org/abs/1809.10341>`_ (Veličković et al., ICLR 2019):
an encoder :math:`\mathbf{H} = \mathcal{E}(\mathbf{X}, \mathbf{A})` is trained to tell a node's
patch representation :math:`\mathbf{h}_i` of the real graph from that of a corrupted graph
:math:`\tilde{\mathbf{h}}_j` (rows of :math:`\mathbf{X}` shuffled), given the graph summary
:math:`\mathbf{s} = \sigma(\tfrac1N \sum_i \mathbf{h}_i)`, with the bilinear discriminator
:math:`D(\mathbf{h}, \mathbf{s}) = \sigma(\mathbf{h}^\top \mathbf{W} \mathbf{s})`:

.. math::
    \mathcal{L} = -\frac{1}{2N} \Big( \sum_i \log D(\mathbf{h}_i, \mathbf{s})
    + \sum_j \log\big(1 - D(\tilde{\mathbf{h}}_j, \mathbf{s})\big) \Big)

The model is PyG's :class:`~torch_geometric.nn.models.DeepGraphInfomax`; this module adds the
paper's transductive recipe (one GCN layer with PReLU, 512 channels, Adam at 1e-3, early stopping
on the training loss with patience 20, the best-loss weights kept), determinism per seed and
checks. WalkPool's paper feeds its head unsupervised embeddings on attributed graphs (GIC, VGAE
or ARGVA); :class:`GraphInfoClust` is GIC, DGI plus a cluster-level term, and
:func:`gic_embeddings` its recipe as used by WalkPool's code.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import DeepGraphInfomax, GCNConv

from graphkit._checks import check_range

#: keyword options of :func:`dgi_embeddings` a config may set (``model.encoder_kwargs``)
DGI_OPTIONS = {"out_channels", "epochs", "lr", "patience", "normalize"}
#: keyword options of :func:`gic_embeddings` a config may set (``model.encoder_kwargs``)
GIC_OPTIONS = DGI_OPTIONS | {"num_clusters", "beta", "alpha"}


class _GCNPReLU(torch.nn.Module):
    """DGI's transductive encoder: one GCN layer and a PReLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = GCNConv(in_channels, out_channels)
        self.act = torch.nn.PReLU(out_channels)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.act(self.conv(x, edge_index))


def _summary(z: Tensor, *args, **kwargs) -> Tensor:
    return torch.sigmoid(z.mean(dim=0))


def soft_kmeans(z: Tensor, init: Tensor, beta: float, num_iters: int = 10
                ) -> tuple[Tensor, Tensor]:
    r"""Soft k-means on the unit sphere (ClusterNet, Wilder et al. 2019, as GIC uses it).

    Rows of ``z`` are L2-normalised; from the centres ``init`` ``(K, d)``, each step sets
    :math:`r_{ik} = \mathrm{softmax}_k(\beta \, \hat{\mathbf{z}}_i^\top \hat{\boldsymbol{\mu}}_k)`
    and :math:`\boldsymbol{\mu}_k = \sum_i r_{ik} \hat{\mathbf{z}}_i / \sum_i r_{ik}`. The
    first ``num_iters`` steps run without gradient; one final step is differentiable in ``z``,
    so gradients flow through the assignments and the means but not the fixed point.

    Returns:
        ``(mu, r)``: the centres ``(K, d)`` of the final step and the soft assignments
        ``(N, K)`` that produced them.
    """
    zn = F.normalize(z, dim=1, eps=1e-6)
    mu = init
    with torch.no_grad():
        for _ in range(num_iters):
            mu = _kmeans_step(zn.detach(), mu, beta)[0]
    return _kmeans_step(zn, mu, beta)


def _kmeans_step(zn: Tensor, mu: Tensor, beta: float) -> tuple[Tensor, Tensor]:
    r = torch.softmax(beta * (zn @ F.normalize(mu, dim=1, eps=1e-6).t()), dim=1)    # (N, K)
    return (r.t() @ zn) / r.sum(0).clamp_min(1e-12).unsqueeze(1), r


class GraphInfoClust(DeepGraphInfomax):
    r"""Graph InfoClust (GIC) from `"Graph InfoClust: Maximizing Coarse-Grain Mutual
    Information in Graphs" <https://arxiv.org/abs/2009.06946>`_ (Mavromatis & Karypis,
    PAKDD 2021): Deep Graph Infomax's graph-level objective plus a cluster-level one.

    The embeddings :math:`\mathbf{H}` are clustered by differentiable soft k-means
    (:func:`soft_kmeans`, ``num_clusters`` centres, inverse temperature ``beta``); node
    :math:`i`'s cluster summary is :math:`\mathbf{c}_i = \sigma(\sum_k r_{ik}\boldsymbol{\mu}_k)`,
    scored against real and corrupted embeddings by the inner product:

    .. math::
        \mathcal{L} = \alpha \, \mathcal{L}_{\mathrm{DGI}} - (1 - \alpha) \Big(
        \frac1N \sum_i \log \sigma(\mathbf{h}_i^\top \mathbf{c}_i)
        + \frac1N \sum_i \log\big(1 - \sigma(\tilde{\mathbf{h}}_i^\top \mathbf{c}_i)\big) \Big)

    Args:
        hidden_channels (int): embedding size.
        encoder (torch.nn.Module): :math:`\mathcal{E}(\mathbf{X}, \mathbf{A})`.
        summary (callable): the graph readout, as in PyG's
            :class:`~torch_geometric.nn.models.DeepGraphInfomax`.
        corruption (callable): the corruption, as there.
        num_clusters (int): :math:`K`. (default: :obj:`128`, GIC's Cora / CiteSeer value)
        beta (float): inverse temperature of the soft assignments. (default: :obj:`100.`)
        alpha (float): weight of the graph-level term. (default: :obj:`0.5`)
        kmeans_iters (int): gradient-free k-means steps before the final one. (default: :obj:`10`)
    """

    def __init__(self, hidden_channels: int, encoder: torch.nn.Module, summary, corruption, *,
                 num_clusters: int = 128, beta: float = 100.0, alpha: float = 0.5,
                 kmeans_iters: int = 10) -> None:
        owner = type(self).__name__
        check_range(owner, "num_clusters", num_clusters, low=1, integer=True)
        check_range(owner, "beta", beta, low=0.0, low_open=True)
        check_range(owner, "alpha", alpha, low=0.0, high=1.0)
        check_range(owner, "kmeans_iters", kmeans_iters, low=0, integer=True)
        self.num_clusters, self.beta, self.alpha = num_clusters, float(beta), float(alpha)
        self.kmeans_iters = kmeans_iters
        super().__init__(hidden_channels, encoder, summary, corruption)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        # GIC starts k-means from the same random centres every epoch
        init = torch.rand(self.num_clusters, self.hidden_channels, device=self.weight.device)
        if hasattr(self, "centres_init"):
            self.centres_init.copy_(init)
        else:
            self.register_buffer("centres_init", init)

    def cluster_summary(self, z: Tensor) -> Tensor:
        r""":math:`\sigma(\mathbf{R}\boldsymbol{\mu})`, one row per node, ``(N, d)``."""
        mu, r = soft_kmeans(z, self.centres_init, self.beta, self.kmeans_iters)
        return torch.sigmoid(r @ mu)

    def loss(self, pos_z: Tensor, neg_z: Tensor, summary: Tensor) -> Tensor:
        graph_level = super().loss(pos_z, neg_z, summary)
        c = self.cluster_summary(pos_z)
        pos, neg = (pos_z * c).sum(1), (neg_z * c).sum(1)
        cluster_level = (F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos))
                         + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg)))
        return self.alpha * graph_level + (1.0 - self.alpha) * cluster_level

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.hidden_channels}, num_clusters="
                f"{self.num_clusters}, beta={self.beta}, alpha={self.alpha})")


def dgi_embeddings(x: Tensor, edge_index: Tensor, *, out_channels: int = 512,
                   epochs: int = 1000, lr: float = 1e-3, patience: int = 20,
                   normalize: bool = False, seed: int = 0) -> Tensor:
    r"""Train Deep Graph Infomax on ``(x, edge_index)`` and return the node embeddings
    :math:`\mathbf{H}`, detached, ``(N, out_channels)``.

    Only the edges passed here are seen: for a link split pass the training graph, never the
    validation or test links. Deterministic for a given ``seed`` (own generator for the
    corruption; the global RNG is left as it was).

    Args:
        x (Tensor): node features ``(N, F)``.
        edge_index (Tensor): message edges ``(2, E)``.
        out_channels (int): embedding size. (default: :obj:`512`, the paper's)
        epochs (int): most training epochs. (default: :obj:`1000`)
        lr (float): Adam learning rate. (default: :obj:`1e-3`)
        patience (int): stop after this many epochs without a lower loss; the weights of the
            lowest loss are kept. (default: :obj:`20`)
        normalize (bool): return unit-length rows (cosine geometry). (default: :obj:`False`)
        seed (int): initialisation and corruption seed. (default: :obj:`0`)
    """
    return _train_infomax("dgi_embeddings", DeepGraphInfomax, {}, x, edge_index,
                          out_channels=out_channels, epochs=epochs, lr=lr, patience=patience,
                          normalize=normalize, seed=seed)


def gic_embeddings(x: Tensor, edge_index: Tensor, *, out_channels: int = 32,
                   epochs: int = 2000, lr: float = 1e-3, patience: int = 100,
                   num_clusters: int = 128, beta: float = 100.0, alpha: float = 0.5,
                   normalize: bool = True, seed: int = 0) -> Tensor:
    r"""Train :class:`GraphInfoClust` on ``(x, edge_index)`` and return the node embeddings,
    detached, ``(N, out_channels)``, with unit-length rows by default.

    The defaults are the recipe of WalkPool's code for Cora / CiteSeer inputs (32 channels,
    one GCN layer + PReLU, Adam at 1e-3, at most 2,000 epochs, patience 100 on the training
    loss, 128 clusters, :math:`\beta = 100`, :math:`\alpha = 0.5`, rows L2-normalised); the
    weights of the lowest loss are kept. Only the edges passed here are seen; deterministic per
    ``seed``, the global RNG left as it was.

    Args:
        x (Tensor): node features ``(N, F)``.
        edge_index (Tensor): message edges ``(2, E)``.
        out_channels (int): embedding size. (default: :obj:`32`)
        epochs (int): most training epochs. (default: :obj:`2000`)
        lr (float): Adam learning rate. (default: :obj:`1e-3`)
        patience (int): early-stopping patience on the training loss. (default: :obj:`100`)
        num_clusters (int): soft k-means centres. (default: :obj:`128`)
        beta (float): soft k-means inverse temperature. (default: :obj:`100.`)
        alpha (float): weight of the graph-level (DGI) term. (default: :obj:`0.5`)
        normalize (bool): return unit-length rows. (default: :obj:`True`)
        seed (int): initialisation, centres and corruption seed. (default: :obj:`0`)
    """
    return _train_infomax("gic_embeddings", GraphInfoClust,
                          {"num_clusters": num_clusters, "beta": beta, "alpha": alpha},
                          x, edge_index, out_channels=out_channels, epochs=epochs, lr=lr,
                          patience=patience, normalize=normalize, seed=seed)


def _train_infomax(owner: str, model_cls: type, model_kwargs: dict, x: Tensor,
                   edge_index: Tensor, *, out_channels: int, epochs: int, lr: float,
                   patience: int, normalize: bool, seed: int) -> Tensor:
    """Full-batch training with early stopping on the loss, best-loss weights kept."""
    check_range(owner, "out_channels", out_channels, low=1, integer=True)
    check_range(owner, "epochs", epochs, low=1, integer=True)
    check_range(owner, "patience", patience, low=1, integer=True)
    check_range(owner, "lr", lr, low=0.0, low_open=True)
    if not isinstance(normalize, bool):
        raise TypeError(f"{owner}: 'normalize' must be a bool; got {normalize!r}")
    if x.dim() != 2:
        raise ValueError(f"{owner}: 'x' must be (num_nodes, features); got shape {tuple(x.shape)}")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"{owner}: 'edge_index' must be (2, num_edges); got shape "
                         f"{tuple(edge_index.shape)}")
    n = x.size(0)
    x = x.float()
    devices = [x.device] if x.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        gen = torch.Generator(device=x.device).manual_seed(seed)

        def corruption(x: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
            return x[torch.randperm(n, generator=gen, device=x.device)], edge_index

        model = model_cls(out_channels, _GCNPReLU(x.size(1), out_channels), summary=_summary,
                          corruption=corruption, **model_kwargs).to(x.device)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        best, best_state, waited = float("inf"), None, 0
        for _ in range(epochs):
            model.train()
            opt.zero_grad()
            loss = model.loss(*model(x, edge_index))
            value = float(loss.detach())
            if value < best:                       # the weights that gave this loss
                best, waited = value, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if waited >= patience:
                    break
            loss.backward()
            opt.step()
        model.load_state_dict(best_state)
        model.eval()
        with torch.no_grad():
            z = model.encoder(x, edge_index).detach()
        return F.normalize(z, dim=1) if normalize else z

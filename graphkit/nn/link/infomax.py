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
checks. WalkPool's paper feeds its head unsupervised embeddings on attributed graphs (GIC, a DGI
variant with a cluster-level term, VGAE or ARGVA); DGI is the infomax member of that family
available in PyG.
"""
from __future__ import annotations

import copy

import torch
from torch import Tensor
from torch_geometric.nn import DeepGraphInfomax, GCNConv

from graphkit._checks import check_range

#: keyword options of :func:`dgi_embeddings` a config may set (``model.encoder_kwargs``)
DGI_OPTIONS = {"out_channels", "epochs", "lr", "patience"}


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


def dgi_embeddings(x: Tensor, edge_index: Tensor, *, out_channels: int = 512,
                   epochs: int = 1000, lr: float = 1e-3, patience: int = 20,
                   seed: int = 0) -> Tensor:
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
        seed (int): initialisation and corruption seed. (default: :obj:`0`)
    """
    owner = "dgi_embeddings"
    check_range(owner, "out_channels", out_channels, low=1, integer=True)
    check_range(owner, "epochs", epochs, low=1, integer=True)
    check_range(owner, "patience", patience, low=1, integer=True)
    check_range(owner, "lr", lr, low=0.0, low_open=True)
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

        model = DeepGraphInfomax(out_channels, _GCNPReLU(x.size(1), out_channels),
                                 summary=_summary, corruption=corruption).to(x.device)
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
            return model.encoder(x, edge_index).detach()

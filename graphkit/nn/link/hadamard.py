"""Hadamard-product MLP link head."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn.models import MLP

from graphkit._checks import check_edge_index, check_range
from graphkit.registry import HEADS


@HEADS.register("hadamard")
class HadamardMLPHead(torch.nn.Module):
    r"""MLP on the element-wise product of the two end-node embeddings, the predictor of
    `"Open Graph Benchmark: Datasets for Machine Learning on Graphs"
    <https://arxiv.org/abs/2005.00687>`_ baselines and of `"Linkless Link Prediction via
    Relational Distillation" <https://arxiv.org/abs/2210.05801>`_:

    .. math::
        s_{uv} = \mathrm{MLP}(\mathbf{z}_u \odot \mathbf{z}_v)

    The score is symmetric in :math:`(u, v)`; a self-pair scores :math:`\mathrm{MLP}(\mathbf{z}_u^2)`
    and duplicate candidates get identical scores.

    Args:
        channels (int): embedding size :math:`F`.
        hidden_channels (int, optional): MLP width. (default: ``channels``)
        num_layers (int, optional): MLP depth (linear layers, >= 1). (default: :obj:`2`)
        dropout (float, optional): dropout between MLP layers. (default: :obj:`0.0`)

    Shapes:
        - **input:** ``z``: :math:`(|\mathcal{V}|, F)`, ``edge_label_index``: :math:`(2, B)`
        - **output:** logits :math:`(B,)`
    """

    def __init__(self, channels: int, hidden_channels: int | None = None, num_layers: int = 2,
                 dropout: float = 0.0) -> None:
        super().__init__()
        check_range(type(self).__name__, "channels", channels, low=1, integer=True)
        check_range(type(self).__name__, "num_layers", num_layers, low=1, integer=True)
        check_range(type(self).__name__, "dropout", dropout, low=0.0, high=1.0, high_open=True)
        self.channels, self.num_layers = channels, num_layers
        self.hidden_channels = hidden_channels or channels
        sizes = [channels] + [self.hidden_channels] * (num_layers - 1) + [1]
        self.mlp = MLP(sizes, dropout=dropout, norm=None)

    def reset_parameters(self) -> None:
        self.mlp.reset_parameters()

    def forward(self, z: Tensor, edge_label_index: Tensor) -> Tensor:
        check_edge_index(type(self).__name__, edge_label_index, z.size(0), "edge_label_index")
        if z.size(-1) != self.channels:
            raise ValueError(f"{type(self).__name__}: 'z' must have {self.channels} channels; "
                             f"got shape {tuple(z.shape)}")
        return self.score_pairs(z[edge_label_index[0]], z[edge_label_index[1]])

    def score_pairs(self, z_src: Tensor, z_dst: Tensor) -> Tensor:
        """Logits for aligned end-node embeddings ``(..., F)`` -> ``(...)`` (any leading shape)."""
        return self.mlp((z_src * z_dst).reshape(-1, self.channels)).view(z_src.shape[:-1])

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.channels}, hidden_channels={self.hidden_channels}, "
                f"num_layers={self.num_layers})")

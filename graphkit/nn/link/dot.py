"""Link-prediction scoring heads over node embeddings ``z``.

A head maps ``z`` of shape :math:`(|\\mathcal{V}|, F)` and candidate links ``edge_label_index``
of shape :math:`(2, B)` to one logit per link, shape :math:`(B,)`.
"""
from __future__ import annotations

import torch
from torch import Tensor

from graphkit._checks import check_edge_index
from graphkit.registry import HEADS


@HEADS.register("dot")
class DotHead(torch.nn.Module):
    r"""Inner-product decoder of the graph auto-encoder, from `"Variational Graph Auto-Encoders"
    <https://arxiv.org/abs/1611.07308>`_: :math:`s_{uv} = \mathbf{z}_u^\top \mathbf{z}_v`.

    Args:
        channels (int, optional): embedding size (unused; accepted for a uniform interface).

    Shapes:
        - **input:** ``z``: :math:`(|\mathcal{V}|, F)`, ``edge_label_index``: :math:`(2, B)`
        - **output:** logits :math:`(B,)`
    """

    def __init__(self, channels: int | None = None) -> None:
        super().__init__()
        self.channels = channels

    def reset_parameters(self) -> None:
        pass

    def forward(self, z: Tensor, edge_label_index: Tensor) -> Tensor:
        check_edge_index(type(self).__name__, edge_label_index, z.size(0), "edge_label_index")
        return (z[edge_label_index[0]] * z[edge_label_index[1]]).sum(dim=-1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

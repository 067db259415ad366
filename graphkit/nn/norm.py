r"""Node-feature normalisations for deep GNN backbones, by name (registered in ``NORMS``).

Thin adapters around PyTorch / PyG layers with one call ``norm(x, batch=None)``:

- ``"batch"``: :class:`torch_geometric.nn.norm.BatchNorm` (statistics over nodes),
- ``"layer"``: :class:`torch.nn.LayerNorm` per node (PyG's ``LayerNorm`` defaults to
  whole-graph statistics, which is not the pre-norm of the residual literature),
- ``"pair"``: :class:`torch_geometric.nn.norm.PairNorm`, from `"PairNorm: Tackling
  Oversmoothing in GNNs" <https://arxiv.org/abs/1909.12223>`_ (per graph with ``batch``),
- ``"none"``: identity.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn.norm import BatchNorm, PairNorm

from graphkit._checks import check_range
from graphkit.registry import NORMS


class NodeNorm(torch.nn.Module):
    r"""A named normalisation of node features with the call ``norm(x, batch=None)``.

    Args:
        kind (str): ``"batch"``, ``"layer"``, ``"pair"`` or ``"none"``.
        channels (int): feature size :math:`F`.
        **kwargs: passed to the wrapped layer (e.g. ``scale`` for PairNorm).

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`, optional ``batch`` :math:`(|\mathcal{V}|,)`;
          **output:** same shape
    """

    def __init__(self, kind: str, channels: int, **kwargs) -> None:
        super().__init__()
        check_range("NodeNorm", "channels", channels, 1, integer=True)
        self.kind, self.channels = kind, channels
        if kind == "batch":
            self.module = BatchNorm(channels, **kwargs)
        elif kind == "layer":
            self.module = torch.nn.LayerNorm(channels, **kwargs)
        elif kind == "pair":
            self.module = PairNorm(**kwargs)
        elif kind == "none":
            self.module = None
        else:
            raise ValueError(f"NodeNorm: 'kind' must be one of ['batch', 'layer', 'none', "
                             f"'pair']; got {kind!r}")

    def forward(self, x: Tensor, batch: Tensor | None = None) -> Tensor:
        if self.module is None:
            return x
        if self.kind == "pair":
            return self.module(x, batch)
        return self.module(x)

    def reset_parameters(self) -> None:
        if self.module is not None and hasattr(self.module, "reset_parameters"):
            self.module.reset_parameters()

    def __repr__(self) -> str:
        return f"NodeNorm({self.kind!r}, {self.channels})"


for _kind in ("batch", "layer", "pair", "none"):
    NORMS.register(_kind, lambda channels, _k=_kind, **kw: NodeNorm(_k, channels, **kw))


def build_norm(name: str, channels: int, **kwargs) -> NodeNorm:
    """``NORMS.build(name, channels)``: unknown names raise a ``ValueError`` listing the known."""
    return NORMS.build(name, channels, **kwargs)

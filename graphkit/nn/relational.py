r"""Relational message passing over rewired graphs: one conv per relation (edge type), summed,
as in R-GCN (`"Modeling Relational Data with Graph Convolutional Networks"
<https://arxiv.org/abs/1703.06103>`_) and LASER's snapshot layers (Barbero et al., ICLR 2024),
but with per-relation weights in **every** layer (LASER's released code has them only in the
last one).

.. math::
    \mathbf{h}_v^{(\ell+1)} = \sigma\Big(\sum_{r=0}^{R-1}
        \mathrm{conv}_r^{(\ell)}\big(\mathbf{h}^{(\ell)}, \mathcal{E}_r\big)_v\Big)

Relation ids come from ``edge_type`` or, in graphkit's trainer (which passes only
``edge_attr``), from ``edge_attr``: the rewiring transforms write the relation id into
``edge_attr`` by default (``edge_attr="relation"``), so ``RelationalGNN`` declares
``uses_edge_attr = True`` and reads a 1-D integer ``edge_attr`` (or a ``(E, 1)`` column) as the
relation id. Without either, every edge is relation 0.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch_geometric.nn import GATConv, GCNConv, GINConv, GraphConv, SAGEConv

from graphkit._checks import check_choice, check_range
from graphkit.registry import CONVS, MODELS

_CONVS = ("gcn", "sage", "gin", "graphconv", "gat")


def _make_conv(name: str, cin: int, cout: int, **kw: Any) -> torch.nn.Module:
    if name == "gcn":
        return GCNConv(cin, cout, **kw)
    if name == "sage":
        return SAGEConv(cin, cout, **kw)
    if name == "graphconv":
        return GraphConv(cin, cout, **kw)
    if name == "gat":
        return GATConv(cin, cout, heads=1, **kw)
    if name == "gin":
        mlp = torch.nn.Sequential(torch.nn.Linear(cin, cout), torch.nn.ReLU(),
                                  torch.nn.Linear(cout, cout))
        return GINConv(mlp, **kw)
    return CONVS.build(name, cin, cout, **kw)


def relation_ids(edge_index: Tensor, edge_attr: Tensor | None = None,
                 edge_type: Tensor | None = None) -> Tensor:
    """The relation id of every edge: ``edge_type``, else an integer-valued ``edge_attr`` of shape
    ``(E,)`` or ``(E, 1)``, else zeros."""
    rel = edge_type if edge_type is not None else edge_attr
    if rel is None:
        return edge_index.new_zeros(edge_index.size(1))
    if rel.dim() == 2 and rel.size(1) == 1:
        rel = rel.view(-1)
    if rel.dim() != 1 or rel.numel() != edge_index.size(1):
        raise ValueError(f"RelationalGNN: relation ids must be one per edge, shape "
                         f"({edge_index.size(1)},); got shape {tuple(rel.shape)} (set the "
                         f"rewiring transform's edge_attr='relation' or pass edge_type)")
    return rel.long()


class RelationalConv(torch.nn.Module):
    r"""One conv per relation, outputs summed: :math:`\sum_r \mathrm{conv}_r(\mathbf{x},
    \mathcal{E}_r)`.

    Args:
        in_channels (int), out_channels (int): sizes.
        num_relations (int): :math:`R`; edges with ids :math:`\ge R` are ignored.
        conv (str or callable, optional): ``gcn``, ``sage``, ``gin``, ``graphconv``, ``gat``, a
            ``CONVS`` name, or a factory ``(in, out) -> module``. (default: ``"gcn"``)
        **conv_kwargs: passed to every conv.

    Shapes:
        - **input:** ``x`` :math:`(|\mathcal{V}|, F_{in})`, ``edge_index`` :math:`(2,
          |\mathcal{E}|)`, ``rel`` :math:`(|\mathcal{E}|,)`;  **output:** :math:`(|\mathcal{V}|,
          F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, num_relations: int,
                 conv: str | Callable[..., torch.nn.Module] = "gcn", **conv_kwargs: Any) -> None:
        super().__init__()
        check_range("RelationalConv", "num_relations", num_relations, 1, integer=True)
        self.in_channels, self.out_channels, self.num_relations = in_channels, out_channels, \
            num_relations
        self.conv_name = conv if isinstance(conv, str) else getattr(conv, "__name__", "custom")
        factory = (lambda i, o: _make_conv(conv, i, o, **conv_kwargs)) if isinstance(conv, str) \
            else (lambda i, o: conv(i, o, **conv_kwargs))
        self.convs = torch.nn.ModuleList([factory(in_channels, out_channels)
                                          for _ in range(num_relations)])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for c in self.convs:
            c.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, rel: Tensor) -> Tensor:
        out = None
        for r, conv in enumerate(self.convs):       # a loop over relations, not edges
            h = conv(x, edge_index[:, rel == r])
            out = h if out is None else out + h
        return out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"num_relations={self.num_relations}, conv={self.conv_name!r})")


@MODELS.register("relational")
class RelationalGNN(torch.nn.Module):
    r"""A stack of :class:`RelationalConv` layers (any conv per relation, every layer), the
    backbone for LASER snapshots or FoSR / SDRF / BORF's added-edge relation.

    Args:
        in_channels (int), hidden_channels (int), out_channels (int): sizes.
        num_layers (int): depth.
        dropout (float, optional): dropout after every hidden layer. (default: :obj:`0.0`)
        num_relations (int, optional): :math:`R`: LASER with :math:`L` snapshots has
            :math:`L + 1`; FoSR / SDRF / BORF / GDC have 2. (default: :obj:`3`)
        conv (str, optional): conv per relation (see :class:`RelationalConv`). (default: ``"gcn"``)
        norm (str, optional): ``None`` or ``"batch"`` after every hidden layer.
        **conv_kwargs: passed to every conv.

    Shapes:
        - **input:** ``x`` :math:`(|\mathcal{V}|, F_{in})`, ``edge_index`` :math:`(2,
          |\mathcal{E}|)`, ``edge_attr`` / ``edge_type`` :math:`(|\mathcal{E}|,)` relation ids;
          **output:** :math:`(|\mathcal{V}|, F_{out})`

    Example:
        >>> data = LASER(num_snapshots=2)(data)
        >>> model = MODELS.build("relational", in_channels=7, hidden_channels=64,
        ...                      out_channels=2, num_layers=4, num_relations=3)
        >>> out = model(data.x, data.edge_index, edge_attr=data.edge_attr)
    """

    uses_edge_attr = True

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int, dropout: float = 0.0, num_relations: int = 3,
                 conv: str = "gcn", norm: str | None = None, act: str = "relu",
                 **conv_kwargs: Any) -> None:
        super().__init__()
        check_range("RelationalGNN", "num_layers", num_layers, 1, integer=True)
        check_range("RelationalGNN", "dropout", dropout, 0.0, 1.0)
        check_choice("RelationalGNN", "norm", norm, {None, "batch"})
        check_choice("RelationalGNN", "act", act, {"relu", "gelu", "elu"})
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, \
            hidden_channels, out_channels
        self.num_layers, self.dropout, self.num_relations = num_layers, dropout, num_relations
        self.act = {"relu": torch.nn.functional.relu, "gelu": torch.nn.functional.gelu,
                    "elu": torch.nn.functional.elu}[act]
        dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = torch.nn.ModuleList([
            RelationalConv(dims[i], dims[i + 1], num_relations, conv, **conv_kwargs)
            for i in range(num_layers)])
        self.norms = torch.nn.ModuleList([
            torch.nn.BatchNorm1d(hidden_channels) if norm == "batch" else torch.nn.Identity()
            for _ in range(num_layers - 1)])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for c in self.convs:
            c.reset_parameters()
        for n in self.norms:
            if hasattr(n, "reset_parameters"):
                n.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None,
                batch: Tensor | None = None, edge_type: Tensor | None = None) -> Tensor:
        rel = relation_ids(edge_index, edge_attr, edge_type)
        for i, conv in enumerate(self.convs):
            x = conv(x, edge_index, rel)
            if i < self.num_layers - 1:
                x = self.act(self.norms[i](x))
                x = torch.nn.functional.dropout(x, self.dropout, self.training)
        return x

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.hidden_channels}, "
                f"{self.out_channels}, num_layers={self.num_layers}, "
                f"num_relations={self.num_relations})")


MODELS.register("rgcn_laser", RelationalGNN)

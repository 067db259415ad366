r"""A message-passing GNN whose every aggregation (and, in the paper's setting, the readout) is
GNP, from `"Learning to Pool in Graph Neural Networks for Extrapolation"
<https://arxiv.org/abs/2106.06210>`_; any other aggregation can be swapped in by name.

.. math::
    \mathbf{h}_i' = \mathbf{W}_2 \big[\mathbf{h}_i \,\|\,
        \mathrm{AGG}_{j \in \mathcal{N}(i)}\, \mathrm{MLP}([\mathbf{h}_j \,\|\, \mathbf{h}_i
        \,\|\, \mathbf{e}_{ji}])\big]

``AGG`` is resolved by :func:`build_aggregation`: ``"gnp"`` (or anything in graphkit's ``AGGRS``)
and every PyG aggregation name (``"sum"``, ``"mean"``, ``"max"``, ``"min"``, ``"powermean"``,
``"softmax"``, ...), with ``aggr_kwargs``; each layer gets its own instance.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing, SAGEConv
from torch_geometric.nn.aggr import Aggregation
from torch_geometric.nn.resolver import aggregation_resolver

from graphkit._checks import check_range
from graphkit.nn.aggr.gnp import GNP
from graphkit.registry import AGGRS, MODELS

__all__ = ["GNPGNN", "GNPConv", "GNPSAGEConv", "build_aggregation"]

_CHANNEL_KW = {"gnp": "channels", "powermean": "channels", "softmax": "channels"}


def build_aggregation(aggr: str | Aggregation, channels: int,
                      aggr_kwargs: dict[str, Any] | None = None) -> Aggregation:
    """A fresh aggregation by name (graphkit ``AGGRS`` first, then PyG); an instance passes
    through. ``'gnp'``, ``'powermean'`` and ``'softmax'`` get ``channels`` (per-channel
    parameters) unless ``aggr_kwargs`` says otherwise; the last two are made learnable."""
    if isinstance(aggr, Aggregation):
        return aggr
    kw = dict(aggr_kwargs or {})
    key = aggr.lower().replace("_", "").replace("-", "")
    if key in _CHANNEL_KW:
        kw.setdefault(_CHANNEL_KW[key], channels)
    if key in ("powermean", "softmax"):
        kw.setdefault("learn", True)
    if aggr in AGGRS:
        return AGGRS.build(aggr, **kw)
    return aggregation_resolver(aggr, **kw)


class GNPConv(MessagePassing):
    r"""GIN/SAGE-style layer with a message MLP and any aggregation (GNP by default).

    .. math::
        \mathbf{h}_i' = \mathbf{W}_2 \big[\mathbf{h}_i \,\|\, \mathrm{AGG}_{j}\,
            \mathrm{MLP}([\mathbf{h}_j \,\|\, \mathbf{h}_i \,\|\, \mathbf{e}_{ji}])\big]

    Args:
        in_channels (int): input size :math:`F_{in}`.
        out_channels (int): output size :math:`F_{out}`.
        aggr (str or Aggregation, optional): aggregation (see :func:`build_aggregation`).
            (default: ``"gnp"``)
        edge_dim (int, optional): edge feature size, :obj:`None` for none. (default: :obj:`None`)
        aggr_kwargs (dict, optional): keywords for the aggregation. (default: :obj:`None`)

    Shapes:
        - **input:** ``x``: :math:`(|\mathcal{V}|, F_{in})`, ``edge_index``: :math:`(2,
          |\mathcal{E}|)`, ``edge_attr``: :math:`(|\mathcal{E}|, D)`
        - **output:** :math:`(|\mathcal{V}|, F_{out})`

    Example:
        >>> conv = GNPConv(16, 32, aggr="gnp", aggr_kwargs={"init": "mean"})
        >>> h = conv(x, edge_index)
    """

    def __init__(self, in_channels: int, out_channels: int, aggr: str | Aggregation = "gnp",
                 edge_dim: int | None = None,
                 aggr_kwargs: dict[str, Any] | None = None) -> None:
        aggr_name = aggr if isinstance(aggr, str) else type(aggr).__name__
        super().__init__(aggr=build_aggregation(aggr, out_channels, aggr_kwargs))
        check_range("GNPConv", "in_channels", in_channels, low=1, integer=True)
        check_range("GNPConv", "out_channels", out_channels, low=1, integer=True)
        self.in_channels, self.out_channels, self.edge_dim = in_channels, out_channels, edge_dim
        self.aggr_name = aggr_name
        msg_in = 2 * in_channels + (edge_dim or 0)
        self.msg = torch.nn.Sequential(torch.nn.Linear(msg_in, out_channels), torch.nn.ReLU(),
                                       torch.nn.Linear(out_channels, out_channels))
        self.update_lin = torch.nn.Linear(in_channels + out_channels, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for layer in (self.msg[0], self.msg[2], self.update_lin):
            layer.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        if (edge_attr is None) != (self.edge_dim is None):
            raise ValueError(f"GNPConv: built with edge_dim={self.edge_dim} but edge_attr is "
                             f"{'missing' if edge_attr is None else 'given'}; pass edge_attr "
                             f"of width edge_dim, or build with edge_dim=None")
        agg = self.propagate(edge_index, x=x, edge_attr=edge_attr)
        return self.update_lin(torch.cat([x, agg], dim=-1))

    def message(self, x_j: Tensor, x_i: Tensor, edge_attr: Tensor | None) -> Tensor:
        parts = [x_j, x_i] if edge_attr is None else [x_j, x_i, edge_attr.view(x_j.size(0), -1)]
        return self.msg(torch.cat(parts, dim=-1))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"aggr={self.aggr_name!r})")


class GNPSAGEConv(SAGEConv):
    r"""PyG's :class:`~torch_geometric.nn.conv.SAGEConv` with a GNP aggregation that pools the
    neighbours' features directly, without the :math:`(|\mathcal{E}|, F)` message tensor.

    .. math::
        \mathbf{x}_i' = \mathbf{W}_1 \mathbf{x}_i + \mathbf{W}_2\,
            \mathrm{GNP}_{j \in \mathcal{N}(i)}\, \mathbf{x}_j

    The same function and parameters as ``SAGEConv(in, out, aggr=GNP(...))``; only the
    evaluation differs: SAGE's message is the source feature, so GNP's powers
    :math:`x_j^{\,p}` are taken once per node and the edges only sum them
    (:meth:`GNP.pool_neighbors`: a gather and scatter-sum, or a cached CSR product once the same
    graph comes again), which puts the layer at the edge-level cost of a sum aggregation over
    :math:`2F` channels (:math:`F` with ``signed=False``). Sparse adjacency inputs, explain
    mode and propagate hooks take PyG's generic path.

    Args:
        in_channels (int or tuple): as for ``SAGEConv``.
        out_channels (int): as for ``SAGEConv``.
        aggr (GNP, optional): the aggregation; :obj:`None` builds ``GNP(**aggr_kwargs)``
            with ``channels`` defaulting to ``in_channels`` (per-channel p, q).
            (default: :obj:`None`)
        aggr_kwargs (dict, optional): keywords for the default ``GNP``. (default: :obj:`None`)
        **kwargs: the rest of ``SAGEConv``'s arguments (``normalize``, ``root_weight``,
            ``project``, ``bias``).

    Example:
        >>> conv = GNPSAGEConv(16, 32, aggr_kwargs={"init": "mixed", "growth": (0, 1)})
        >>> h = conv(x, edge_index)
    """

    def __init__(self, in_channels: int | tuple[int, int], out_channels: int,
                 aggr: GNP | None = None, aggr_kwargs: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        if aggr is None:
            kw = dict(aggr_kwargs or {})
            kw.setdefault("channels", in_channels[0] if isinstance(in_channels, tuple)
                          else in_channels)
            aggr = GNP(**kw)
        elif not isinstance(aggr, GNP):
            raise TypeError(f"GNPSAGEConv: 'aggr' must be a GNP instance or None; got "
                            f"{type(aggr).__name__} (use SAGEConv for other aggregations)")
        elif aggr_kwargs:
            raise ValueError("GNPSAGEConv: pass either 'aggr' or 'aggr_kwargs', not both")
        super().__init__(in_channels, out_channels, aggr=aggr, **kwargs)

    def propagate(self, edge_index: Tensor, size: tuple | None = None, **kwargs: Any) -> Tensor:
        generic = (not isinstance(edge_index, Tensor) or edge_index.layout != torch.strided
                   or self.explain or self.decomposed_layers > 1
                   or self._propagate_forward_pre_hooks or self._propagate_forward_hooks
                   or self._message_forward_pre_hooks or self._message_forward_hooks
                   or self._aggregate_forward_pre_hooks or self._aggregate_forward_hooks)
        if generic:
            return super().propagate(edge_index, size=size, **kwargs)
        x = kwargs["x"]
        x_src, x_dst = x if isinstance(x, tuple) else (x, x)
        num_dst = size[1] if size is not None and size[1] is not None else (
            x_src.size(0) if x_dst is None else x_dst.size(0))
        return self.aggr_module.pool_neighbors(x_src, edge_index, num_dst)


@MODELS.register("gnp_gnn")
class GNPGNN(torch.nn.Module):
    r"""A stack of :class:`GNPConv` layers (GNP in every aggregation by default) with ReLU between
    layers and a linear output, following the model interface of ``MODELS``.

    Args:
        in_channels (int): node feature size.
        hidden_channels (int): layer width.
        out_channels (int): output size per node.
        num_layers (int): number of message-passing layers. (default: :obj:`2`)
        dropout (float): dropout between layers. (default: :obj:`0.0`)
        aggr (str, optional): aggregation of every layer. (default: ``"gnp"``)
        aggr_kwargs (dict, optional): keywords for each aggregation. (default: :obj:`None`)
        edge_dim (int, optional): edge feature size. (default: :obj:`None`)

    Shapes:
        - **input:** ``x``: :math:`(|\mathcal{V}|, F_{in})`, ``edge_index``: :math:`(2,
          |\mathcal{E}|)`; **output:** :math:`(|\mathcal{V}|, F_{out})`

    Example:
        >>> model = MODELS.build("gnp_gnn", in_channels=2, hidden_channels=32, out_channels=1,
        ...                      num_layers=3, edge_dim=1)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int = 2, dropout: float = 0.0, aggr: str = "gnp",
                 aggr_kwargs: dict[str, Any] | None = None,
                 edge_dim: int | None = None) -> None:
        super().__init__()
        check_range("GNPGNN", "num_layers", num_layers, low=1, integer=True)
        check_range("GNPGNN", "dropout", float(dropout), low=0.0, high=1.0, high_open=True)
        self.in_channels, self.hidden_channels = in_channels, hidden_channels
        self.out_channels, self.num_layers, self.dropout = out_channels, num_layers, dropout
        self.aggr = aggr
        dims = [in_channels] + [hidden_channels] * num_layers
        self.convs = torch.nn.ModuleList(
            GNPConv(dims[i], dims[i + 1], aggr=aggr, edge_dim=edge_dim, aggr_kwargs=aggr_kwargs)
            for i in range(num_layers))
        self.out = torch.nn.Linear(hidden_channels, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()
        self.out.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None,
                batch: Tensor | None = None) -> Tensor:
        for i, conv in enumerate(self.convs):
            x = conv(x, edge_index, edge_attr)
            if i < self.num_layers - 1:
                x = torch.nn.functional.dropout(x.relu(), self.dropout, self.training)
        return self.out(x)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.hidden_channels}, "
                f"{self.out_channels}, num_layers={self.num_layers}, aggr={self.aggr!r})")


# GNP is imported for its registration side effect in AGGRS / READOUTS.
_ = GNP

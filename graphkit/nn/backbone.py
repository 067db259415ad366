r"""DeepGNN: conv type x residual kind x norm x depth x width, built from names.

Registered in ``MODELS`` as ``"deepgnn"`` (and ``"gcnii"``: GCNII's configuration).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.nn import GATConv, GINConv, GraphConv, MessagePassing, SAGEConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.nn.resolver import activation_resolver

from graphkit._checks import check_choice, check_range, check_type
from graphkit.nn.norm import NodeNorm, build_norm
from graphkit.nn.residual import ResidualStack
from graphkit.nn.sparse import SparseAdj, _same_tensor, _tensor_key
from graphkit.registry import CONVS, MODELS, NORMS, RESIDUALS

BUILTIN_CONVS = {"gcn", "prop", "sage", "gin", "gat", "graphconv"}
#: residual kinds whose branch is pre-activated (norm -> act -> dropout -> conv, DeeperGCN res+)
PRE_ORDER = {"preact", "rezero", "laurel_rw", "laurel_lr", "laurel_pa", "hc_static",
             "hc_dynamic", "mhc"}


def feature_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    r"""Inverted dropout, identical in distribution to ``torch.nn.functional.dropout`` but with
    the mask drawn by ``rand_like`` (several times faster than ``bernoulli_`` on CPU) and, for
    mostly-zero inputs such as bag-of-words features, drawn for the non-zeros only (dropping a
    zero is a no-op).

    Shapes:
        - **input/output:** any shape
    """
    if not training or p == 0.0:
        return x
    scale = 1.0 / (1.0 - p)
    if x.dim() == 2 and x.numel() > 1_000_000:
        nz = x != 0
        if int(nz.sum()) * 4 < x.numel():
            vals = x[nz]
            vals = vals * (torch.rand_like(vals) >= p).to(x.dtype) * scale
            return torch.zeros_like(x).masked_scatter(nz, vals)
    return x * ((torch.rand_like(x) >= p).to(x.dtype) * scale)


class GCNPropagate(MessagePassing):
    r"""Weight-free GCN propagation :math:`\tilde{\mathbf{P}}\mathbf{x}`, with
    :math:`\tilde{\mathbf{P}} = \tilde{\mathbf{D}}^{-1/2}(\mathbf{A}+\mathbf{I})
    \tilde{\mathbf{D}}^{-1/2}` (GCNII's and APPNP's propagation step).

    Args:
        normalize (bool): compute :math:`\tilde{\mathbf{P}}` from ``edge_index``; with
            ``False``, ``edge_weight`` must already hold the normalised weights (or
            ``edge_index`` be a :class:`SparseAdj`). (default: :obj:`True`)

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`, :math:`(2, |\mathcal{E}|)` or
          :class:`SparseAdj`, optional :math:`(|\mathcal{E}|,)`;
          **output:** :math:`(|\mathcal{V}|, F)`
    """

    def __init__(self, normalize: bool = True) -> None:
        super().__init__(aggr="add")
        self.normalize = normalize

    def forward(self, x: Tensor, edge_index: Tensor | SparseAdj,
                edge_weight: Tensor | None = None) -> Tensor:
        if isinstance(edge_index, SparseAdj):
            return edge_index.matmul(x)
        if self.normalize:
            edge_index, edge_weight = gcn_norm(edge_index, edge_weight, x.size(0),
                                               add_self_loops=True, dtype=x.dtype)
        return self.propagate(edge_index, x=x, edge_weight=edge_weight)

    def message(self, x_j: Tensor, edge_weight: Tensor | None) -> Tensor:
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return f"GCNPropagate(normalize={self.normalize})"


class GCNLayer(torch.nn.Module):
    r"""GCN layer :math:`\tilde{\mathbf{P}}\mathbf{x}\mathbf{W} + \mathbf{b}` (Kipf & Welling,
    `"Semi-Supervised Classification with Graph Convolutional Networks"
    <https://arxiv.org/abs/1609.02907>`_), numerically the same as PyG's ``GCNConv`` (same
    parameter shapes and init), that also accepts a :class:`SparseAdj`.

    Args:
        in_channels (int), out_channels (int): sizes.
        normalize (bool): see :class:`GCNPropagate`. (default: :obj:`True`)

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F_{in})`; **output:** :math:`(|\mathcal{V}|, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, normalize: bool = True) -> None:
        super().__init__()
        from torch_geometric.nn.dense.linear import Linear
        self.in_channels, self.out_channels = in_channels, out_channels
        self.lin = Linear(in_channels, out_channels, bias=False, weight_initializer="glorot")
        self.bias = torch.nn.Parameter(torch.empty(out_channels))
        self.prop = GCNPropagate(normalize)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()
        torch.nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor | SparseAdj,
                edge_weight: Tensor | None = None) -> Tensor:
        return self.prop(self.lin(x), edge_index, edge_weight) + self.bias

    def __repr__(self) -> str:
        return f"GCNLayer({self.in_channels}, {self.out_channels})"


def make_conv(name: str, channels: int, **kwargs: Any) -> tuple[torch.nn.Module, bool]:
    """Build a ``channels -> channels`` conv by name; return it and whether it takes
    ``edge_weight``. ``gcn`` (:class:`GCNLayer`) and ``prop`` expect pre-normalised weights or a
    :class:`SparseAdj` (DeepGNN builds one per graph and caches it). Names outside the built-ins are looked up in ``CONVS``."""
    if name == "gcn":
        return GCNLayer(channels, channels, normalize=False, **kwargs), True
    if name == "prop":
        return GCNPropagate(normalize=False), True
    if name == "sage":
        return SAGEConv(channels, channels, **kwargs), False
    if name == "graphconv":
        return GraphConv(channels, channels, **kwargs), True
    if name == "gin":
        mlp = torch.nn.Sequential(torch.nn.Linear(channels, channels), torch.nn.ReLU(),
                                  torch.nn.Linear(channels, channels))
        return GINConv(mlp, **kwargs), False
    if name == "gat":
        heads = kwargs.pop("heads", 4)
        if channels % heads:
            raise ValueError(f"DeepGNN: 'hidden_channels' ({channels}) must be divisible by "
                             f"the GAT 'heads' ({heads})")
        return GATConv(channels, channels // heads, heads=heads, **kwargs), False
    return CONVS.build(name, channels, channels, **kwargs), False


class ConvBranch(torch.nn.Module):
    r"""A conv with its norm, activation and dropout, in one of two orders.

    - ``"post"``: :math:`\sigma(\mathrm{Norm}(\mathrm{conv}(\mathrm{drop}(\mathbf{x}))))`
    - ``"pre"`` (DeeperGCN ``res+``): :math:`\mathrm{conv}(\mathrm{drop}(\sigma(
      \mathrm{Norm}(\mathbf{x}))))`

    Args:
        conv (torch.nn.Module): the message-passing layer.
        norm (NodeNorm): normalisation. act (str | None): activation name.
        dropout (float): feature dropout. order (str): ``"pre"`` or ``"post"``.
        takes_edge_weight (bool): pass ``edge_weight`` to ``conv``.

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`, :math:`(2, |\mathcal{E}|)`;
          **output:** :math:`(|\mathcal{V}|, F)`
    """

    def __init__(self, conv: torch.nn.Module, norm: NodeNorm, act: str | None, dropout: float,
                 order: str, takes_edge_weight: bool) -> None:
        super().__init__()
        check_choice("ConvBranch", "order", order, {"pre", "post"})
        self.conv, self.norm, self.order = conv, norm, order
        self.act = torch.nn.Identity() if act is None else activation_resolver(act)
        self.dropout, self.takes_edge_weight = dropout, takes_edge_weight

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None,
                batch: Tensor | None = None) -> Tensor:
        drop = feature_dropout
        if self.order == "pre":
            x = drop(self.act(self.norm(x, batch)), self.dropout, self.training)
        else:
            x = drop(x, self.dropout, self.training)
        x = (self.conv(x, edge_index, edge_weight) if self.takes_edge_weight
             else self.conv(x, edge_index))
        if self.order == "post":
            x = self.act(self.norm(x, batch))
        return x

    def reset_parameters(self) -> None:
        for m in (self.conv, self.norm):
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()

    def extra_repr(self) -> str:
        return f"order={self.order}, dropout={self.dropout}"


@MODELS.register("deepgnn")
class DeepGNN(torch.nn.Module):
    r"""A deep GNN backbone: input projection, ``num_layers`` residual-wrapped convs, output
    projection; every part chosen by name.

    .. math::
        \mathbf{h}^{(0)} = \sigma(\mathrm{drop}(\mathbf{X})\mathbf{W}_{\mathrm{in}}), \quad
        \mathbf{h}^{(\ell+1)} = \mathrm{Residual}_\ell\big(\mathbf{h}^{(\ell)},
        f_\ell\big), \quad \mathbf{Y} = \mathrm{drop}(\mathbf{h}^{(L)})\mathbf{W}_{\mathrm{out}}

    The branch :math:`f_\ell` is :class:`ConvBranch`: post-activated (``dropout -> conv -> norm
    -> act``) for ``none``, ``plain``, ``dense`` and ``jk_*``, pre-activated (``norm -> act ->
    dropout -> conv``, DeeperGCN ``res+``) for ``preact``, ``rezero``, ``laurel_*``, ``hc_*``
    and ``mhc``, which then get a final ``norm -> act`` before the output projection
    (``preact`` is built as ``plain`` with a pre-activated branch). With ``residual="gcnii"``
    and ``conv="gcn"`` the conv becomes the weight-free propagation (:class:`GCNPropagate`):
    that is GCNII. GCN normalisation is computed once per forward pass and shared by all layers.

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): width :math:`F`.
        out_channels (int): output size (classes for node tasks).
        num_layers (int): depth :math:`L` (number of convs).
        conv (str): ``"gcn"``, ``"prop"``, ``"sage"``, ``"gin"``, ``"gat"``, ``"graphconv"`` or
            a name in ``CONVS``. (default: :obj:`"gcn"`)
        residual (str): a name in ``RESIDUALS``. (default: :obj:`"rezero"`)
        norm (str): ``"batch"``, ``"layer"``, ``"pair"`` or ``"none"``. (default: :obj:`"none"`)
        dropout (float): feature dropout (input, every branch, output). (default: :obj:`0.5`)
        drop_path (float): maximal stochastic-depth rate (linear decay). (default: :obj:`0.0`)
        drop_path_mode (str): ``"node"`` or ``"graph"``. (default: :obj:`"node"`)
        act (str): activation. (default: :obj:`"relu"`)
        order (str): branch order ``"auto"``, ``"pre"`` or ``"post"``. (default: :obj:`"auto"`)
        conv_kwargs (dict, optional): extra conv arguments (e.g. ``heads`` for GAT).
        **residual_kwargs: passed to every residual block (e.g. ``num_streams=4``,
            ``rank=8``, ``alpha=0.1``).

    Shapes:
        - **input:** ``x`` :math:`(|\mathcal{V}|, F_{in})`, ``edge_index``
          :math:`(2, |\mathcal{E}|)`, optional ``batch`` :math:`(|\mathcal{V}|,)`;
          **output:** :math:`(|\mathcal{V}|, F_{out})`

    Example:
        >>> model = DeepGNN(1433, 64, 7, num_layers=64, conv="gcn", residual="hc_dynamic",
        ...                 norm="layer", num_streams=4)
        >>> out = model(data.x, data.edge_index)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int, conv: str = "gcn", residual: str = "rezero",
                 norm: str = "none", dropout: float = 0.5, drop_path: float = 0.0, *,
                 drop_path_mode: str = "node", act: str = "relu", order: str = "auto",
                 conv_kwargs: dict | None = None, **residual_kwargs: Any) -> None:
        super().__init__()
        for arg, val in (("in_channels", in_channels), ("hidden_channels", hidden_channels),
                         ("out_channels", out_channels), ("num_layers", num_layers)):
            check_range("DeepGNN", arg, val, 1, integer=True)
        check_range("DeepGNN", "dropout", dropout, 0.0, 1.0, high_open=True)
        check_type("DeepGNN", "conv", conv, str)
        check_type("DeepGNN", "residual", residual, str)
        check_choice("DeepGNN", "order", order, {"auto", "pre", "post"})
        if conv not in BUILTIN_CONVS and conv not in CONVS:
            raise ValueError(f"DeepGNN: unknown conv {conv!r}; known: "
                             f"{sorted(BUILTIN_CONVS | set(CONVS.names()))}")
        RESIDUALS.get(residual)  # unknown kind -> ValueError listing the known ones
        NORMS.get(norm)
        key = residual.lower().replace("-", "_")
        self.in_channels, self.hidden_channels = in_channels, hidden_channels
        self.out_channels, self.num_layers = out_channels, num_layers
        self.residual, self.norm_name, self.dropout = key, norm, float(dropout)
        if key == "gcnii" and conv == "gcn":
            conv = "prop"
        self.conv_name = conv
        if order == "auto":
            order = "pre" if key in PRE_ORDER else "post"
        self.order = order
        branch_act = None if key == "gcnii" else act
        branches = []
        self._takes_weight = False
        for _ in range(num_layers):
            c, takes_w = make_conv(conv, hidden_channels, **dict(conv_kwargs or {}))
            self._takes_weight = takes_w
            branches.append(ConvBranch(c, build_norm(norm, hidden_channels), branch_act,
                                       dropout, order, takes_w))
        kind = "plain" if key == "preact" else residual
        self.lin_in = torch.nn.Linear(in_channels, hidden_channels)
        self.act = torch.nn.Identity() if act is None else activation_resolver(act)
        self.stack = ResidualStack(kind, branches, hidden_channels, drop_path=drop_path,
                                   drop_path_mode=drop_path_mode, **residual_kwargs)
        self.final_norm = build_norm(norm if order == "pre" else "none", self.stack.out_channels)
        self.lin_out = torch.nn.Linear(self.stack.out_channels, out_channels)
        self._adj_cache: tuple | None = None
        self._x_cache: tuple | None = None
        self.reset_parameters()

    @property
    def blocks(self) -> torch.nn.ModuleList:
        """The residual blocks, first to last (what diagnostics hook into)."""
        return self.stack.blocks

    def normalized_adjacency(self, edge_index: Tensor, num_nodes: int, dtype: torch.dtype
                             ) -> SparseAdj:
        """GCN-normalised adjacency as a :class:`SparseAdj`, cached for the last graph seen
        (see :func:`_same_tensor`: a new or in-place-modified ``edge_index`` rebuilds it)."""
        if self._adj_cache is None or not _same_tensor(self._adj_cache[0], edge_index,
                                                          (num_nodes, dtype)):
            ei, w = gcn_norm(edge_index, None, num_nodes, add_self_loops=True, dtype=dtype)
            self._adj_cache = (_tensor_key(edge_index, (num_nodes, dtype)),
                               SparseAdj(ei, w, num_nodes))
        return self._adj_cache[1]

    def input_projection(self, x: Tensor) -> Tensor:
        """``lin_in(dropout(x))``; mostly-zero inputs (bag-of-words features) go through a
        cached sparse COO copy of ``x`` (dropout on the non-zeros, sparse-dense product), which
        is the same computation several times faster on CPU."""
        if x.dim() != 2 or x.is_sparse or x.numel() < 1_000_000:
            return self.lin_in(feature_dropout(x, self.dropout, self.training))
        if self._x_cache is None or not _same_tensor(self._x_cache[0], x, ()):
            nz = int((x != 0).sum())
            xs = x.detach().to_sparse_coo().coalesce() if nz * 4 < x.numel() else None
            self._x_cache = (_tensor_key(x, ()), xs)
        xs = self._x_cache[1]
        if xs is None:
            return self.lin_in(feature_dropout(x, self.dropout, self.training))
        vals = feature_dropout(xs.values(), self.dropout, self.training)
        xd = torch.sparse_coo_tensor(xs.indices(), vals, xs.shape, is_coalesced=True)
        return torch.sparse.mm(xd, self.lin_in.weight.t()) + self.lin_in.bias

    def reset_parameters(self) -> None:
        self.lin_in.reset_parameters()
        self.stack.reset_parameters()
        self.final_norm.reset_parameters()
        self.lin_out.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None,
                batch: Tensor | None = None) -> Tensor:
        drop = feature_dropout
        h = self.act(self.input_projection(x))
        edge_weight = None
        if self.conv_name in ("gcn", "prop"):
            edge_index = self.normalized_adjacency(edge_index, x.size(0), h.dtype)
        state = self.stack.new_state(x0=h, batch=batch)
        if self._takes_weight:
            h = self.stack(h, edge_index, edge_weight, batch=batch, state=state)
        else:
            h = self.stack(h, edge_index, batch=batch, state=state)
        if self.order == "pre":
            h = self.act(self.final_norm(h, batch))
        return self.lin_out(drop(h, self.dropout, self.training))

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.hidden_channels}, {self.out_channels}, "
                f"num_layers={self.num_layers}, conv={self.conv_name!r}, "
                f"residual={self.residual!r}, norm={self.norm_name!r}")


@MODELS.register("gcnii")
def gcnii(in_channels: int, hidden_channels: int = 64, out_channels: int = 1,
          num_layers: int = 64, dropout: float = 0.6, alpha: float = 0.1, theta: float = 0.5,
          **kwargs: Any) -> DeepGNN:
    """GCNII (Chen et al., 2020) as a :class:`DeepGNN`: weight-free GCN propagation, initial
    residual ``alpha`` and identity mapping ``beta_l = log(theta / l + 1)``; defaults are the
    paper's Cora setting (64 layers, hidden 64, dropout 0.6, alpha 0.1, lambda 0.5)."""
    kwargs.setdefault("norm", "none")
    return DeepGNN(in_channels, hidden_channels, out_channels, num_layers, conv="prop",
                   residual="gcnii", dropout=dropout, alpha=alpha, theta=theta, **kwargs)

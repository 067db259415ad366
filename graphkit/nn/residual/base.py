r"""Shared machinery of the residual kinds: depth state, drop-path, the block base class and the stack.

One mechanism carries state across depth: a :class:`DepthState` object that
:class:`ResidualStack` creates once per forward pass and hands to every block. It holds

- ``x0``: the representation entering the stack (GCNII's initial residual reads it),
- ``history``: the inputs of the blocks so far (``history[-1]`` is the current block's input;
  LAuReL-PA, dense connections and jumping knowledge read it; it keeps only as many entries as
  the blocks ask for via :attr:`ResidualBlock.history_size`),
- ``batch``: the graph-assignment vector, used by per-graph drop-path.

Hyper-connection streams need no extra slot: the tensor passed from block to block *is* the
``(N, n, F)`` stream matrix; each residual class supplies a :class:`StackIO` that expands the
input before the first block (repeat into ``n`` streams) and reduces after the last (mean over
streams, or the JK aggregation).

Stochastic depth follows `"Deep Networks with Stochastic Depth" <https://arxiv.org/abs/1603.09382>`_
with timm-style inverted scaling (unbiased in train mode, identity in eval mode).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from graphkit._checks import check_choice, check_range, check_type

DROP_PATH_MODES = {"node", "graph"}


def drop_path(x: Tensor, p: float = 0.0, training: bool = False, mode: str = "node",
              batch: Tensor | None = None) -> Tensor:
    r"""Drop the whole branch output per node or per graph, rescaled by :math:`1/(1-p)`.

    .. math::
        \mathrm{DP}(\mathbf{f})_i = \frac{b_{g(i)}}{1-p}\,\mathbf{f}_i, \qquad b \sim
        \mathrm{Bernoulli}(1-p)

    where :math:`g(i) = i` for ``mode="node"`` and the graph of node :math:`i` (from ``batch``;
    one draw for the whole input when ``batch`` is ``None``) for ``mode="graph"``.

    Args:
        x (Tensor): branch output, nodes on the first axis, any rank.
        p (float): drop probability in ``[0, 1)``. (default: :obj:`0.0`)
        training (bool): identity unless ``True``. (default: :obj:`False`)
        mode (str): ``"node"`` or ``"graph"``. (default: :obj:`"node"`)
        batch (Tensor, optional): ``(N,)`` graph id per node, used by ``mode="graph"``.

    Shapes:
        - **input/output:** :math:`(|\mathcal{V}|, *)`
    """
    if p == 0.0 or not training:
        return x
    keep = 1.0 - p
    shape = (x.size(0),) + (1,) * (x.dim() - 1)
    if mode == "node":
        mask = x.new_empty(shape).bernoulli_(keep)
    elif batch is None:
        mask = x.new_empty((1,) * x.dim()).bernoulli_(keep)
    else:  # one draw per graph; graph ids are < N, so N draws always suffice (no .item())
        mask = x.new_empty(x.size(0)).bernoulli_(keep)[batch].view(shape)
    return x * mask / keep


def drop_path_rates(p: float, num_layers: int) -> list[float]:
    r"""Linear-decay schedule of Huang et al.: layer :math:`\ell` (1-based) drops with
    :math:`p_\ell = p\,\ell / L`, so the first layer is almost never dropped and the last with
    probability :math:`p`."""
    check_range("drop_path_rates", "p", p, 0.0, 1.0, high_open=True)
    check_range("drop_path_rates", "num_layers", num_layers, 1, integer=True)
    return [p * (i + 1) / num_layers for i in range(num_layers)]


class DropPath(torch.nn.Module):
    r"""Module form of :func:`drop_path` (stochastic depth on a branch output).

    Args:
        p (float): drop probability in ``[0, 1)``. (default: :obj:`0.0`)
        mode (str): ``"node"`` or ``"graph"``. (default: :obj:`"node"`)

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, *)`, optional ``batch`` :math:`(|\mathcal{V}|,)`;
          **output:** same shape
    """

    def __init__(self, p: float = 0.0, mode: str = "node") -> None:
        super().__init__()
        check_range("DropPath", "p", p, 0.0, 1.0, high_open=True)
        check_choice("DropPath", "mode", mode, DROP_PATH_MODES)
        self.p, self.mode = float(p), mode

    def forward(self, x: Tensor, batch: Tensor | None = None) -> Tensor:
        return drop_path(x, self.p, self.training, self.mode, batch)

    def extra_repr(self) -> str:
        return f"p={round(self.p, 3)}, mode={self.mode}"


class _WeightedSum(torch.autograd.Function):
    """Forward: one output buffer, one fused multiply-add per term. Backward: ``g * w`` per
    term (``g`` itself for weight 1) and one dot product per scalar weight, so no
    ``(N, F)`` temporaries are built for the weights' gradients."""

    @staticmethod
    def forward(ctx, k: int, *tw: Tensor | None) -> Tensor:
        terms, weights = tw[:k], tw[k:]
        dtype = terms[0].dtype
        for t in terms[1:]:
            dtype = torch.promote_types(dtype, t.dtype)
        t0, w0 = terms[0].to(dtype), weights[0]
        out = t0.clone() if w0 is None else torch.mul(t0, w0)
        for t, w in zip(terms[1:], weights[1:]):
            if w is None:
                out.add_(t)
            else:
                out.addcmul_(t, w)
        ctx.k, ctx.dtypes = k, [t.dtype for t in terms]
        # a term is needed backward only for its weight's gradient
        ctx.save_for_backward(*[t if w is not None else None for t, w in zip(terms, weights)],
                              *weights)
        return out

    @staticmethod
    def backward(ctx, g: Tensor) -> tuple:
        k, saved = ctx.k, ctx.saved_tensors
        terms, weights = saved[:k], saved[k:]
        need = ctx.needs_input_grad[1:]
        flat_g = g.reshape(-1)
        grads_t, grads_w = [], []
        for i, (t, w) in enumerate(zip(terms, weights)):
            grads_t.append(None if not need[i] else
                           (g if w is None else g * w).to(ctx.dtypes[i]))
            grads_w.append(None if w is None or not need[k + i] else
                           torch.dot(flat_g, t.reshape(-1).to(g.dtype)).to(w.dtype)
                           .reshape(w.shape))
        return (None, *grads_t, *grads_w)


def weighted_sum(terms: list[Tensor], weights: list[Tensor | None]) -> Tensor:
    r"""Residual combination :math:`\sum_k w_k \mathbf{t}_k` with learned scalar weights
    (``None`` = weight 1), for LAuReL, ReZero and friends.

    Equal to the autograd expression ``sum(w * t)`` but fused: one buffer and one multiply-add
    per term forward, and each weight's gradient as one dot product
    :math:`\langle \mathbf{g}, \mathbf{t}_k\rangle` instead of a full-size product and a
    reduction. The terms are promoted to a common dtype as ``+`` would.

    Args:
        terms (list[Tensor]): tensors of one shape.
        weights (list[Tensor or None]): one per term; each ``None`` or a one-element tensor.
    """
    if len(terms) != len(weights) or not terms:
        raise ValueError(f"weighted_sum: 'terms' and 'weights' must be non-empty lists of one "
                         f"length; got {len(terms)} terms and {len(weights)} weights")
    shape = terms[0].shape
    for t in terms[1:]:
        if t.shape != shape:
            raise ValueError(f"weighted_sum: every term must have shape {tuple(shape)}; got "
                             f"{tuple(t.shape)}")
    for w in weights:
        if w is not None and w.numel() != 1:
            raise ValueError(f"weighted_sum: each weight must be None or hold one element; "
                             f"got shape {tuple(w.shape)}")
    return _WeightedSum.apply(len(terms), *terms, *weights)


@dataclass
class DepthState:
    r"""What a stack of residual blocks shares across depth during one forward pass.

    Args:
        x0 (Tensor, optional): input of the stack (initial residual). Set by
            :class:`ResidualStack` when left ``None``.
        batch (Tensor, optional): ``(N,)`` graph id per node (per-graph drop-path).
        max_history (int, optional): how many past block inputs to keep (``None``: all).
    """

    x0: Tensor | None = None
    batch: Tensor | None = None
    max_history: int | None = None
    history: list[Tensor] = field(default_factory=list)

    def push(self, h: Tensor) -> None:
        """Append a block input/output; drop the oldest entries beyond ``max_history``."""
        if self.max_history == 0:
            return
        self.history.append(h)
        if self.max_history is not None and len(self.history) > self.max_history:
            del self.history[0]


class StackIO(torch.nn.Module):
    """Input expansion / output reduction around a stack of blocks (identity by default)."""

    def expand(self, x: Tensor, state: DepthState) -> Tensor:
        return x

    def reduce(self, h: Tensor, state: DepthState) -> Tensor:
        return h

    def out_channels(self, channels: int) -> int:
        return channels


class ResidualBlock(torch.nn.Module):
    r"""Base class: wraps a branch :math:`f(\mathbf{x}, \ldots)` (any PyG ``MessagePassing`` or
    module with that call) and combines its output with the skip path.

    Subclasses implement :meth:`combine`; :meth:`forward` runs the branch, applies drop-path to
    its output and calls :meth:`combine`. Positional and keyword arguments after ``x`` are
    forwarded to the branch (``edge_index``, ``edge_weight``, ...).

    Args:
        branch (Callable): the wrapped layer, called as ``branch(x, *args, **kwargs)``.
        channels (int): feature size :math:`F` (input and output of the branch).
        layer_index (int): 0-based depth of this block in its stack. (default: :obj:`0`)
        num_layers (int): depth of the stack. (default: :obj:`1`)
        drop_path (float): stochastic-depth rate of this block. (default: :obj:`0.0`)
        drop_path_mode (str): ``"node"`` or ``"graph"``. (default: :obj:`"node"`)
    """

    #: number of past block inputs this kind reads from ``state.history`` (None: all).
    history_size: int | None = 0

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, *,
                 layer_index: int = 0, num_layers: int = 1, drop_path: float = 0.0,
                 drop_path_mode: str = "node") -> None:
        super().__init__()
        owner = type(self).__name__
        if branch is not None and not callable(branch):
            raise TypeError(f"{owner}: 'branch' must be a module or callable "
                            f"f(x, edge_index, ...); got {type(branch).__name__}")
        check_range(owner, "channels", channels, 1, integer=True)
        check_range(owner, "num_layers", num_layers, 1, integer=True)
        check_range(owner, "layer_index", layer_index, 0, num_layers - 1, integer=True)
        self.branch = branch
        self.channels = channels
        self.layer_index, self.num_layers = layer_index, num_layers
        self.drop = DropPath(drop_path, drop_path_mode)

    @classmethod
    def stack_io(cls, channels: int, num_layers: int, **kwargs: Any) -> StackIO:
        """The expansion / reduction this kind needs around a stack (identity here)."""
        return StackIO()

    def run_branch(self, x: Tensor, args: tuple, kwargs: dict, state: DepthState | None
                   ) -> Tensor:
        if self.branch is None:
            raise ValueError(f"{type(self).__name__}: no 'branch' to call; pass one at "
                             f"construction")
        fx = self.branch(x, *args, **kwargs)
        return self.drop(fx, None if state is None else state.batch)

    def forward(self, x: Tensor, *args: Any, state: DepthState | None = None,
                **kwargs: Any) -> Tensor:
        return self.combine(x, self.run_branch(x, args, kwargs, state), state)

    def combine(self, x: Tensor, fx: Tensor, state: DepthState | None) -> Tensor:
        raise NotImplementedError

    def reset_parameters(self) -> None:
        """Reset the branch and the residual parameters."""
        if self.branch is not None and hasattr(self.branch, "reset_parameters"):
            self.branch.reset_parameters()
        self.reset_residual_parameters()

    def reset_residual_parameters(self) -> None:
        """Reset only the residual kind's own parameters to their exact starting values
        (``__init__`` calls this: wrapping a layer never re-initialises it)."""

    def extra_repr(self) -> str:
        s = f"{self.channels}, layer={self.layer_index}/{self.num_layers}"
        return s + (f", drop_path={round(self.drop.p, 3)}" if self.drop.p > 0 else "")


class ResidualStack(torch.nn.Module):
    r"""A depth-``L`` stack of residual blocks of one kind, with its input expansion and output
    reduction, sharing one :class:`DepthState`.

    .. math::
        \mathbf{H}^{(0)} = \mathrm{expand}(\mathbf{x}), \quad
        \mathbf{H}^{(\ell+1)} = \mathrm{block}_\ell(\mathbf{H}^{(\ell)}), \quad
        \mathbf{y} = \mathrm{reduce}(\mathbf{H}^{(L)})

    Args:
        kind (str or type): residual kind (a name in ``RESIDUALS`` or a block class).
        branches (list[Callable]): one branch per layer (distinct modules: no tied weights).
        channels (int): feature size :math:`F`.
        drop_path (float): maximal stochastic-depth rate, linearly decayed over depth
            (:func:`drop_path_rates`). (default: :obj:`0.0`)
        drop_path_mode (str): ``"node"`` or ``"graph"``. (default: :obj:`"node"`)
        **kwargs: passed to every block and to the kind's :meth:`ResidualBlock.stack_io`.

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`; **output:** :math:`(|\mathcal{V}|, F')`
          (:math:`F' = F` except for ``jk_cat``: :math:`LF`)

    Example:
        >>> convs = [GCNConv(64, 64) for _ in range(8)]
        >>> stack = ResidualStack("hc_dynamic", convs, 64, num_streams=4)
        >>> y = stack(x, edge_index)
    """

    def __init__(self, kind: str | type, branches: list, channels: int, *,
                 drop_path: float = 0.0, drop_path_mode: str = "node", **kwargs: Any) -> None:
        super().__init__()
        from graphkit.registry import RESIDUALS
        check_type("ResidualStack", "branches", branches, (list, tuple, torch.nn.ModuleList))
        if len(branches) == 0:
            raise ValueError("ResidualStack: 'branches' must hold at least one layer; got []")
        cls = RESIDUALS.get(kind)
        L = len(branches)
        rates = drop_path_rates(drop_path, L)
        self.kind = kind if isinstance(kind, str) else cls.__name__
        self.blocks = torch.nn.ModuleList([
            cls(branches[i], channels, layer_index=i, num_layers=L, drop_path=rates[i],
                drop_path_mode=drop_path_mode, **kwargs) for i in range(L)])
        self.io = cls.stack_io(channels, L, **kwargs)
        sizes = [b.history_size for b in self.blocks]
        self.history_size = None if None in sizes else max(sizes)
        self.channels = channels
        self.out_channels = self.io.out_channels(channels)

    def new_state(self, x0: Tensor | None = None, batch: Tensor | None = None) -> DepthState:
        return DepthState(x0=x0, batch=batch, max_history=self.history_size)

    def forward(self, x: Tensor, *args: Any, state: DepthState | None = None,
                **kwargs: Any) -> Tensor:
        if state is None:
            state = self.new_state()
        state.max_history = self.history_size
        if state.x0 is None:
            state.x0 = x
        h = self.io.expand(x, state)
        state.push(h)
        for block in self.blocks:
            h = block(h, *args, state=state, **kwargs)
            state.push(h)
        return self.io.reduce(h, state)

    def reset_parameters(self) -> None:
        for block in self.blocks:
            block.reset_parameters()
        if hasattr(self.io, "reset_parameters"):
            self.io.reset_parameters()

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, num_layers={len(self.blocks)}, channels={self.channels}"

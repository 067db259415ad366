r"""LAuReL residuals (RW, LR, PA), from `"LAuReL: Learned Augmented Residual Layer"
<https://arxiv.org/abs/2411.07501>`_ (Menghani, Kumar, Kumar; ICML 2025).

General form :math:`\mathbf{x}_{i+1} = \alpha f(\mathbf{x}_i) + g(\mathbf{x}_i, \ldots,
\mathbf{x}_0)`. Every variant here is initialised so the block starts as the plain residual
:math:`f(\mathbf{x}) + \mathbf{x}`: RW weights start at :math:`\alpha=\beta=1` (the normalised
forms are scaled by 2 so equal logits give 1, not 0.5), the LR up-projection starts at zero
(LoRA-style), the PA weights :math:`\gamma` start at zero. On graphs the extra paths act per
node on features (no propagation), preserving node-specific signal.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from graphkit._checks import check_choice, check_range, check_type
from graphkit.nn.residual.base import DepthState, ResidualBlock, weighted_sum
from graphkit.registry import RESIDUALS

RW_NORMALIZE = {"none", "softmax", "sigmoid"}


class _RWWeights(torch.nn.Module):
    """The (alpha, beta) pair of LAuReL-RW; (1, 1) after a reset for every normalisation."""

    def __init__(self, normalize: str) -> None:
        super().__init__()
        check_choice("LAuReL", "normalize", normalize, RW_NORMALIZE)
        self.normalize = normalize
        self.weight = torch.nn.Parameter(torch.empty(1 if normalize == "sigmoid" else 2))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.constant_(self.weight, 1.0 if self.normalize == "none" else 0.0)

    def forward(self) -> tuple[Tensor, Tensor]:
        w = self.weight
        if self.normalize == "none":
            return w[0], w[1]
        if self.normalize == "softmax":  # 2 softmax: alpha + beta = 2
            s = 2.0 * torch.softmax(w, dim=0)
            return s[0], s[1]
        s = torch.sigmoid(w[0])             # one shared scalar
        return 2.0 * s, 2.0 * (1.0 - s)


def _column_orthogonal_(weight: Tensor) -> Tensor:
    """LAuReL's LLM init for the down-projection: ``W[j, i] = 1/sqrt(r D)`` if ``i % r == j``."""
    r, D = weight.shape
    with torch.no_grad():
        weight.zero_()
        idx = torch.arange(D)
        weight[idx % r, idx] = 1.0 / math.sqrt(r * D)
    return weight


class _LowRank(torch.nn.Module):
    r"""Per-node low-rank map :math:`\mathbf{x} \mapsto \mathbf{B}\mathbf{A}\mathbf{x}` with
    :math:`\mathbf{B} = 0` at init (2rD parameters)."""

    def __init__(self, channels: int, rank: int, init: str, zero_up: bool = True) -> None:
        super().__init__()
        check_choice("LAuReL", "init", init, {"xavier", "column_orthogonal"})
        self.init, self.zero_up = init, zero_up
        self.down = torch.nn.Linear(channels, rank, bias=False)
        self.up = torch.nn.Linear(rank, channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.init == "xavier":
            torch.nn.init.xavier_uniform_(self.down.weight)
        else:
            _column_orthogonal_(self.down.weight)
        if self.zero_up:
            torch.nn.init.zeros_(self.up.weight)
        else:  # the caller gates the map with a zero scalar instead (PA: gamma = 0)
            torch.nn.init.xavier_uniform_(self.up.weight)

    def forward(self, x: Tensor) -> Tensor:
        return self.up(self.down(x))


@RESIDUALS.register("laurel_rw")
class LaurelRW(ResidualBlock):
    r"""LAuReL-RW: learned weights on the branch and the skip.

    .. math::
        \mathbf{x}_{i+1} = \alpha\, f(\mathbf{x}_i) + \beta\, \mathbf{x}_i, \qquad
        (\alpha, \beta) = 2\,\mathrm{softmax}(a, b) \text{ (default)}

    Args:
        branch (Callable): wrapped layer.
        channels (int): feature size :math:`F`.
        normalize (str): ``"softmax"`` (2 parameters, :math:`\alpha+\beta=2`), ``"sigmoid"``
            (1 parameter, :math:`\alpha = 2s, \beta = 2(1-s)`) or ``"none"`` (2 free
            parameters). All start at :math:`\alpha=\beta=1`. (default: :obj:`"softmax"`)
        **kwargs: ``layer_index``, ``num_layers``, ``drop_path``, ``drop_path_mode``.

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`; **output:** same shape
    """

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, *,
                 normalize: str = "softmax", **kwargs: Any) -> None:
        super().__init__(branch, channels, **kwargs)
        self.rw = _RWWeights(normalize)
        self.reset_residual_parameters()

    def combine(self, x: Tensor, fx: Tensor, state: DepthState | None) -> Tensor:
        alpha, beta = self.rw()
        return weighted_sum([fx, x], [alpha, beta])

    def reset_residual_parameters(self) -> None:
        self.rw.reset_parameters()

    def extra_repr(self) -> str:
        return super().extra_repr() + f", normalize={self.rw.normalize}"


@RESIDUALS.register("laurel_lr")
class LaurelLR(ResidualBlock):
    r"""LAuReL-LR: a low-rank learned linear map on the skip path (optionally with RW weights).

    .. math::
        \mathbf{x}_{i+1} = \alpha\, f(\mathbf{x}_i) + \beta\,(\mathbf{x}_i +
        \mathbf{B}\mathbf{A}\mathbf{x}_i), \qquad \mathbf{A} \in \mathbb{R}^{r\times F},\;
        \mathbf{B} \in \mathbb{R}^{F\times r},\; \mathbf{B} = 0 \text{ at init}

    (:math:`\alpha=\beta=1` fixed unless ``rw=True``, the paper's RW+LR.)

    The skip map :math:`\mathbf{I} + \mathbf{B}\mathbf{A}` is not normalised, so in a deep stack
    the product of :math:`L` of them can grow geometrically once training moves
    :math:`\mathbf{B}` away from 0 (graphkit measured divergence on Cora beyond 16 GCN layers).
    ``scale="depth"`` uses :math:`\mathbf{I} + \mathbf{B}\mathbf{A}/L` instead (a
    depth-scaled update whose product over the stack stays bounded by
    :math:`\exp(\max_\ell \lVert\mathbf{B}_\ell\mathbf{A}_\ell\rVert)`); a graphkit
    addition, not in the paper.

    Args:
        branch (Callable): wrapped layer.
        channels (int): feature size :math:`F`.
        rank (int): rank :math:`r \ge 1`. (default: :obj:`8`)
        init (str): init of :math:`\mathbf{A}`: ``"xavier"`` or ``"column_orthogonal"``.
            (default: :obj:`"xavier"`)
        rw (bool): also learn :math:`(\alpha, \beta)` (softmax form). (default: :obj:`False`)
        scale (float or str): factor on :math:`\mathbf{B}\mathbf{A}\mathbf{x}`, or
            ``"depth"`` for :math:`1/L`. (default: :obj:`1.0`, the paper)
        **kwargs: ``layer_index``, ``num_layers``, ``drop_path``, ``drop_path_mode``.

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`; **output:** same shape
    """

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, *, rank: int = 8,
                 init: str = "xavier", rw: bool = False, scale: float | str = 1.0,
                 **kwargs: Any) -> None:
        super().__init__(branch, channels, **kwargs)
        check_range("LaurelLR", "rank", rank, 1, integer=True)
        check_type("LaurelLR", "rw", rw, bool)
        if isinstance(scale, str):
            check_choice("LaurelLR", "scale", scale, {"depth"})
            self.scale = 1.0 / self.num_layers
        else:
            check_range("LaurelLR", "scale", scale, 0.0, low_open=True)
            self.scale = float(scale)
        self.scale_name = scale
        self.rank = rank
        self.lowrank = _LowRank(channels, rank, init)
        self.rw = _RWWeights("softmax") if rw else None
        self.reset_residual_parameters()

    def combine(self, x: Tensor, fx: Tensor, state: DepthState | None) -> Tensor:
        skip = torch.add(x, self.lowrank(x), alpha=self.scale)
        if self.rw is None:
            return fx + skip
        alpha, beta = self.rw()
        return weighted_sum([fx, skip], [alpha, beta])

    def reset_residual_parameters(self) -> None:
        self.lowrank.reset_parameters()
        if self.rw is not None:
            self.rw.reset_parameters()

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", rank={self.rank}, rw={self.rw is not None}, "
                f"scale={self.scale_name!r}")


@RESIDUALS.register("laurel_pa")
class LaurelPA(ResidualBlock):
    r"""LAuReL-PA: learned weights on the previous activations.

    .. math::
        \mathbf{x}_{i+1} = f(\mathbf{x}_i) + \mathbf{x}_i + \sum_{j=0}^{k-1} \gamma_{i,j}\,
        h_{i,j}(\mathbf{x}_{i-j}), \qquad \gamma = 0 \text{ at init}

    with :math:`h_{i,j}` the identity (``rank=None``) or a low-rank map
    :math:`\mathbf{B}_{i,j}\mathbf{A}_{i,j}` (both random at init: :math:`\gamma = 0` alone
    makes the block start as a residual, and a zero :math:`\mathbf{B}` would freeze
    :math:`\gamma`). The previous activations come from
    ``state.history`` (kept by :class:`~graphkit.nn.residual.base.ResidualStack`:
    ``history[-1]`` is the block input :math:`\mathbf{x}_i`); near the input fewer than
    :math:`k` exist and only those are used. Without a state only :math:`j=0` is available.

    Args:
        branch (Callable): wrapped layer.
        channels (int): feature size :math:`F`.
        num_prev (int): :math:`k \ge 1`. (default: :obj:`3`)
        rank (int, optional): rank of :math:`h_{i,j}`; ``None`` = identity. (default: ``None``)
        **kwargs: ``layer_index``, ``num_layers``, ``drop_path``, ``drop_path_mode``.

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`; **output:** same shape
    """

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, *,
                 num_prev: int = 3, rank: int | None = None, **kwargs: Any) -> None:
        super().__init__(branch, channels, **kwargs)
        check_range("LaurelPA", "num_prev", num_prev, 1, integer=True)
        if rank is not None:
            check_range("LaurelPA", "rank", rank, 1, integer=True)
        self.num_prev, self.rank = num_prev, rank
        self.history_size = num_prev
        self.gamma = torch.nn.Parameter(torch.empty(num_prev))
        self.maps = None if rank is None else torch.nn.ModuleList(
            [_LowRank(channels, rank, "xavier", zero_up=False) for _ in range(num_prev)])
        self.reset_residual_parameters()

    def combine(self, x: Tensor, fx: Tensor, state: DepthState | None) -> Tensor:
        prev = [x] if state is None or not state.history else state.history[-self.num_prev:]
        hs = [h if self.maps is None else self.maps[j](h)   # j = 0 is x_i, j = 1 is x_{i-1}
              for j, h in enumerate(reversed(prev))]
        return weighted_sum([fx, x, *hs], [None, None, *self.gamma[:len(hs)]])

    def reset_residual_parameters(self) -> None:
        torch.nn.init.zeros_(self.gamma)
        if self.maps is not None:
            for m in self.maps:
                m.reset_parameters()

    def extra_repr(self) -> str:
        return super().extra_repr() + f", num_prev={self.num_prev}, rank={self.rank}"

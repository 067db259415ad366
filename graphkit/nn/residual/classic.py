r"""Classic residual kinds: none, plain / pre-activation residual, ReZero, GCNII initial residual.

- He et al., `"Identity Mappings in Deep Residual Networks" <https://arxiv.org/abs/1603.05027>`_
  (pre-activation); Li et al., `"DeeperGCN" <https://arxiv.org/abs/2006.07739>`_ (``res+``).
- Bachlechner et al., `"ReZero is All You Need" <https://arxiv.org/abs/2003.04887>`_.
- Chen et al., `"Simple and Deep Graph Convolutional Networks" <https://arxiv.org/abs/2007.02133>`_.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from graphkit._checks import check_range
from graphkit.nn.residual.base import DepthState, ResidualBlock, weighted_sum
from graphkit.registry import RESIDUALS


def _activation(name: str | None) -> Callable[[Tensor], Tensor]:
    from torch_geometric.nn.resolver import activation_resolver
    return torch.nn.Identity() if name in (None, "none", "") else activation_resolver(name)


@RESIDUALS.register("none")
class NoResidual(ResidualBlock):
    r"""No skip connection: :math:`\mathbf{h}^{(\ell+1)} = f(\mathbf{h}^{(\ell)})` (the
    collapsing baseline; drop-path, if set, drops to the zero map).

    Args: see :class:`~graphkit.nn.residual.base.ResidualBlock`.

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`; **output:** same shape
    """

    def combine(self, x: Tensor, fx: Tensor, state: DepthState | None) -> Tensor:
        return fx


@RESIDUALS.register("plain")
class Residual(ResidualBlock):
    r"""Plain residual, optionally pre-activated (He et al. 2016; DeeperGCN ``res+``).

    .. math::
        \mathbf{h}^{(\ell+1)} = \mathbf{h}^{(\ell)} + f\big(\mathrm{drop}(\sigma(
        \mathrm{Norm}(\mathbf{h}^{(\ell)})))\big)

    With ``norm=None, act=None, dropout=0`` (the default) this is :math:`\mathbf{h} + f(\mathbf{h})`.

    Args:
        branch (Callable): wrapped layer :math:`f(\mathbf{x}, \ldots)`.
        channels (int): feature size :math:`F`.
        norm (torch.nn.Module, optional): normalisation applied to the branch input only.
        act (str, optional): activation applied to the branch input only (after ``norm``).
        dropout (float): dropout on the branch input only. (default: :obj:`0.0`)
        **kwargs: ``layer_index``, ``num_layers``, ``drop_path``, ``drop_path_mode``.

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`; **output:** same shape

    Example:
        >>> block = Residual(GCNConv(64, 64), 64)
        >>> h = block(h, edge_index)     # h + conv(h, edge_index)
    """

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, *,
                 norm: torch.nn.Module | None = None, act: str | None = None,
                 dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(branch, channels, **kwargs)
        check_range(type(self).__name__, "dropout", dropout, 0.0, 1.0, high_open=True)
        self.norm = norm
        self.act_name = act
        self.act = _activation(act)
        self.dropout = float(dropout)
        self.reset_residual_parameters()

    def forward(self, x: Tensor, *args: Any, state: DepthState | None = None,
                **kwargs: Any) -> Tensor:
        h = x
        if self.norm is not None:
            h = self.norm(h)
        h = torch.nn.functional.dropout(self.act(h), self.dropout, self.training)
        return x + self.run_branch(h, args, kwargs, state)

    def combine(self, x: Tensor, fx: Tensor, state: DepthState | None) -> Tensor:
        return x + fx

    def reset_residual_parameters(self) -> None:
        if self.norm is not None and hasattr(self.norm, "reset_parameters"):
            self.norm.reset_parameters()


@RESIDUALS.register("preact")
class PreActResidual(Residual):
    r"""Pre-activation (pre-norm) residual, DeeperGCN ``res+`` order: Norm -> act -> dropout ->
    :math:`f` -> add. Same as :class:`Residual` with a LayerNorm and ReLU by default.

    Args:
        branch (Callable): wrapped layer.
        channels (int): feature size :math:`F`.
        norm (torch.nn.Module, optional): branch-input norm. (default: ``LayerNorm(F)``)
        act (str): branch-input activation. (default: :obj:`"relu"`)
        dropout (float): branch-input dropout. (default: :obj:`0.0`)
    """

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, *,
                 norm: torch.nn.Module | None = None, act: str | None = "relu",
                 dropout: float = 0.0, **kwargs: Any) -> None:
        if norm is None:
            norm = torch.nn.LayerNorm(channels)
        super().__init__(branch, channels, norm=norm, act=act, dropout=dropout, **kwargs)


@RESIDUALS.register("rezero")
class ReZero(ResidualBlock):
    r"""Residual branch scaled by a learned gate that starts at zero, from `"ReZero is All You
    Need: Fast Convergence at Large Depth" <https://arxiv.org/abs/2003.04887>`_.

    .. math::
        \mathbf{h}^{(\ell+1)} = \mathbf{h}^{(\ell)} + a_\ell \, f(\mathbf{h}^{(\ell)})

    Args:
        branch (Callable): wrapped layer.
        channels (int): feature size :math:`F`.
        init_alpha (float): gate value after a reset. (default: :obj:`0.0`)
        **kwargs: ``layer_index``, ``num_layers``, ``drop_path``, ``drop_path_mode``.

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`; **output:** same shape

    Example:
        >>> h = ReZero(GCNConv(64, 64), 64)(h, edge_index)   # identity right after init
    """

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, *,
                 init_alpha: float = 0.0, **kwargs: Any) -> None:
        super().__init__(branch, channels, **kwargs)
        check_range("ReZero", "init_alpha", init_alpha)
        self.init_alpha = float(init_alpha)
        self.alpha = torch.nn.Parameter(torch.empty(1))
        self.reset_residual_parameters()

    def combine(self, x: Tensor, fx: Tensor, state: DepthState | None) -> Tensor:
        return weighted_sum([x, fx], [None, self.alpha])

    def reset_residual_parameters(self) -> None:
        torch.nn.init.constant_(self.alpha, self.init_alpha)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", init_alpha={self.init_alpha}"


@RESIDUALS.register("gcnii")
class InitialResidual(ResidualBlock):
    r"""GCNII-style initial residual and identity mapping around any propagation :math:`f`, from
    `"Simple and Deep Graph Convolutional Networks" <https://arxiv.org/abs/2007.02133>`_.

    .. math::
        \mathbf{z} = (1-\alpha)\, f(\mathbf{h}^{(\ell)}) + \alpha\, \mathbf{h}^{(0)}, \qquad
        \mathbf{h}^{(\ell+1)} = \sigma\big((1-\beta_\ell)\,\mathbf{z} + \beta_\ell\,
        \mathbf{z}\mathbf{W}^{(\ell)}\big), \qquad \beta_\ell = \log(\lambda/\ell + 1)

    with :math:`\ell` 1-based. With :math:`f` the weight-free GCN propagation
    :math:`\tilde{\mathbf{P}}\mathbf{h}` this is exactly GCNII. :math:`\mathbf{h}^{(0)}` comes
    from ``state.x0`` (the stack input). Drop-path replaces :math:`f(\mathbf{h})` by
    :math:`\mathbf{h}` when the layer is dropped (the skip path), rescaling the difference.

    Args:
        branch (Callable): propagation :math:`f(\mathbf{x}, \ldots)`.
        channels (int): feature size :math:`F`.
        alpha (float): initial-residual weight in ``[0, 1]``. (default: :obj:`0.1`)
        theta (float): :math:`\lambda` of the identity-mapping schedule. (default: :obj:`0.5`)
        act (str, optional): output activation :math:`\sigma`. (default: :obj:`"relu"`)
        **kwargs: ``layer_index``, ``num_layers``, ``drop_path``, ``drop_path_mode``.

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`, ``state.x0``: :math:`(|\mathcal{V}|, F)`;
          **output:** same shape
    """

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, *,
                 alpha: float = 0.1, theta: float = 0.5, act: str | None = "relu",
                 **kwargs: Any) -> None:
        super().__init__(branch, channels, **kwargs)
        check_range("InitialResidual", "alpha", alpha, 0.0, 1.0)
        check_range("InitialResidual", "theta", theta, 0.0, low_open=True)
        self.alpha, self.theta = float(alpha), float(theta)
        self.beta = math.log(theta / (self.layer_index + 1) + 1.0)
        self.act_name = act
        self.act = _activation(act)
        self.weight = torch.nn.Linear(channels, channels, bias=False)
        self.reset_residual_parameters()

    def forward(self, x: Tensor, *args: Any, state: DepthState | None = None,
                **kwargs: Any) -> Tensor:
        if state is None or state.x0 is None:
            raise ValueError("InitialResidual: needs the initial representation; call it "
                             "inside a ResidualStack or pass state=DepthState(x0=...)")
        fx = self.branch(x, *args, **kwargs)
        if self.drop.p > 0 and self.training:
            fx = x + self.drop(fx - x, state.batch)
        z = (1.0 - self.alpha) * fx + self.alpha * state.x0
        return self.act((1.0 - self.beta) * z + self.beta * self.weight(z))

    def reset_residual_parameters(self) -> None:
        self.weight.reset_parameters()

    def extra_repr(self) -> str:
        return super().extra_repr() + f", alpha={self.alpha}, theta={self.theta}"

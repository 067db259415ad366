r"""Hyper-connections (static, dynamic) and their manifold-constrained variant (mHC).

- Zhu et al., `"Hyper-Connections" <https://arxiv.org/abs/2409.19606>`_ (ICLR 2025).
- DeepSeek-AI, `"mHC: Manifold-Constrained Hyper-Connections" <https://arxiv.org/abs/2512.24880>`_.

Axis letters: ``N`` nodes, ``n`` streams (expansion rate), ``d`` features. The stream matrix
travels between blocks as a stream-major ``(n, N, d)`` tensor, so that mixing the streams with
static weights is one GEMM over a ``(n, N*d)`` view (one read and one write of the streams),
not ``n`` broadcast passes; the branch sees ``(N, d)``. Streams are expanded after the input
and reduced before the output, so node slicing, ``batch`` vectors and PyG's seed-node
conventions hold outside the stack.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from graphkit._checks import check_choice, check_range, check_type
from graphkit.nn.residual.base import DepthState, ResidualBlock, StackIO
from graphkit.registry import RESIDUALS


def sinkhorn_log(logits: Tensor, num_iters: int = 20) -> Tensor:
    r"""Sinkhorn-Knopp projection of :math:`\exp(\text{logits})` onto (approximately) doubly
    stochastic matrices, computed in the log domain and in fp32 (mHC Eq. 9).

    Each iteration normalises columns, then rows (:math:`M^t = T_r(T_c(M^{t-1}))`), so rows sum
    to 1 up to rounding and columns within a tolerance that shrinks with ``num_iters``.

    Args:
        logits (Tensor): ``(..., n, n)`` unnormalised log-weights.
        num_iters (int): iterations :math:`t_{\max}`. (default: :obj:`20`)

    Returns:
        Tensor: ``(..., n, n)`` non-negative matrix, in the dtype of ``logits``.
    """
    z = logits.float()
    for _ in range(num_iters):
        z = z - torch.logsumexp(z, dim=-2, keepdim=True)
        z = z - torch.logsumexp(z, dim=-1, keepdim=True)
    return z.exp().to(logits.dtype)


class StreamIO(StackIO):
    r"""Expand the stack input into :math:`n` identical streams; reduce by mean (default) or sum.

    Shapes:
        - **expand:** :math:`(N, d) \to (n, N, d)`; **reduce:** :math:`(n, N, d) \to (N, d)`
    """

    def __init__(self, num_streams: int, reduce: str = "mean") -> None:
        super().__init__()
        check_choice("StreamIO", "reduce", reduce, {"mean", "sum"})
        self.num_streams, self.reduction = num_streams, reduce

    def expand(self, x: Tensor, state: DepthState) -> Tensor:
        return x.unsqueeze(0).expand(self.num_streams, -1, -1)

    def reduce(self, h: Tensor, state: DepthState) -> Tensor:
        return h.mean(dim=0) if self.reduction == "mean" else h.sum(dim=0)

    def extra_repr(self) -> str:
        return f"num_streams={self.num_streams}, reduce={self.reduction}"


class HyperConnections(ResidualBlock):
    r"""Hyper-connections around any layer :math:`\mathcal{T}` (Zhu et al., 2025).

    With the stream matrix :math:`\mathbf{H} \in \mathbb{R}^{n \times d}` of a node,

    .. math::
        \mathbf{h}_{\mathrm{in}} = \mathbf{A}_m^\top \mathbf{H}, \qquad
        \hat{\mathbf{H}} = \mathbf{A}_r^\top \mathbf{H} + \mathbf{B}^\top
        \mathcal{T}(\mathbf{h}_{\mathrm{in}})

    Dynamic (DHC) adds input-dependent deltas, per node and stream, from
    :math:`\bar{\mathbf{H}} = \mathrm{LayerNorm}(\mathbf{H})`:
    :math:`\mathbf{A}(\mathbf{H}) = s_\alpha \tanh(\bar{\mathbf{H}}\mathbf{W}_\alpha) +
    [\mathbf{A}_m, \mathbf{A}_r]`, :math:`\mathbf{B}(\mathbf{H}) = s_\beta
    \tanh(\bar{\mathbf{H}}\mathbf{W}_\beta)^\top + \mathbf{B}` with :math:`\mathbf{W} = 0`,
    :math:`s = 0.01` at init.

    Initialisation ("equivalent to pre-norm"): :math:`\mathbf{A}_m = \mathbf{e}_{\ell \bmod n}`,
    :math:`\mathbf{A}_r = \mathbf{I}`, :math:`\mathbf{B} = \mathbf{1}`. With ``n = 1`` the block
    is exactly :math:`\mathbf{h} + \mathcal{T}(\mathbf{h})`; with ``n > 1``, repeat-expansion
    and mean-reduction, a stack equals the residual stack at init. :math:`\mathcal{T}` must
    carry its own pre-norm (as in DeeperGCN ``res+``) to match a pre-norm residual.

    ``manifold=True`` (mHC): :math:`\mathbf{H}_{\mathrm{res}} = \mathrm{Sinkhorn}(\cdot)` (log
    domain, fp32, ``sinkhorn_iters`` iterations), :math:`\mathbf{H}_{\mathrm{pre}} =
    \sigma(\cdot)`, :math:`\mathbf{H}_{\mathrm{post}} = 2\sigma(\cdot)`. The paper gives no bias
    init; graphkit picks one that makes mHC start as the residual network: residual logits
    :math:`c\mathbf{I}` (any :math:`c` gives an exactly doubly-stochastic symmetric matrix;
    ``res_init`` = :math:`c`), pre weights :math:`p` on stream :math:`\ell \bmod n` and
    :math:`(1-p)/(n-1)` elsewhere (they sum to 1; ``pre_init`` = :math:`p`), post logits 0
    (:math:`2\sigma(0) = 1`). It needs :math:`n \ge 2`.

    Args:
        branch (Callable): wrapped layer :math:`\mathcal{T}(\mathbf{x}, \ldots)`.
        channels (int): feature size :math:`d`.
        num_streams (int): expansion rate :math:`n`. (default: :obj:`4`)
        dynamic (bool): DHC (input-dependent weights). (default: :obj:`True`)
        manifold (bool): mHC constraints. (default: :obj:`False`)
        tanh (bool): squash the dynamic deltas with tanh. (default: :obj:`True`)
        sinkhorn_iters (int): mHC Sinkhorn iterations. (default: :obj:`20`)
        res_init (float): mHC residual-logit diagonal :math:`c`. (default: :obj:`2.0`)
        pre_init (float): mHC pre weight of the selected stream, in ``(1/n, 1)``.
            (default: :obj:`(1 + 1/n) / 2`)
        reduce (str): stream reduction of the stack, ``"mean"`` or ``"sum"``.
            (default: :obj:`"mean"`)
        dynamic_res (bool, optional): make :math:`\mathbf{A}_r` input-dependent too (per node
            :math:`n\times n`; with mHC that is one Sinkhorn per node and layer). Default: on
            for HC (the paper's DHC), off for mHC (one Sinkhorn per layer, static
            :math:`\mathbf{H}_{\mathrm{res}}`; dynamic :math:`\mathbf{H}_{\mathrm{pre}}`,
            :math:`\mathbf{H}_{\mathrm{post}}`).
        **kwargs: ``layer_index``, ``num_layers``, ``drop_path``, ``drop_path_mode``.

    Shapes:
        - **input:** :math:`(n, |\mathcal{V}|, d)`; **output:** same shape (use
          :class:`~graphkit.nn.residual.base.ResidualStack` for expansion / reduction)

    Example:
        >>> stack = ResidualStack("hc_dynamic", [res_plus(GCNConv(64, 64)) for _ in range(8)],
        ...                       64, num_streams=4)
    """

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, *,
                 num_streams: int = 4, dynamic: bool = True, manifold: bool = False,
                 tanh: bool = True, sinkhorn_iters: int = 20, res_init: float = 2.0,
                 pre_init: float | None = None, reduce: str = "mean",
                 dynamic_res: bool | None = None, **kwargs: Any) -> None:
        super().__init__(branch, channels, **kwargs)
        owner = type(self).__name__
        check_range(owner, "num_streams", num_streams, 1, integer=True)
        check_type(owner, "dynamic", dynamic, bool)
        check_type(owner, "manifold", manifold, bool)
        check_range(owner, "sinkhorn_iters", sinkhorn_iters, 1, integer=True)
        check_range(owner, "res_init", res_init)
        check_choice(owner, "reduce", reduce, {"mean", "sum"})
        n = num_streams
        if manifold and n < 2:
            raise ValueError(f"{owner}: 'num_streams' must be >= 2 for manifold-constrained "
                             f"hyper-connections (n = 1 makes H_res = [[1]]); got {n}; use "
                             f"'hc_static' or 'preact' for a single stream")
        if pre_init is None:
            pre_init = (1.0 + 1.0 / n) / 2.0
        if manifold:
            check_range(owner, "pre_init", pre_init, 1.0 / n, 1.0, low_open=True,
                        high_open=True)
        if dynamic_res is None:
            dynamic_res = dynamic and not manifold
        check_type(owner, "dynamic_res", dynamic_res, bool)
        self.dynamic_res = dynamic and dynamic_res
        self.num_streams, self.dynamic, self.manifold, self.tanh = n, dynamic, manifold, tanh
        self.sinkhorn_iters, self.res_init, self.pre_init = sinkhorn_iters, res_init, pre_init
        self.static_alpha = torch.nn.Parameter(torch.empty(n, n + 1))   # [A_m | A_r]
        self.static_beta = torch.nn.Parameter(torch.empty(n))           # B
        if dynamic:
            self.norm = torch.nn.LayerNorm(channels)
            self.dynamic_alpha = torch.nn.Parameter(
                torch.empty(channels, n + 1 if self.dynamic_res else 1))
            self.dynamic_beta = torch.nn.Parameter(torch.empty(channels))
            self.scale_alpha = torch.nn.Parameter(torch.empty(1))
            self.scale_beta = torch.nn.Parameter(torch.empty(1))
        self.reset_residual_parameters()

    @classmethod
    def stack_io(cls, channels: int, num_layers: int, num_streams: int = 4,
                 reduce: str = "mean", **kwargs: Any) -> StackIO:
        return StreamIO(num_streams, reduce)

    def reset_residual_parameters(self) -> None:
        n, k = self.num_streams, self.layer_index % self.num_streams
        with torch.no_grad():
            a = self.static_alpha
            if self.manifold:
                p_other = (1.0 - self.pre_init) / (n - 1)
                a[:, 0] = math.log(p_other / (1.0 - p_other))
                a[k, 0] = math.log(self.pre_init / (1.0 - self.pre_init))
                a[:, 1:] = self.res_init * torch.eye(n)
                self.static_beta.zero_()                        # 2 sigmoid(0) = 1
            else:
                a.zero_()
                a[k, 0] = 1.0                                   # A_m = e_{l mod n}
                a[:, 1:] = torch.eye(n)                         # A_r = I
                self.static_beta.fill_(1.0)                     # B = 1
            if self.dynamic:
                self.norm.reset_parameters()
                self.dynamic_alpha.zero_()
                self.dynamic_beta.zero_()
                self.scale_alpha.fill_(0.01)
                self.scale_beta.fill_(0.01)

    def mixing(self, H: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        r"""Return :math:`(\mathbf{A}_m, \mathbf{A}_r, \mathbf{B})` with shapes ``(B, n)``,
        ``(B, n, n)`` (entry ``[s, t]``: weight of stream ``s`` in new stream ``t``) and
        ``(B, n)``; ``B = 1`` for static weights and ``N`` for dynamic ones."""
        alpha, beta = self.static_alpha.unsqueeze(0), self.static_beta.unsqueeze(0)
        if self.dynamic:
            Hn = self.norm(H)                                   # (n, N, d)
            # one GEMM for both deltas; node-major (N, n, n+1|1), (N, n) like the static ones
            W = torch.cat([self.dynamic_alpha, self.dynamic_beta.unsqueeze(-1)], dim=1)
            dab = (Hn @ W).transpose(0, 1)                      # (N, n, n+2|2)
            da, db = dab[..., :-1], dab[..., -1]
            if self.tanh:
                da, db = torch.tanh(da), torch.tanh(db)
            beta = beta + self.scale_beta * db
            if self.dynamic_res:
                alpha = alpha + self.scale_alpha * da
            else:  # only A_m is input-dependent; A_r stays one (n, n) matrix per layer
                a_m = alpha[..., 0] + self.scale_alpha * da[..., 0]
                return self._finish(a_m, alpha[..., 1:], beta)
        return self._finish(alpha[..., 0], alpha[..., 1:], beta)

    def _finish(self, a_m: Tensor, a_r: Tensor, beta: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        if self.manifold:
            a_m = torch.sigmoid(a_m)
            beta = 2.0 * torch.sigmoid(beta)
            # paper: H' = H_res H with rows of H_res summing to 1 -> A_r = H_res^T
            a_r = sinkhorn_log(a_r, self.sinkhorn_iters).transpose(-1, -2)
        return a_m, a_r, beta

    def forward(self, H: Tensor, *args: Any, state: DepthState | None = None,
                **kwargs: Any) -> Tensor:
        n = self.num_streams
        if H.dim() != 3 or H.size(0) != n or H.size(2) != self.channels:
            raise ValueError(f"{type(self).__name__}: expects streams of shape ({n}, N, "
                             f"{self.channels}); got {tuple(H.shape)}; expand the input "
                             f"first (ResidualStack does it)")
        _, N, d = H.shape
        a_m, a_r, b = self.mixing(H)
        if a_r.size(0) == 1:
            # static A_r: one GEMM over the (n, N*d) view; static A_m: one GEMV
            flat = H.reshape(n, N * d)
            h_in = (a_m[0] @ flat).view(N, d) if a_m.size(0) == 1 else \
                torch.einsum("ns,snd->nd", a_m, H)
            H_res = a_r[0].t() @ flat
        else:                                                         # per-node A_m and A_r
            R = torch.einsum("nsj,snd->jnd", torch.cat([a_m.unsqueeze(-1), a_r], dim=-1), H)
            h_in, H_res = R[0].clone(), R[1:].reshape(n, N * d)
        out = self.run_branch(h_in, args, kwargs, state)           # (N, d)
        if b.size(0) == 1:                                          # + B^T T(h_in)
            return torch.addr(H_res, b[0], out.reshape(-1)).view(n, N, d)
        return H_res.view(n, N, d) + b.t().unsqueeze(-1) * out.unsqueeze(0)

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", num_streams={self.num_streams}, "
                f"dynamic={self.dynamic}, manifold={self.manifold}")


@RESIDUALS.register("hc_static")
class StaticHyperConnections(HyperConnections):
    """Static hyper-connections (SHC): :class:`HyperConnections` with ``dynamic=False``."""

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, **kwargs: Any
                 ) -> None:
        kwargs.setdefault("dynamic", False)
        super().__init__(branch, channels, **kwargs)


@RESIDUALS.register("hc_dynamic")
class DynamicHyperConnections(HyperConnections):
    """Dynamic hyper-connections (DHC): :class:`HyperConnections` with ``dynamic=True``."""

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, **kwargs: Any
                 ) -> None:
        kwargs.setdefault("dynamic", True)
        super().__init__(branch, channels, **kwargs)


@RESIDUALS.register("mhc")
class ManifoldHyperConnections(HyperConnections):
    """Manifold-constrained hyper-connections (mHC): ``manifold=True``, dynamic by default."""

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, **kwargs: Any
                 ) -> None:
        kwargs.setdefault("manifold", True)
        super().__init__(branch, channels, **kwargs)

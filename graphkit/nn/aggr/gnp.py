r"""Generalized-norm pooling (GNP), from `"Learning to Pool in Graph Neural Networks for
Extrapolation" <https://arxiv.org/abs/2106.06210>`_ (Ko, Kwon, Shin, Lee).

Convention pinned here (the reference note flags the brief's wording as ambiguous): for a multiset
:math:`X = \{x_1, \dots, x_n\}` of non-negative scalars, per channel,

.. math::
    \mathrm{GNP}_{p,q}(X) = \Big( n^{-q} \sum_{k=1}^{n} x_k^{\,p} \Big)^{1/p},

so **sum** is :math:`(p, q) = (1, 0)`, **mean** is :math:`(1, 1)`, :math:`p \to +\infty` gives the
**max**, :math:`p \to -\infty` the **min**, and :math:`q = 1` is the power mean :math:`M_p`.
Signed inputs are split, :math:`x = x^+ - x^-`, and pooled with separate parameters,

.. math::
    \mathrm{GNP}(X) = \mathrm{GNP}_{p^+,q^+}(X^+) - \mathrm{GNP}_{p^-,q^-}(X^-),

with :math:`n = |X|` (all elements) in both parts, so signed sums and means are exact and
:math:`\max X = \mathrm{GNP}_{+\infty}(X^+) - \mathrm{GNP}_{-\infty}(X^-)`.

Numerics: evaluated in log space, :math:`\exp\big((\mathrm{LSE}_k(p \log x_k) - q \log n)/p\big)`,
shifted by the column max over all entries (segments that would lose precision under that shift
are redone with their own max, so the result is exact either way); zeros are pooled as the dtype's
smallest normal number (every log finite, no NaN from ``0 * log 0``; they add at most
``tiny**p`` each, and a set holding a zero pools to about ``tiny``, its min, for :math:`p < 0`); the
empty set pools to 0; :math:`|p|` is kept :math:`\ge p_{\min}` (straight-through, so a learnt :math:`p` can
still cross 0); the output is capped just below the dtype's largest finite value. A hand-written
backward recomputes the few per-element terms instead of storing them, so memory is one extra
copy of the messages and gradients for :math:`x`, :math:`p` and :math:`q` stay finite.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from torch_geometric.index import ptr2index
from torch_geometric.nn.aggr import Aggregation

from graphkit._checks import check_choice, check_range, check_type
from graphkit.nn.sparse import SparseAdj, _same_tensor, _tensor_key
from graphkit.registry import AGGRS, READOUTS

__all__ = ["GNP", "GNP_INITS", "LARGE_P", "MIXED_CYCLE", "gnp_reduce"]

#: |p| used by the ``'max'`` / ``'min'`` initialisations (relative error to the max <= n^(1/p) - 1).
LARGE_P = 100.0

#: named initialisations: name -> (p+, q+, p-, q-)
GNP_INITS: dict[str, tuple[float, float, float, float]] = {
    "sum": (1.0, 0.0, 1.0, 0.0),
    "mean": (1.0, 1.0, 1.0, 1.0),
    "max": (LARGE_P, 0.0, -LARGE_P, 0.0),
    "min": (-LARGE_P, 0.0, LARGE_P, 0.0),
    "rms": (2.0, 1.0, 2.0, 1.0),
    "sqrt": (1.0, 0.5, 1.0, 0.5),
}
#: ``init='mixed'``: channel c starts as ``MIXED_CYCLE[c % 4]`` (max, min, mean and sum / sqrt(n),
#: size exponent 1/2, which training moves towards sum (1) or mean (0); the layers around GNP pick
#: and the exponents are refined by training)
MIXED_CYCLE = ("sqrt", "mean", "max", "min")

ParamLike = float | Tensor
_LAZY = (UninitializedParameter, UninitializedBuffer)


class _GNPPool(torch.autograd.Function):
    r"""GNP of the entries ``x[src]`` (E, F) into ``dim_size`` segments, one (p, q) per column
    of ``a = [x^+ | x^-]`` (E, 2F) when ``signed`` (else ``a = x^+``, (E, F)). ``src = None``
    pools the rows of ``x`` themselves (``x`` is (E, F)). Every tensor is row-major with the
    ``K = 2F`` (``F``) columns of ``a`` side by side, so the output needs no reordering.

    With ``src`` the per-entry terms :math:`e_k = \exp(p \log a_k - m)` depend only on the
    source row, so they are computed once per row of ``x``, and the sum over each segment is
    a gather and scatter-sum of those rows, or, for a graph pooled again, one CSR product with
    the (segment x row) adjacency ``adj`` (its transpose in the backward): the edge-level work
    is that of a sum aggregation over ``2F`` (``F`` unsigned) channels, and no (E, F) message
    tensor is built (``SAGEConv``-style layers, whose message is the source feature).

    Zeros are pooled as the dtype's smallest normal number ``tiny`` (so every log is finite; they
    add at most ``tiny**p`` per entry, below 1e-7 relative for ``p >= 0.2`` in float32, and a set
    holding a zero pools to about ``tiny`` for ``p < 0``). Exponents are floored at
    ``max(log(tiny) + 8, -60)`` before ``exp``: a floored term is below ``e^-60`` of its set's
    largest one (negligible even in float64), and no subnormal number is ever made (CPUs take a
    7-14x slower path for those, in ``exp`` and in products with small gradients). Every term
    is positive, so a segment's sum is 0 exactly when it is empty.

    Hand-written backward: with :math:`w_k = \exp(v_k - \mathrm{LSE}) = e_k / s`,
    :math:`v_k = p \log a_k` and :math:`G = g \cdot \mathrm{out}`:
    :math:`\partial/\partial a_k = G w_k / a_k`,
    :math:`\partial/\partial p = (\sum_k G w_k \log a_k - G L)/p`,
    :math:`\partial/\partial q = -G \log n / p`; the sign split's gradient is folded in. The
    per-segment factor :math:`G / s` is summed back per source row (gather, or the transposed
    CSR product); segments redone with their own shift take the exact per-entry path. Masks
    are applied by row index or float factors (``torch.where`` on bool masks is several times
    slower than a multiply on CPU).
    """

    @staticmethod
    def forward(ctx, x: Tensor, src: Tensor | None, adj: SparseAdj | None, index: Tensor,
                p: Tensor, q: Tensor, log_n: Tensor, dim_size: int, signed: bool) -> Tensor:
        M, F = x.shape
        B, S = (2 if signed else 1), dim_size
        K = B * F
        tiny = torch.finfo(x.dtype).tiny
        floor = max(math.log(tiny) + 8.0, -60.0)
        la = x.new_empty(M, B, F)                             # log a, zeros as log(tiny)
        torch.log(x.clamp_min(tiny), out=la[:, 0])
        if signed:
            torch.log(x.neg().clamp_min_(tiny), out=la[:, 1])
        la = la.view(M, K)
        v = la * p
        # shift by the column max over all rows (a plain reduction, no per-segment scatter
        # max); segments whose sum is then too small to be exact are redone with their own max
        mc = v.amax(0, keepdim=True) if M > 0 else v.new_zeros(1, K)
        e = torch.sub(v, mc).clamp_min_(floor).exp_()                          # (M, K)
        if adj is not None:                    # sum over in-neighbours as one CSR product
            s = adj.P @ e
        else:
            e_ent = e if src is None else e.index_select(0, src)
            s = x.new_zeros(S, K).scatter_add_(0, index.view(-1, 1).expand(-1, K), e_ent)
            del e_ent
        n = log_n.exp()                                                        # (S, 1)
        bad = (s < n * (math.exp(floor) / torch.finfo(x.dtype).eps)).any(1)
        bad &= s[:, 0] > 0                               # an empty segment has nothing to redo
        bad_rows = bad.nonzero().view(-1)
        sel = None
        m = mc
        if bad_rows.numel() > 0:
            sel = bad.index_select(0, index).nonzero().view(-1)               # entries to redo
            sub_idx = index.index_select(0, sel)
            vs = v.index_select(0, sel if src is None else src.index_select(0, sel))
            ms = x.new_full((S, K), -math.inf).scatter_reduce_(
                0, sub_idx.view(-1, 1).expand_as(vs), vs, "amax")
            es = vs.sub_(ms.index_select(0, sub_idx)).clamp_min_(floor).exp_()
            ss = x.new_zeros(S, K).scatter_add_(0, sub_idx.view(-1, 1).expand_as(es), es)
            s.index_copy_(0, bad_rows, ss.index_select(0, bad_rows))
            m = mc.expand(S, K).clone().index_copy_(0, bad_rows, ms.index_select(0, bad_rows))
        del v
        empty_rows = (s[:, 0] == 0).nonzero().view(-1)                       # empty segments
        lse = s.clamp_min(tiny).log_().add_(m)
        L = lse.sub(q * log_n).div_(p)                                         # (S, K)
        log_max = math.log(torch.finfo(x.dtype).max) - 1.0
        out = L.clamp(max=log_max).exp_().index_fill_(0, empty_rows, 0.0)
        ctx.save_for_backward(x, la, e, index, src, sel, bad_rows, mc, p, log_n, s, lse, L,
                              out)
        ctx.floor, ctx.log_max, ctx.adj = floor, log_max, adj
        return out                                                             # (S, K)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor):
        x, la, e, index, src, sel, bad_rows, mc, p, log_n, s, lse, L, out = ctx.saved_tensors
        floor = ctx.floor
        M, K = la.shape
        B = K // x.size(1)
        tiny = torch.finfo(la.dtype).tiny
        big = torch.finfo(la.dtype).max / 4
        G = grad_out * out                                  # 0 on empty segments (out = 0)
        capped = L >= ctx.log_max                           # overflow-capped: no gradient
        if bool(capped.any()):
            G = G * (~capped).to(G.dtype)
        grad_q = (G * log_n).sum(0).neg_().div_(p)
        # segments on the common shift: G w_k = e_k * (G / s), summed back per source row
        H = G / s.clamp_min(tiny)
        if bad_rows.numel() > 0:
            H.index_fill_(0, bad_rows, 0.0)
        if ctx.adj is not None:
            T = ctx.adj.PT @ H                                                 # A^T H, (M, K)
        else:
            T = H.index_select(0, index)                                       # (E, K)
            if src is not None:
                T = x.new_zeros(M, K).index_add_(0, src, T)                    # (M, K)
        grad_p = (e * T).mul_(la).sum(0)
        want_x = ctx.needs_input_grad[0]
        if want_x:                                                             # G w_k / a_k
            # w_k / a_k = exp(v - m - log a) / s; for p < 1 the derivative at an exact zero is
            # infinite: capped at big (0 * inf -> 0)
            ga = (la * p).sub_(mc).sub_(la).clamp_min_(floor).exp_().mul_(T)
        if sel is not None:       # segments with their own shift: exact per-entry terms
            sub_idx = index.index_select(0, sel)
            r_rows = sel if src is None else src.index_select(0, sel)
            la_s = la.index_select(0, r_rows)
            r = (la_s * p).sub_(lse.index_select(0, sub_idx))                  # log w_k
            Gi = G.index_select(0, sub_idx)
            grad_p = grad_p + torch.clamp_min(r, floor).exp_().mul_(Gi).mul_(la_s).sum(0)
            if want_x:
                ga = ga.index_add_(0, r_rows, r.sub_(la_s).clamp_min_(floor).exp_().mul_(Gi))
        grad_p = (grad_p - (G * L).sum(0)).div_(p).nan_to_num_(0.0, big, -big)
        grad_q = grad_q.nan_to_num_(0.0, big, -big)
        grad_x = None
        if want_x:
            ga = ga.nan_to_num_(0.0, big, -big).view(M, B, -1)
            grad_x = ga[:, 0] * (x >= 0).to(ga.dtype)                          # d x^+ / dx
            if B == 2:
                grad_x -= ga[:, 1] * (x <= 0).to(ga.dtype)                     # d x^- / dx
        return grad_x, None, None, None, grad_p, grad_q, None, None, None


#: the graphs last seen by :func:`_neighbor_adj`, most recent first: (keys, adjacency or None)
_ADJ_CACHE: list = []
#: how many graphs :func:`_neighbor_adj` remembers (train / validation graphs, a few layers)
ADJ_CACHE_SIZE = 4


def _neighbor_adj(src: Tensor, dst: Tensor, num_src: int, num_dst: int, dtype: torch.dtype
                  ) -> SparseAdj | None:
    """Unweighted CSR adjacency (and transpose) of the pairs ``src -> dst`` (repeats summed)
    once the same graph comes a second time, else ``None`` (gather / scatter instead).

    Building the CSR pair costs a few GNP passes (a sort of the edges), so it pays only for a
    graph that is pooled again (full-batch training, several layers); a fresh sampled batch
    each call stays on the scatter path. The last ``ADJ_CACHE_SIZE`` graphs are remembered; a
    new or in-place-modified index counts as a new graph."""
    extra = (num_src, num_dst, dtype)
    for i, (k_src, k_dst, adj) in enumerate(_ADJ_CACHE):
        if _same_tensor(k_src, src, extra) and _same_tensor(k_dst, dst, ()):
            if adj is None:
                adj = SparseAdj(torch.stack([src, dst]), torch.ones(src.numel(), dtype=dtype,
                                device=src.device), num_dst, num_src)
            del _ADJ_CACHE[i]
            _ADJ_CACHE.insert(0, (k_src, k_dst, adj))
            return adj
    _ADJ_CACHE.insert(0, (_tensor_key(src, extra), _tensor_key(dst, ()), None))
    del _ADJ_CACHE[ADJ_CACHE_SIZE:]
    return None


def _check_growth(owner: str, growth) -> tuple[float, float] | None:
    if growth is None:
        return None
    try:
        lo, hi = (float(g) for g in growth)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: 'growth' must be None or a pair (lo, hi) of numbers; "
                         f"got {growth!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise ValueError(f"{owner}: 'growth' must be a finite pair with lo <= hi, e.g. (0, 1); "
                         f"got {growth!r}")
    return lo, hi


def _as_channels(owner: str, name: str, value: ParamLike, like: Tensor, channels: int) -> Tensor:
    t = torch.as_tensor(value, dtype=like.dtype, device=like.device).reshape(-1)
    if t.numel() not in (1, channels):
        raise ValueError(f"{owner}: {name!r} must hold 1 or {channels} values (one per channel); "
                         f"got {t.numel()}")
    return t.expand(channels)


def gnp_reduce(x: Tensor, index: Tensor | None, p: ParamLike, q: ParamLike,
               p_neg: ParamLike | None = None, q_neg: ParamLike | None = None, *,
               ptr: Tensor | None = None, dim_size: int | None = None, dim: int = -2,
               signed: bool = True, p_min: float = 0.2,
               growth: tuple[float, float] | None = None,
               src_index: Tensor | None = None) -> Tensor:
    r"""Generalized-norm pooling of ``x`` over the groups given by ``index`` (see module docs).

    .. math::
        \mathrm{out}_{g} = \Big(|X_g|^{-q^+} \sum_{k \in g} (x_k^+)^{p^+}\Big)^{1/p^+}
                         - \Big(|X_g|^{-q^-} \sum_{k \in g} (x_k^-)^{p^-}\Big)^{1/p^-}

    Args:
        x (Tensor): values; the last dimension holds the channels.
        index (LongTensor, optional): group of each entry along ``dim`` (or pass ``ptr``).
        p, q (float or Tensor): exponent and size exponent for the positive part: a scalar or one
            value per channel (the last dimension of ``x``).
        p_neg, q_neg (float or Tensor, optional): the same for the negative part.
            (default: ``p`` and ``q``)
        ptr (LongTensor, optional): CSR boundaries instead of ``index``.
        dim_size (int, optional): number of groups. (default: ``index.max() + 1``)
        dim (int, optional): the dimension pooled over. (default: :obj:`-2`)
        signed (bool, optional): pool the negative part too; if :obj:`False`, negatives are
            dropped (ReLU) and half the work is saved. (default: :obj:`True`)
        p_min (float, optional): :math:`|p|` is clamped to at least this (straight-through).
            (default: :obj:`0.2`)
        growth ((float, float), optional): bounds ``(lo, hi)`` on the size exponent
            :math:`g = (1 - q) / p` (a set of :math:`n` equal values pools to :math:`n^{g}` times
            the value): ``q`` is clamped to the interval between :math:`1 - p\,lo` and
            :math:`1 - p\,hi`; for :math:`p < 0` the upper bound is
            :math:`\min(hi, \max(lo, 0))`. ``(0, 1)`` keeps :math:`p > 0` channels between
            mean/max (:math:`g = 0`) and sum (:math:`g = 1`) and makes :math:`p < 0` channels
            power means (:math:`q = 1`, between min and the geometric mean).
            (default: :obj:`None`, unbounded)
        src_index (LongTensor, optional): pool the entries ``x.index_select(dim, src_index)``
            without building them: with ``src_index = edge_index[0]`` and ``index =
            edge_index[1]`` this is GNP over the neighbours :math:`x_j` of every node, at the
            edge-level cost of a sum aggregation (the powers are taken once per node).
            (default: :obj:`None`, the entries are ``x`` itself)

    Shapes:
        - **input:** ``x``: :math:`(\ldots, E, \ldots, F)` (:math:`(\ldots, N, \ldots, F)` with
          ``src_index``), ``index``: :math:`(E,)`, ``src_index``: :math:`(E,)`
        - **output:** ``x`` with dimension ``dim`` resized to ``dim_size``

    Example:
        >>> gnp_reduce(torch.rand(6, 3), torch.tensor([0, 0, 1, 1, 1, 2]), p=1.0, q=0.0)  # sum
    """
    owner = "gnp_reduce"
    if index is None:
        if ptr is None:
            raise ValueError(f"{owner}: pass 'index' or 'ptr' to say which group each entry is in")
        index = ptr2index(ptr)
        if dim_size is None:
            dim_size = ptr.numel() - 1
    if dim < 0:
        dim = x.dim() + dim
    if not 0 <= dim < x.dim():
        raise ValueError(f"{owner}: 'dim' must lie in [-{x.dim()}, {x.dim() - 1}] for an input of "
                         f"shape {tuple(x.shape)}; got {dim}")
    if src_index is not None:
        if src_index.dim() != 1 or src_index.numel() != index.numel():
            raise ValueError(f"{owner}: 'src_index' must be 1-D with one row of 'x' per entry "
                             f"of 'index' ({index.numel()}); got shape {tuple(src_index.shape)}")
        if src_index.numel() > 0:
            lo, hi = (int(v) for v in torch.aminmax(src_index))       # one pass, one sync
            if lo < 0 or hi >= x.size(dim):
                raise ValueError(f"{owner}: 'src_index' must hold rows of 'x' in "
                                 f"[0, {x.size(dim)}) along dim {dim}; got values in "
                                 f"[{lo}, {hi}]")
    elif index.numel() != x.size(dim):
        raise ValueError(f"{owner}: 'index' has {index.numel()} entries but 'x' has "
                         f"{x.size(dim)} along dim {dim}; pass one per entry")
    if dim_size is None:
        dim_size = int(index.max()) + 1 if index.numel() > 0 else 0

    orig_dtype = x.dtype
    if orig_dtype in (torch.float16, torch.bfloat16) or not x.is_floating_point():
        x = x.float()
    xt = x.movedim(dim, 0)
    rest = xt.shape[1:]
    C = rest[-1] if len(rest) > 0 else 1
    E = index.numel()
    xt = xt.reshape(xt.size(0), -1)
    reps = xt.size(1) // C if C > 0 else 0

    def per_entry(value: ParamLike, name: str) -> Tensor:
        return _as_channels(owner, name, value, xt, C).repeat(reps)

    p_neg = p if p_neg is None else p_neg
    q_neg = q if q_neg is None else q_neg
    if signed:
        P = torch.cat([per_entry(p, "p"), per_entry(p_neg, "p_neg")])
        Q = torch.cat([per_entry(q, "q"), per_entry(q_neg, "q_neg")])
    else:
        P, Q = per_entry(p, "p"), per_entry(q, "q")
    P_safe = torch.where(P >= 0, P.clamp_min(p_min), P.clamp_max(-p_min))
    P = P + (P_safe - P).detach()                          # straight-through clamp of |p|
    growth = _check_growth(owner, growth)
    if growth is not None:                                 # g = (1 - q) / p in [lo, hi]
        lo, hi = growth                                    # p < 0: at most max(lo, 0)
        hi_neg = min(hi, max(lo, 0.0))
        b1, b2 = 1.0 - P * lo, 1.0 - P * torch.where(P < 0, hi_neg, hi)
        Q = torch.minimum(torch.maximum(Q, torch.minimum(b1, b2)), torch.maximum(b1, b2))

    index = index.to(torch.long)
    n = xt.new_zeros(dim_size).index_add_(0, index, xt.new_ones(E))
    log_n = n.clamp_min(1).log_().unsqueeze(1)
    src = adj = None
    if src_index is not None:
        src = src_index.to(torch.long)
        adj = _neighbor_adj(src, index, xt.size(0), dim_size, xt.dtype)
    out = _GNPPool.apply(xt, src, adj, index, P, Q, log_n, dim_size, signed)
    if signed:
        half = xt.size(1)
        out = out[:, :half] - out[:, half:]
    out = out.reshape((dim_size,) + tuple(rest)).movedim(0, dim)
    return out.to(orig_dtype) if orig_dtype.is_floating_point else out


@AGGRS.register("gnp")
class GNP(Aggregation):
    r"""Learnable generalized-norm pooling (GNP) aggregation, from `"Learning to Pool in Graph
    Neural Networks for Extrapolation" <https://arxiv.org/abs/2106.06210>`_.

    .. math::
        \mathrm{GNP}(X) = \Big(|X|^{-q^+} \sum_{x \in X} (x^+)^{p^+}\Big)^{1/p^+}
                        - \Big(|X|^{-q^-} \sum_{x \in X} (x^-)^{p^-}\Big)^{1/p^-}

    per channel, with learnable :math:`p^\pm, q^\pm`. Convention: sum is :math:`p = 1, q = 0`;
    mean is :math:`p = 1, q = 1`; max is :math:`p^+ \to +\infty, p^- \to -\infty`; min the
    reverse. A drop-in ``aggr=`` for any :class:`~torch_geometric.nn.conv.MessagePassing` layer and
    a graph readout (``GNP(channels)(x, batch)``). Empty groups (isolated nodes) give 0.

    Args:
        channels (int, optional): number of channels with their own :math:`p, q`; :obj:`1` shares
            one set of parameters across channels; :obj:`-1` infers it from the first input
            (lazy, like PyG's ``Linear(-1, ...)``: run one forward before building the
            optimizer), which lets one ``aggr_kwargs`` serve layers of different widths.
            (default: :obj:`1`)
        init (str, optional): starting aggregator, one of ``'sum'``, ``'mean'``, ``'max'``,
            ``'min'``, ``'rms'``, ``'sqrt'`` (sum / :math:`\sqrt{n}`: :math:`p = 1, q = 1/2`;
            ``'max'``/``'min'`` use :math:`|p| = 100`, :math:`q = 0`), or ``'mixed'``: channel
            :math:`c` starts as sqrt, mean, max, min for :math:`c \bmod 4 = 0, 1, 2, 3` (the
            choice is left to training; needs ``channels >= 4``).
            (default: ``'sum'``)
        p, q, p_neg, q_neg (float, optional): override the named initialisation (``p_neg``,
            ``q_neg`` default to the init's values, or to ``p``, ``q`` when those are given and
            ``init`` is not). (default: :obj:`None`)
        learn (bool, optional): learn :math:`p, q` (else they are fixed buffers).
            (default: :obj:`True`)
        signed (bool, optional): pool negative values through their own branch; :obj:`False`
            drops them (ReLU) at half the cost. (default: :obj:`True`)
        p_min (float, optional): lower bound on :math:`|p|`. (default: :obj:`0.2`)
        growth ((float, float), optional): bounds on the size exponent :math:`(1 - q) / p`
            (a set of :math:`n` equal values pools to :math:`n^{(1-q)/p}` times the value):
            :math:`q` is used clamped to the interval that keeps it in ``[lo, hi]`` (the
            parameter itself is not changed; outside the interval it gets no gradient, so a
            channel that reaches sum, ``hi = 1``, stays sum). ``(0, 1)`` allows everything
            between mean/max (0) and sum (1) for :math:`p > 0`, power means (min side) for
            :math:`p < 0`, and rules out the super-linear growth or decay with set size (and the
            "sum of mins") that no standard aggregator has, which is invisible on small training
            sets and explodes on large ones (see :func:`gnp_reduce`). The extrapolation
            benchmark uses ``init='mixed', growth=(0, 1)`` on every task.
            (default: :obj:`None`, unbounded as in the paper)

    Shapes:
        - **input:** ``x``: :math:`(|\mathcal{E}|, F)` messages (or :math:`(|\mathcal{V}|, F)` node
          vectors for a readout), ``index``: :math:`(|\mathcal{E}|,)`
        - **output:** :math:`(|\mathcal{V}|, F)` (or :math:`(B, F)`)

    Example:
        >>> conv = SAGEConv(16, 16, aggr=GNP(16, init="mean"))
        >>> h_graph = GNP(16)(x, batch)                       # readout
    """

    def __init__(self, channels: int = 1, init: str = "sum", *, p: float | None = None,
                 q: float | None = None, p_neg: float | None = None,
                 q_neg: float | None = None, learn: bool = True, signed: bool = True,
                 p_min: float = 0.2, growth: tuple[float, float] | None = None) -> None:
        super().__init__()
        owner = type(self).__name__
        if channels != -1:
            check_range(owner, "channels", channels, low=1, integer=True)
        check_choice(owner, "init", init, set(GNP_INITS) | {"mixed"})
        check_type(owner, "learn", learn, bool)
        check_type(owner, "signed", signed, bool)
        check_range(owner, "p_min", p_min, low=0.0, low_open=True)
        if init == "mixed" and any(v is not None for v in (p, q, p_neg, q_neg)):
            raise ValueError(f"{owner}: init='mixed' sets p, q per channel; pass p/q only with a "
                             f"single named init ({sorted(GNP_INITS)})")
        base = list(GNP_INITS["sum" if init == "mixed" else init])
        for i, (name, val) in enumerate((("p", p), ("q", q), ("p_neg", p_neg), ("q_neg", q_neg))):
            if val is not None:
                check_range(owner, name, val)
                base[i] = float(val)
        if p_neg is None and p is not None:        # keep the init's sign pattern (max: -p)
            init_p, _, init_pn, _ = GNP_INITS[init]
            base[2] = base[0] * (1.0 if init_p * init_pn > 0 else -1.0)
        if q_neg is None and q is not None:
            base[3] = base[1]
        for name, val in (("p", base[0]), ("p_neg", base[2])):
            if abs(val) < p_min:
                raise ValueError(f"{owner}: {name!r} must satisfy |{name}| >= p_min={p_min}; "
                                 f"got {val} (p = 0 is singular unless q = 1)")
        self.channels, self.init, self.learn, self.signed = channels, init, learn, signed
        self.p_min = p_min
        self.growth = _check_growth(owner, growth)
        self._init_values = tuple(base)
        self._custom = any(v is not None for v in (p, q, p_neg, q_neg))
        if channels == -1:
            lazy = UninitializedParameter if learn else UninitializedBuffer
            self.p, self.q = lazy(), lazy()
        elif learn:
            self.p = torch.nn.Parameter(torch.empty(2, channels))
            self.q = torch.nn.Parameter(torch.empty(2, channels))
        else:
            self.register_buffer("p", torch.empty(2, channels))
            self.register_buffer("q", torch.empty(2, channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if is_lazy(self.p):
            return
        if self.init == "mixed":
            table = [GNP_INITS[MIXED_CYCLE[c % len(MIXED_CYCLE)]] for c in range(self.channels)]
        else:
            table = [self._init_values] * self.channels
        pp, qp, pn, qn = torch.tensor(table, dtype=self.p.dtype, device=self.p.device).t()
        with torch.no_grad():
            self.p[0].copy_(pp)
            self.p[1].copy_(pn)
            self.q[0].copy_(qp)
            self.q[1].copy_(qn)

    def forward(self, x: Tensor, index: Tensor | None = None, ptr: Tensor | None = None,
                dim_size: int | None = None, dim: int = -2) -> Tensor:
        return self._pool(x, index, ptr, dim_size, dim)

    def pool_neighbors(self, x: Tensor, edge_index: Tensor, num_nodes: int | None = None
                       ) -> Tensor:
        r"""GNP over the in-neighbours of every node, :math:`\mathbf{h}_i =
        \mathrm{GNP}(\{\mathbf{x}_j : (j, i) \in \mathcal{E}\})`: equal to
        ``self(x[edge_index[0]], edge_index[1], dim_size=num_nodes)`` but without the
        :math:`(|\mathcal{E}|, F)` message tensor (the powers are taken once per node; the
        edge-level work is that of a sum aggregation, see :func:`gnp_reduce`'s ``src_index``;
        a graph pooled again, as in full-batch training, is summed by a cached CSR product).

        Args:
            x (Tensor): source node features :math:`(|\mathcal{V}_s|, F)`.
            edge_index (LongTensor): :math:`(2, |\mathcal{E}|)`, sources in row 0.
            num_nodes (int, optional): number of target nodes. (default: ``x.size(0)``)
        """
        if not (isinstance(edge_index, Tensor) and edge_index.dim() == 2
                and edge_index.size(0) == 2):
            raise ValueError(f"{type(self).__name__}.pool_neighbors: 'edge_index' must be a "
                             f"(2, E) tensor; got {getattr(edge_index, 'shape', edge_index)}")
        return self._pool(x, edge_index[1], None, x.size(0) if num_nodes is None else num_nodes,
                          -2, edge_index[0])

    def _pool(self, x: Tensor, index: Tensor | None, ptr: Tensor | None,
              dim_size: int | None, dim: int, src_index: Tensor | None = None) -> Tensor:
        if isinstance(self.p, _LAZY):           # (not is_lazy: a torch.compile graph break)
            self.channels = x.size(-1)
            self.p.materialize((2, self.channels), device=x.device)
            self.q.materialize((2, self.channels), device=x.device)
            self.reset_parameters()
        if self.channels > 1 and x.size(-1) != self.channels:
            raise ValueError(f"{type(self).__name__}: built for {self.channels} channels but 'x' "
                             f"has {x.size(-1)} in its last dimension; build GNP({x.size(-1)}) "
                             f"or GNP(1) to share p, q across channels")
        return gnp_reduce(x, index, self.p[0], self.q[0], self.p[1], self.q[1], ptr=ptr,
                          dim_size=dim_size, dim=dim, signed=self.signed,
                          p_min=self.p_min, growth=self.growth, src_index=src_index)

    def __repr__(self) -> str:
        args = [str(self.channels), f"init={self.init!r}"]
        if self._custom:
            pp, qp, pn, qn = self._init_values
            args.append(f"p={pp}, q={qp}, p_neg={pn}, q_neg={qn}")
        if not self.learn:
            args.append("learn=False")
        if not self.signed:
            args.append("signed=False")
        if self.growth is not None:
            args.append(f"growth={self.growth}")
        return f"{type(self).__name__}({', '.join(args)})"


READOUTS.register("gnp", GNP)


def register_with_pyg() -> None:
    """Make ``aggr="gnp"`` resolve inside PyG layers (``SAGEConv(16, 16, aggr="gnp")``).

    PyG's aggregation resolver only looks in :mod:`torch_geometric.nn.aggr`; this adds ``GNP``
    there (a new name, nothing existing changes). Each layer then builds its own ``GNP``, so
    ``GraphSAGE(..., aggr="gnp", aggr_kwargs={"channels": H})`` learns one GNP per layer.
    """
    import torch_geometric.nn.aggr as pyg_aggr
    if getattr(pyg_aggr, "GNP", None) is not GNP:
        pyg_aggr.GNP = GNP

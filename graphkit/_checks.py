"""Shared argument and input validation.

Every check raises ``ValueError`` / ``TypeError`` whose message names the owner, the argument,
the bad value and what is allowed (the scikit-learn way). Never ``assert``.
"""
from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor


def _fmt(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"tensor(shape={tuple(value.shape)}, dtype={value.dtype})"
    return repr(value)


def check_choice(owner: str, name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Raise unless ``value`` is one of ``choices``; suggest the closest choice."""
    choices = sorted(choices, key=str)
    if value in choices:
        return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, [str(c) for c in choices], n=1)
        if close:
            hint = f" (did you mean {close[0]!r}?)"
    raise ValueError(f"{owner}: {name!r} must be one of {choices}; got {_fmt(value)}{hint}")


def check_type(owner: str, name: str, value: Any, types: type | tuple[type, ...]) -> Any:
    if not isinstance(value, types):
        names = [t.__name__ for t in (types if isinstance(types, tuple) else (types,))]
        raise TypeError(f"{owner}: {name!r} must be of type {' or '.join(names)}; "
                        f"got {type(value).__name__} ({_fmt(value)})")
    return value


def check_range(owner: str, name: str, value: Any, low: float | None = None,
                high: float | None = None, *, integer: bool = False,
                low_open: bool = False, high_open: bool = False) -> Any:
    """Raise unless ``low <= value <= high`` (bounds optional, open if asked)."""
    kind = "an int" if integer else "a number"
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    interval = (f"{lo}{'-inf' if low is None else low}, "
                f"{'inf' if high is None else high}{hi if high is not None else ')'}")
    ok_type = (isinstance(value, int) and not isinstance(value, bool)) if integer else (
        isinstance(value, (int, float)) and not isinstance(value, bool))
    if not ok_type or (not integer and math.isnan(value)):
        raise ValueError(f"{owner}: {name!r} must be {kind} in {interval}; got {_fmt(value)}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{owner}: {name!r} must be {kind} in {interval}; got {_fmt(value)}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{owner}: {name!r} must be {kind} in {interval}; got {_fmt(value)}")
    return value


def check_finite(owner: str, name: str, x: Tensor) -> Tensor:
    """Raise if a floating tensor holds NaN or inf, saying which and how many."""
    # a NaN or inf entry makes the sum non-finite, so one reduction screens the common case;
    # a sum that overflowed from finite entries is told apart by the counts
    if x.is_floating_point() and x.numel() > 0 and not bool(torch.isfinite(x.sum())):
        n_nan = int(torch.isnan(x).sum())
        n_inf = int(torch.isinf(x).sum())
        if n_nan or n_inf:
            raise ValueError(f"{owner}: {name!r} must be finite; found {n_nan} NaN and "
                             f"{n_inf} inf values in {_fmt(x)}")
    return x


def check_edge_index(owner: str, edge_index: Any, num_nodes: int | None,
                     name: str = "edge_index") -> Tensor:
    """Raise unless ``edge_index`` is a ``(2, E)`` long tensor with ids in ``[0, num_nodes)``."""
    if not isinstance(edge_index, Tensor):
        raise TypeError(f"{owner}: {name!r} must be a torch.Tensor of shape (2, E); "
                        f"got {type(edge_index).__name__}")
    if edge_index.dtype != torch.long:
        raise ValueError(f"{owner}: {name!r} must have dtype torch.long; got {edge_index.dtype} "
                         f"(convert with edge_index.long())")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"{owner}: {name!r} must have shape (2, E); "
                         f"got {tuple(edge_index.shape)}")
    if edge_index.numel() > 0 and num_nodes is not None:
        lo, hi = int(edge_index.min()), int(edge_index.max())
        if lo < 0 or hi >= num_nodes:
            raise ValueError(f"{owner}: {name!r} holds node ids in [{lo}, {hi}] but the graph has "
                             f"{num_nodes} nodes; ids must lie in [0, {num_nodes - 1}]")
    return edge_index


def check_index_size(owner: str, name: str, index: Tensor, rows: int) -> Tensor:
    if index.numel() != rows:
        raise ValueError(f"{owner}: {name!r} has {index.numel()} entries but 'x' has {rows} "
                         f"rows; pass one per row")
    return index

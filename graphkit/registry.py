"""Registries: create things by name (models, convs, residual kinds, pools, transforms, ...).

Names are normalised (case, ``-``, ``_`` and spaces ignored); a class or callable passes through
``build`` unchanged; registering a name twice is an error; an unknown name lists the known ones.
"""
from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from typing import Any


def _norm(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "").replace(" ", "")


class Registry:
    """A name -> factory table.

    Example:
        >>> RESIDUALS = Registry("residual")
        >>> @RESIDUALS.register("rezero")
        ... class ReZero(torch.nn.Module): ...
        >>> RESIDUALS.build("Re_Zero", channels=64)
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, Callable[..., Any]] = {}
        self._display: dict[str, str] = {}

    def register(self, name: str, obj: Callable[..., Any] | None = None):
        def deco(o: Callable[..., Any]) -> Callable[..., Any]:
            key = _norm(name)
            if key in self._items and self._items[key] is not o:
                raise ValueError(f"{self.kind} {name!r} is registered twice "
                                 f"({self._items[key]!r} and {o!r})")
            self._items[key] = o
            self._display[key] = name
            return o
        return deco(obj) if obj is not None else deco

    def get(self, name: str | Callable[..., Any]) -> Callable[..., Any]:
        if not isinstance(name, str):
            return name
        key = _norm(name)
        if key not in self._items:
            known = self.names()
            close = difflib.get_close_matches(name.lower(), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown {self.kind} {name!r}{hint}; known: {known}")
        return self._items[key]

    def build(self, name: str | Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.get(name)(*args, **kwargs)

    def names(self, pattern: str | None = None) -> list[str]:
        out = sorted(self._display.values())
        if pattern is not None:
            out = [n for n in out if fnmatch.fnmatch(n, pattern)]
        return out

    def __contains__(self, name: str) -> bool:
        return _norm(name) in self._items

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._items)} entries)"


MODELS = Registry("model")          # whole backbones: name -> cls(in_channels, out_channels, **kw)
CONVS = Registry("conv")            # message-passing layers: name -> cls(in, out, **kw)
RESIDUALS = Registry("residual")    # residual kinds
NORMS = Registry("norm")
HEADS = Registry("head")            # task heads (node / graph / link)
POOLS = Registry("pool")            # hierarchical pooling layers
READOUTS = Registry("readout")      # global readouts
AGGRS = Registry("aggregation")
TRANSFORMS = Registry("transform")
SAMPLERS = Registry("sampler")

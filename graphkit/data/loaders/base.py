"""Loader protocol and the name -> loader table."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphkit.data.catalogue import Entry
from graphkit.data.spec import TaskSpec


@dataclass(frozen=True)
class Loader:
    """A raw-layout reader.

    Args:
        name: the catalogue ``loader`` value it serves.
        fn: ``fn(entry, raw_dir, work_dir, **options) -> (obj, TaskSpec)``; ``raw_dir`` is the
            verified source folder and ``work_dir`` the writable ``<cache>/<loader>/<folder>``
            whose ``raw/`` already links to the raw files (``None`` for synthetic data).
        options: option name -> default; the entry's ``options`` override the defaults and the
            caller's keyword arguments override both. Unknown options are an error.
        raw_subdir: where raw files are linked inside ``work_dir`` ("" = its top level).
    """

    name: str
    fn: Callable[..., tuple[Any, TaskSpec]]
    options: dict[str, Any]
    raw_subdir: str = "raw"

    def __call__(self, entry: Entry, raw_dir: Path | None, work_dir: Path | None,
                 **options: Any) -> tuple[Any, TaskSpec]:
        return self.fn(entry, raw_dir, work_dir, **options)


LOADERS: dict[str, Loader] = {}


def register(name: str, options: dict[str, Any], raw_subdir: str = "raw"
             ) -> Callable[[Callable[..., tuple[Any, TaskSpec]]], Callable[..., tuple[Any, TaskSpec]]]:
    def wrap(fn: Callable[..., tuple[Any, TaskSpec]]) -> Callable[..., tuple[Any, TaskSpec]]:
        if name in LOADERS:
            raise ValueError(f"graphkit.data: loader {name!r} registered twice")
        LOADERS[name] = Loader(name, fn, dict(options), raw_subdir)
        return fn
    return wrap

"""Public entry points: :func:`load`, :func:`list_datasets`, :func:`info`."""
from __future__ import annotations

import difflib
import inspect
import os
from pathlib import Path
from typing import Any

from graphkit.data import storage
from graphkit.data.catalogue import Entry, catalogue, entry_names, normalize, resolve
from graphkit.data.loaders import LOADERS
from graphkit.data.loaders.ogb import canonical_name, ogb_entry
from graphkit.data.loaders.synthetic import GENERATORS
from graphkit.data.spec import TaskSpec
from graphkit.data.validate import describe, validate_graph


def _resolve(name: str, roots: list[Path]) -> Entry:
    try:
        return resolve(name, roots)
    except ValueError:
        canonical = canonical_name(name) if isinstance(name, str) else None
        if canonical is not None:
            entry = ogb_entry(canonical)
            if entry is None:
                raise ValueError(f"graphkit.data: {canonical!r} is a heterogeneous OGB data set; "
                                 f"graphkit.data.load reads homogeneous OGB data sets only") from None
            return entry
        raise


def _options(entry: Entry, user: dict[str, Any]) -> dict[str, Any]:
    """Loader defaults <- entry options <- caller options; unknown names are an error."""
    if entry.loader == "synthetic":
        gen = GENERATORS[entry.generator or entry.name]
        allowed = {k: p.default for k, p in inspect.signature(gen).parameters.items()
                   if k != "entry"}
    else:
        allowed = dict(LOADERS[entry.loader].options)
    unknown = sorted(set(user) - set(allowed))
    if unknown:
        hint = ""
        close = difflib.get_close_matches(unknown[0], list(allowed), n=1)
        if close:
            hint = f" (did you mean {close[0]!r}?)"
        raise ValueError(f"graphkit.data.load: dataset {entry.name!r} does not take option(s) "
                         f"{unknown}{hint}; allowed: {sorted(allowed)}")
    return {**allowed, **{k: v for k, v in entry.options.items() if k in allowed}, **user}


def load(name: str, root: str | os.PathLike | None = None, **options: Any
         ) -> tuple[Any, TaskSpec]:
    """Load a catalogued data set as a PyG object plus its :class:`TaskSpec`.

    Args:
        name (str): catalogue name or alias (case-insensitive, ``_`` = ``-``), ``tu:<NAME>`` /
            ``seal:<Name>`` for any TU / SEAL-style data set, or any OGB name.
        root (str, optional): data folder laid out like ``shared/data``; defaults to
            ``$GRAPHKIT_DATA``. Raw files are only read there; processed files go to
            ``$GRAPHKIT_CACHE`` (default ``~/.cache/graphkit``).
        **options: loader options (e.g. ``split_ratio=0.5`` for SEAL sets, ``seed=3`` for
            synthetic ones); see ``info(name)["options"]``.

    Returns:
        ``(data, spec)``: a ``Data`` for node and link tasks, an ``InMemoryDataset`` for graph
        tasks, checked with :func:`~graphkit.data.validate.validate_graph`.

    Raises:
        ValueError: unknown name (with the known names and a did-you-mean), bad option.
        FileNotFoundError: raw files absent and not downloadable (names every folder searched).
        graphkit.data.storage.ChecksumError: a raw file does not match its recorded sha256.

    Example:
        >>> data, spec = load("cora", root="/work/shared/data")
        >>> spec.splits[0]["train"].numel()
        140
    """
    roots = storage.data_roots(root)
    entry = _resolve(name, roots)
    opts = _options(entry, options)
    loader = LOADERS[entry.loader]
    with storage.no_prompt(entry.name):
        if entry.loader == "synthetic":
            obj, spec = loader(entry, None, None, **opts)
        else:
            src = storage.ensure_raw(entry, roots)
            work = storage.cache_dir() / entry.loader / entry.folder
            with storage.cache_lock(work):
                storage.verify_and_stage(entry, src, work, raw_subdir=loader.raw_subdir)
                obj, spec = loader(entry, src, work, **opts)
    spec.extra.setdefault("catalogue", entry.name)
    validate_graph(obj, spec, owner=f"graphkit.data.load({entry.name!r})")
    return obj, spec


def list_datasets(root: str | os.PathLike | None = None, discover: bool = True) -> list[str]:
    """Sorted catalogue names; with ``discover``, also ``tu:<NAME>`` / ``seal:<Name>`` for raw
    folders under the data root that have no entry of their own."""
    names = set(entry_names())
    if discover:
        cat = catalogue()
        known_folders = {(e.group, normalize(e.folder)) for e in cat.values()
                         if not e.generic and e.raw}
        for generic in {e.name: e for e in cat.values() if e.generic}.values():
            for base in storage.data_roots(root):
                group = base / generic.group
                if not group.is_dir():
                    continue
                for child in group.iterdir():
                    marker = generic.files[0].format(NAME=child.name, Name=child.name)
                    if child.is_dir() and (child / marker).is_file() and \
                            (generic.group, normalize(child.name)) not in known_folders:
                        names.add(f"{generic.name}:{child.name}")
    return sorted(names)


def info(name: str, root: str | os.PathLike | None = None, load_data: bool = True
         ) -> dict[str, Any]:
    """The catalogue entry of ``name`` plus, when its data is available, measured stats.

    Keys: the entry fields, ``available`` (raw files found or synthetic), ``raw_dir``,
    ``options`` (effective defaults) and, when loaded, ``measured`` (node / edge / graph counts,
    features) and ``task_spec`` (:meth:`TaskSpec.summary`) with ``split_sizes`` of split 0.
    """
    roots = storage.data_roots(root)
    entry = _resolve(name, roots)
    out = entry.as_dict()
    out["options"] = _options(entry, {})
    if entry.loader == "synthetic":
        out["available"], out["raw_dir"] = True, None
    else:
        folder, _ = storage.locate(entry, roots)
        out["available"], out["raw_dir"] = folder is not None, None if folder is None else str(folder)
    if out["available"] and load_data:
        obj, spec = load(name, root=root)
        out["measured"] = describe(obj)
        out["task_spec"] = spec.summary()
        if spec.splits:
            out["split_sizes"] = {k: int(v.size(-1)) for k, v in spec.splits[0].items()}
    return out

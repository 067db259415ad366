"""The declarative dataset catalogue: one YAML entry per dataset in ``datasets/``.

An entry (parsed with ``yaml.safe_load``) holds::

    name, aliases          catalogue name and other accepted spellings
    loader                 planetoid | tu | seal_mat | geom_gcn | ogb | synthetic
    raw                    {group, folder, files}: where the raw files sit under a data root
                           (``<root>/<group>/<folder>/<file>``); null for synthetic data
    source                 canonical download: {files: {file: url}} or
                           {archive: {url, format: zip, prefix}}
    sha256                 {file: hex digest} of the upstream raw files
    task, kind, metric, protocol, options, stats, description, citation
    generic                true for the templates that serve any TU name (``tu``) or any
                           SEAL-style ``<Name>.mat`` network (``seal``); ``{NAME}`` / ``{Name}``
                           in ``raw`` and ``source`` are filled in with the requested name.

The folder is found in this order: ``$GRAPHKIT_CATALOGUE``, ``datasets/`` next to the package
(repository checkout or editable install), ``graphkit/catalogue/`` (packaged copy).
"""
from __future__ import annotations

import copy
import difflib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

LOADERS = ("planetoid", "tu", "seal_mat", "geom_gcn", "ogb", "synthetic", "lrgb_peptides",
           "planetoid_link")
#: prefixes that pick a generic entry explicitly: ``tu:REDDIT-BINARY``, ``seal:Power``
GENERIC_PREFIXES = {"tu": "tu", "seal": "seal"}


def normalize(name: str) -> str:
    """Catalogue key of a name: lower case, ``_`` read as ``-``, surrounding blanks dropped."""
    return name.strip().lower().replace("_", "-")


@dataclass
class Entry:
    """One catalogue entry (see the module docstring for the fields)."""

    name: str
    loader: str
    task: str
    kind: str | None
    metric: str
    protocol: str
    aliases: list[str] = field(default_factory=list)
    raw: dict[str, Any] | None = None
    source: dict[str, Any] | None = None
    sha256: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    citation: str = ""
    generic: bool = False
    generator: str | None = None
    path: str | None = None

    @property
    def group(self) -> str | None:
        return None if self.raw is None else self.raw["group"]

    @property
    def folder(self) -> str | None:
        return None if self.raw is None else self.raw["folder"]

    @property
    def files(self) -> list[str]:
        return [] if self.raw is None else list(self.raw.get("files", []))

    def specialise(self, folder: str) -> Entry:
        """Fill a generic entry's ``{NAME}`` / ``{Name}`` placeholders with ``folder``."""
        def fill(obj: Any) -> Any:
            if isinstance(obj, str):
                return obj.replace("{NAME}", folder).replace("{Name}", folder)
            if isinstance(obj, list):
                return [fill(o) for o in obj]
            if isinstance(obj, dict):
                return {fill(k): fill(v) for k, v in obj.items()}
            return obj

        out = copy.deepcopy(self)
        out.raw, out.source = fill(out.raw), fill(out.source)
        out.name = f"{self.name}:{folder}"
        out.generic = False
        key = {"tu": "tu_name", "seal_mat": "mat_name"}.get(self.loader)
        if key:
            out.options = {**out.options, key: folder}
        return out

    def as_dict(self) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items()}


_REQUIRED = ("name", "loader", "task", "metric", "protocol")


def catalogue_dir() -> Path:
    """The catalogue folder: ``$GRAPHKIT_CATALOGUE``, else ``datasets/`` beside the package."""
    env = os.environ.get("GRAPHKIT_CATALOGUE")
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"graphkit.data: GRAPHKIT_CATALOGUE={env!r} is not a folder")
        return path
    pkg = Path(__file__).resolve().parent.parent          # .../graphkit
    for cand in (pkg.parent / "datasets", pkg / "catalogue"):
        if cand.is_dir() and any(cand.glob("*.yaml")):
            return cand
    raise FileNotFoundError(
        f"graphkit.data: no dataset catalogue found (looked in {pkg.parent / 'datasets'} and "
        f"{pkg / 'catalogue'}); set GRAPHKIT_CATALOGUE to a folder of datasets/*.yaml entries")


def parse_entry(path: Path) -> Entry:
    """Read and check one YAML entry; errors name the file and the bad field."""
    with open(path, encoding="utf-8") as f:
        raw = yaml.safe_load(f)
    if not isinstance(raw, dict):
        raise TypeError(f"graphkit.data: catalogue entry {path} must be a YAML mapping; got "
                        f"{type(raw).__name__}")
    missing = [k for k in _REQUIRED if raw.get(k) in (None, "")]
    if missing:
        raise ValueError(f"graphkit.data: catalogue entry {path} lacks field(s) {missing}")
    known = set(Entry.__dataclass_fields__) - {"path"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"graphkit.data: catalogue entry {path} has unknown field(s) {unknown}; "
                         f"allowed: {sorted(known)}")
    if raw["loader"] not in LOADERS:
        raise ValueError(f"graphkit.data: catalogue entry {path}: loader {raw['loader']!r} must be "
                         f"one of {list(LOADERS)}")
    if raw["loader"] != "synthetic" and not isinstance(raw.get("raw"), dict):
        raise ValueError(f"graphkit.data: catalogue entry {path}: a {raw['loader']!r} entry needs "
                         f"'raw: {{group, folder, files}}'")
    raw = {k: v for k, v in raw.items() if v is not None or k in ("kind", "raw", "source")}
    for key in ("aliases",):
        raw[key] = list(raw.get(key) or [])
    for key in ("sha256", "options", "stats"):
        raw[key] = dict(raw.get(key) or {})
    return Entry(**raw, path=str(path))


@lru_cache(maxsize=8)
def _load_catalogue(folder: str, stamp: tuple) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        entry = parse_entry(path)
        for key in [entry.name, *entry.aliases]:
            k = normalize(key)
            if k in entries and entries[k].name != entry.name:
                raise ValueError(f"graphkit.data: catalogue name {key!r} is claimed by both "
                                 f"{entries[k].path} and {path}")
            entries[k] = entry
    return entries


def catalogue() -> dict[str, Entry]:
    """Normalised name or alias -> :class:`Entry` (re-read when a YAML file changes)."""
    folder = catalogue_dir()
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.yaml")))
    return _load_catalogue(str(folder), stamp)


def entry_names(include_generic: bool = False) -> list[str]:
    seen = {e.name for e in catalogue().values() if include_generic or not e.generic}
    return sorted(seen)


def _find_folder(roots: list[Path], group: str, want: str, marker: str) -> str | None:
    """Case-insensitive match of ``want`` among ``<root>/<group>/*`` holding ``marker``."""
    for root in roots:
        base = root / group
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            if child.is_dir() and normalize(child.name) == normalize(want) and \
                    (child / marker.format(NAME=child.name, Name=child.name)).is_file():
                return child.name
    return None


def resolve(name: str, roots: list[Path]) -> Entry:
    """Map a user-facing name to a (specialised) catalogue entry.

    Order: catalogue name / alias; ``tu:<NAME>`` / ``seal:<Name>``; a ``tu/<NAME>`` or
    ``linkpred/<Name>/<Name>.mat`` folder under a data root. Otherwise a ``ValueError`` that
    lists the known names and the closest match.
    """
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"graphkit.data: dataset name must be a non-empty str; got {name!r}")
    cat = catalogue()
    key = normalize(name)
    if key in cat and not cat[key].generic:
        return cat[key]
    if key in cat and cat[key].generic:
        raise ValueError(f"graphkit.data: {cat[key].name!r} is a template for many data sets; "
                         f"name one as '{cat[key].name}:<name>' (e.g. 'tu:REDDIT-BINARY', "
                         f"'seal:Power')")
    prefix, sep, rest = name.partition(":")
    if sep and normalize(prefix) in GENERIC_PREFIXES and rest.strip():
        generic = cat.get(GENERIC_PREFIXES[normalize(prefix)])
        if generic is None:
            raise ValueError(f"graphkit.data: the catalogue has no generic {prefix!r} entry")
        rest = rest.strip()
        # reuse the concrete entry (with its checksums) when one exists for that folder
        for entry in cat.values():
            if entry.loader == generic.loader and not entry.generic and \
                    normalize(entry.folder or "") == normalize(rest):
                return entry
        found = _find_folder(roots, generic.group, rest, generic.files[0])
        return generic.specialise(found or rest)
    for generic in sorted({e.name: e for e in cat.values() if e.generic}.values(),
                          key=lambda e: e.name):
        found = _find_folder(roots, generic.group, name.strip(), generic.files[0])
        if found:
            return generic.specialise(found)
    known = entry_names()
    close = difflib.get_close_matches(key, list(cat), n=1, cutoff=0.6)
    hint = f" (did you mean {cat[close[0]].name!r}?)" if close else ""
    raise ValueError(f"graphkit.data: unknown dataset {name!r}{hint}; known: {known}. Any TU "
                     f"dataset loads as 'tu:<NAME>' and any SEAL-style <Name>.mat network as "
                     f"'seal:<Name>', any homogeneous OGB data set by its OGB name "
                     f"('ogbn-arxiv'); add a datasets/<name>.yaml entry for others")

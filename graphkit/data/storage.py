"""Where raw files come from and where processed files go.

- Data roots (read-only): ``root=`` or ``$GRAPHKIT_DATA``, laid out as
  ``<root>/<group>/<folder>/<file>`` (``planetoid/cora/ind.cora.x``, ``tu/MUTAG/MUTAG_A.txt``,
  ``linkpred/USAir/USAir.mat``, ``ogb/ogbg_molbace/raw/edge.csv.gz``, ...), then the cache's
  ``downloads/`` folder.
- Cache (writable): ``$GRAPHKIT_CACHE`` (default ``~/.cache/graphkit``). Raw files are symlinked
  into ``<cache>/<loader>/<Name>/raw/`` and processed there by PyG's own dataset classes.
- Checksums: raw files are checked against the entry's sha256 the first time they are used; the
  result is remembered per file (path, size, mtime) in ``<cache>/<loader>/<Name>/verified.json``.
  A changed raw file is re-verified and the processed files are rebuilt.
- Concurrency: staging and processing of one cache folder hold an exclusive lock
  (``<cache>/<loader>/.<Name>.lock``, :func:`cache_lock`), so parallel runs (one process per
  seed or fold) never read a processed file another process is still writing.
- Missing files: downloaded from the entry's canonical source unless ``GRAPHKIT_OFFLINE=1``;
  otherwise (or when the download fails) a ``FileNotFoundError`` names the dataset, every folder
  searched, the files missing there and how to provide them. Nothing ever prompts.
"""
from __future__ import annotations

import builtins
import contextlib
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

from graphkit.data.catalogue import Entry

CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A raw file does not match the sha256 recorded in the catalogue."""


def cache_dir(create: bool = True) -> Path:
    """``$GRAPHKIT_CACHE`` or ``~/.cache/graphkit`` (created unless ``create=False``)."""
    path = Path(os.environ.get("GRAPHKIT_CACHE") or Path.home() / ".cache" / "graphkit")
    path = path.expanduser()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def data_roots(root: str | os.PathLike | None = None) -> list[Path]:
    """Folders searched for raw files, in order: ``root`` or ``$GRAPHKIT_DATA``, then downloads."""
    roots: list[Path] = []
    if root is not None:
        roots.append(Path(root).expanduser())
    elif os.environ.get("GRAPHKIT_DATA"):
        roots.append(Path(os.environ["GRAPHKIT_DATA"]).expanduser())
    roots.append(cache_dir(create=False) / "downloads")
    return roots


def offline() -> bool:
    return os.environ.get("GRAPHKIT_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def no_prompt(dataset: str) -> Iterator[None]:
    """Make any attempt to read stdin (``input()``, ``sys.stdin.read``) fail at once.

    Third-party dataset classes (ogb) ask ``(y/N)`` on stdin in some states; graphkit never lets
    them block a terminal or a CI job.
    """
    def refuse(prompt: str = "") -> str:
        raise RuntimeError(f"graphkit.data: loading {dataset!r} tried to prompt on stdin "
                           f"({str(prompt).strip()!r}); graphkit never prompts. Remove the "
                           f"stale cache folder under {cache_dir()} and retry")

    old_input, old_stdin = builtins.input, sys.stdin
    builtins.input = refuse
    sys.stdin = io.StringIO("")
    try:
        yield
    finally:
        builtins.input, sys.stdin = old_input, old_stdin


@contextlib.contextmanager
def cache_lock(work: Path) -> Iterator[None]:
    """Hold an exclusive, process-wide lock on the cache folder ``work`` while inside.

    PyG's dataset classes write their processed files in place; without the lock, a second
    process that starts while the first is processing reads a half-written file (``torch.load``:
    "failed finding central directory"). The lock file sits beside ``work``; it is released when
    the block exits or the process dies. Where ``fcntl`` is missing (Windows) this is a no-op.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    work.parent.mkdir(parents=True, exist_ok=True)
    with open(work.parent / f".{work.name}.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _missing(folder: Path, files: list[str]) -> list[str]:
    return [f for f in files if not (folder / f).is_file()]


def locate(entry: Entry, roots: list[Path]) -> tuple[Path | None, list[tuple[Path, list[str]]]]:
    """First ``<root>/<group>/<folder>`` holding every expected file, plus what each lacked."""
    searched: list[tuple[Path, list[str]]] = []
    for root in roots:
        folder = root / entry.group / entry.folder
        missing = _missing(folder, entry.files)
        if not missing:
            return folder, searched
        searched.append((folder, missing if folder.is_dir() else ["(folder absent)"]))
    return None, searched


def missing_error(entry: Entry, searched: list[tuple[Path, list[str]]],
                  reason: str) -> FileNotFoundError:
    lines = []
    for folder, missing in searched:
        shown = ", ".join(missing[:6]) + (f", ... ({len(missing)} in all)" if len(missing) > 6 else "")
        lines.append(f"  {folder}: missing {shown}")
    example = f"<data>/{entry.group}/{entry.folder}/{entry.files[0]}" if entry.files else ""
    return FileNotFoundError(
        f"graphkit.data: raw files of dataset {entry.name!r} not found ({reason}). Searched:\n"
        + "\n".join(lines)
        + f"\nProvide them by setting GRAPHKIT_DATA (or passing root=) to a folder laid out as "
          f"{example}, or unset GRAPHKIT_OFFLINE to download from the canonical source.")


def ensure_raw(entry: Entry, roots: list[Path]) -> Path:
    """The folder that holds ``entry``'s raw files; downloads them when allowed."""
    folder, searched = locate(entry, roots)
    if folder is not None:
        return folder
    if offline():
        raise missing_error(entry, searched, "GRAPHKIT_OFFLINE is set, no download tried")
    if not entry.source:
        raise missing_error(entry, searched, "the catalogue entry has no download source")
    target = cache_dir() / "downloads" / entry.group / entry.folder
    try:
        download(entry, target)
    except (OSError, zipfile.BadZipFile) as exc:     # URLError / HTTPError are OSErrors
        raise missing_error(entry, searched, f"download failed: {exc}") from exc
    return target


def _fetch(url: str, dest: Path, timeout: float = 60.0) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            shutil.copyfileobj(resp, out, CHUNK)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def download(entry: Entry, target: Path) -> None:
    """Fetch ``entry``'s files from its canonical source into ``target`` and verify them.

    Files land in ``<target>.partial`` first and move into place only when every file passed
    its checksum; a failure leaves nothing behind.
    """
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        _download_into(entry, staging)
        for rel in entry.files:
            _check_one(entry, staging / rel, rel)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)


def _download_into(entry: Entry, staging: Path) -> None:
    source = entry.source or {}
    if "archive" in source:
        arch = source["archive"]
        zpath = staging / "archive.zip"
        _fetch(arch["url"], zpath)
        prefix = arch.get("prefix", "")
        with zipfile.ZipFile(zpath) as zf:
            names = set(zf.namelist())
            for rel in entry.files:
                member = prefix + rel
                if member not in names:
                    raise FileNotFoundError(f"{arch['url']} has no member {member!r}")
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(staging / rel, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
        zpath.unlink()
    else:
        urls = source.get("files", {})
        for rel in entry.files:
            if rel not in urls:
                raise FileNotFoundError(f"no download URL for {rel!r} in entry {entry.name!r}")
            _fetch(urls[rel], staging / rel)


def _check_one(entry: Entry, path: Path, rel: str) -> None:
    expected = entry.sha256.get(rel)
    if not expected:
        return
    actual = sha256(path)
    if actual != expected:
        raise ChecksumError(
            f"graphkit.data: raw file {str(path)!r} of dataset {entry.name!r} failed its checksum: "
            f"expected sha256 {expected}, got {actual} ({path.stat().st_size} bytes); the file "
            f"is truncated or corrupt. Replace it with the upstream copy"
            + (f" ({entry.source['files'][rel]})" if entry.source and rel in
               entry.source.get("files", {}) else "")
            + " or remove it so graphkit can fetch it again")


def _fingerprint(folder: Path, files: list[str]) -> dict[str, list]:
    out = {}
    for rel in files:
        st = (folder / rel).stat()
        out[rel] = [str((folder / rel).resolve()), st.st_size, st.st_mtime_ns]
    return out


def verify_and_stage(entry: Entry, src: Path, work: Path, raw_subdir: str = "raw") -> bool:
    """Verify ``src``'s raw files (once per file version) and link them into ``work/raw_subdir``.

    Returns ``True`` when the raw files changed since the last call, so that processed files
    under ``work`` must be rebuilt (they are removed here).
    """
    work.mkdir(parents=True, exist_ok=True)
    marker = work / "verified.json"
    current = _fingerprint(src, entry.files)
    previous: dict = {}
    if marker.is_file():
        try:
            previous = json.loads(marker.read_text())
        except (OSError, ValueError):
            previous = {}
    if previous != current:
        for rel in entry.files:
            _check_one(entry, src / rel, rel)
        for stale in ("processed",):
            shutil.rmtree(work / stale, ignore_errors=True)
        for f in work.glob("*.pt"):
            f.unlink()
    link_tree(src, entry.files, work / raw_subdir if raw_subdir else work)
    if previous != current:
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(current, indent=0))
        os.replace(tmp, marker)
    return previous != current


def link_tree(src: Path, files: list[str], dst: Path) -> None:
    """Symlink (copy where links fail) ``src/<file>`` to ``dst/<file>`` for every file."""
    for rel in files:
        target, link = (src / rel).resolve(), dst / rel
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        try:
            link.symlink_to(target)
        except OSError:
            shutil.copy2(target, link)

"""An append-only results store that survives ``kill -9``.

Layout of a store folder::

    rows/<cell_id>.json        one finished run per file, written to a temp file + os.replace
    results.jsonl              every row, one per line, rebuilt (temp file + os.replace) after
                               each append; a convenience index, ``rows/`` is the truth
    running/<cell_id>          marker written before a cell starts, removed when it ends
    failures.jsonl             one line per failed attempt (cell, attempt, error, traceback)

A row is keyed by its ``cell_id``: appending a cell that already has a row raises, so a result
can neither be duplicated nor, because every write is a whole-file ``os.replace``, be half
written. A killed process leaves at most a stale ``running/`` marker and a ``*.tmp`` file, both
ignored by readers.

Example:
    >>> store = ResultStore("runs/bench/demo")
    >>> store.append({"cell_id": "csbm__gcn__s0_k0", "test": 0.91})
    >>> store.has("csbm__gcn__s0_k0")
    True
"""
from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from graphkit.train.checkpoint import atomic_write

_ID = re.compile(r"^[A-Za-z0-9_.=+\-]+$")


def _atomic_text(path: Path, text: str) -> None:
    atomic_write(path, text)


def _default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def check_cell_id(cell_id: str) -> str:
    if not isinstance(cell_id, str) or not _ID.match(cell_id):
        raise ValueError(f"ResultStore: cell_id must be a non-empty string of letters, digits and "
                         f"'_.=+-'; got {cell_id!r}")
    return cell_id


class ResultStore:
    """Rows of finished benchmark runs under ``root`` (see the module docstring).

    Args:
        root (str or Path): the store folder (created when missing).
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.rows_dir = self.root / "rows"
        self.running_dir = self.root / "running"
        self.rows_dir.mkdir(parents=True, exist_ok=True)
        self.running_dir.mkdir(parents=True, exist_ok=True)

    # ---------------------------------------------------------------- rows
    def has(self, cell_id: str) -> bool:
        return (self.rows_dir / f"{check_cell_id(cell_id)}.json").is_file()

    def append(self, row: dict) -> None:
        """Write one row atomically; a second row for the same ``cell_id`` is an error."""
        cid = check_cell_id(row.get("cell_id"))
        path = self.rows_dir / f"{cid}.json"
        if path.exists():
            raise FileExistsError(f"ResultStore: a row for cell {cid!r} already exists in "
                                  f"{str(self.rows_dir)!r}; rows are never overwritten")
        row = {**row, "finished_at": row.get("finished_at", time.time())}
        _atomic_text(path, json.dumps(row, sort_keys=True, default=_default))
        self.rebuild_index()

    def rows(self) -> list[dict]:
        """Every finished row, sorted by ``cell_id``."""
        out = []
        for p in sorted(self.rows_dir.glob("*.json")):
            out.append(json.loads(p.read_text()))
        return out

    def __iter__(self) -> Iterator[dict]:
        return iter(self.rows())

    def __len__(self) -> int:
        return len(list(self.rows_dir.glob("*.json")))

    def rebuild_index(self) -> None:
        lines = [json.dumps(r, sort_keys=True, default=_default) for r in self.rows()]
        _atomic_text(self.root / "results.jsonl", "\n".join(lines) + ("\n" if lines else ""))

    # ---------------------------------------------------------------- running markers
    def mark_running(self, cell_id: str, attempt: int) -> None:
        _atomic_text(self.running_dir / check_cell_id(cell_id),
                     json.dumps({"attempt": attempt, "pid": os.getpid(), "started": time.time()}))

    def clear_running(self, cell_id: str) -> None:
        p = self.running_dir / check_cell_id(cell_id)
        if p.exists():
            p.unlink()

    def interrupted(self) -> dict[str, dict]:
        """Cells whose marker outlived their process (killed or crashed hard)."""
        out = {}
        for p in self.running_dir.iterdir():
            if p.name.startswith("."):
                continue
            try:
                out[p.name] = json.loads(p.read_text())
            except (ValueError, OSError):
                out[p.name] = {}
        return out

    # ---------------------------------------------------------------- failures
    def record_failure(self, cell_id: str, attempt: int, error: str, tb: str = "") -> None:
        """Append one failed attempt (the whole file is rewritten atomically)."""
        path = self.root / "failures.jsonl"
        old = path.read_text() if path.exists() else ""
        line = json.dumps({"cell_id": cell_id, "attempt": attempt, "error": error,
                           "traceback": tb, "time": time.time()})
        _atomic_text(path, old + line + "\n")

    def failures(self) -> list[dict]:
        path = self.root / "failures.jsonl"
        if not path.exists():
            return []
        return [json.loads(s) for s in path.read_text().splitlines() if s.strip()]

    def __repr__(self) -> str:
        return f"ResultStore({str(self.root)!r}, rows={len(self)})"

"""Import a relational database (SQLite, CSV or Parquet files) into RelBench's
:class:`~relbench.base.Database` / :class:`~relbench.base.Table`.

Relational Deep Learning (Fey et al., `"Relational Deep Learning: Graph Representation Learning
on Relational Databases" <https://arxiv.org/abs/2312.04615>`_) reads a database as a temporal
heterogeneous graph: a node per row, an edge per primary-foreign key pair, a time per row.
RelBench's tooling expects primary keys ``0..n-1`` in row order and foreign keys holding those
indices; :func:`from_frames` does that re-indexing (rows of a timed table are sorted by time
first, as RelBench's ``reindex_pkeys_and_fkeys`` does) and keeps the original ids in a column
``<pkey>__orig`` mapping (returned in :attr:`ImportedDatabase.id_maps`).

Keys and times:

- **primary / foreign keys** come from the SQLite schema (``PRAGMA table_info`` /
  ``foreign_key_list``); for CSV / Parquet they must be given (``pkeys=``, ``fkeys=``). Either
  can be overridden. Composite primary keys (link tables) give a table without ``pkey_col``.
- **time columns** are the columns declared ``DATE`` / ``DATETIME`` / ``TIMESTAMP`` when a
  table has exactly one of them; ``time_cols={"Table": "Col" or None}`` overrides. A table
  without a time column can **inherit** the time of the row a foreign key points to
  (``inherit_time={"InvoiceLine": "InvoiceId"}``), so invoice lines are not visible before
  their invoice: RelBench treats untimed rows as existing since the beginning of time, which
  would leak the future into every sampled subgraph. Untimed tables with a foreign key into a
  timed table are named in a warning: the import cannot tell an event's detail rows (inherit)
  from a static reference (do not: a customer does not appear when their support rep was hired).

Errors are raised (``ValueError``) for a foreign key into a missing table or column, foreign
key values with no matching primary key (``dangling="error"``; ``"null"`` sets them to
missing instead, as RelBench does), duplicate primary keys, a declared time column that is
absent or unparseable, and empty tables.

Example:
    >>> db = from_sqlite("Chinook_Sqlite.sqlite", time_cols={"Employee": "HireDate"})
    >>> db.db.table_dict["Invoice"].time_col
    'InvoiceDate'
"""
from __future__ import annotations

import os
import sqlite3
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_TIME_TYPES = ("DATE", "DATETIME", "TIMESTAMP")
_UNSET: Any = object()


def _relbench():
    try:
        from relbench.base import Database, Table
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise ImportError("graphkit.relational needs the 'relbench' extra: "
                          "pip install -c constraints.txt 'graphkit[relbench]'") from e
    return Database, Table


@dataclass
class ImportedDatabase:
    """A RelBench :class:`~relbench.base.Database` plus what the import decided.

    Attributes:
        db: the database (keys re-indexed to ``0..n-1``).
        id_maps: table -> original primary-key values in new-index order (``id_maps[t][i]`` is
            the original id of row ``i``).
        time_cols: table -> time column (``None`` when the table is static).
        inherited_time: table -> (foreign key, parent table) the time was taken from.
    """

    db: Any
    id_maps: dict[str, np.ndarray] = field(default_factory=dict)
    time_cols: dict[str, str | None] = field(default_factory=dict)
    inherited_time: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"ImportedDatabase({self.db!r}, time_cols={self.time_cols})"


def _parse_time(name: str, col: str, ser: pd.Series) -> pd.Series:
    try:
        out = pd.to_datetime(ser, errors="raise")
    except (ValueError, TypeError) as e:
        raise ValueError(f"relational import: time column {col!r} of table {name!r} cannot be "
                         f"parsed as dates ({e}); give time_cols={{{name!r}: None}} to treat it "
                         f"as a plain column") from None
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert(None)
    return out.astype("datetime64[ns]")


def from_frames(frames: Mapping[str, pd.DataFrame], pkeys: Mapping[str, str | None],
                fkeys: Mapping[str, Mapping[str, str]],
                time_cols: Mapping[str, str | None], *,
                inherit_time: Mapping[str, str] | None = None,
                dangling: str = "error") -> ImportedDatabase:
    """Build a RelBench database from data frames and declared keys / times.

    Args:
        frames: table name -> rows.
        pkeys: table -> primary-key column (``None``: no primary key).
        fkeys: table -> {foreign-key column: referenced table} (the reference is to that
            table's primary key).
        time_cols: table -> time column (``None``: static table).
        inherit_time: table -> foreign-key column whose referenced row's time the table takes
            (see the module docstring); chains (line -> invoice -> ...) are followed.
        dangling: ``"error"`` (default) or ``"null"`` for foreign keys without a match.
    """
    Database, Table = _relbench()
    if dangling not in ("error", "null"):
        raise ValueError(f"relational import: dangling must be 'error' or 'null'; got {dangling!r}")
    if not frames:
        raise ValueError("relational import: no tables given")
    frames = {k: v.copy() for k, v in frames.items()}
    for name, df in frames.items():
        if len(df) == 0:
            raise ValueError(f"relational import: table {name!r} is empty; drop it or give rows "
                             f"(RelBench needs at least one row per table)")
    # --- check keys and times exist
    for name, df in frames.items():
        pk = pkeys.get(name)
        if pk is not None:
            if pk not in df.columns:
                raise ValueError(f"relational import: primary key {pk!r} of table {name!r} is not "
                                 f"a column; columns: {list(df.columns)}")
            if df[pk].isna().any():
                raise ValueError(f"relational import: primary key {pk!r} of table {name!r} has "
                                 f"missing values")
            if df[pk].duplicated().any():
                dup = df[pk][df[pk].duplicated()].iloc[0]
                raise ValueError(f"relational import: primary key {pk!r} of table {name!r} is "
                                 f"not unique (value {dup!r} repeats)")
        for fk, ref in (fkeys.get(name) or {}).items():
            if fk not in df.columns:
                raise ValueError(f"relational import: foreign key {name}.{fk} is not a column of "
                                 f"{name!r}; columns: {list(df.columns)}")
            if ref not in frames:
                raise ValueError(f"relational import: foreign key {name}.{fk} references table "
                                 f"{ref!r}, which is not in the database; tables: {sorted(frames)}")
            if pkeys.get(ref) is None:
                raise ValueError(f"relational import: foreign key {name}.{fk} references table "
                                 f"{ref!r}, which has no primary key; declare pkeys={{{ref!r}: ...}}")
        tc = time_cols.get(name)
        if tc is not None:
            if tc not in df.columns:
                raise ValueError(f"relational import: time column {tc!r} of table {name!r} is "
                                 f"missing; columns: {list(df.columns)}; pass time_cols="
                                 f"{{{name!r}: <column> or None}}")
            df[tc] = _parse_time(name, tc, df[tc])
            if df[tc].isna().all():
                raise ValueError(f"relational import: time column {name}.{tc} has no values")
    # --- foreign-key matches (on original ids)
    for name, df in frames.items():
        for fk, ref in (fkeys.get(name) or {}).items():
            valid = df[fk].notna()
            ok = df.loc[valid, fk].isin(frames[ref][pkeys[ref]])
            if not ok.all():
                bad = df.loc[valid, fk][~ok]
                msg = (f"relational import: {int((~ok).sum())} value(s) of foreign key {name}.{fk} "
                       f"have no matching primary key {ref}.{pkeys[ref]} (e.g. {bad.iloc[0]!r})")
                if dangling == "error":
                    raise ValueError(msg + "; fix the data or pass dangling='null' to set them to "
                                           "missing")
                warnings.warn(msg + "; set to missing", stacklevel=2)
                df.loc[bad.index, fk] = np.nan
    # --- inherit time from a timed parent
    times = {n: time_cols.get(n) for n in frames}
    inherited: dict[str, tuple[str, str]] = {}
    inherit_time = dict(inherit_time or {})
    for name, fk in inherit_time.items():
        if name not in frames or fk not in (fkeys.get(name) or {}):
            raise ValueError(f"relational import: inherit_time[{name!r}] = {fk!r} must name a "
                             f"foreign key of an existing table; foreign keys of {name!r}: "
                             f"{sorted(fkeys.get(name) or {})}")
        if times.get(name) is not None:
            raise ValueError(f"relational import: table {name!r} has its own time column "
                             f"{times[name]!r}; it cannot also inherit one")
    pending = dict(inherit_time)
    while pending:  # follow chains (line -> invoice -> ...)
        ready = [n for n, fk in pending.items() if times[fkeys[n][fk]] is not None]
        if not ready:
            raise ValueError(f"relational import: inherit_time {pending} points at tables without "
                             f"a time column")
        for name in ready:
            fk = pending.pop(name)
            ref = fkeys[name][fk]
            parent = frames[ref].set_index(pkeys[ref])[times[ref]]
            frames[name]["__time__"] = frames[name][fk].map(parent)
            times[name] = "__time__"
            inherited[name] = (fk, ref)
    loose = sorted(n for n in frames if times[n] is None and any(
        times[r] is not None for r in (fkeys.get(n) or {}).values()))
    if loose:
        warnings.warn(f"relational import: untimed table(s) {loose} reference timed tables; if "
                      f"their rows are details of timed events, give inherit_time={{table: fkey}} "
                      f"so they are not visible before the event", stacklevel=2)
    # --- re-index: timed tables sorted by time, pkeys -> 0..n-1, fkeys rewritten
    id_maps: dict[str, np.ndarray] = {}
    new_index: dict[str, pd.Series] = {}
    for name, df in frames.items():
        if times[name] is not None:
            df = df.sort_values(times[name], kind="stable", na_position="last")
        df = df.reset_index(drop=True)
        frames[name] = df
        pk = pkeys.get(name)
        if pk is not None:
            id_maps[name] = df[pk].to_numpy()
            new_index[name] = pd.Series(np.arange(len(df)), index=df[pk].to_numpy())
    tables = {}
    for name, df in frames.items():
        for fk, ref in (fkeys.get(name) or {}).items():
            df[fk] = df[fk].map(new_index[ref]).astype("Int64").astype("float64")
        pk = pkeys.get(name)
        if pk is not None:
            df[pk] = np.arange(len(df))
        tables[name] = Table(df=df, fkey_col_to_pkey_table=dict(fkeys.get(name) or {}),
                             pkey_col=pk, time_col=times[name])
    return ImportedDatabase(Database(tables), id_maps, times, inherited)


def _sqlite_schema(con: sqlite3.Connection) -> tuple[list[str], dict, dict, dict]:
    names = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    pkeys, fkeys, dates = {}, {}, {}
    for t in names:
        info = list(con.execute(f'PRAGMA table_info("{t}")'))
        pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5] > 0]
        pkeys[t] = pk[0] if len(pk) == 1 else None
        dates[t] = [r[1] for r in info if str(r[2]).upper().split("(")[0] in _TIME_TYPES]
        fk = {}
        for r in con.execute(f'PRAGMA foreign_key_list("{t}")'):
            ref_table, from_col, to_col = r[2], r[3], r[4]
            ref_info = list(con.execute(f'PRAGMA table_info("{ref_table}")'))
            ref_pk = [c[1] for c in ref_info if c[5] > 0]
            if to_col is not None and ref_pk and to_col != ref_pk[0]:
                raise ValueError(f"relational import: foreign key {t}.{from_col} references "
                                 f"{ref_table}.{to_col}, which is not that table's primary key "
                                 f"({ref_pk}); RelBench links foreign keys to primary keys only")
            fk[from_col] = ref_table
        fkeys[t] = fk
    return names, pkeys, fkeys, dates


def _infer_times(dates: Mapping[str, list[str]], override: Mapping[str, str | None]
                 ) -> dict[str, str | None]:
    out = {}
    for t, cols in dates.items():
        if t in override:
            out[t] = override[t]
        elif len(cols) == 1:
            out[t] = cols[0]
        else:
            if len(cols) > 1:
                warnings.warn(f"relational import: table {t!r} has several date columns {cols}; "
                              f"none is used as its time column (pass time_cols={{{t!r}: ...}})",
                              stacklevel=3)
            out[t] = None
    return out


def from_sqlite(path: str | os.PathLike, *, tables: list[str] | None = None,
                pkeys: Mapping[str, str | None] | None = None,
                fkeys: Mapping[str, Mapping[str, str]] | None = None,
                time_cols: Mapping[str, str | None] | None = None,
                inherit_time=None, dangling: str = "error") -> ImportedDatabase:
    """Read a SQLite file (read-only) with keys and time columns from its schema.

    Args:
        path: the ``.sqlite`` / ``.db`` file.
        tables: only these tables (default: all); foreign keys into left-out tables are dropped.
        pkeys, fkeys, time_cols: overrides per table (see :func:`from_frames`).
        inherit_time, dangling: see :func:`from_frames`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"relational import: SQLite file {str(path)!r} does not exist")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names, pk, fk, dates = _sqlite_schema(con)
        if tables is not None:
            missing = sorted(set(tables) - set(names))
            if missing:
                raise ValueError(f"relational import: tables {missing} are not in {str(path)!r}; "
                                 f"it has {names}")
            names = list(tables)
        frames = {t: pd.read_sql_query(f'SELECT * FROM "{t}"', con) for t in names}
    finally:
        con.close()
    pk.update(pkeys or {})
    fk = {t: {c: r for c, r in fk.get(t, {}).items() if r in frames} for t in names}
    fk.update({t: dict(v) for t, v in (fkeys or {}).items()})
    times = _infer_times({t: dates[t] for t in names}, time_cols or {})
    return from_frames(frames, {t: pk.get(t) for t in names}, fk, times,
                       inherit_time=inherit_time, dangling=dangling)


def _read_files(folder: Path, ext: str) -> dict[str, pd.DataFrame]:
    files = sorted(folder.glob(f"*.{ext}"))
    if not files:
        raise FileNotFoundError(f"relational import: no *.{ext} files in {str(folder)!r}")
    read = pd.read_csv if ext == "csv" else pd.read_parquet
    return {f.stem: read(f) for f in files}


def _from_files(folder, ext, pkeys, fkeys, time_cols, inherit_time, dangling) -> ImportedDatabase:
    frames = _read_files(Path(folder), ext)
    unknown = sorted((set(pkeys or {}) | set(fkeys or {}) | set(time_cols or {})) - set(frames))
    if unknown:
        raise ValueError(f"relational import: keys / times given for tables {unknown} that have no "
                         f"*.{ext} file in {str(folder)!r}; tables: {sorted(frames)}")
    return from_frames(frames, {t: (pkeys or {}).get(t) for t in frames},
                       {t: dict((fkeys or {}).get(t) or {}) for t in frames},
                       {t: (time_cols or {}).get(t) for t in frames},
                       inherit_time=inherit_time, dangling=dangling)


def from_csv(folder: str | os.PathLike, *, pkeys=None, fkeys=None, time_cols=None,
             inherit_time=None, dangling: str = "error") -> ImportedDatabase:
    """Read ``<folder>/<table>.csv`` files; keys and times must be declared (CSV has no schema)."""
    return _from_files(folder, "csv", pkeys, fkeys, time_cols, inherit_time, dangling)


def from_parquet(folder: str | os.PathLike, *, pkeys=None, fkeys=None, time_cols=None,
                 inherit_time=None, dangling: str = "error") -> ImportedDatabase:
    """Read ``<folder>/<table>.parquet`` files; keys and times must be declared."""
    return _from_files(folder, "parquet", pkeys, fkeys, time_cols, inherit_time, dangling)

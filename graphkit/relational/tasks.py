"""Predictive tasks over a time window, cut into train / val / test by timestamps
(RelBench's protocol, `"RelBench: A Benchmark for Deep Learning on Relational Databases"
<https://arxiv.org/abs/2407.20060>`_).

A task is defined by an **event frame**: a function ``events(db) -> DataFrame`` with columns
``time``, ``entity`` (the entity's row index) and, for value tasks, ``value``; for
recommendation ``src`` and ``dst``. For every seed time :math:`t` the label of entity
:math:`e` is computed from the events in the window :math:`(t, t + \\Delta]`:

.. math::
    y_{e,t} = \\mathrm{agg}\\{\\, v \\mid (\tau, e, v) \\in \\mathcal{E},\\; t < \tau \\le t + \\Delta \\,\\}

with ``agg`` = ``exists`` (binary: any event), ``count`` or ``sum`` (regression); for
recommendation the label is the set of ``dst`` with an event. Seed times follow RelBench: train
every :math:`-\\Delta` from ``val_timestamp - Delta`` back to the database's first time; val from
``val_timestamp``; test from ``test_timestamp`` (``num_eval_timestamps`` windows each). Train and
val labels are computed on the database cut at ``test_timestamp``, so no train or val label
reads a test-period row, and the graph a model sees at seed time :math:`t` holds only rows with
time :math:`\\le t` (the temporal sampler's job).

Example:
    >>> ds = RelationalDataset(imported.db, val_timestamp="2024-07-01", test_timestamp="2025-01-01")
    >>> task = EntityWindowTask(ds, entity_table="Customer", events=invoice_events,
    ...                         window_days=90, agg="exists")
    >>> task.get_table("train").df.head()
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from relbench.base import (
    Database,
    Dataset,
    EntityTask,
    RecommendationTask,
    Table,
    TaskType,
)
from relbench.metrics import make_nmae, roc_auc
from relbench.metrics import map as map_at_k

EventFn = Callable[[Database], pd.DataFrame]
_AGGS = ("exists", "count", "sum", "mean")


class RelationalDataset(Dataset):
    """A RelBench dataset over an in-memory database with its val / test timestamps.

    Args:
        db: a :class:`relbench.base.Database` (e.g. ``from_sqlite(...).db``).
        val_timestamp, test_timestamp: the cut-offs (anything ``pd.Timestamp`` reads).
    """

    def __init__(self, db: Database, val_timestamp, test_timestamp, name: str = "custom") -> None:
        self._db, self.name = db, name
        self.val_timestamp = pd.Timestamp(val_timestamp)
        self.test_timestamp = pd.Timestamp(test_timestamp)
        if not self.val_timestamp < self.test_timestamp:
            raise ValueError(f"RelationalDataset: val_timestamp ({self.val_timestamp}) must be "
                             f"before test_timestamp ({self.test_timestamp})")
        if not any(t.time_col is not None for t in db.table_dict.values()):
            raise ValueError("RelationalDataset: no table has a time column, so there is nothing "
                             "to cut by time; declare time_cols when importing")

    def make_db(self) -> Database:
        return Database({k: Table(df=t.df.copy(), fkey_col_to_pkey_table=dict(t.fkey_col_to_pkey_table),
                                  pkey_col=t.pkey_col, time_col=t.time_col)
                         for k, t in self._db.table_dict.items()})

    def __repr__(self) -> str:
        return (f"RelationalDataset({self.name!r}, val={self.val_timestamp.date()}, "
                f"test={self.test_timestamp.date()})")


def _check_events(owner: str, df: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{owner}: events(db) must return a pandas DataFrame; got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{owner}: events(db) must return columns {list(cols)}; missing {missing}")
    return df


def _window_join(ev: pd.DataFrame, timestamps, delta: pd.Timedelta) -> pd.DataFrame:
    """Cross the events with the seed times and keep those in ``(t, t + delta]``."""
    ts = pd.DataFrame({"timestamp": pd.to_datetime(pd.Series(list(timestamps)))})
    j = ts.merge(ev, how="cross")
    keep = (j["time"] > j["timestamp"]) & (j["time"] <= j["timestamp"] + delta)
    return j[keep]


class EntityWindowTask(EntityTask):
    r"""Entity classification / regression over a time window (see the module docstring).

    Args:
        dataset: a :class:`RelationalDataset` (or any RelBench ``Dataset``).
        entity_table: the table whose rows are predicted (its primary key is the entity id).
        events: ``events(db) -> DataFrame[time, entity(, value)]``.
        window_days: :math:`\Delta` in days. (default: ``90``)
        agg: ``"exists"`` (binary, AUROC), ``"count"`` / ``"sum"`` / ``"mean"`` (regression,
            NMAE; entities without events get 0 for count / sum). (default: ``"exists"``)
        entities: ``"all"`` (every row of the entity table that exists at the seed time) or
            ``"active"`` (entities with an event before the seed time). (default: ``"all"``)
        num_eval_timestamps: windows per val / test split. (default: ``1``)
        remove_columns: ``(table, column)`` pairs the model must not see.
    """

    entity_col = "entity"
    time_col = "timestamp"
    target_col = "label"

    def __init__(self, dataset, entity_table: str, events: EventFn, window_days: float = 90,
                 agg: str = "exists", entities: str = "all", num_eval_timestamps: int = 1,
                 remove_columns=None, name: str | None = None) -> None:
        if agg not in _AGGS:
            raise ValueError(f"EntityWindowTask: agg must be one of {list(_AGGS)}; got {agg!r}")
        if entities not in ("all", "active"):
            raise ValueError(f"EntityWindowTask: entities must be 'all' or 'active'; got {entities!r}")
        self.entity_table, self.events, self.agg, self.entities = entity_table, events, agg, entities
        self.timedelta = pd.Timedelta(days=window_days)
        self.num_eval_timestamps = int(num_eval_timestamps)
        self.name = name or f"{entity_table.lower()}-{agg}-{int(window_days)}d"
        if agg == "exists":
            self.task_type = TaskType.BINARY_CLASSIFICATION
            self.metrics = [roc_auc]
        else:
            self.task_type = TaskType.REGRESSION
            self._std: float | None = None
            self.metrics = [make_nmae(self.train_std)]
        super().__init__(dataset, remove_columns)
        db = dataset.get_db()
        if entity_table not in db.table_dict:
            raise ValueError(f"EntityWindowTask: entity table {entity_table!r} is not in the database; "
                             f"tables: {sorted(db.table_dict)}")
        if db.table_dict[entity_table].pkey_col is None:
            raise ValueError(f"EntityWindowTask: entity table {entity_table!r} has no primary key")

    def train_std(self) -> float:
        """Std (ddof=1) of the train targets: NMAE's denominator (RelBench v3)."""
        if self._std is None:
            y = self.get_table("train").df[self.target_col].to_numpy(dtype=float)
            self._std = float(np.std(y, ddof=1)) if len(y) > 1 else 1.0
            if not self._std > 0:
                self._std = 1.0
        return self._std

    def make_table(self, db: Database, timestamps) -> Table:
        ev = _check_events(type(self).__name__, self.events(db),
                           ("time", "entity") + (("value",) if self.agg in ("sum", "mean") else ()))
        ev = ev.dropna(subset=["time", "entity"])
        et = db.table_dict[self.entity_table]
        ids = et.df[et.pkey_col].to_numpy()
        rows = []
        for t in pd.to_datetime(pd.Series(list(timestamps))):
            cand = ids
            if et.time_col is not None:
                cand = et.df.loc[et.df[et.time_col] <= t, et.pkey_col].to_numpy()
            if self.entities == "active":
                cand = np.intersect1d(cand, ev.loc[ev["time"] <= t, "entity"].to_numpy())
            rows.append(pd.DataFrame({"timestamp": t, "entity": cand.astype(np.int64)}))
        base = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
            {"timestamp": pd.Series(dtype="datetime64[ns]"), "entity": pd.Series(dtype=np.int64)})
        j = _window_join(ev, timestamps, self.timedelta)
        if self.agg == "exists":
            lab = j.groupby(["timestamp", "entity"]).size().rename("label").gt(0).astype(int)
        elif self.agg == "count":
            lab = j.groupby(["timestamp", "entity"]).size().rename("label").astype(float)
        else:
            lab = j.groupby(["timestamp", "entity"])["value"].agg(self.agg).rename("label").astype(float)
        lab = lab.reset_index()
        lab["entity"] = lab["entity"].astype(np.int64)
        df = base.merge(lab, on=["timestamp", "entity"], how="left")
        df["label"] = df["label"].fillna(0).astype(int if self.agg == "exists" else float)
        if self.agg == "mean":
            df = df.merge(lab[["timestamp", "entity"]], on=["timestamp", "entity"])
        return Table(df=df, fkey_col_to_pkey_table={"entity": self.entity_table},
                     pkey_col=None, time_col="timestamp")

    def __repr__(self) -> str:
        return (f"EntityWindowTask({self.name!r}, entity={self.entity_table!r}, agg={self.agg!r}, "
                f"window={self.timedelta.days}d)")


class RecommendationWindowTask(RecommendationTask):
    r"""Which ``dst`` rows will each ``src`` entity interact with in :math:`(t, t+\Delta]`
    (RelBench's recommendation task; MAP@k).

    Args:
        dataset: a :class:`RelationalDataset`.
        src_table, dst_table: source (e.g. customers) and destination (e.g. items) tables.
        events: ``events(db) -> DataFrame[time, src, dst]``.
        window_days: :math:`\Delta` in days. (default: ``90``)
        eval_k: the k of MAP@k; predictions are ``(rows, eval_k)`` dst ids. (default: ``10``)
        remove_columns: ``(table, column)`` pairs the model must not see.
    """

    src_entity_col = "src"
    dst_entity_col = "dst"
    time_col = "timestamp"

    def __init__(self, dataset, src_table: str, dst_table: str, events: EventFn,
                 window_days: float = 90, eval_k: int = 10, remove_columns=None,
                 name: str | None = None) -> None:
        self.src_entity_table, self.dst_entity_table, self.events = src_table, dst_table, events
        self.timedelta = pd.Timedelta(days=window_days)
        self.eval_k = int(eval_k)
        self.task_type = TaskType.RECOMMENDATION
        self.metrics = [map_at_k]
        self.name = name or f"{src_table.lower()}-{dst_table.lower()}-{int(window_days)}d"
        super().__init__(dataset, remove_columns)
        db = dataset.get_db()
        for t in (src_table, dst_table):
            if t not in db.table_dict:
                raise ValueError(f"RecommendationWindowTask: table {t!r} is not in the database; "
                                 f"tables: {sorted(db.table_dict)}")

    def make_table(self, db: Database, timestamps) -> Table:
        ev = _check_events(type(self).__name__, self.events(db), ("time", "src", "dst"))
        ev = ev.dropna(subset=["time", "src", "dst"])
        j = _window_join(ev, timestamps, self.timedelta)
        j = j.assign(src=j["src"].astype(np.int64), dst=j["dst"].astype(np.int64))
        df = (j.groupby(["timestamp", "src"])["dst"].agg(lambda s: sorted(set(s.tolist())))
              .reset_index())
        return Table(df=df, fkey_col_to_pkey_table={"src": self.src_entity_table,
                                                    "dst": self.dst_entity_table},
                     pkey_col=None, time_col="timestamp")

    def __repr__(self) -> str:
        return (f"RecommendationWindowTask({self.name!r}, {self.src_entity_table!r} -> "
                f"{self.dst_entity_table!r}, window={self.timedelta.days}d, k={self.eval_k})")

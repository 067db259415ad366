"""The feature-engineered baseline RelBench compares RDL with: rows of joined and aggregated
tables, computed strictly from the past of each seed time, into gradient-boosted trees
(scikit-learn's ``HistGradientBoosting*``, in place of the paper's LightGBM).

Features of a training row (entity :math:`e`, seed time :math:`t`):

- the entity row's own columns and those of the rows its foreign keys point to (one hop;
  numbers as they are, strings as category codes, dates as unix days);
- for every table with a foreign key into the entity table and a time column (e.g. invoices of
  a customer): the number of its rows with time in :math:`(t-w, t]` for
  :math:`w \\in \\{30, 90, 365, \\infty\\}` days, the sum / mean of its numeric columns over the
  same windows, and the days since the latest and the earliest row;
- for recommendation, per (source, destination) pair: past interactions of the pair
  (all time, last 365 days), the destination's popularity over 90 / 365 days and the source's
  activity; trees score every pair and the top-k destinations are the prediction.

A small grid (learning rate x leaves) is selected on validation, as RelBench tunes LightGBM.

Example:
    >>> base = GBDTBaseline(task, seed=0).fit(tables)
    >>> base.predict("test")
"""
from __future__ import annotations

import numpy as np
import pandas as pd

_WINDOWS = (30, 90, 365, None)


def _unix_days(ser: pd.Series) -> np.ndarray:
    return pd.to_datetime(ser).astype("int64").to_numpy() / 86400e9


def static_features(db, table: str) -> pd.DataFrame:
    """Numeric view of ``table``'s rows and their one-hop parents, indexed by row id."""
    def encode(t, prefix):
        df = t.df
        out = pd.DataFrame(index=df[t.pkey_col].to_numpy() if t.pkey_col else df.index)
        for c in df.columns:
            if c == t.pkey_col or c in t.fkey_col_to_pkey_table or c == "__time__":
                continue
            s = df[c]
            if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
                out[f"{prefix}{c}"] = s.to_numpy(dtype=float)
            elif pd.api.types.is_datetime64_any_dtype(s):
                out[f"{prefix}{c}"] = _unix_days(s)
            else:
                codes = s.astype("category").cat.codes.to_numpy()
                if s.nunique() <= 64:  # a category, not free text
                    out[f"{prefix}{c}"] = codes.astype(float)
        return out
    t = db.table_dict[table]
    out = encode(t, "")
    for fk, ref in t.fkey_col_to_pkey_table.items():
        par = encode(db.table_dict[ref], f"{ref}.")
        idx = t.df[fk].to_numpy()
        vals = par.reindex(idx).to_numpy()
        for j, c in enumerate(par.columns):
            out[f"{fk}->{c}"] = vals[:, j]
    return out


def history_features(db, entity_table: str, keys: pd.DataFrame, entity_col: str,
                     time_col: str) -> pd.DataFrame:
    """Windowed aggregates of every timed child table of ``entity_table`` (rows <= seed time)."""
    feats = []
    for name, t in db.table_dict.items():
        if t.time_col is None:
            continue
        for fk, ref in t.fkey_col_to_pkey_table.items():
            if ref != entity_table:
                continue
            df = t.df
            num = [c for c in df.columns if c not in (t.pkey_col, t.time_col, "__time__")
                   and c not in t.fkey_col_to_pkey_table and pd.api.types.is_numeric_dtype(df[c])]
            ev = pd.DataFrame({"e": df[fk].to_numpy(), "tt": pd.to_datetime(df[t.time_col])})
            for c in num:
                ev[c] = df[c].to_numpy(dtype=float)
            j = keys[[entity_col, time_col]].reset_index().merge(
                ev, left_on=entity_col, right_on="e", how="left")
            past = j["tt"] <= j[time_col]
            age = (j[time_col] - j["tt"]).dt.total_seconds() / 86400.0
            pre = f"{name}.{fk}"
            out = pd.DataFrame(index=keys.index)
            for w in _WINDOWS:
                m = past & ((age < w) if w else True)
                g = j[m].groupby("index")
                tag = f"{w}d" if w else "all"
                out[f"{pre}.count_{tag}"] = g.size().reindex(keys.index).fillna(0).to_numpy()
                for c in num:
                    out[f"{pre}.{c}.sum_{tag}"] = g[c].sum().reindex(keys.index).fillna(0).to_numpy()
                    out[f"{pre}.{c}.mean_{tag}"] = g[c].mean().reindex(keys.index).to_numpy()
            g = j[past].groupby("index")
            out[f"{pre}.days_since_last"] = g["tt"].max().reindex(keys.index).pipe(
                lambda s: (keys[time_col] - s).dt.total_seconds() / 86400.0).to_numpy()
            out[f"{pre}.days_since_first"] = g["tt"].min().reindex(keys.index).pipe(
                lambda s: (keys[time_col] - s).dt.total_seconds() / 86400.0).to_numpy()
            feats.append(out)
    return pd.concat(feats, axis=1) if feats else pd.DataFrame(index=keys.index)


def entity_features(db, task, table) -> pd.DataFrame:
    keys = table.df[[task.entity_col, task.time_col]].copy()
    keys[task.time_col] = pd.to_datetime(keys[task.time_col])
    stat = static_features(db, task.entity_table).reindex(keys[task.entity_col].to_numpy())
    stat.index = keys.index
    hist = history_features(db, task.entity_table, keys, task.entity_col, task.time_col)
    month = keys[task.time_col].dt.month.to_numpy(dtype=float)
    return pd.concat([stat, hist], axis=1).assign(seed_month=month)


def pair_features(task, events: pd.DataFrame, table, num_dst: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Features for every (row, dst) pair of ``table`` (rows x |D| pairs, row-major)."""
    t_rows = pd.to_datetime(table.df[task.time_col]).to_numpy()
    src = table.df[task.src_entity_col].to_numpy().astype(np.int64)
    ev = events.dropna(subset=["time", "src", "dst"])
    et = pd.to_datetime(ev["time"]).to_numpy()
    es, ed = ev["src"].to_numpy().astype(np.int64), ev["dst"].to_numpy().astype(np.int64)
    n = len(src)
    cols = {k: np.zeros((n, num_dst)) for k in ("pair_all", "pair_365", "pop_90", "pop_365",
                                                  "src_all", "pair_days_since")}
    for i in range(n):  # one row per seed (entity, time): tens to thousands, not per event
        past = et <= t_rows[i]
        age = (t_rows[i] - et).astype("timedelta64[s]").astype(float) / 86400.0
        mine = past & (es == src[i])
        cols["pair_all"][i] = np.bincount(ed[mine], minlength=num_dst)[:num_dst]
        cols["pair_365"][i] = np.bincount(ed[mine & (age < 365)], minlength=num_dst)[:num_dst]
        cols["pop_90"][i] = np.bincount(ed[past & (age < 90)], minlength=num_dst)[:num_dst]
        cols["pop_365"][i] = np.bincount(ed[past & (age < 365)], minlength=num_dst)[:num_dst]
        cols["src_all"][i] = mine.sum()
        last = np.full(num_dst, np.nan)
        if mine.any():
            d = pd.Series(age[mine]).groupby(ed[mine]).min()
            last[d.index.to_numpy()] = d.to_numpy()
        cols["pair_days_since"][i] = last
    X = pd.DataFrame({k: v.reshape(-1) for k, v in cols.items()})
    X["dst"] = np.tile(np.arange(num_dst), n).astype(float)
    return X, src


class GBDTBaseline:
    """Gradient-boosted trees on engineered features for an entity or recommendation task.

    Args:
        task: an ``EntityWindowTask`` / ``RecommendationWindowTask`` (or any RelBench task with
            an ``events`` function for recommendation).
        seed (int): ``random_state`` of the trees. (default: ``0``)
        grid (list of dict): hyperparameters tried, the best on validation kept.
    """

    GRID: tuple = tuple({"learning_rate": lr, "max_leaf_nodes": leaves, "max_iter": 200}
            for lr in (0.03, 0.1) for leaves in (7, 31))

    def __init__(self, task, seed: int = 0, grid: list | None = None) -> None:
        from relbench.base import RecommendationTask
        self.task, self.seed, self.grid = task, seed, list(grid or self.GRID)
        self.rec = isinstance(task, RecommendationTask)
        self.db = task.get_db()
        self.model, self.best_params, self.X = None, None, {}

    def _features(self, split: str, table):
        if split not in self.X:
            if self.rec:
                n_dst = len(self.db.table_dict[self.task.dst_entity_table])
                self.X[split] = pair_features(self.task, self.task.events(self.db), table, n_dst)
            else:
                self.X[split] = entity_features(self.db, self.task, table)
        return self.X[split]

    def _targets(self, table) -> np.ndarray:
        if self.rec:
            n_dst = len(self.db.table_dict[self.task.dst_entity_table])
            y = np.zeros((len(table.df), n_dst))
            for i, dsts in enumerate(table.df[self.task.dst_entity_col]):
                y[i, list(dsts)] = 1
            return y.reshape(-1)
        return table.df[self.task.target_col].to_numpy(dtype=float)

    def _make(self, params):
        from relbench.base import TaskType
        from sklearn.ensemble import (
            HistGradientBoostingClassifier,
            HistGradientBoostingRegressor,
        )
        if self.rec or self.task.task_type == TaskType.BINARY_CLASSIFICATION:
            return HistGradientBoostingClassifier(random_state=self.seed, early_stopping=False, **params)
        return HistGradientBoostingRegressor(loss="absolute_error", random_state=self.seed,
                                             early_stopping=False, **params)

    def _raw_predict(self, model, split, table) -> np.ndarray:
        X = self._features(split, table)
        if self.rec:
            X, _ = X
            n_dst = len(self.db.table_dict[self.task.dst_entity_table])
            p = model.predict_proba(X)[:, 1].reshape(len(table.df), n_dst)
            k = min(self.task.eval_k, n_dst)
            return np.argsort(-p, axis=1, kind="stable")[:, :k]
        if hasattr(model, "predict_proba"):
            return model.predict_proba(X)[:, 1]
        return model.predict(X)

    def score(self, pred, table) -> float:
        return float(next(iter(self.task.evaluate(pred, table).values())))

    def fit(self, tables: dict, threads: int | None = None) -> GBDTBaseline:
        """Fit every grid point on train, keep the best on val (``tables``: split -> table).
        ``threads`` caps OpenMP threads (default: ``torch.get_num_threads()``)."""
        import torch
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=threads or torch.get_num_threads()):
            return self._fit(tables)

    def _fit(self, tables: dict) -> GBDTBaseline:
        self.tables = tables
        X = self._features("train", tables["train"])
        X = X[0] if self.rec else X
        y = self._targets(tables["train"])
        higher = self.rec or hasattr(self._make(self.grid[0]), "predict_proba")
        best = None
        for params in self.grid:
            m = self._make(params).fit(X, y)
            v = self.score(self._raw_predict(m, "val", tables["val"]), tables["val"])
            if best is None or (v > best[0] if higher else v < best[0]):
                best = (v, m, params)
        _, self.model, self.best_params = best
        return self

    def predict(self, split: str) -> np.ndarray:
        import torch
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=torch.get_num_threads()):
            return self._raw_predict(self.model, split, self.tables[split])

    def evaluate(self) -> dict:
        return {s: self.score(self.predict(s), self.tables[s]) for s in ("train", "val", "test")}

    def __repr__(self) -> str:
        return f"GBDTBaseline({self.task!r}, seed={self.seed}, best={self.best_params})"


def gbdt_baseline(task, tables: dict, seed: int = 0) -> dict:
    """Fit :class:`GBDTBaseline` and return its train / val / test scores."""
    return GBDTBaseline(task, seed).fit(tables).evaluate()

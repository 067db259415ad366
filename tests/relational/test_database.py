"""Importer: SQLite round trip, key / time inference and overrides, clear errors."""
import sqlite3

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("relbench")

from graphkit.relational import from_csv, from_frames, from_parquet, from_sqlite


def _shop(path):
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE customer (cid INTEGER PRIMARY KEY, name TEXT, country TEXT);
        CREATE TABLE item (iid INTEGER PRIMARY KEY, title TEXT, price REAL);
        CREATE TABLE orders (oid INTEGER PRIMARY KEY, cid INTEGER REFERENCES customer(cid),
                             placed DATETIME, total REAL);
        CREATE TABLE line (lid INTEGER PRIMARY KEY, oid INTEGER REFERENCES orders(oid),
                           iid INTEGER REFERENCES item(iid), qty INTEGER);
    """)
    con.executemany("INSERT INTO customer VALUES (?,?,?)", [(10, "ann", "DE"), (20, "bob", "FR"), (30, "cy", "DE")])
    con.executemany("INSERT INTO item VALUES (?,?,?)", [(7, "red", 1.5), (8, "blue", 2.0)])
    con.executemany("INSERT INTO orders VALUES (?,?,?,?)", [
        (100, 20, "2024-03-01 10:00:00", 3.0), (101, 10, "2024-01-05 09:00:00", 1.5),
        (102, 30, "2024-02-10 12:00:00", 2.0)])
    con.executemany("INSERT INTO line VALUES (?,?,?,?)", [(1, 100, 7, 2), (2, 101, 7, 1), (3, 102, 8, 1)])
    con.commit()
    con.close()


def test_sqlite_round_trip(tmp_path):
    _shop(tmp_path / "shop.sqlite")
    imp = from_sqlite(tmp_path / "shop.sqlite", inherit_time={"line": "oid"})
    db = imp.db
    assert set(db.table_dict) == {"customer", "item", "orders", "line"}
    o = db.table_dict["orders"]
    assert o.pkey_col == "oid" and o.time_col == "placed" and o.fkey_col_to_pkey_table == {"cid": "customer"}
    assert db.table_dict["line"].fkey_col_to_pkey_table == {"oid": "orders", "iid": "item"}
    assert db.table_dict["customer"].time_col is None
    # keys are 0..n-1, timed tables sorted by time, original ids kept
    assert (o.df["oid"].to_numpy() == np.arange(3)).all()
    assert list(imp.id_maps["orders"]) == [101, 102, 100]
    assert o.df["placed"].is_monotonic_increasing
    # every foreign key still points at the same original row
    for name, t in db.table_dict.items():
        for fk, ref in t.fkey_col_to_pkey_table.items():
            orig_child = pd.read_sql_query(f"SELECT * FROM {name}", sqlite3.connect(tmp_path / "shop.sqlite"))
            pk = orig_child.columns[0]
            new_ids = imp.id_maps[ref][t.df[fk].astype(int).to_numpy()]
            want = orig_child.set_index(pk).loc[imp.id_maps[name], fk].to_numpy()
            assert (new_ids == want).all(), (name, fk)
    # values round-trip
    cust = db.table_dict["customer"].df
    assert dict(zip(imp.id_maps["customer"], cust["name"])) == {10: "ann", 20: "bob", 30: "cy"}
    # inherited time: a line appears with its order
    line = db.table_dict["line"]
    assert line.time_col == "__time__" and imp.inherited_time == {"line": ("oid", "orders")}
    placed = o.df.set_index("oid")["placed"]
    assert (line.df["__time__"].to_numpy() == placed.loc[line.df["oid"].astype(int)].to_numpy()).all()


def test_overrides_and_files(tmp_path):
    _shop(tmp_path / "shop.sqlite")
    imp = from_sqlite(tmp_path / "shop.sqlite", time_cols={"orders": None})
    assert imp.db.table_dict["orders"].time_col is None
    con = sqlite3.connect(tmp_path / "shop.sqlite")
    (tmp_path / "csv").mkdir()
    (tmp_path / "pq").mkdir()
    for t in ("customer", "orders"):
        df = pd.read_sql_query(f"SELECT * FROM {t}", con)
        df.to_csv(tmp_path / "csv" / f"{t}.csv", index=False)
        df.to_parquet(tmp_path / "pq" / f"{t}.parquet")
    kw = {"pkeys": {"customer": "cid", "orders": "oid"}, "fkeys": {"orders": {"cid": "customer"}},
              "time_cols": {"orders": "placed"}}
    for db in (from_csv(tmp_path / "csv", **kw).db, from_parquet(tmp_path / "pq", **kw).db):
        assert db.table_dict["orders"].time_col == "placed"
        assert pd.api.types.is_datetime64_any_dtype(db.table_dict["orders"].df["placed"])


def _frames():
    return {"c": pd.DataFrame({"id": [1, 2]}),
            "o": pd.DataFrame({"id": [5, 6], "cid": [1, 2], "t": ["2024-01-01", "2024-02-01"]})}


def test_clear_errors():
    ok = {"pkeys": {"c": "id", "o": "id"}, "fkeys": {"o": {"cid": "c"}}, "time_cols": {"o": "t"}}
    from_frames(_frames(), **ok)
    f = _frames()
    f["o"].loc[1, "cid"] = 99
    with pytest.raises(ValueError, match=r"foreign key o\.cid have no matching primary key c\.id"):
        from_frames(f, **ok)
    with pytest.warns(UserWarning, match="set to missing"):
        db = from_frames(f, **ok, dangling="null").db
    assert db.table_dict["o"].df["cid"].isna().sum() == 1
    with pytest.raises(ValueError, match="references table 'x', which is not in the database"):
        from_frames(_frames(), **{**ok, "fkeys": {"o": {"cid": "x"}}})
    with pytest.raises(ValueError, match="time column 'when' of table 'o' is missing"):
        from_frames(_frames(), **{**ok, "time_cols": {"o": "when"}})
    f = _frames()
    f["c"] = f["c"].iloc[:0]
    with pytest.raises(ValueError, match="table 'c' is empty"):
        from_frames(f, **ok)
    f = _frames()
    f["c"].loc[1, "id"] = 1
    with pytest.raises(ValueError, match="not unique"):
        from_frames(f, **ok)
    f = _frames()
    f["o"].loc[0, "t"] = "not a date"
    with pytest.raises(ValueError, match="cannot be parsed as dates"):
        from_frames(f, **ok)
    with pytest.raises(ValueError, match="primary key 'nope' of table 'c'"):
        from_frames(_frames(), **{**ok, "pkeys": {"c": "nope", "o": "id"}})

"""A tiny synthetic shop database with timed orders (customers, items, orders, order lines)."""
import numpy as np
import pandas as pd

from graphkit.relational import from_frames
from graphkit.relational.tasks import (
    EntityWindowTask,
    RecommendationWindowTask,
    RelationalDataset,
)

VAL, TEST = "2024-06-01", "2024-08-01"


def shop_frames(seed=0, n_cust=12, n_items=6, n_orders=160):
    g = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    cust = pd.DataFrame({"cid": np.arange(n_cust) + 100, "country": g.choice(["DE", "FR", "IT"], n_cust),
                         "age": g.integers(18, 80, n_cust).astype(float)})
    items = pd.DataFrame({"iid": np.arange(n_items) + 500, "price": g.uniform(1, 9, n_items).round(2),
                          "title": [f"item {i}" for i in range(n_items)]})
    orders = pd.DataFrame({"oid": np.arange(n_orders) + 1000,
                           "cid": g.integers(0, n_cust, n_orders) + 100,
                           "placed": start + pd.to_timedelta(g.integers(0, 300, n_orders), unit="D"),
                           "total": g.uniform(1, 50, n_orders).round(2)})
    lines = pd.DataFrame({"lid": np.arange(2 * n_orders), "oid": np.repeat(orders["oid"].to_numpy(), 2),
                          "iid": g.integers(0, n_items, 2 * n_orders) + 500})
    return {"customer": cust, "item": items, "orders": orders, "line": lines}


KEYS = {"pkeys": {"customer": "cid", "item": "iid", "orders": "oid", "line": "lid"},
            "fkeys": {"orders": {"cid": "customer"}, "line": {"oid": "orders", "iid": "item"}},
            "time_cols": {"orders": "placed"}, "inherit_time": {"line": "oid"}}


def order_events(db):
    o = db.table_dict["orders"].df
    return pd.DataFrame({"time": o["placed"], "entity": o["cid"], "value": o["total"]})


def item_events(db):
    line = db.table_dict["line"].df
    o = db.table_dict["orders"].df.set_index("oid")
    oid = line["oid"].astype(int)
    return pd.DataFrame({"time": o["placed"].reindex(oid).to_numpy(), "src": o["cid"].reindex(oid).to_numpy(),
                         "dst": line["iid"].to_numpy()})


def shop(frames=None, window=30):
    imp = from_frames(frames or shop_frames(), **KEYS)
    ds = RelationalDataset(imp.db, VAL, TEST, name="shop")
    return imp, ds, {
        "buy": EntityWindowTask(ds, "customer", order_events, window, "exists", name="buy"),
        "spend": EntityWindowTask(ds, "customer", order_events, window, "sum", name="spend"),
        "items": RecommendationWindowTask(ds, "customer", "item", item_events, window, eval_k=2,
                                          name="items"),
    }

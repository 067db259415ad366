"""The Chinook music-store database (``relational/chinook`` in ``$GRAPHKIT_DATA``) and three
tasks on it: will a customer buy in the next 90 days (binary, AUROC), how much will they spend
(regression, NMAE), which genres will they buy (recommendation, MAP@k).

Val / test cut-offs: 2024-07-01 / 2025-01-01 (invoices span 2021-01-01 .. 2025-12-22).

Example:
    >>> ds, tasks = chinook_tasks("/work/shared/data")
    >>> tasks["customer-buy"].get_table("train").df.shape
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from graphkit.relational.database import ImportedDatabase, from_sqlite
from graphkit.relational.tasks import (
    EntityWindowTask,
    RecommendationWindowTask,
    RelationalDataset,
)

VAL_TIMESTAMP, TEST_TIMESTAMP = "2024-07-01", "2025-01-01"
TASK_NAMES = ("customer-buy", "customer-spend", "customer-genre")


def chinook_path(root: str | None = None) -> Path:
    roots = [root] if root else [os.environ.get("GRAPHKIT_DATA"), "/work/shared/data",
                                 str(Path(__file__).resolve().parents[3] / "shared/data")]
    for r in roots:
        if r and (Path(r) / "relational/chinook/Chinook_Sqlite.sqlite").is_file():
            return Path(r) / "relational/chinook/Chinook_Sqlite.sqlite"
    raise FileNotFoundError(f"Chinook: relational/chinook/Chinook_Sqlite.sqlite not found under "
                            f"{[r for r in roots if r]}; set GRAPHKIT_DATA to the shared data folder "
                            f"(see shared/data/SOURCES.md for the source)")


def load_chinook(root: str | None = None) -> ImportedDatabase:
    """Chinook with its schema keys. Employees are static (BirthDate / HireDate stay features;
    hire dates of 2002-2004 would stretch the training windows back two decades); an invoice
    line takes its invoice's date."""
    import warnings
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*untimed table")
        warnings.filterwarnings("ignore", message=".*several date columns")
        return from_sqlite(chinook_path(root), time_cols={"Employee": None},
                           inherit_time={"InvoiceLine": "InvoiceId"})


def invoice_events(db) -> pd.DataFrame:
    inv = db.table_dict["Invoice"].df
    return pd.DataFrame({"time": inv["InvoiceDate"], "entity": inv["CustomerId"],
                         "value": inv["Total"].astype(float)})


def genre_events(db) -> pd.DataFrame:
    line = db.table_dict["InvoiceLine"].df
    inv = db.table_dict["Invoice"].df.set_index("InvoiceId")
    track = db.table_dict["Track"].df.set_index("TrackId")
    iid = line["InvoiceId"].astype(int)
    return pd.DataFrame({"time": inv["InvoiceDate"].reindex(iid).to_numpy(),
                         "src": inv["CustomerId"].reindex(iid).to_numpy(),
                         "dst": track["GenreId"].reindex(line["TrackId"].astype(int)).to_numpy()})


#: columns that identify a person or an address (names, e-mails, phone numbers): unique per row,
#: so a model can only memorise them; left out of the features (``None``), places kept as
#: categories.
_PII = ("FirstName", "LastName", "Company", "Address", "PostalCode", "Phone", "Fax", "Email")
STYPE_OVERRIDES = {
    "Customer": {**{c: None for c in _PII}, "City": "categorical", "State": "categorical",
                 "Country": "categorical"},
    "Employee": {**{c: None for c in _PII}, "City": "categorical", "State": "categorical",
                 "Country": "categorical", "Title": "categorical"},
    "Invoice": {"BillingAddress": None, "BillingPostalCode": None, "BillingCity": "categorical",
                "BillingState": "categorical", "BillingCountry": "categorical"},
}


def chinook_stypes(db) -> dict:
    """Column stypes: PyTorch-Frame's proposal with :data:`STYPE_OVERRIDES`."""
    from graphkit.relational.graph import propose_stypes
    return propose_stypes(db, STYPE_OVERRIDES)


def chinook_tasks(root: str | None = None, imported: ImportedDatabase | None = None):
    """``(dataset, {name: task})`` for the three Chinook tasks."""
    imported = imported or load_chinook(root)
    ds = RelationalDataset(imported.db, VAL_TIMESTAMP, TEST_TIMESTAMP, name="chinook")
    tasks = {
        "customer-buy": EntityWindowTask(ds, "Customer", invoice_events, 90, "exists",
                                         num_eval_timestamps=2, name="customer-buy"),
        "customer-spend": EntityWindowTask(ds, "Customer", invoice_events, 90, "sum",
                                           num_eval_timestamps=2, name="customer-spend"),
        "customer-genre": RecommendationWindowTask(ds, "Customer", "Genre", genre_events, 90,
                                                   eval_k=3, name="customer-genre"),
    }
    return ds, tasks

"""OGB data sets through the ``ogb`` package's own PyG classes.

``PygGraphPropPredDataset`` (``ogbg-*``), ``PygNodePropPredDataset`` (``ogbn-*``, homogeneous) and
``PygLinkPropPredDataset`` (``ogbl-*``, homogeneous). The raw OGB layout
(``<data>/ogb/<name with _>/{raw,split,mapping}``) is linked into the writable
``<cache>/ogb/<name with _>/``, next to the ``RELEASE_v<version>.txt`` marker the ogb classes
look for (without it they ask ``(y/N)`` on stdin). ogb 1.3.6 calls ``torch.load`` with torch's
default ``weights_only=True``, so PyG's data classes are allow-listed with
``torch.serialization.add_safe_globals``.

From `"Open Graph Benchmark: Datasets for Machine Learning on Graphs"
<https://arxiv.org/abs/2005.00687>`_.
"""
from __future__ import annotations

import contextlib
import io
import sys
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from graphkit.data.catalogue import Entry
from graphkit.data.loaders.base import register
from graphkit.data.spec import TaskSpec

#: ogb ``eval metric`` -> graphkit metric name
METRIC = {"rocauc": "rocauc", "ap": "ap", "rmse": "rmse", "acc": "accuracy", "F1": "f1",
          "mrr": "mrr", "mae": "mae", "hits@20": "hits@20", "hits@50": "hits@50",
          "hits@100": "hits@100", "hits@10": "hits@10"}
KIND = {"binary classification": "binary", "regression": "regression",
        "multiclass classification": "multiclass", "link prediction": "binary"}
GROUPS = {"ogbg": "graphproppred", "ogbn": "nodeproppred", "ogbl": "linkproppred"}


def _numpy_globals() -> list:
    """numpy objects inside ogb's link split files (``split/<type>/*.pt`` hold numpy arrays)."""
    import numpy as np
    core = getattr(np, "_core", None) or np.core
    dtypes = [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith("DType")]
    return [core.multiarray._reconstruct, np.ndarray, np.dtype, *dtypes]


def _allow_pyg_globals() -> None:
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage
    torch.serialization.add_safe_globals([DataEdgeAttr, DataTensorAttr, GlobalStorage])


def _import_ogb() -> Any:
    """Import ``ogb`` without its PyPI version checks.

    ``import ogb`` (through the ``outdated`` package, whose own import checks itself too) starts
    background threads that query PyPI. A data load must not touch the network, so when neither
    is imported yet a stand-in ``outdated`` module whose checks do nothing is registered first.
    """
    if "ogb" not in sys.modules and "outdated" not in sys.modules:
        stub = types.ModuleType("outdated", "graphkit stand-in: no PyPI version checks")
        stub.check_outdated = lambda package, version, *args, **kwargs: (False, version)
        stub.warn_if_outdated = lambda *args, **kwargs: None
        sys.modules["outdated"] = stub
    import ogb
    return ogb


def _master(group: str) -> Any:
    import pandas as pd
    path = Path(_import_ogb().__file__).parent / group / "master.csv"
    return pd.read_csv(path, index_col=0, keep_default_na=False)


def canonical_name(name: str) -> str | None:
    """ogb's spelling of ``name`` (case-insensitive: ``ogbn-papers100m`` -> ``ogbn-papers100M``)."""
    group = GROUPS.get(name.strip().lower().split("-")[0])
    if group is None:
        return None
    matches = [k for k in _master(group).columns if k.lower() == name.strip().lower()]
    return matches[0] if matches else None


def meta_info(name: str) -> dict[str, str] | None:
    """Row of ogb's own ``master.csv`` for ``name`` (``None`` when ogb does not know it)."""
    group = GROUPS.get(name.split("-")[0])
    if group is None:
        return None
    master = _master(group)
    return dict(master[name]) if name in master else None


def expected_files(name: str, meta: dict[str, str]) -> list[str]:
    """Raw files the ogb class needs for ``name`` (besides the version marker)."""
    prefix = name.split("-")[0]
    if meta.get("binary") == "True":
        raw = ["raw/data.npz"]
    else:
        raw = ["raw/edge.csv.gz", "raw/num-node-list.csv.gz", "raw/num-edge-list.csv.gz"]
        if meta.get("has_node_attr") == "True":
            raw.append("raw/node-feat.csv.gz")
        if meta.get("has_edge_attr") == "True":
            raw.append("raw/edge-feat.csv.gz")
        if prefix == "ogbg":
            raw.append("raw/graph-label.csv.gz")
        if prefix == "ogbn":
            raw.append("raw/node-label.csv.gz")
        for key in ("additional node files", "additional edge files"):
            if meta.get(key, "None") != "None":
                raw += [f"raw/{f}.csv.gz" for f in meta[key].split(",")]
    split = meta["split"]
    ext = "pt" if prefix == "ogbl" else "csv.gz"
    return raw + [f"split/{split}/{s}.{ext}" for s in ("train", "valid", "test")]


def ogb_entry(name: str) -> Entry | None:
    """A catalogue entry built from ogb's metadata for OGB names without a YAML entry."""
    meta = meta_info(name)
    if meta is None or meta.get("is hetero") == "True":
        return None
    prefix = name.split("-")[0]
    task = {"ogbg": "graph", "ogbn": "node", "ogbl": "link"}[prefix]
    folder = name.replace("-", "_")
    return Entry(name=name, loader="ogb", task=task, kind=KIND.get(meta["task type"]),
                 metric=METRIC.get(meta["eval metric"], meta["eval metric"]), protocol="ogb",
                 raw={"group": "ogb", "folder": folder, "files": expected_files(name, meta)},
                 source={"archive": {"url": meta["url"], "format": "zip",
                                     "prefix": meta["download_name"] + "/"}},
                 options={"ogb_name": name},
                 description=f"{name} built from ogb's master.csv (no catalogue entry, so no "
                             f"recorded checksums).",
                 citation="Hu et al. Open Graph Benchmark. NeurIPS 2020. arXiv:2005.00687")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence ogb's prints ("Saving...") and its harmless non-writable-NumPy warning."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        yield


@register("ogb", {"ogb_name": None}, raw_subdir="")
def load_ogb(entry: Entry, raw_dir: Path, work_dir: Path, ogb_name: str | None = None
             ) -> tuple[Any, TaskSpec]:
    """An OGB data set and its official split (protocol ``ogb``, one split)."""
    name = ogb_name or entry.name
    meta = meta_info(name)
    if meta is None:
        raise ValueError(f"graphkit.data: ogb {_import_ogb().__version__} does not know "
                         f"{name!r}")
    if meta.get("is hetero") == "True":
        raise ValueError(f"graphkit.data: {name!r} is heterogeneous; graphkit's ogb loader reads "
                         f"homogeneous data sets only")
    if work_dir.name != name.replace("-", "_"):
        raise ValueError(f"graphkit.data: the ogb cache folder must be named "
                         f"{name.replace('-', '_')!r}; got {work_dir.name!r}")
    marker = work_dir / f"RELEASE_v{meta['version']}.txt"
    if not marker.is_file():
        marker.write_text(f"written by graphkit: raw files linked from {raw_dir}\n")
    _allow_pyg_globals()
    prefix = name.split("-")[0]
    root = str(work_dir.parent)
    kind = KIND.get(meta["task type"])
    if kind is None:
        raise ValueError(f"graphkit.data: ogb task type {meta['task type']!r} of {name!r} is not "
                         f"supported")
    metric = METRIC.get(meta["eval metric"])
    if metric is None:
        raise ValueError(f"graphkit.data: ogb metric {meta['eval metric']!r} of {name!r} has no "
                         f"graphkit equivalent")
    with _quiet():
        if prefix == "ogbg":
            from ogb.graphproppred import PygGraphPropPredDataset
            ds = PygGraphPropPredDataset(name, root=root)
            idx = ds.get_idx_split()
            obj: Any = ds
            num_outputs = int(meta["num tasks"]) if kind != "multiclass" else int(meta["num classes"])
            extra = {"num_edge_features": ds.num_edge_features, "num_tasks": int(meta["num tasks"])}
            splits = [{"train": idx["train"], "val": idx["valid"], "test": idx["test"]}]
            num_features = ds.num_features
        elif prefix == "ogbn":
            from ogb.nodeproppred import PygNodePropPredDataset
            ds = PygNodePropPredDataset(name, root=root)
            idx = ds.get_idx_split()
            data = ds[0]
            if kind == "multiclass" and data.y is not None and data.y.dim() == 2 \
                    and data.y.size(1) == 1:
                data.y = data.y.view(-1)
            obj = data
            num_outputs = int(meta["num classes"]) if kind == "multiclass" else int(meta["num tasks"])
            extra = {"num_tasks": int(meta["num tasks"])}
            splits = [{"train": idx["train"], "val": idx["valid"], "test": idx["test"]}]
            num_features = 0 if data.x is None else data.x.size(-1)
        else:
            from ogb.linkproppred import PygLinkPropPredDataset
            ds = PygLinkPropPredDataset(name, root=root)
            obj = ds[0]
            with torch.serialization.safe_globals(_numpy_globals()):
                edge_split = ds.get_edge_split()
            split, extra = _link_split(edge_split)
            splits = [split]
            num_outputs = 1
            num_features = 0 if obj.x is None else obj.x.size(-1)
            extra["message_passing"] = "train_pos"
    spec = TaskSpec(name=entry.name, task=entry.task, kind=kind, metric=metric, protocol="ogb",
                    num_features=num_features, num_outputs=num_outputs, splits=splits,
                    evaluator=name, extra={**extra, "ogb_task_type": meta["task type"]})
    return obj, spec


def _link_split(edge_split: dict[str, dict[str, torch.Tensor]]) -> tuple[dict, dict]:
    """ogb edge split -> graphkit link split (``(2, E)`` tensors) and per-source negatives."""
    out: dict[str, torch.Tensor] = {}
    extra: dict[str, Any] = {}
    for ogb_key, key in (("train", "train"), ("valid", "val"), ("test", "test")):
        part = edge_split[ogb_key]
        if "edge" in part:
            out[f"{key}_pos"] = torch.as_tensor(part["edge"]).long().t().contiguous()
        elif "source_node" in part:
            out[f"{key}_pos"] = torch.stack([torch.as_tensor(part["source_node"]).long(),
                                             torch.as_tensor(part["target_node"]).long()])
        if "edge_neg" in part:
            out[f"{key}_neg"] = torch.as_tensor(part["edge_neg"]).long().t().contiguous()
        if "target_node_neg" in part:          # citation2-style: negatives per positive (MRR)
            extra.setdefault("target_node_neg", {})[key] = torch.as_tensor(
                part["target_node_neg"]).long()
    return out, extra

"""TU graph-classification data sets through PyG's ``TUDataset`` class.

Featureless data sets (IMDB-BINARY, IMDB-MULTI, REDDIT-*, COLLAB) get one-hot node-degree
features, PyG ``OneHotDegree(max_degree)`` with the data set's maximum degree, the protocol of
Xu et al. 2019 (arXiv:1810.00826) and Errica et al. 2020 (arXiv:1912.09893). It is attached as a
``transform``, so the processed files stay the plain TU data.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch_geometric.datasets import TUDataset
from torch_geometric.transforms import OneHotDegree

from graphkit.data.catalogue import Entry
from graphkit.data.loaders.base import register
from graphkit.data.spec import TaskSpec
from graphkit.data.splits import FOLD_SEED, stratified_folds


@register("tu", {"tu_name": None, "use_node_attr": False, "use_edge_attr": False,
                 "degree_features": "auto", "num_folds": 10, "fold_seed": FOLD_SEED})
def load_tu(entry: Entry, raw_dir: Path, work_dir: Path, tu_name: str | None = None,
            use_node_attr: bool = False, use_edge_attr: bool = False,
            degree_features: bool | str = "auto", num_folds: int = 10,
            fold_seed: int = FOLD_SEED) -> tuple[TUDataset, TaskSpec]:
    """Any ``<NAME>_*.txt`` TU data set, with the ``10fold`` protocol.

    Args:
        tu_name: the TU name (defaults to the raw folder name).
        use_node_attr / use_edge_attr: passed to ``TUDataset``. (default: :obj:`False`)
        degree_features: ``"auto"`` (one-hot degree when the data set has no node features),
            ``True`` (always) or ``False`` (never). (default: :obj:`"auto"`)
        num_folds / fold_seed: the stratified fold protocol (see ``graphkit.data.splits``).
    """
    name = tu_name or entry.folder
    # TUDataset reads <root>/<name>/raw/<name>_*.txt and writes <root>/<name>/processed
    ds = TUDataset(str(work_dir.parent), name=work_dir.name, use_node_attr=use_node_attr,
                   use_edge_attr=use_edge_attr)
    featureless = ds._data.x is None
    if degree_features is True or (degree_features == "auto" and featureless):
        ei, n = ds._data.edge_index, ds.slices["edge_index"]
        # graph-local ids: the degree of each local source id, per graph, from the collated store
        graph_of_edge = torch.repeat_interleave(torch.arange(len(ds)), n.diff())
        counts = torch.bincount(graph_of_edge * (int(ei.max()) + 1) + ei[0]) if ei.numel() else \
            torch.zeros(1, dtype=torch.long)
        max_degree = int(counts.max())
        ds.transform = OneHotDegree(max_degree, cat=not featureless)
    y = ds._data.y.view(-1)
    num_classes = int(y.max()) + 1
    kind = entry.kind or ("binary" if num_classes == 2 else "multiclass")
    spec = TaskSpec(name=entry.name, task="graph", kind=kind, metric=entry.metric,
                    protocol="10fold", num_features=ds.num_features,
                    num_outputs=1 if kind == "binary" else num_classes,
                    splits=stratified_folds(y, num_folds=num_folds, seed=fold_seed),
                    extra={"tu_name": name, "num_classes": num_classes,
                           "degree_features": ds.transform is not None,
                           "num_edge_features": ds.num_edge_features})
    return ds, spec

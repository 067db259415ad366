"""Planetoid citation graphs (Cora, CiteSeer, ...) through PyG's ``Planetoid`` class."""
from __future__ import annotations

from pathlib import Path

from torch_geometric.data import Data
from torch_geometric.datasets import Planetoid

from graphkit.data.catalogue import Entry
from graphkit.data.loaders.base import register
from graphkit.data.spec import TaskSpec
from graphkit.data.splits import masks_to_splits


@register("planetoid", {})
def load_planetoid(entry: Entry, raw_dir: Path, work_dir: Path) -> tuple[Data, TaskSpec]:
    """Public Planetoid split (20 labels per class / 500 / 1000) from the raw ``ind.*`` pickles.

    Returns ``Data(x, edge_index, y)``; the split lives in the spec as index tensors.
    """
    # Planetoid reads <root>/<name>/raw/ind.<name>.* and writes <root>/<name>/processed
    ds = Planetoid(str(work_dir.parent), name=work_dir.name, split="public")
    full = ds[0]
    data = Data(x=full.x, edge_index=full.edge_index, y=full.y)
    spec = TaskSpec(name=entry.name, task="node", kind="multiclass", metric=entry.metric,
                    protocol="public_split", num_features=ds.num_features,
                    num_outputs=ds.num_classes,
                    splits=masks_to_splits(full.train_mask, full.val_mask, full.test_mask))
    return data, spec

"""Geom-GCN heterophily graphs (WebKB Cornell / Texas / Wisconsin, Actor "film").

Raw files: ``out1_node_feature_label.txt`` (TSV: id, features, label), ``out1_graph_edges.txt``
(TSV edge list) and ten ``splits/<name>_split_0.6_0.2_<i>.npz`` masks, processed by PyG's own
``WebKB`` / ``Actor`` classes (their parsers match these files: WebKB reads dense feature rows in
id order, Actor reads sparse feature indices keyed by node id). The raw edge list is directed;
``undirected=True`` (the default) symmetrises it, as most heterophily baselines do.

From `"Geom-GCN: Geometric Graph Convolutional Networks" <https://arxiv.org/abs/2002.05287>`_.
"""
from __future__ import annotations

from pathlib import Path

from torch_geometric.data import Data
from torch_geometric.datasets import Actor, WebKB
from torch_geometric.utils import to_undirected

from graphkit.data.catalogue import Entry
from graphkit.data.loaders.base import register
from graphkit.data.spec import TaskSpec
from graphkit.data.splits import masks_to_splits
from graphkit.data.storage import link_tree

WEBKB = ("cornell", "texas", "wisconsin")
ACTOR = ("film", "actor")


@register("geom_gcn", {"undirected": True})
def load_geom_gcn(entry: Entry, raw_dir: Path, work_dir: Path, undirected: bool = True
                  ) -> tuple[Data, TaskSpec]:
    """``Data(x, edge_index, y)`` plus the 10 Geom-GCN splits (protocol ``geom_gcn``)."""
    name = entry.folder.lower()
    # PyG expects the split files flat inside raw/
    split_files = [f for f in entry.files if f.startswith("splits/")]
    link_tree(raw_dir / "splits", [Path(f).name for f in split_files], work_dir / "raw")
    if name in WEBKB:
        ds = WebKB(str(work_dir.parent), name=name)       # <root>/<name>/raw, <root>/<name>/processed
    elif name in ACTOR:
        ds = Actor(str(work_dir))                          # <root>/raw, <root>/processed
    else:
        raise ValueError(f"graphkit.data: geom_gcn loader knows {list(WEBKB + ACTOR)}; got "
                         f"{entry.folder!r}")
    full = ds[0]
    edge_index = full.edge_index
    if undirected:
        edge_index = to_undirected(edge_index, num_nodes=full.num_nodes)
    data = Data(x=full.x, edge_index=edge_index, y=full.y)
    spec = TaskSpec(name=entry.name, task="node", kind="multiclass", metric=entry.metric,
                    protocol="geom_gcn", num_features=ds.num_features,
                    num_outputs=int(full.y.max()) + 1,
                    splits=masks_to_splits(full.train_mask, full.val_mask, full.test_mask),
                    extra={"undirected": undirected})
    return data, spec

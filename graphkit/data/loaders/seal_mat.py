"""SEAL / WalkPool link-prediction networks stored as MATLAB ``.mat`` files.

``<Name>.mat`` holds ``net``, a symmetric sparse adjacency; ``splits_test<r>/<Name>_split_<i>.mat``
(``i`` = 1..10) hold SEAL's fixed splits with keys ``train_pos``, ``train_neg``, ``test_pos``,
``test_neg``: ``(m, 2)`` arrays of **1-based** node ids, shifted to 0-based here. Each split is
checked: ids inside the graph, ``train_pos`` and ``test_pos`` disjoint and together equal to the
edge set of ``net``.

From `"Link Prediction Based on Graph Neural Networks" <https://arxiv.org/abs/1802.09691>`_
(SEAL) and `"Neural Link Prediction with Walk Pooling" <https://arxiv.org/abs/2110.04375>`_.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from graphkit._checks import check_choice
from graphkit.data.catalogue import Entry
from graphkit.data.loaders.base import register
from graphkit.data.spec import TaskSpec

RATIOS = {0.1: "splits_test0.1", 0.5: "splits_test0.5"}
KEYS = ("train_pos", "train_neg", "test_pos", "test_neg")
FORMAT = 1          # bump when the processed layout changes


def _edge_keys(edges: Tensor, num_nodes: int) -> Tensor:
    """Undirected edge id ``min * N + max`` per column of a ``(2, E)`` tensor."""
    lo, hi = edges.min(0).values, edges.max(0).values
    return lo * num_nodes + hi


def read_net(path: Path) -> tuple[Tensor, int]:
    """Undirected edges (each once, ``row < col``) and node count of a ``.mat`` ``net``."""
    mat = scipy.io.loadmat(str(path))
    if "net" not in mat:
        raise ValueError(f"graphkit.data: {path} has no 'net' variable; found "
                         f"{sorted(k for k in mat if not k.startswith('__'))}")
    net = sp.coo_matrix(mat["net"])
    if net.shape[0] != net.shape[1]:
        raise ValueError(f"graphkit.data: 'net' in {path} must be square; got {net.shape}")
    keep = net.row < net.col
    sym = (net - net.T).count_nonzero() == 0 if net.nnz else True
    if not sym:                                     # fold in edges stored one way only
        net = sp.coo_matrix(net + net.T)
        keep = net.row < net.col
    n = int(net.shape[0])
    row = torch.from_numpy(net.row[keep].astype(np.int64))
    col = torch.from_numpy(net.col[keep].astype(np.int64))
    key = torch.unique(row * n + col)               # sorted, duplicates dropped
    return torch.stack([key // n, key % n]), n


def read_split(path: Path, num_nodes: int, edge_keys: Tensor) -> dict[str, Tensor]:
    """One split file -> ``(2, m)`` 0-based long tensors, checked against the full edge set."""
    mat = scipy.io.loadmat(str(path))
    missing = [k for k in KEYS if k not in mat]
    if missing:
        raise ValueError(f"graphkit.data: split file {path} lacks {missing}")
    out = {}
    for k in KEYS:
        arr = np.asarray(mat[k]).astype(np.int64)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"graphkit.data: {path}['{k}'] must be (m, 2); got {arr.shape}")
        t = torch.from_numpy(arr).t().contiguous() - 1          # 1-based -> 0-based
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= num_nodes):
            raise ValueError(f"graphkit.data: {path}['{k}'] holds 1-based ids in "
                             f"[{int(t.min()) + 1}, {int(t.max()) + 1}] outside 1..{num_nodes}")
        out[k] = t
    tr, te = _edge_keys(out["train_pos"], num_nodes), _edge_keys(out["test_pos"], num_nodes)
    union = torch.cat([tr, te])
    if union.unique().numel() != union.numel():
        raise ValueError(f"graphkit.data: {path}: train_pos and test_pos overlap or repeat edges")
    if union.numel() != edge_keys.numel() or not torch.equal(union.sort().values, edge_keys):
        raise ValueError(f"graphkit.data: {path}: train_pos + test_pos ({union.numel()} edges) "
                         f"differ from the {edge_keys.numel()} edges of the network")
    return out


@register("seal_mat", {"mat_name": None, "split_ratio": 0.1})
def load_seal_mat(entry: Entry, raw_dir: Path, work_dir: Path, mat_name: str | None = None,
                  split_ratio: float = 0.1) -> tuple[Data, TaskSpec]:
    """A featureless network plus its 10 fixed splits for ``split_ratio`` (0.1 or 0.5).

    The returned ``Data`` has ``x=None`` and ``edge_index`` = **all** edges in both directions.
    Models must pass only ``train_pos`` edges (both directions) to message passing, never the
    full ``edge_index`` (``spec.extra["message_passing"] == "train_pos"``); the splits have no
    validation part, the trainer carves it out of ``train_pos`` / ``train_neg``.
    """
    check_choice(entry.name, "split_ratio", split_ratio, RATIOS)
    name = mat_name or entry.folder
    cached = work_dir / f"seal_{RATIOS[split_ratio]}_v{FORMAT}.pt"
    if cached.is_file():
        blob = torch.load(cached, weights_only=True)
    else:
        edges, n = read_net(raw_dir / f"{name}.mat")
        keys = _edge_keys(edges, n).sort().values
        splits = [read_split(raw_dir / RATIOS[split_ratio] / f"{name}_split_{i}.mat", n, keys)
                  for i in range(1, 11)]
        blob = {"edges": edges, "num_nodes": torch.tensor(n), "splits": splits}
        tmp = cached.with_suffix(".tmp")
        torch.save(blob, tmp)
        tmp.replace(cached)
    n = int(blob["num_nodes"])
    data = Data(x=None, edge_index=to_undirected(blob["edges"], num_nodes=n), num_nodes=n)
    spec = TaskSpec(name=entry.name, task="link", kind="binary", metric=entry.metric,
                    protocol="seal_fixed", num_features=0, num_outputs=1,
                    splits=[dict(s) for s in blob["splits"]],
                    extra={"message_passing": "train_pos", "split_ratio": split_ratio,
                           "num_undirected_edges": int(blob["edges"].size(1)),
                           "featureless": True})
    return data, spec

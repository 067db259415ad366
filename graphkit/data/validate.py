"""Input validation shared by the dataset loaders and the trainer."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data, Dataset, InMemoryDataset

from graphkit._checks import check_choice, check_edge_index, check_finite
from graphkit.data.spec import TASKS, TaskSpec

OWNER = "validate_graph"


def _check_graph(data: Data, task: str, owner: str, labelled: bool) -> None:
    num_nodes = data.num_nodes
    if num_nodes is None or num_nodes == 0:
        raise ValueError(f"{owner}: the graph is empty (0 nodes); a {task} task needs at least "
                         f"one node")
    edge_index = getattr(data, "edge_index", None)
    if edge_index is None:
        raise ValueError(f"{owner}: the graph has no 'edge_index'; pass an empty "
                         f"torch.empty(2, 0, dtype=torch.long) for a graph without edges")
    check_edge_index(owner, edge_index, num_nodes)
    x = getattr(data, "x", None)
    if x is not None:
        if not isinstance(x, Tensor):
            raise TypeError(f"{owner}: 'x' must be a torch.Tensor; got {type(x).__name__}")
        if x.size(0) != num_nodes:
            raise ValueError(f"{owner}: 'x' has {x.size(0)} rows but the graph has {num_nodes} "
                             f"nodes; pass one feature row per node")
        check_finite(owner, "x", x)
    edge_attr = getattr(data, "edge_attr", None)
    if isinstance(edge_attr, Tensor):
        if edge_attr.size(0) != edge_index.size(1):
            raise ValueError(f"{owner}: 'edge_attr' has {edge_attr.size(0)} rows but "
                             f"'edge_index' has {edge_index.size(1)} edges")
        check_finite(owner, "edge_attr", edge_attr)
    if labelled:
        y = getattr(data, "y", None)
        if y is None:
            raise ValueError(f"{owner}: a {task} task needs labels but the graph has no 'y'")
        if not isinstance(y, Tensor):
            raise TypeError(f"{owner}: 'y' must be a torch.Tensor; got {type(y).__name__}")
        if task == "node" and y.size(0) != num_nodes:
            raise ValueError(f"{owner}: 'y' has {y.size(0)} entries but the graph has "
                             f"{num_nodes} nodes; a node task needs one label per node")
        if y.is_floating_point() and bool(torch.isinf(y).any()):
            raise ValueError(f"{owner}: 'y' holds inf values (NaN marks a missing label; inf "
                             f"is never valid)")


def _check_collated(ds: InMemoryDataset, owner: str) -> None:
    """Vectorised checks on an InMemoryDataset's collated storage (ids are graph-local)."""
    store, slices = ds._data, ds.slices
    num_graphs = len(ds)
    if num_graphs == 0:
        raise ValueError(f"{owner}: the dataset holds 0 graphs")
    if "x" in slices and getattr(store, "x", None) is not None:
        counts = slices["x"].diff()
    else:
        counts = torch.tensor([ds.get(i).num_nodes for i in range(num_graphs)])
    if bool((counts == 0).any()):
        bad = int(torch.nonzero(counts == 0)[0])
        raise ValueError(f"{owner}: graph {bad} is empty (0 nodes)")
    edge_index = store.edge_index
    check_edge_index(owner, edge_index, None)
    if edge_index.numel() > 0:
        per_edge = torch.repeat_interleave(counts, slices["edge_index"].diff())
        bad = (edge_index < 0).any(0) | (edge_index >= per_edge).any(0)
        if bool(bad.any()):
            k = int(torch.nonzero(bad)[0])
            g = int(torch.searchsorted(slices["edge_index"], torch.tensor(k), right=True)) - 1
            raise ValueError(f"{owner}: graph {g} has an edge {edge_index[:, k].tolist()} "
                             f"outside its {int(counts[g])} nodes")
    if getattr(store, "x", None) is not None:
        check_finite(owner, "x", store.x)
    if getattr(store, "y", None) is None:
        raise ValueError(f"{owner}: a graph task needs labels but the dataset has no 'y'")


def _check_splits(spec: TaskSpec, num_items: int, owner: str) -> None:
    for i, split in enumerate(spec.splits):
        for key, idx in split.items():
            where = f"splits[{i}][{key!r}]"
            if spec.task == "link":
                check_edge_index(owner, idx, num_items, name=where)
            else:
                if not isinstance(idx, Tensor) or idx.dtype != torch.long or idx.dim() != 1:
                    raise ValueError(f"{owner}: {where} must be a 1-D long index tensor; got "
                                     f"{getattr(idx, 'dtype', type(idx).__name__)}")
                if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= num_items):
                    raise ValueError(f"{owner}: {where} holds ids in [{int(idx.min())}, "
                                     f"{int(idx.max())}] but there are {num_items} items")


def validate_graph(data: Data | Dataset, task: str | TaskSpec,
                   owner: str | None = None) -> Data | Dataset:
    """Check a graph (or a graph data set) before training and return it unchanged.

    Checks: ``edge_index`` is a ``(2, E)`` long tensor with ids inside the graph
    (:func:`~graphkit._checks.check_edge_index`); ``x`` / ``edge_attr`` are finite
    (:func:`~graphkit._checks.check_finite`) with one row per node / edge; the graph is not empty;
    node and graph tasks carry labels ``y`` (one per node for node tasks). With a
    :class:`TaskSpec`, split indices are also checked to lie inside the graph / data set.

    Args:
        data (Data or Dataset): a ``Data`` for node / link tasks, a ``Dataset`` for graph tasks.
        task (str or TaskSpec): ``"node"``, ``"link"``, ``"graph"`` or a full spec.
        owner (str, optional): name used in error messages. (default: ``"validate_graph"``)

    Raises:
        ValueError / TypeError naming the bad field, what was found and what is needed.
    """
    owner = owner or OWNER
    spec = task if isinstance(task, TaskSpec) else None
    task_name = spec.task if spec is not None else task
    check_choice(owner, "task", task_name, TASKS)
    if isinstance(data, InMemoryDataset) and getattr(data, "slices", None) is not None \
            and "edge_index" in data.slices:
        _check_collated(data, owner)
        if data.transform is not None:       # the transform's output, checked on one graph
            _check_graph(data[0], task_name, f"{owner} (graph 0 after transform)", labelled=True)
        n_items = len(data)
    elif isinstance(data, Dataset):
        if len(data) == 0:
            raise ValueError(f"{owner}: the dataset holds 0 graphs")
        for i in range(len(data)):           # generic datasets: no collated storage to use
            _check_graph(data[i], task_name, f"{owner} (graph {i})", labelled=True)
        n_items = len(data)
    elif isinstance(data, Data):
        _check_graph(data, task_name, owner, labelled=task_name != "link")
        n_items = data.num_nodes
    else:
        raise TypeError(f"{owner}: 'data' must be a torch_geometric Data or Dataset; got "
                        f"{type(data).__name__}")
    if spec is not None:
        _check_splits(spec, n_items, owner)
    return data


def describe(data: Any) -> dict[str, Any]:
    """Small summary of a loaded object (used by :func:`graphkit.data.info`)."""
    if isinstance(data, Dataset):
        n = len(data)
        nodes = edges = 0
        if isinstance(data, InMemoryDataset) and data.slices is not None and "edge_index" in data.slices:
            edges = int(data._data.edge_index.size(1))
            nodes = int(data.slices["x"][-1]) if "x" in data.slices else \
                sum(data.get(i).num_nodes for i in range(n))
        else:
            for i in range(n):
                g = data[i]
                nodes, edges = nodes + g.num_nodes, edges + g.num_edges
        return {"num_graphs": n, "num_nodes": nodes, "num_edges": edges,
                "num_features": data.num_features}
    return {"num_nodes": data.num_nodes, "num_edges": data.num_edges,
            "num_features": 0 if data.x is None else data.x.size(-1)}

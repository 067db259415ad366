r"""PyG-compatible ``NeighborLoader`` / ``LinkNeighborLoader`` on graphkit's sampler.

Same signatures as :class:`torch_geometric.loader.NeighborLoader` and
:class:`torch_geometric.loader.LinkNeighborLoader`, plus ``backend=`` and ``num_layers=``; they
are thin :class:`~torch_geometric.loader.NodeLoader` / :class:`~torch_geometric.loader.LinkLoader`
subclasses that build a :class:`~graphkit.sampling.GraphkitNeighborSampler`, so they work with
torch + torch-geometric alone (PyG's own loaders raise ``ImportError`` without pyg-lib or
torch-sparse).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch_geometric.data import Data, HeteroData
from torch_geometric.loader import LinkLoader, NodeLoader
from torch_geometric.sampler import NegativeSampling
from torch_geometric.typing import InputEdges, InputNodes, OptTensor

from graphkit.sampling.sampler import GraphkitNeighborSampler

__all__ = ["LinkNeighborLoader", "NeighborLoader"]


def _sampler(data, num_neighbors, neighbor_sampler, kwargs, **kw) -> GraphkitNeighborSampler:
    if neighbor_sampler is not None:
        return neighbor_sampler
    return GraphkitNeighborSampler(data, num_neighbors,
                                   share_memory=kwargs.get("num_workers", 0) > 0, **kw)


class NeighborLoader(NodeLoader):
    r"""Mini-batches of seed nodes with their sampled :math:`L`-hop neighborhoods (GraphSAGE,
    `"Inductive Representation Learning on Large Graphs" <https://arxiv.org/abs/1706.02216>`_).

    Each batch is a :class:`~torch_geometric.data.Data` / :class:`~torch_geometric.data.HeteroData`
    whose first ``batch_size`` nodes are the seeds, with ``n_id``, ``e_id``, ``input_id``,
    ``num_sampled_nodes`` and ``num_sampled_edges`` (and ``batch``, ``seed_time`` when disjoint /
    temporal), exactly as PyG's ``NeighborLoader`` yields.

    Args:
        data (Data or HeteroData): the graph.
        num_neighbors (List[int] or Dict[EdgeType, List[int]]): fan-outs per hop.
        input_nodes: seed nodes (index or mask; ``(node_type, index)`` for hetero).
        input_time (Tensor, optional): seed times (needs ``time_attr``).
        backend (str): sampling backend, see :class:`GraphkitNeighborSampler`.
            (default: ``"torch"``)
        num_layers (int, optional): check that ``num_neighbors`` has this many hops.
        **kwargs: ``batch_size``, ``shuffle``, ``num_workers``, ... of
            :class:`torch.utils.data.DataLoader`.

    Example:
        >>> loader = NeighborLoader(data, [15, 10], input_nodes=data.train_mask,
        ...                         batch_size=1024, shuffle=True)
        >>> batch = next(iter(loader))   # batch.x[:batch.batch_size] are the seeds
    """

    def __init__(
        self,
        data: Data | HeteroData,
        num_neighbors: list[int] | dict[Any, list[int]],
        input_nodes: InputNodes = None,
        input_time: OptTensor = None,
        replace: bool = False,
        subgraph_type: str = "directional",
        disjoint: bool = False,
        temporal_strategy: str = "uniform",
        time_attr: str | None = None,
        weight_attr: str | None = None,
        transform: Callable | None = None,
        transform_sampler_output: Callable | None = None,
        is_sorted: bool = False,
        filter_per_worker: bool | None = None,
        neighbor_sampler: GraphkitNeighborSampler | None = None,
        backend: str = "torch",
        num_layers: int | None = None,
        **kwargs: Any,
    ) -> None:
        if input_time is not None and time_attr is None and neighbor_sampler is None:
            raise ValueError("NeighborLoader: 'input_time' is set but 'time_attr' is not; name "
                             "the node/edge time attribute with time_attr=... for temporal "
                             "sampling")
        sampler = _sampler(data, num_neighbors, neighbor_sampler, kwargs, replace=replace,
                           subgraph_type=subgraph_type, disjoint=disjoint,
                           temporal_strategy=temporal_strategy, time_attr=time_attr,
                           weight_attr=weight_attr, is_sorted=is_sorted, backend=backend,
                           num_layers=num_layers)
        super().__init__(data=data, node_sampler=sampler, input_nodes=input_nodes,
                         input_time=input_time, transform=transform,
                         transform_sampler_output=transform_sampler_output,
                         filter_per_worker=filter_per_worker, **kwargs)
        sampler._check_ids("input_nodes", self.input_data.node, self.input_data.input_type)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.node_sampler!r})"


class LinkNeighborLoader(LinkLoader):
    r"""Mini-batches of seed links (plus negatives) with the sampled neighborhoods of their
    endpoints, as PyG's :class:`~torch_geometric.loader.LinkNeighborLoader`: batches carry
    ``edge_label_index`` (local), ``edge_label`` (1 / 0 for ``neg_sampling="binary"``) or
    ``src_index`` / ``dst_pos_index`` / ``dst_neg_index`` (``"triplet"``), ``input_id`` and, when
    temporal, ``seed_time``.

    Args:
        data (Data or HeteroData): the graph (message-passing edges).
        num_neighbors (List[int] or Dict[EdgeType, List[int]]): fan-outs per hop.
        edge_label_index: seed links ``(2, B)`` (``(edge_type, index)`` for hetero).
        edge_label (Tensor, optional): labels of the seed links.
        edge_label_time (Tensor, optional): time of each seed link (needs ``time_attr``).
        neg_sampling (NegativeSampling, optional): ``binary`` or ``triplet`` negatives.
        neg_sampling_ratio (float, optional): shorthand for binary negatives.
        backend (str): see :class:`GraphkitNeighborSampler`. (default: ``"torch"``)
        **kwargs: :class:`torch.utils.data.DataLoader` arguments.

    Example:
        >>> loader = LinkNeighborLoader(data, [10, 5], edge_label_index=train_pos,
        ...                             neg_sampling="binary", batch_size=512, shuffle=True)
    """

    def __init__(
        self,
        data: Data | HeteroData,
        num_neighbors: list[int] | dict[Any, list[int]],
        edge_label_index: InputEdges = None,
        edge_label: OptTensor = None,
        edge_label_time: OptTensor = None,
        replace: bool = False,
        subgraph_type: str = "directional",
        disjoint: bool = False,
        temporal_strategy: str = "uniform",
        neg_sampling: NegativeSampling | None = None,
        neg_sampling_ratio: float | None = None,
        time_attr: str | None = None,
        weight_attr: str | None = None,
        transform: Callable | None = None,
        transform_sampler_output: Callable | None = None,
        is_sorted: bool = False,
        filter_per_worker: bool | None = None,
        neighbor_sampler: GraphkitNeighborSampler | None = None,
        backend: str = "torch",
        num_layers: int | None = None,
        **kwargs: Any,
    ) -> None:
        if neighbor_sampler is None and (edge_label_time is not None) != (time_attr is not None):
            raise ValueError("LinkNeighborLoader: 'edge_label_time' and 'time_attr' go together "
                             f"for temporal sampling; got edge_label_time "
                             f"{'set' if edge_label_time is not None else 'unset'} and "
                             f"time_attr={time_attr!r}")
        sampler = _sampler(data, num_neighbors, neighbor_sampler, kwargs, replace=replace,
                           subgraph_type=subgraph_type, disjoint=disjoint,
                           temporal_strategy=temporal_strategy, time_attr=time_attr,
                           weight_attr=weight_attr, is_sorted=is_sorted, backend=backend,
                           num_layers=num_layers)
        super().__init__(data=data, link_sampler=sampler, edge_label_index=edge_label_index,
                         edge_label=edge_label, edge_label_time=edge_label_time,
                         neg_sampling=neg_sampling, neg_sampling_ratio=neg_sampling_ratio,
                         transform=transform, transform_sampler_output=transform_sampler_output,
                         filter_per_worker=filter_per_worker, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.link_sampler!r})"

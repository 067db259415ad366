r"""``GraphkitNeighborSampler``: PyG's ``BaseSampler`` over graphkit's pure-PyTorch kernels.

It plugs into :class:`torch_geometric.loader.NodeLoader` and
:class:`torch_geometric.loader.LinkLoader` and returns the
:class:`~torch_geometric.sampler.SamplerOutput` /
:class:`~torch_geometric.sampler.HeteroSamplerOutput` that pyg-lib's sampler returns (seeds
first, ``row``/``col`` local, ``edge`` ids, ``num_sampled_nodes/edges`` per hop, ``batch`` when
disjoint), so the batches carry the ``n_id``, ``e_id``, ``batch_size``, ``input_id``,
``num_sampled_nodes`` and ``num_sampled_edges`` PyG users know. It needs neither pyg-lib nor
torch-sparse and samples on whatever device the graph is on.
"""
from __future__ import annotations

import warnings
from typing import Any

import torch
import torch_geometric.typing as pyg_typing
from torch import Tensor
from torch_geometric.data import Data, HeteroData
from torch_geometric.sampler import (
    BaseSampler,
    EdgeSamplerInput,
    HeteroSamplerOutput,
    NegativeSampling,
    NodeSamplerInput,
    SamplerOutput,
)
from torch_geometric.sampler.base import NumNeighbors, SubgraphType
from torch_geometric.sampler.neighbor_sampler import edge_sample, node_sample

from graphkit._checks import check_choice, check_type
from graphkit.registry import SAMPLERS
from graphkit.sampling.csr import CSC
from graphkit.sampling.neighbor import hetero_neighbor_sample

__all__ = ["GraphkitNeighborSampler", "available_backends"]

_N = "_N"                      # node type used for homogeneous graphs
_E = (_N, "_to", _N)           # edge type used for homogeneous graphs
BACKENDS = ("auto", "torch", "pyg-lib", "torch-sparse")


def available_backends() -> list[str]:
    """The sampling backends usable in this environment (``torch`` always is)."""
    out = ["torch"]
    if pyg_typing.WITH_PYG_LIB:
        out.append("pyg-lib")
    if pyg_typing.WITH_TORCH_SPARSE:
        out.append("torch-sparse")
    return out


def _parse_fanouts(owner: str, num_neighbors: Any, edge_types: list, hetero: bool,
                   num_layers: int | None) -> dict:
    default = None
    if isinstance(num_neighbors, NumNeighbors):
        num_neighbors, default = num_neighbors.values, num_neighbors.default
    if isinstance(num_neighbors, (list, tuple)):
        out = {et: list(num_neighbors) for et in edge_types}
    elif isinstance(num_neighbors, dict):
        if not hetero:
            raise ValueError(f"{owner}: 'num_neighbors' is a dict per edge type but the graph is "
                             f"homogeneous (Data); pass a list such as [15, 10]")
        given = {tuple(k.split("__")) if isinstance(k, str) else tuple(k): v
                 for k, v in num_neighbors.items()}
        unknown = [k for k in given if k not in edge_types]
        if unknown:
            raise ValueError(f"{owner}: 'num_neighbors' names edge types that are not in the "
                             f"graph: {unknown}; known edge types: {edge_types}")
        out = {}
        for et in edge_types:
            if et in given:
                out[et] = list(given[et])
            elif default is not None:
                out[et] = list(default)
            else:
                raise ValueError(f"{owner}: 'num_neighbors' has no fan-outs for edge type {et}; "
                                 f"give one list per edge type (or a NumNeighbors default)")
    else:
        raise TypeError(f"{owner}: 'num_neighbors' must be a list of ints (one per hop) or a "
                        f"dict edge type -> list; got {type(num_neighbors).__name__}")
    for et, v in out.items():
        if not all(isinstance(x, int) and not isinstance(x, bool) and x >= -1 for x in v):
            raise ValueError(f"{owner}: fan-outs must be ints >= -1 (-1 = all neighbors); "
                             f"got {v}" + (f" for edge type {et}" if hetero else ""))
    hops = {len(v) for v in out.values()}
    if len(hops) > 1:
        raise ValueError(f"{owner}: every edge type needs the same number of hops; got fan-out "
                         f"lists of lengths {sorted(hops)}: {out}")
    n_hops = hops.pop() if hops else 0
    if num_layers is not None and n_hops != num_layers:
        raise ValueError(f"{owner}: 'num_neighbors' has {n_hops} hops but the model has "
                         f"num_layers={num_layers}; give one fan-out per layer")
    return out


@SAMPLERS.register("neighbor")
class GraphkitNeighborSampler(BaseSampler):
    r"""Neighbor sampler of GraphSAGE (`"Inductive Representation Learning on Large Graphs"
    <https://arxiv.org/abs/1706.02216>`_) in vectorised PyTorch, a drop-in for PyG's
    :class:`~torch_geometric.sampler.NeighborSampler`.

    Hop :math:`\ell` draws for every frontier node :math:`v` a set
    :math:`S_\ell(v) \subseteq \mathcal{N}_{\mathrm{in}}(v)`, :math:`|S_\ell(v)| =
    \min(k_\ell, |\mathcal{N}_{\mathrm{in}}(v)|)`, uniformly (or with probability
    :math:`\propto w_{uv}`), restricted to :math:`\{u : t_u \le t_{\mathrm{seed}}\}` when
    temporal. See :mod:`graphkit.sampling.neighbor` for the kernels.

    Args:
        data (Data or HeteroData): the graph (its ``edge_index`` device is the sampling device).
        num_neighbors (List[int] or Dict[EdgeType, List[int]]): fan-out per hop (``-1``: all).
        subgraph_type (str): ``"directional"`` (the sampled edges), ``"bidirectional"`` (plus their
            reverses) or ``"induced"`` (every edge among the sampled nodes).
            (default: ``"directional"``)
        replace (bool): sample with replacement. (default: :obj:`False`)
        disjoint (bool): one subgraph per seed (forced by temporal sampling). (default: :obj:`False`)
        temporal_strategy (str): ``"uniform"`` or ``"last"`` (most recent). (default: ``"uniform"``)
        time_attr (str, optional): node- or edge-level time attribute; neighbors must have time
            :math:`\le` the seed time. (default: :obj:`None`)
        weight_attr (str, optional): edge attribute to sample by. (default: :obj:`None`)
        is_sorted (bool): edges already sorted by destination (and time). (default: :obj:`False`)
        share_memory (bool): move the CPU layout to shared memory (for workers).
        backend (str): ``"torch"`` (graphkit), ``"pyg-lib"`` / ``"torch-sparse"`` (delegate to
            PyG's own sampler, which needs that library), or ``"auto"`` (pyg-lib when installed,
            else ``"torch"``). (default: ``"torch"``)
        device (torch.device, optional): where to keep the layout and sample; the sampled ids
            are moved back to the device of ``edge_index`` (where PyG gathers the features).
            (default: the device of ``edge_index``)
        num_layers (int, optional): if given, ``num_neighbors`` must have this many hops.

    .. note::
        One instance reuses a node-id buffer across batches, so it must not be called from
        several threads at once; :class:`~torch.utils.data.DataLoader` worker processes each
        hold their own copy, which is fine.

    Shapes:
        - **input:** :class:`~torch_geometric.sampler.NodeSamplerInput` with :math:`B` seeds
        - **output:** ``node`` :math:`(B + \sum_\ell n_\ell,)`, ``row``/``col``/``edge``
          :math:`(\sum_\ell e_\ell,)`; :math:`n_\ell, e_\ell` in ``num_sampled_nodes/edges``

    Example:
        >>> from torch_geometric.loader import NodeLoader
        >>> sampler = GraphkitNeighborSampler(data, num_neighbors=[15, 10])
        >>> loader = NodeLoader(data, node_sampler=sampler, input_nodes=idx, batch_size=1024)
    """

    def __init__(
        self,
        data: Data | HeteroData,
        num_neighbors: list[int] | dict[Any, list[int]] | NumNeighbors,
        subgraph_type: str | SubgraphType = "directional",
        replace: bool = False,
        disjoint: bool = False,
        temporal_strategy: str = "uniform",
        time_attr: str | None = None,
        weight_attr: str | None = None,
        is_sorted: bool = False,
        share_memory: bool = False,
        backend: str = "torch",
        device: str | torch.device | None = None,
        num_layers: int | None = None,
    ) -> None:
        owner = type(self).__name__
        check_type(owner, "data", data, (Data, HeteroData))
        check_choice(owner, "backend", backend, BACKENDS)
        if isinstance(subgraph_type, SubgraphType):
            subgraph_type = subgraph_type.value
        check_choice(owner, "subgraph_type", subgraph_type,
                     {"directional", "bidirectional", "induced"})
        if subgraph_type == "induced" and (disjoint or time_attr is not None):
            raise ValueError(f"{owner}: subgraph_type='induced' cannot be combined with disjoint "
                             f"or temporal sampling (as in PyG); use 'directional'")
        check_choice(owner, "temporal_strategy", temporal_strategy, {"uniform", "last"})
        if backend == "auto":
            backend = "pyg-lib" if pyg_typing.WITH_PYG_LIB else "torch"
        self.backend = backend
        self.hetero = isinstance(data, HeteroData)
        self.num_neighbors = num_neighbors
        self.subgraph_type, self.replace = subgraph_type, replace
        self._disjoint, self.temporal_strategy = disjoint, temporal_strategy
        self.time_attr, self.weight_attr = time_attr, weight_attr

        if self.hetero:
            self.node_types, self.edge_types = (list(x) for x in data.metadata())
            self.num_nodes = {t: data[t].num_nodes for t in self.node_types}
        else:
            self.node_types, self.edge_types = [_N], [_E]
            self.num_nodes = data.num_nodes
        self._fanouts = _parse_fanouts(owner, num_neighbors, self.edge_types, self.hetero,
                                       num_layers)
        num_nodes_d = self.num_nodes if self.hetero else {_N: self.num_nodes}
        store = (lambda t: data[t]) if self.hetero else (lambda t: data)

        # Time and weight attributes ######################################################
        node_time: dict[str, Tensor] = {}
        edge_time: dict[Any, Tensor] = {}
        if time_attr is not None:
            if not self.hetero:  # node level first, as PyG does when |V| == |E|
                if time_attr in data and data.is_node_attr(time_attr):
                    node_time[_N] = data[time_attr]
                elif time_attr in data and data.is_edge_attr(time_attr):
                    edge_time[_E] = data[time_attr]
            else:
                node_time = {t: data[t][time_attr] for t in self.node_types
                             if time_attr in data[t]}
                edge_time = {et: data[et][time_attr] for et in self.edge_types
                             if time_attr in data[et]}
            if node_time and edge_time:
                raise ValueError(f"{owner}: time attribute {time_attr!r} is stored on both "
                                 f"nodes and edges; keep it on one level")
            if not node_time and not edge_time:
                raise ValueError(f"{owner}: temporal sampling asked (time_attr={time_attr!r}) "
                                 f"but no node or edge attribute of that name exists; "
                                 f"available keys: {sorted(set(data.keys()))}")
        if weight_attr is not None:
            missing = [et for et in self.edge_types if weight_attr not in store(et)]
            if missing:
                raise ValueError(f"{owner}: weight_attr={weight_attr!r} is missing on edge "
                                 f"types {missing}; it must be an edge attribute")
        self._node_time_cpu = ({t: v.cpu() for t, v in node_time.items()} if self.hetero
                               else node_time.get(_N, None))
        self._node_time = node_time
        self._has_time = bool(node_time or edge_time)

        # Delegation to PyG's own sampler ##################################################
        self._delegate = None
        if backend != "torch":
            ok = pyg_typing.WITH_PYG_LIB if backend == "pyg-lib" else pyg_typing.WITH_TORCH_SPARSE
            if not ok:
                raise ImportError(f"{owner}: backend={backend!r} needs the '{backend}' package, "
                                  f"which is not installed; available backends: "
                                  f"{available_backends()} (backend='torch' needs nothing)")
            if backend == "torch-sparse" and pyg_typing.WITH_PYG_LIB:
                warnings.warn(f"{owner}: PyG prefers pyg-lib over torch-sparse when both are "
                              f"installed; backend='torch-sparse' runs pyg-lib", stacklevel=2)
            from torch_geometric.sampler import NeighborSampler
            self._delegate = NeighborSampler(
                data, num_neighbors=num_neighbors, subgraph_type=subgraph_type, replace=replace,
                disjoint=disjoint, temporal_strategy=temporal_strategy, time_attr=time_attr,
                weight_attr=weight_attr, is_sorted=is_sorted, share_memory=share_memory)
            self.device = torch.device("cpu")
            return

        # Layout, built once ###############################################################
        self.csc: dict[Any, CSC] = {}
        for et in self.edge_types:
            st = store(et)
            if "edge_index" not in st:
                raise ValueError(f"{owner}: edge type {et} has no 'edge_index' (SparseTensor "
                                 f"'adj_t' inputs are not supported; convert to edge_index)")
            ei = st.edge_index
            if device is None:
                device = ei.device
            src_t, dst_t = et[0], et[-1]
            self.csc[et] = CSC.from_edge_index(
                ei, num_nodes_d[src_t], num_nodes_d[dst_t],
                src_node_time=node_time.get(src_t), edge_time=edge_time.get(et),
                edge_weight=st[weight_attr] if weight_attr is not None else None,
                is_sorted=is_sorted, device=device, owner=owner)
            if share_memory:
                self.csc[et].share_memory_()
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        # outputs go where the features are (PyG gathers x[node] on the data's device)
        self._data_device = (store(self.edge_types[0]).edge_index.device if self.edge_types
                             else self.device)
        self._num_nodes_d = num_nodes_d
        self._buffers: dict[str, dict[str, Tensor]] = {}
        self._epoch = 0

    # Properties ##########################################################################

    @property
    def is_hetero(self) -> bool:
        return self.hetero

    @property
    def is_temporal(self) -> bool:
        return self._has_time

    @property
    def disjoint(self) -> bool:
        return self._disjoint or self.is_temporal

    @property
    def node_time(self):
        """Node times on the CPU (used by PyG's temporal negative sampling)."""
        return self._node_time_cpu

    @property
    def edge_permutation(self):
        # graphkit's kernels return original edge ids; a delegate returns CSC slots + perm.
        return self._delegate.edge_permutation if self._delegate is not None else None

    # BaseSampler API #####################################################################

    def sample_from_nodes(self, inputs: NodeSamplerInput, **kwargs: Any
                          ) -> SamplerOutput | HeteroSamplerOutput:
        if self._delegate is not None:
            return self._delegate.sample_from_nodes(inputs)
        if self.hetero and inputs.input_type not in self.node_types:
            raise ValueError(f"{type(self).__name__}: seed node type {inputs.input_type!r} is "
                             f"not in the graph; node types: {self.node_types}")
        self._check_ids("seed nodes", inputs.node, inputs.input_type)
        out = node_sample(inputs, self._sample)
        if self.subgraph_type == "bidirectional":
            out = out.to_bidirectional()
        return out

    def sample_from_edges(self, inputs: EdgeSamplerInput,
                          neg_sampling: NegativeSampling | None = None
                          ) -> SamplerOutput | HeteroSamplerOutput:
        if self._delegate is not None:
            return self._delegate.sample_from_edges(inputs, neg_sampling)
        et = inputs.input_type
        if self.hetero and et not in self.edge_types:
            raise ValueError(f"{type(self).__name__}: seed edge type {et!r} is not in the "
                             f"graph; edge types: {self.edge_types}")
        self._check_ids("seed edge sources", inputs.row, et[0] if et else None)
        self._check_ids("seed edge destinations", inputs.col, et[-1] if et else None)
        out = edge_sample(inputs, self._sample, self.num_nodes, self.disjoint,
                          self.node_time, neg_sampling)
        if self.subgraph_type == "bidirectional":
            out = out.to_bidirectional()
        return out

    # Helpers #############################################################################

    def _check_ids(self, what: str, ids: Tensor, node_type: str | None) -> None:
        n = self.num_nodes[node_type] if self.hetero else self.num_nodes
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= n):
            kind = f" of type {node_type!r}" if self.hetero else ""
            raise ValueError(f"{type(self).__name__}: {what} hold ids in [{int(ids.min())}, "
                             f"{int(ids.max())}] but the graph has {n} nodes{kind}; ids must "
                             f"lie in [0, {n - 1}]")

    def _buffers_for(self, device: torch.device) -> tuple[dict[str, Tensor], int]:
        """Dense node-id buffers for non-disjoint batches and this batch's epoch tag."""
        key = str(device)
        if key not in self._buffers or self._epoch >= (1 << 30):
            self._buffers[key] = {t: torch.full((n,), -1, dtype=torch.long, device=device)
                                  for t, n in self._num_nodes_d.items()}
            self._epoch = 0
        self._epoch += 1
        return self._buffers[key], self._epoch

    def _sample(self, seed: Tensor | dict[str, Tensor],
                seed_time: Tensor | dict[str, Tensor] | None = None,
                **kwargs: Any) -> SamplerOutput | HeteroSamplerOutput:
        hetero = isinstance(seed, dict)
        seed_d = seed if hetero else {_N: seed}
        st_d = (seed_time if hetero else {_N: seed_time}) if seed_time is not None else None
        if self.is_temporal and st_d is None:
            st_d = {}
            for t, s in seed_d.items():
                if t not in self._node_time:
                    raise ValueError(
                        f"{type(self).__name__}: temporal sampling needs a time per seed, but "
                        f"seeds of type {t if hetero else 'node'!r} have no "
                        f"{self.time_attr!r} attribute; pass 'input_time' (NodeLoader) or "
                        f"'edge_label_time' (LinkLoader)")
                st_d[t] = self._node_time[t][s.to(self._node_time[t].device)]
        seed_d = {t: s.to(self.device) for t, s in seed_d.items()}
        buffers, epoch = (None, 1) if self.disjoint else self._buffers_for(self.device)
        node, row, col, edge, batch, nsn, nse = hetero_neighbor_sample(
            self.csc, self._num_nodes_d, seed_d, self._fanouts, seed_time=st_d,
            replace=self.replace, disjoint=self.disjoint,
            temporal_strategy=self.temporal_strategy, weighted=self.weight_attr is not None,
            buffers=buffers, epoch=epoch, induced=self.subgraph_type == "induced")
        if self._data_device != self.device:  # e.g. sampled on the GPU, features on the CPU
            node, row, col, edge = ({k: v.to(self._data_device) for k, v in d.items()}
                                    for d in (node, row, col, edge))
            batch = {k: v.to(self._data_device) for k, v in batch.items()} if batch else batch
        if hetero:
            return HeteroSamplerOutput(node=node, row=row, col=col, edge=edge, batch=batch,
                                       num_sampled_nodes=nsn, num_sampled_edges=nse)
        return SamplerOutput(node=node[_N], row=row[_E], col=col[_E], edge=edge[_E],
                             batch=batch[_N] if batch is not None else None,
                             num_sampled_nodes=nsn[_N],
                             num_sampled_edges=nse[_E] if nse is not None else None)

    def __repr__(self) -> str:
        extra = "".join([
            f", time_attr={self.time_attr!r}" if self.time_attr else "",
            f", weight_attr={self.weight_attr!r}" if self.weight_attr else "",
            ", replace=True" if self.replace else "",
            ", disjoint=True" if self.disjoint else "",
            f", subgraph_type={self.subgraph_type!r}" if self.subgraph_type != "directional" else "",
        ])
        return (f"{type(self).__name__}(num_neighbors={self.num_neighbors}, "
                f"backend={self.backend!r}, device={self.device}{extra})")

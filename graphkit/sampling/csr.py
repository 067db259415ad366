r"""Compressed adjacency built once per graph (or per edge type) for vectorised sampling.

:class:`CSC` groups the edges by **destination** (``colptr`` indexed by destination node,
``row`` holds the source of every slot), which is what neighbor sampling needs: the
neighbors of a seed are the sources of its in-edges, exactly as in PyG's samplers
(``torch_geometric.sampler.utils.to_csc``). Within one destination the slots keep the
input edge order (stable sort), or are sorted by time when a time is given, so that the
neighbors a seed may see at time :math:`t` form a prefix of its slot range.

Temporal look-up is one global binary search: every slot gets the key
:math:`\mathrm{key}_e = \mathrm{dst}_e \cdot (R + 1) + r(t_e)`, where :math:`r(t)` is the
number of distinct time values :math:`\le t` (:math:`R` values in all). The slots of
destination :math:`v` whose time is :math:`\le s` end at
``searchsorted(key, v * (R + 1) + r(s), right=True)``.

:func:`build_csr` gives the out-neighbor layout (``rowptr`` by source, ``col`` sorted within
each row) used by the random walkers, where the sorted columns also answer "is ``(u, v)``
an edge?" with one ``searchsorted`` on ``u * N + v``.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor

from graphkit._checks import check_edge_index, check_finite

__all__ = ["CSC", "build_csr", "ptr_from_sorted"]


def ptr_from_sorted(index: Tensor, size: int) -> Tensor:
    """Pointer vector ``(size + 1,)`` of a sorted index vector (``torch.bucketize``-free)."""
    counts = torch.bincount(index, minlength=size) if index.numel() else \
        torch.zeros(size, dtype=torch.long, device=index.device)
    ptr = torch.zeros(size + 1, dtype=torch.long, device=index.device)
    torch.cumsum(counts, 0, out=ptr[1:])
    return ptr


@dataclass
class CSC:
    r"""Destination-grouped adjacency of one (edge type of a) graph.

    Args:
        colptr (Tensor): :math:`(|\mathcal{V}_{dst}| + 1,)` slot ranges per destination.
        row (Tensor): :math:`(|\mathcal{E}|,)` source node of each slot.
        perm (Tensor): :math:`(|\mathcal{E}|,)` original edge id of each slot.
        num_src (int): number of source nodes.
        time_key (Tensor, optional): :math:`(|\mathcal{E}|,)` sorted temporal keys (see module).
        time_values (Tensor, optional): :math:`(R,)` sorted distinct time values.
        weight (Tensor, optional): :math:`(|\mathcal{E}|,)` float64 sampling weight per slot.
        cum_weight (Tensor, optional): :math:`(|\mathcal{E}| + 1,)` exclusive prefix sum of
            ``weight`` (for sampling with replacement by inverse CDF).
    """

    colptr: Tensor
    row: Tensor
    perm: Tensor
    num_src: int
    time_key: Tensor | None = None
    time_values: Tensor | None = None
    weight: Tensor | None = None
    cum_weight: Tensor | None = None

    @property
    def num_dst(self) -> int:
        return self.colptr.numel() - 1

    @property
    def num_edges(self) -> int:
        return self.row.numel()

    @property
    def device(self) -> torch.device:
        return self.colptr.device

    @property
    def is_temporal(self) -> bool:
        return self.time_key is not None

    def to(self, device: torch.device | str) -> CSC:
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        return CSC(**{k: (v.to(device) if isinstance(v, Tensor) else v) for k, v in kw.items()})

    def share_memory_(self) -> CSC:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Tensor) and not v.is_cuda:
                v.share_memory_()
        return self

    @classmethod
    def from_edge_index(
        cls,
        edge_index: Tensor,
        num_src: int,
        num_dst: int,
        *,
        src_node_time: Tensor | None = None,
        edge_time: Tensor | None = None,
        edge_weight: Tensor | None = None,
        is_sorted: bool = False,
        device: torch.device | str | None = None,
        owner: str = "CSC",
    ) -> CSC:
        r"""Build the layout from a ``(2, E)`` ``edge_index`` (row 0 = source).

        Args:
            edge_index (Tensor): :math:`(2, |\mathcal{E}|)` edges, source first.
            num_src (int), num_dst (int): numbers of source / destination nodes.
            src_node_time (Tensor, optional): :math:`(|\mathcal{V}_{src}|,)` node times; slots
                are sorted by the time of their source node.
            edge_time (Tensor, optional): :math:`(|\mathcal{E}|,)` edge times (exclusive with
                ``src_node_time``).
            edge_weight (Tensor, optional): :math:`(|\mathcal{E}|,)` non-negative weights.
            is_sorted (bool): the edges are already sorted by destination (and by time within a
                destination when a time is given); skips the sort. (default: :obj:`False`)
            device: where to build and keep the layout. (default: ``edge_index.device``)
        """
        check_edge_index(owner, edge_index, None)
        device = torch.device(device) if device is not None else edge_index.device
        src, dst = edge_index.to(device)
        if src.numel() and (int(src.max()) >= num_src or int(dst.max()) >= num_dst
                            or int(edge_index.min()) < 0):
            raise ValueError(f"{owner}: 'edge_index' holds ids outside [0, {num_src}) x "
                                 f"[0, {num_dst}) (source x destination nodes)")
        if src_node_time is not None and edge_time is not None:
            raise ValueError(f"{owner}: pass either a node time or an edge time, not both")

        time = None
        if src_node_time is not None:
            time = src_node_time.to(device)[src]
        elif edge_time is not None:
            time = edge_time.to(device).view(-1)
            if time.numel() != src.numel():
                raise ValueError(f"{owner}: edge time has {time.numel()} entries but there are "
                                 f"{src.numel()} edges")
        if time is not None:
            check_finite(owner, "time", time)

        time_values = time_key = None
        if time is not None:
            time_values = torch.unique(time)  # sorted
            rank = torch.searchsorted(time_values, time.contiguous(), right=True)
            time_key = dst * (time_values.numel() + 1) + rank
            perm = (torch.arange(src.numel(), device=device) if is_sorted
                    else torch.sort(time_key, stable=True).indices)
            time_key = time_key[perm]
        else:
            perm = (torch.arange(src.numel(), device=device) if is_sorted
                    else torch.sort(dst, stable=True).indices)
        row, col = src[perm], dst[perm]
        if is_sorted and col.numel() > 1 and bool((col[1:] < col[:-1]).any()):
            raise ValueError(f"{owner}: 'is_sorted=True' but the edges are not sorted by "
                             f"destination; pass is_sorted=False")
        if time_key is not None and time_key.numel() > 1 and bool((time_key[1:] < time_key[:-1]).any()):
            raise ValueError(f"{owner}: 'is_sorted=True' but the edges are not sorted by time "
                             f"within each destination; pass is_sorted=False")
        colptr = ptr_from_sorted(col, num_dst)

        weight = cum = None
        if edge_weight is not None:
            w = edge_weight.to(device).view(-1)
            if w.numel() != src.numel():
                raise ValueError(f"{owner}: edge weight has {w.numel()} entries but there are "
                                 f"{src.numel()} edges")
            check_finite(owner, "edge weight", w.float())
            if w.numel() and bool((w < 0).any()):
                raise ValueError(f"{owner}: edge weights must be >= 0; got a minimum of "
                                 f"{float(w.min())}")
            weight = w[perm].to(torch.float64)
            cum = torch.zeros(weight.numel() + 1, dtype=torch.float64, device=device)
            torch.cumsum(weight, 0, out=cum[1:])
        return cls(colptr=colptr, row=row.contiguous(), perm=perm, num_src=num_src,
                   time_key=time_key, time_values=time_values, weight=weight, cum_weight=cum)

    def __repr__(self) -> str:
        extra = (", temporal" if self.is_temporal else "") + (", weighted" if self.weight is not None else "")
        return (f"CSC(num_src={self.num_src}, num_dst={self.num_dst}, "
                f"num_edges={self.num_edges}{extra}, device={self.device})")


def build_csr(edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor, Tensor]:
    r"""Out-neighbor layout ``(rowptr, col, perm)`` with ``col`` sorted within every row.

    Args:
        edge_index (Tensor): :math:`(2, |\mathcal{E}|)` edges, source first.
        num_nodes (int): :math:`|\mathcal{V}|`.

    Returns:
        ``rowptr`` :math:`(|\mathcal{V}|+1,)`, ``col`` :math:`(|\mathcal{E}|,)` and ``perm``
        (original edge id of each slot). The slot keys ``src * N + col`` are globally
        sorted, so edge membership is one ``searchsorted``.
    """
    check_edge_index("build_csr", edge_index, num_nodes)
    src, dst = edge_index
    perm = torch.sort(src * num_nodes + dst, stable=True).indices
    return ptr_from_sorted(src[perm], num_nodes), dst[perm].contiguous(), perm

r"""Sparse-dense products for message passing on CPU and GPU: a cached CSR adjacency and its
transpose (:class:`SparseAdj`), and the tensor identity keys that make caching safe.
"""
from __future__ import annotations

import warnings

import torch
from torch import Tensor


def _tensor_key(t: Tensor, extra: tuple) -> tuple:
    # keeps a reference to ``t``: while cached, its memory cannot be reused by a new tensor,
    # so an equal data pointer + shape + version counter means the very same, unmodified data
    return (t, t.data_ptr(), tuple(t.shape), t.stride(), t._version, t.dtype, t.device, extra)


def _same_tensor(key: tuple, t: Tensor, extra: tuple) -> bool:
    return key[1:] == _tensor_key(t, extra)[1:] and key[0]._version == t._version


class SparseAdj:
    r"""A normalised adjacency held as two CSR matrices, :math:`\tilde{\mathbf{P}}` (rows =
    targets) and its transpose, so that :math:`\tilde{\mathbf{P}}\mathbf{x}` and its backward
    are both a CSR sparse-dense product (on CPU several times faster than scatter-based message
    passing; the weights are constants, no gradient flows to them).

    Args:
        edge_index (Tensor): ``(2, E)`` edges, messages flow ``edge_index[0] -> edge_index[1]``.
        edge_weight (Tensor): ``(E,)`` weights.
        num_nodes (int): :math:`|\mathcal{V}|` (targets, the rows of :math:`\tilde{\mathbf{P}}`).
        num_src (int, optional): number of source nodes (columns), for a bipartite graph.
            (default: ``num_nodes``)
    """

    def __init__(self, edge_index: Tensor, edge_weight: Tensor, num_nodes: int,
                 num_src: int | None = None) -> None:
        w = edge_weight.detach()
        self.num_nodes = num_nodes
        num_src = num_nodes if num_src is None else num_src
        with warnings.catch_warnings():  # "CSR support is in beta" / "invariant checks off"
            warnings.simplefilter("ignore", UserWarning)
            self.P = torch.sparse_coo_tensor(edge_index.flip(0), w, (num_nodes, num_src)
                                             ).coalesce().to_sparse_csr()
            self.PT = torch.sparse_coo_tensor(edge_index, w, (num_src, num_nodes)
                                              ).coalesce().to_sparse_csr()

    def matmul(self, x: Tensor) -> Tensor:
        return _SpMM.apply(self.P, self.PT, x)

    def __repr__(self) -> str:
        return f"SparseAdj(num_nodes={self.num_nodes}, nnz={self.P._nnz()})"


class _SpMM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, P: Tensor, PT: Tensor, x: Tensor) -> Tensor:
        ctx.PT = PT
        return P @ x

    @staticmethod
    def backward(ctx, grad: Tensor):
        return None, None, ctx.PT @ grad

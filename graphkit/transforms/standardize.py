r"""Column-wise z-scoring of node features, fit on training data only."""
from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor
from torch_geometric.data import Data, InMemoryDataset
from torch_geometric.transforms import BaseTransform

from graphkit.registry import TRANSFORMS


def _node_features(data: Data | Iterable[Data], mask: Tensor | None) -> Tensor:
    """The node features ``fit`` sees: ``data.x[mask]`` for one graph, every node of every graph
    for a data set (gathered by slices, without a loop over graphs, when it is an
    ``InMemoryDataset`` with no transform of its own)."""
    if isinstance(data, Data):
        if data.x is None:
            raise ValueError("StandardizeFeatures.fit: the graph has no node features 'x'")
        return data.x if mask is None else data.x[mask]
    if mask is not None:
        raise ValueError("StandardizeFeatures.fit: 'mask' selects nodes of one graph; got a "
                         f"data set ({type(data).__name__}) instead of a Data object")
    if (isinstance(data, InMemoryDataset) and data.transform is None
            and data.slices is not None and "x" in data.slices):
        ptr = data.slices["x"]
        graphs = torch.as_tensor(data.indices(), dtype=torch.long)
        start, count = ptr[graphs], ptr[graphs + 1] - ptr[graphs]
        offset = torch.repeat_interleave(start - torch.cumsum(count, 0) + count, count)
        return data._data.x[offset + torch.arange(int(count.sum()))]
    xs = [g.x for g in data]
    if not xs or any(x is None for x in xs):
        raise ValueError("StandardizeFeatures.fit: expected graphs with node features 'x'; got "
                         f"{'no graphs' if not xs else 'a graph without x'}")
    return torch.cat(xs)


@TRANSFORMS.register("standardize")
class StandardizeFeatures(BaseTransform):
    r"""Z-scores every node-feature column with statistics of the data it was fit on:

    .. math::
        \mathbf{x}_{v,j} \leftarrow (\mathbf{x}_{v,j} - \mu_j) / \sigma_j,

    :math:`\mu_j, \sigma_j` the mean and (population) standard deviation of column :math:`j`
    over the nodes passed to :meth:`fit` (a column with :math:`\sigma_j \le` ``eps`` is only
    centred). Fit it on the training split so no statistic of validation or test data leaks
    in; the trainer does that with ``data.standardize: true``.

    PyG's :class:`~torch_geometric.transforms.NormalizeFeatures` divides each row by its sum,
    which suits bag-of-words features but leaves continuous attributes of very different
    scales (ENZYMES, PROTEINS with ``use_node_attr``: values up to ~800 next to one-hot labels)
    as they are; layers that normalise per node (LayerNorm) then see almost only the largest.

    Args:
        eps (float): smallest standard deviation divided by. (default: :obj:`1e-8`)

    Example:
        >>> scaler = StandardizeFeatures().fit(dataset[train_idx])
        >>> dataset.transform = scaler
    """

    def __init__(self, eps: float = 1e-8) -> None:
        if not eps >= 0:
            raise ValueError(f"StandardizeFeatures: 'eps' must be >= 0; got {eps!r}")
        self.eps = float(eps)
        self.mean: Tensor | None = None   # (F,)
        self.std: Tensor | None = None    # (F,)

    def fit(self, data: Data | Iterable[Data], mask: Tensor | None = None
            ) -> StandardizeFeatures:
        """Fit on one graph's nodes (``mask``: a boolean mask or index of the nodes to use) or on
        every node of a data set; returns ``self``."""
        x = _node_features(data, mask).double()
        if x.dim() != 2 or x.size(0) == 0:
            raise ValueError(f"StandardizeFeatures.fit: expected a non-empty (num_nodes, F) "
                             f"feature matrix; got shape {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise ValueError("StandardizeFeatures.fit: the node features contain NaN or inf")
        mean, std = x.mean(0), x.std(0, correction=0)
        self.mean = mean.float()
        self.std = torch.where(std > self.eps, std, torch.ones_like(std)).float()
        return self

    def forward(self, data: Data) -> Data:
        if self.mean is None:
            raise RuntimeError("StandardizeFeatures: call fit(...) on training data before "
                               "transforming")
        if getattr(data, "x", None) is None:
            raise ValueError("StandardizeFeatures: the graph has no node features 'x' to "
                             "standardise")
        if data.x.size(-1) != self.mean.numel():
            raise ValueError(f"StandardizeFeatures: data.x has {data.x.size(-1)} columns; the "
                             f"transform was fit on {self.mean.numel()}")
        data.x = (data.x - self.mean.to(data.x)) / self.std.to(data.x)
        return data

    def __repr__(self) -> str:
        fitted = "unfitted" if self.mean is None else f"{self.mean.numel()} columns"
        return f"{type(self).__name__}({fitted})"

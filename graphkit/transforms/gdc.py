r"""PyG's :class:`~torch_geometric.transforms.GDC` (`"Diffusion Improves Graph Learning"
<https://arxiv.org/abs/1911.05485>`_, Gasteiger et al., NeurIPS 2019; "DIGL" in the rewiring
literature) with graphkit's rewiring conventions: ``edge_type`` marks edges absent from the input
graph (1) versus kept ones (0), the diffusion weights go to ``edge_weight``, and ``edge_attr`` is
the relation id (``edge_attr="relation"``) or the weights (``"keep"``, PyG's behaviour).

PyG's defaults are kept (``exact=True`` densifies: :math:`O(N^2)` memory; pass
``exact=False`` with ``sparsification_kwargs={"method": "threshold", "eps": ...}`` for large
graphs).
"""
from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.transforms import GDC as _PyGGDC

from graphkit._checks import check_choice
from graphkit.transforms._rewire import EDGE_ATTR_MODES, is_member


class GDC(_PyGGDC):
    """PyG ``GDC`` plus ``edge_type`` / ``edge_weight`` (see the module docstring).

    Args:
        edge_attr (str, optional): ``"relation"`` or ``"keep"``. (default: ``"relation"``)
        **kwargs: PyG ``GDC`` arguments.

    Example:
        >>> data = GDC(edge_attr="relation")(data)
    """

    def __init__(self, edge_attr: str = "relation", **kwargs) -> None:
        check_choice("GDC", "edge_attr", edge_attr, EDGE_ATTR_MODES)
        super().__init__(**kwargs)
        self.edge_attr_mode = edge_attr

    def forward(self, data: Data) -> Data:
        N = data.num_nodes
        ei = data.edge_index.cpu().numpy()
        orig = np.sort(np.concatenate([ei[0] * N + ei[1], ei[1] * N + ei[0]]))
        data.edge_attr = None
        data = super().forward(data)
        new = data.edge_index.cpu().numpy()
        data.edge_type = torch.from_numpy(
            (~is_member(orig, new[0] * N + new[1])).astype(np.int64)).to(data.edge_index.device)
        data.edge_weight = data.edge_attr
        data.edge_attr = data.edge_type if self.edge_attr_mode == "relation" else data.edge_weight
        return data

    def __repr__(self) -> str:
        return f"GDC(edge_attr={self.edge_attr_mode!r})"

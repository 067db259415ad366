r"""Over-smoothing diagnostics: Dirichlet energy, MAD / MADGap, per-layer recording.

- Dirichlet energy as in Rusch, Bronstein, Mishra, `"A Survey on Oversmoothing in Graph Neural
  Networks" <https://arxiv.org/abs/2303.10993>`_: unnormalised graph Laplacian, so constant
  features give exactly 0.
- MAD / MADGap from Chen et al., `"Measuring and Relieving the Over-smoothing Problem for Graph
  Neural Networks from the Topological View" <https://arxiv.org/abs/1909.03211>`_.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from graphkit._checks import check_edge_index, check_range


def dirichlet_energy(x: Tensor, edge_index: Tensor, sqrt: bool = True) -> Tensor:
    r"""Dirichlet energy of node features over the edges of a graph.

    .. math::
        E(\mathbf{X}) = \frac{1}{N} \sum_{i} \sum_{j \in \mathcal{N}(i)}
        \lVert \mathbf{x}_i - \mathbf{x}_j \rVert^2 = \frac{2}{N}
        \operatorname{tr}(\mathbf{X}^\top \mathbf{L} \mathbf{X}), \qquad
        \mu(\mathbf{X}) = \sqrt{E(\mathbf{X})}

    (each undirected edge appears in both directions in ``edge_index``; the trace form holds for
    symmetric ``edge_index``). It is 0 iff rows are constant on every connected component, and
    is invariant to adding a constant row vector.

    Args:
        x (Tensor): node features.
        edge_index (Tensor): ``(2, E)`` edges.
        sqrt (bool): return :math:`\mu = \sqrt{E}` (the survey's measure). (default: ``True``)

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)` (or :math:`(|\mathcal{V}|, *)`, flattened),
          :math:`(2, |\mathcal{E}|)`; **output:** scalar
    """
    x = x.flatten(1) if x.dim() > 2 else x.view(-1, 1) if x.dim() == 1 else x
    check_edge_index("dirichlet_energy", edge_index, x.size(0))
    if x.size(0) == 0:
        return x.new_zeros(())
    diff = x[edge_index[0]] - x[edge_index[1]]
    e = diff.pow(2).sum() / x.size(0)
    return e.sqrt() if sqrt else e


def _cosine_distance(x: Tensor, eps: float = 1e-8) -> Tensor:
    xn = x / x.norm(dim=-1, keepdim=True).clamp_min(eps)
    return (1.0 - xn @ xn.t()).clamp_min(0.0)


def mad(x: Tensor, mask: Tensor | None = None, eps: float = 1e-8) -> Tensor:
    r"""Mean Average Distance (Chen et al., 2020) of node features over target node pairs.

    .. math::
        D_{ij} = 1 - \cos(\mathbf{x}_i, \mathbf{x}_j), \quad
        \bar{d}_i = \frac{\sum_j D_{ij} M_{ij}}{\sum_j \mathbb{1}[D_{ij} M_{ij} > 0]}, \quad
        \mathrm{MAD} = \frac{\sum_i \bar{d}_i}{\sum_i \mathbb{1}[\bar{d}_i > 0]}

    Distances below :math:`10^{-6}` (fp32 rounding of parallel pairs, e.g. a node with itself)
    count as 0. Zero rows get cosine distance 1 to everything (``eps`` avoids NaN). The result lies in
    :math:`[0, 2]`; it is 0 when all target pairs are parallel. Dense :math:`O(N^2)` memory.

    Args:
        x (Tensor): node features.
        mask (Tensor, optional): ``(N, N)`` 0/1 target-pair mask; ``None``: all pairs.
        eps (float): norm floor. (default: :obj:`1e-8`)

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`, mask :math:`(|\mathcal{V}|, |\mathcal{V}|)`;
          **output:** scalar
    """
    x = (x.flatten(1) if x.dim() > 2 else x).float()
    D = _cosine_distance(x, eps)
    if mask is not None:
        if mask.shape != D.shape:
            raise ValueError(f"mad: 'mask' must have shape {tuple(D.shape)}; got "
                             f"{tuple(mask.shape)}")
        D = D * mask.to(D.dtype)
    D = torch.where(D > 1e-6, D, torch.zeros_like(D))   # fp32 rounding of parallel pairs -> 0
    count = (D > 0).sum(dim=1)
    d_bar = D.sum(dim=1) / count.clamp_min(1)
    n_pos = (d_bar > 0).sum()
    return d_bar.sum() / n_pos.clamp_min(1)


def hop_distances(edge_index: Tensor, num_nodes: int) -> Tensor:
    """All-pairs shortest-path hop counts (``inf`` when unreachable), by BFS in SciPy."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import shortest_path
    ei = edge_index.cpu().numpy()
    A = coo_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(num_nodes, num_nodes))
    return torch.from_numpy(shortest_path(A.tocsr(), unweighted=True, directed=False))


def mad_gap(x: Tensor, edge_index: Tensor, near: int = 3, far: int = 8,
            max_nodes: int | None = 3000, seed: int = 0) -> dict[str, float]:
    r"""MADGap :math:`= \mathrm{MAD}^{\mathrm{rmt}} - \mathrm{MAD}^{\mathrm{neb}}` with
    neighbour pairs at hop distance :math:`\le` ``near`` and remote pairs at :math:`\ge` ``far``
    (unreachable pairs count as remote). Graphs above ``max_nodes`` nodes are measured on a
    uniform node sample (seeded).

    Returns:
        dict: ``{"mad_neb", "mad_rmt", "mad_gap"}`` as floats.
    """
    check_range("mad_gap", "near", near, 1, integer=True)
    check_range("mad_gap", "far", far, near + 1, integer=True)
    N = x.size(0)
    dist = hop_distances(edge_index, N)
    if max_nodes is not None and N > max_nodes:
        g = torch.Generator().manual_seed(seed)
        idx = torch.randperm(N, generator=g)[:max_nodes]
        x, dist = x[idx], dist[idx][:, idx]
    neb = (dist > 0) & (dist <= near)
    rmt = dist >= far
    m_neb, m_rmt = float(mad(x, neb)), float(mad(x, rmt))
    return {"mad_neb": m_neb, "mad_rmt": m_rmt, "mad_gap": m_rmt - m_neb}


def _as_nodes(h: Tensor) -> Tensor:
    """(N, d) view of a layer output; hyper-connection streams (n, N, d) are averaged."""
    return h.mean(dim=0) if h.dim() == 3 else h


class DiagnosticsRecorder:
    r"""Record over-smoothing measures per layer of a deep model.

    Forward hooks on the model's residual blocks (``model.blocks`` for
    :class:`~graphkit.nn.backbone.DeepGNN`, or any list of modules passed as ``layers``)
    capture each layer's output; :meth:`measure` runs the model once in eval mode without
    gradients and returns, per depth (0 = input of the first block, then one entry per block),
    the Dirichlet energy :math:`\mu`, its ratio to depth 0, and MAD over all pairs. After a
    backward pass, :meth:`grad_norms` returns the L2 norm of each block's parameter gradients.
    Everything returned is JSON-serialisable.

    Args:
        model (torch.nn.Module): model called as ``model(x, edge_index)``.
        layers (Iterable[torch.nn.Module], optional): the modules to watch.
            (default: ``model.blocks``)
        mad_max_nodes (int): node sample size for MAD (O(N^2) memory). (default: :obj:`2000`)

    Example:
        >>> rec = DiagnosticsRecorder(model)
        >>> stats = rec.measure(data)          # {"depth": [...], "dirichlet_energy": [...], ...}
        >>> loss.backward(); rec.grad_norms()  # {"grad_norm": [...]}
        >>> plot_energy_vs_depth({"rezero": stats}, "energy.png")
    """

    def __init__(self, model: torch.nn.Module, layers: Iterable[torch.nn.Module] | None = None,
                 mad_max_nodes: int = 2000) -> None:
        if layers is None:
            if not hasattr(model, "blocks"):
                raise ValueError(f"DiagnosticsRecorder: {type(model).__name__} has no "
                                 f"'blocks'; pass layers=[...] (the modules to watch)")
            layers = model.blocks
        self.model, self.layers = model, list(layers)
        if not self.layers:
            raise ValueError("DiagnosticsRecorder: 'layers' is empty; nothing to watch")
        self.mad_max_nodes = mad_max_nodes
        self.log: list[dict[str, Any]] = []
        self._outputs: list[Tensor | None] = []
        self._input: Tensor | None = None
        self._active = False
        self._handles = [self.layers[0].register_forward_pre_hook(self._pre_hook)]
        for i, layer in enumerate(self.layers):
            self._handles.append(layer.register_forward_hook(self._make_hook(i)))

    def _pre_hook(self, module: torch.nn.Module, args: tuple) -> None:
        if self._active:
            self._input = args[0].detach()

    def _make_hook(self, i: int):
        def hook(module: torch.nn.Module, args: tuple, out: Any) -> None:
            if self._active:
                self._outputs[i] = (out[0] if isinstance(out, tuple) else out).detach()
        return hook

    def remove(self) -> None:
        """Detach the hooks."""
        for h in self._handles:
            h.remove()
        self._handles = []

    @torch.no_grad()
    def measure(self, data: Any, x: Tensor | None = None, edge_index: Tensor | None = None
                ) -> dict[str, list[float]]:
        """Per-depth Dirichlet energy, energy ratio to depth 0 and MAD on ``data``."""
        x = data.x if x is None else x
        edge_index = data.edge_index if edge_index is None else edge_index
        was_training = self.model.training
        self.model.eval()
        self._outputs, self._input, self._active = [None] * len(self.layers), None, True
        try:
            self.model(x, edge_index)
        finally:
            self._active = False
            self.model.train(was_training)
        feats = [self._input] + self._outputs
        energy, mads = [], []
        g = torch.Generator().manual_seed(0)
        sample = None
        if x.size(0) > self.mad_max_nodes:
            sample = torch.randperm(x.size(0), generator=g)[:self.mad_max_nodes]
        for h in feats:
            if h is None:
                energy.append(float("nan"))
                mads.append(float("nan"))
                continue
            h = _as_nodes(h)
            energy.append(float(dirichlet_energy(h, edge_index)))
            mads.append(float(mad(h if sample is None else h[sample])))
        e0 = energy[0]
        ratio = [e / e0 if e0 and math.isfinite(e0) and e0 > 0 else float("nan")
                 for e in energy]
        self._outputs, self._input = [], None
        return {"depth": list(range(len(feats))), "dirichlet_energy": energy,
                "energy_ratio": ratio, "mad": mads}

    def grad_norms(self) -> dict[str, list[float]]:
        """L2 norm of the gradients of each watched layer's parameters (0 when none)."""
        norms = []
        for layer in self.layers:
            sq = [p.grad.detach().float().pow(2).sum() for p in layer.parameters()
                  if p.grad is not None]
            norms.append(float(torch.stack(sq).sum().sqrt()) if sq else 0.0)
        return {"layer": list(range(1, len(norms) + 1)), "grad_norm": norms}

    def record(self, data: Any, step: int | None = None, grads: bool = True
               ) -> dict[str, Any]:
        """``measure`` (+ ``grad_norms`` when gradients exist), appended to :attr:`log`."""
        entry: dict[str, Any] = {"step": step, **self.measure(data)}
        if grads:
            entry.update(self.grad_norms())
        self.log.append(entry)
        return entry


def plot_energy_vs_depth(results: Mapping[str, Mapping[str, Any]] | Mapping[str, Any],
                         path: str, title: str | None = None, key: str = "dirichlet_energy"
                         ) -> str:
    """Plot Dirichlet energy (log scale) against depth, one line per entry of ``results``.

    Args:
        results: ``{label: measure_dict}`` or a single ``measure`` dict.
        path (str): output image path (format from the suffix).
        title (str, optional): figure title.
        key (str): which series to plot. (default: :obj:`"dirichlet_energy"`)

    Returns:
        str: ``path``.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    if key in results:
        results = {"model": results}
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, res in results.items():
        ys = np.asarray(res[key], dtype=float)
        xs = np.asarray(res.get("depth", range(len(ys))))
        ax.plot(xs, np.clip(ys, 1e-12, None), label=str(label), lw=1.5)
    ax.set_yscale("log")
    ax.set_xlabel("depth (layer)")
    ax.set_ylabel("Dirichlet energy (sqrt)" if key == "dirichlet_energy" else key)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

r"""Synthetic extrapolation suite: train on small sets / graphs with bounded values, test on
larger ones with larger values, as in `"Learning to Pool in Graph Neural Networks for
Extrapolation" <https://arxiv.org/abs/2106.06210>`_ (Ko et al.) after `"How Neural Networks
Extrapolate" <https://arxiv.org/abs/2009.11848>`_ (Xu et al., ICLR 2021).

Tasks (target, level, the aggregators that compute it exactly):

============== ===== ======================================================= ===================
task           level target                                                   exact aggregators
============== ===== ======================================================= ===================
set_max        set   :math:`\max_k x_k`                                       max
set_min        set   :math:`\min_k x_k`                                       min
set_mean       set   :math:`\frac1n \sum_k x_k`                               mean
set_sum        set   :math:`\sum_k x_k`                                       sum
set_var        set   :math:`\frac1n \sum_k (x_k - \bar x)^2`                  (degree 2: none)
max_degree     graph :math:`\max_v \deg(v)`                                   sum, then max
shortest_path  node  weighted distance from the source over paths of <= K hops min (Bellman-Ford)
============== ===== ======================================================= ===================

Regimes: ``"train"`` and ``"test_id"`` draw set / graph sizes from ``sizes`` and values (set
elements, edge weights) from ``values``; ``"test_ood"`` multiplies both ranges by ``factor``
(default 5; ``size_factor`` / ``value_factor`` scale one of the two). Graphs are
Erdos-Renyi with edge probability drawn from ``edge_prob``. Set samples
have no edges. Node-task samples carry ``mask`` (nodes with a finite target, source excluded, so
the MAPE denominator is never 0). Every call is deterministic in ``seed``.

Example:
    >>> train = make_extrapolation_dataset("set_max", "train", num_samples=512, seed=0)
    >>> ood = make_extrapolation_dataset("set_max", "test_ood", num_samples=256, seed=0)
    >>> loader = torch_geometric.loader.DataLoader(train, batch_size=64, shuffle=True)
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import scatter, to_undirected

from graphkit._checks import check_choice, check_range

__all__ = [
    "EXTRAPOLATION_TASKS",
    "REGIMES",
    "hop_limited_distances",
    "make_extrapolation_dataset",
    "mape",
]

#: task -> (level, default sizes, default values, exact aggregators)
EXTRAPOLATION_TASKS: dict[str, dict] = {
    "set_max": {"level": "set", "exact": ("max",)},
    "set_min": {"level": "set", "exact": ("min",)},
    "set_mean": {"level": "set", "exact": ("mean",)},
    "set_sum": {"level": "set", "exact": ("sum",)},
    "set_var": {"level": "set", "exact": ()},
    "max_degree": {"level": "graph", "exact": ("sum", "max")},
    "shortest_path": {"level": "node", "exact": ("min",)},
}
REGIMES = ("train", "test_id", "test_ood")
_SEED_OFFSET = {"train": 0, "test_id": 1_000_003, "test_ood": 2_000_003}


def mape(pred: Tensor, target: Tensor) -> Tensor:
    r"""Mean absolute percentage error, :math:`\frac{1}{m}\sum |\hat y - y| / |y|` (the paper's
    metric; targets here are bounded away from 0)."""
    return ((pred - target).abs() / target.abs()).mean()


def hop_limited_distances(edge_index: Tensor, weight: Tensor, source: int, num_nodes: int,
                          hops: int) -> Tensor:
    """Shortest weighted distance from ``source`` using at most ``hops`` edges (inf if none):
    ``hops`` rounds of vectorised Bellman-Ford relaxation."""
    dist = torch.full((num_nodes,), float("inf"), dtype=weight.dtype)
    dist[source] = 0.0
    src, dst = edge_index
    for _ in range(hops):
        cand = scatter(dist[src] + weight, dst, 0, num_nodes, reduce="min")
        cand = torch.where(torch.isin(torch.arange(num_nodes), dst), cand,
                           torch.full_like(cand, float("inf")))
        dist = torch.minimum(dist, cand)
    return dist


def _erdos_renyi(n: int, prob: float, g: torch.Generator) -> Tensor:
    row, col = torch.triu_indices(n, n, offset=1)
    keep = torch.rand(row.numel(), generator=g) < prob
    return torch.stack([row[keep], col[keep]])


def make_extrapolation_dataset(task: str, regime: str = "train", num_samples: int = 512,
                               seed: int = 0, *, sizes: tuple[int, int] | None = None,
                               values: tuple[float, float] = (1.0, 10.0), factor: float = 5.0,
                               size_factor: float | None = None,
                               value_factor: float | None = None,
                               edge_prob: tuple[float, float] = (0.1, 0.3),
                               hops: int = 3) -> list[Data]:
    """Build ``num_samples`` samples of ``task`` in ``regime`` (see module docs).

    Args:
        task (str): one of :data:`EXTRAPOLATION_TASKS`.
        regime (str): ``"train"``, ``"test_id"`` or ``"test_ood"``. (default: ``"train"``)
        num_samples (int): number of sets / graphs. (default: :obj:`512`)
        seed (int): RNG seed; each regime uses its own stream. (default: :obj:`0`)
        sizes ((int, int), optional): inclusive range of set sizes / node counts for
            ``train``/``test_id``. (default: ``(5, 20)`` sets, ``(10, 20)`` graphs)
        values ((float, float)): range of set values / edge weights. (default: ``(1, 10)``)
        factor (float): ``test_ood`` multiplies ``sizes`` and ``values`` by it. (default: 5)
        size_factor, value_factor (float, optional): separate factors for ``test_ood`` sizes and
            values (e.g. ``value_factor=1`` scales the sizes only). (default: ``factor``)
        edge_prob ((float, float)): range of the Erdos-Renyi edge probability.
        hops (int): path-length limit of ``shortest_path`` (use at least as many GNN layers).

    Returns:
        list of :class:`~torch_geometric.data.Data` with ``x`` (float), ``edge_index``, ``y``
        (``(1, 1)`` per set / graph, ``(N, 1)`` per node), plus ``edge_attr`` and ``mask`` for
        ``shortest_path``.
    """
    owner = "make_extrapolation_dataset"
    check_choice(owner, "task", task, set(EXTRAPOLATION_TASKS))
    check_choice(owner, "regime", regime, set(REGIMES))
    check_range(owner, "num_samples", num_samples, low=1, integer=True)
    check_range(owner, "factor", float(factor), low=1.0)
    size_factor = factor if size_factor is None else size_factor
    value_factor = factor if value_factor is None else value_factor
    check_range(owner, "size_factor", float(size_factor), low=1.0)
    check_range(owner, "value_factor", float(value_factor), low=1.0)
    check_range(owner, "hops", hops, low=1, integer=True)
    level = EXTRAPOLATION_TASKS[task]["level"]
    if sizes is None:
        sizes = (5, 20) if level == "set" else (10, 20)
    ood = regime == "test_ood"
    n_scale, v_scale = (size_factor, value_factor) if ood else (1.0, 1.0)
    lo_n, hi_n = round(sizes[0] * n_scale), round(sizes[1] * n_scale)
    lo_v, hi_v = values[0] * v_scale, values[1] * v_scale
    g = torch.Generator().manual_seed(int(seed) * 7919 + _SEED_OFFSET[regime]
                                      + sorted(EXTRAPOLATION_TASKS).index(task) * 104_729)
    out: list[Data] = []
    for _ in range(num_samples):       # sample generation, not a hot path
        n = int(torch.randint(lo_n, hi_n + 1, (1,), generator=g))
        if level == "set":
            x = lo_v + (hi_v - lo_v) * torch.rand(n, 1, generator=g)
            stat = {"set_max": x.max(), "set_min": x.min(), "set_mean": x.mean(),
                    "set_sum": x.sum(), "set_var": x.var(unbiased=False)}[task]
            out.append(Data(x=x, edge_index=torch.empty(2, 0, dtype=torch.long),
                            y=stat.view(1, 1), num_nodes=n))
            continue
        prob = edge_prob[0] + (edge_prob[1] - edge_prob[0]) * float(torch.rand(1, generator=g))
        und = _erdos_renyi(n, prob, g)
        if task == "max_degree":
            edge_index = to_undirected(und, num_nodes=n)
            deg = torch.bincount(edge_index[0], minlength=n).float()
            out.append(Data(x=torch.ones(n, 1), edge_index=edge_index,
                            y=deg.max().clamp_min(1.0).view(1, 1), num_nodes=n))
            continue
        w = lo_v + (hi_v - lo_v) * torch.rand(und.size(1), generator=g)
        edge_index, weight = to_undirected(und, w, num_nodes=n)
        source = int(torch.randint(0, n, (1,), generator=g))
        dist = hop_limited_distances(edge_index, weight, source, n, hops)
        mask = torch.isfinite(dist)
        mask[source] = False
        x = torch.zeros(n, 2)
        x[source, 0] = 1.0
        x[:, 1] = 1.0 - x[:, 0]
        y = torch.where(torch.isfinite(dist), dist, torch.zeros_like(dist)).view(n, 1)
        out.append(Data(x=x, edge_index=edge_index, edge_attr=weight.view(-1, 1), y=y,
                        mask=mask, num_nodes=n))
    return out

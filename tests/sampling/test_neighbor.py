"""Kernels of graphkit.sampling.neighbor: one-hop draws and the multi-hop order (vs a loop)."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare

from graphkit.sampling.csr import CSC
from graphkit.sampling.neighbor import hetero_neighbor_sample, sample_ranges

from ._reference import reference_sample


def _rows(lo_deg):
    lo = torch.tensor([a for a, _ in lo_deg], dtype=torch.long)
    hi = lo + torch.tensor([d for _, d in lo_deg], dtype=torch.long)
    return lo, hi


ranges = st.lists(st.tuples(st.integers(0, 50), st.integers(0, 30)), min_size=0, max_size=20)


@settings(max_examples=60, deadline=None)
@given(ranges, st.integers(-1, 12), st.integers(0, 2**31 - 1))
def test_sample_ranges_without_replacement(lo_deg, k, seed):
    """min(k, deg) distinct slots per row, inside the row's range, rows in order."""
    torch.manual_seed(seed)
    lo, hi = _rows(lo_deg)
    idx, slot = sample_ranges(lo, hi, k)
    deg = hi - lo
    want = deg if k < 0 else deg.clamp(max=k)
    assert torch.equal(torch.bincount(idx, minlength=lo.numel()), want)
    assert bool((idx[1:] >= idx[:-1]).all()) if idx.numel() > 1 else True
    assert bool(((slot >= lo[idx]) & (slot < hi[idx])).all())
    pairs = idx * 1000 + slot
    assert pairs.unique().numel() == pairs.numel()
    # rows with deg <= k (or k = -1) take every slot, in slot order
    for i in range(lo.numel()):
        if k < 0 or deg[i] <= k:
            assert torch.equal(slot[idx == i], torch.arange(int(lo[i]), int(hi[i])))


@settings(max_examples=40, deadline=None)
@given(ranges, st.integers(1, 8))
def test_sample_ranges_with_replacement(lo_deg, k):
    """k slots per non-empty row, all inside the row's range."""
    lo, hi = _rows(lo_deg)
    idx, slot = sample_ranges(lo, hi, k, replace=True)
    want = torch.where(hi > lo, k, 0)
    assert torch.equal(torch.bincount(idx, minlength=lo.numel()), want)
    assert bool(((slot >= lo[idx]) & (slot < hi[idx])).all())


def test_floyd_subsets_are_uniform():
    """Every 2-subset of 6 slots is drawn equally often (chi-square)."""
    torch.manual_seed(0)
    lo = torch.zeros(30000, dtype=torch.long)
    _idx, slot = sample_ranges(lo, lo + 6, 2)
    s = slot.view(-1, 2).sort(1).values
    code = s[:, 0] * 6 + s[:, 1]
    counts = torch.bincount(code, minlength=36)
    counts = counts[counts > 0]
    assert counts.numel() == 15
    assert chisquare(counts.numpy()).pvalue > 1e-3


@pytest.mark.parametrize("replace", [True, False])
def test_weighted_draws_follow_weights(replace):
    """P(slot) proportional to its weight (k = 1); zero-weight slots are never drawn."""
    torch.manual_seed(1)
    w = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    cum = torch.cat([w.new_zeros(1), w.cumsum(0)])
    n = 20000
    lo, hi = torch.zeros(n, dtype=torch.long), torch.full((n,), 5, dtype=torch.long)
    idx, slot = sample_ranges(lo, hi, 1, replace=replace, weight=w, cum_weight=cum)
    counts = torch.bincount(slot, minlength=5)
    assert counts[0] == 0 and idx.numel() == n
    exp = (w[1:] / w.sum() * n).numpy()
    assert chisquare(counts[1:].numpy(), exp).pvalue > 1e-3


def test_weighted_without_replacement_is_distinct_and_skips_zero_weight():
    torch.manual_seed(2)
    w = torch.tensor([0.0, 1.0, 0.0, 1.0, 5.0, 1.0], dtype=torch.float64)
    cum = torch.cat([w.new_zeros(1), w.cumsum(0)])
    lo = torch.tensor([0, 0, 2]); hi = torch.tensor([6, 3, 3])
    idx, slot = sample_ranges(lo, hi, 3, weight=w, cum_weight=cum)
    assert torch.bincount(idx, minlength=3).tolist() == [3, 1, 0]
    assert w[slot].min() > 0 and slot[idx == 0].unique().numel() == 3
    idx, slot = sample_ranges(lo, hi, -1, weight=w, cum_weight=cum)
    assert slot[idx == 0].tolist() == [1, 3, 4, 5]


def _random_graph(n, e, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(n, (2, e), generator=g)


def _run(edges, num_nodes, seeds, fan, **kw):
    csc = {et: CSC.from_edge_index(ei, num_nodes[et[0]], num_nodes[et[-1]],
                                   src_node_time=kw.get("src_time", {}).get(et),
                                   edge_time=kw.get("edge_time", {}).get(et))
           for et, ei in edges.items()}
    bufs = kw.get("buffers") or {t: torch.full((n,), -1, dtype=torch.long)
                                 for t, n in num_nodes.items()}
    return hetero_neighbor_sample(csc, num_nodes, seeds, fan, seed_time=kw.get("seed_time"),
                                  disjoint=kw.get("disjoint", False),
                                  temporal_strategy=kw.get("strategy", "uniform"), buffers=bufs,
                                  epoch=kw.get("epoch", 1))


def _compare(out, ref, disjoint=False):
    node, row, col, edge, batch, nsn, nse = out
    rn, rr, rc, re_, rb, rnsn, rnse = ref
    for t in node:
        assert node[t].tolist() == rn[t], t
        assert nsn[t] == rnsn[t]
        if disjoint:
            assert batch[t].tolist() == rb[t]
    for et in row:
        assert row[et].tolist() == rr[et] and col[et].tolist() == rc[et]
        assert edge[et].tolist() == re_[et] and nse[et] == rnse[et]


@pytest.mark.parametrize("disjoint", [False, True])
def test_full_neighborhood_matches_loop_reference_homogeneous(disjoint):
    """Fan-out -1: node order, local row/col, edge ids and counts equal pyg-lib's loop."""
    ei = _random_graph(40, 120, 0)
    et = ("v", "e", "v")
    seeds = torch.tensor([3, 7, 3, 11])  # includes a duplicate seed
    fan = {et: [-1, -1]}
    out = _run({et: ei}, {"v": 40}, {"v": seeds}, fan, disjoint=disjoint)
    ref = reference_sample({et: (ei[0].tolist(), ei[1].tolist())}, {"v": 40},
                           {"v": seeds.tolist()}, fan, disjoint=disjoint)
    _compare(out, ref, disjoint)


def test_full_neighborhood_matches_loop_reference_heterogeneous():
    """Edge types are visited in order each hop; new nodes dedupe across edge types."""
    nn = {"a": 30, "b": 20}
    edges = {("a", "to", "b"): torch.stack([torch.randint(30, (60,)), torch.randint(20, (60,))]),
             ("b", "rev", "a"): torch.stack([torch.randint(20, (60,)), torch.randint(30, (60,))]),
             ("a", "self", "a"): torch.randint(30, (2, 40))}
    fan = {("a", "to", "b"): [-1, -1], ("b", "rev", "a"): [-1, 0], ("a", "self", "a"): [-1, -1]}
    seeds = {"a": torch.tensor([0, 5, 9])}
    out = _run(edges, nn, seeds, fan)
    ref = reference_sample({k: (v[0].tolist(), v[1].tolist()) for k, v in edges.items()}, nn,
                           {"a": [0, 5, 9]}, fan)
    _compare(out, ref)


@pytest.mark.parametrize("level", ["node", "edge"])
@pytest.mark.parametrize("strategy,k", [("uniform", -1), ("last", 2)])
def test_temporal_matches_loop_reference(level, strategy, k):
    """Temporal sampling keeps neighbors with time <= the root seed's time, per seed."""
    torch.manual_seed(3)
    ei = _random_graph(30, 150, 1)
    et = ("v", "e", "v")
    node_t = torch.randint(0, 10, (30,))
    edge_t = torch.randint(0, 10, (150,))
    per_edge = node_t[ei[0]] if level == "node" else edge_t
    seeds = torch.tensor([1, 4, 4, 8])
    stime = torch.tensor([5, 2, 9, 0])
    kw = {"src_time": {et: node_t}} if level == "node" else {"edge_time": {et: edge_t}}
    out = _run({et: ei}, {"v": 30}, {"v": seeds}, {et: [k, k]}, seed_time={"v": stime},
               disjoint=True, strategy=strategy, **kw)
    ref = reference_sample({et: (ei[0].tolist(), ei[1].tolist())}, {"v": 30},
                           {"v": seeds.tolist()}, {et: [k, k]}, disjoint=True,
                           seed_time=stime.tolist(), time={et: per_edge.tolist()},
                           strategy=strategy)
    _compare(out, ref, disjoint=True)


def test_empty_seeds_and_isolated_nodes():
    et = ("v", "e", "v")
    ei = torch.tensor([[0, 1], [1, 0]])
    out = _run({et: ei}, {"v": 5}, {"v": torch.tensor([3, 4])}, {et: [5, 5]})
    assert out[0]["v"].tolist() == [3, 4] and out[1][et].numel() == 0
    assert out[5]["v"] == [2, 0, 0] and out[6][et] == [0, 0]
    out = _run({et: ei}, {"v": 5}, {"v": torch.empty(0, dtype=torch.long)}, {et: [5]})
    assert out[0]["v"].numel() == 0


def test_dense_buffers_are_reused_across_batches_without_reset():
    """Epoch tags make stale entries of earlier batches invisible."""
    ei = _random_graph(40, 120, 4)
    et = ("v", "e", "v")
    bufs = {"v": torch.full((40,), -1, dtype=torch.long)}
    ref_in = ({et: (ei[0].tolist(), ei[1].tolist())}, {"v": 40})
    for epoch, seeds in enumerate([[1, 2, 3], [3, 9], [1, 2, 3]], start=1):
        out = _run({et: ei}, {"v": 40}, {"v": torch.tensor(seeds)}, {et: [-1, -1]},
                   buffers=bufs, epoch=epoch)
        _compare(out, reference_sample(*ref_in, {"v": seeds}, {et: [-1, -1]}))

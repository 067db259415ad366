"""GPN's parse (graphkit.nn.pool.gpn): partition properties and parity with a naive union-find."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.utils import to_undirected

from graphkit.nn.pool.gpn import (
    GraphParsingPool,
    coarsen_edges,
    components_of_partner,
    dominant_partner,
    parse_clusters,
)


# ----------------------------------------------------------------------------- references
def naive_parse(edge_index: torch.Tensor, score: torch.Tensor, n: int) -> list[int]:
    """Plain Python: each node's dominant edge by (score desc, min asc, max asc), then a
    union-find over the dominant edges; labels are the smallest node id of each cluster."""
    best: dict[int, tuple] = {}
    for (u, v), s in zip(edge_index.t().tolist(), score.tolist()):
        if u == v:
            continue
        key = (-s, min(u, v), max(u, v))
        for a in (u, v):
            if a not in best or key < best[a]:
                best[a] = key
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for u, (_, a, b) in best.items():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    root = [find(a) for a in range(n)]
    return [min(i for i in range(n) if root[i] == root[a]) for a in range(n)]


def canon(cluster: torch.Tensor) -> list[int]:
    """Relabel a partition by the smallest member of each block."""
    cl = cluster.tolist()
    first: dict[int, int] = {}
    for i, c in enumerate(cl):
        first.setdefault(c, i)
    return [first[c] for c in cl]


def components(edge_index: torch.Tensor, nodes: list[int]) -> int:
    """Number of connected components of the subgraph induced by ``nodes``."""
    nodes_set, adj = set(nodes), {a: set() for a in nodes}
    for u, v in edge_index.t().tolist():
        if u in nodes_set and v in nodes_set:
            adj[u].add(v)
            adj[v].add(u)
    seen, count = set(), 0
    for s in nodes:
        if s in seen:
            continue
        count += 1
        stack = [s]
        while stack:
            a = stack.pop()
            if a not in seen:
                seen.add(a)
                stack.extend(adj[a] - seen)
    return count


@st.composite
def graphs(draw, max_nodes: int = 24, tie_values: bool | None = None):
    n = draw(st.integers(1, max_nodes))
    m = draw(st.integers(0, 3 * n))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          min_size=m, max_size=m))
    ei = torch.tensor(pairs, dtype=torch.long).t().reshape(2, -1)
    ei = to_undirected(ei, num_nodes=n)
    ties = draw(st.booleans()) if tie_values is None else tie_values
    lo, hi = ei.min(0).values, ei.max(0).values
    # symmetric scores: a function of the unordered pair; few distinct values when ``ties``
    vals = draw(st.lists(st.integers(0, 2 if ties else 10**6), min_size=n * n, max_size=n * n,
                         unique=not ties))   # distinct scores must be distinct, not just likely
    score = torch.tensor(vals, dtype=torch.float)[lo * n + hi] if ei.numel() else torch.zeros(0)
    return ei, score, n


# ----------------------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None)
@given(graphs())
def test_parse_equals_naive_union_find(g):
    ei, score, n = g
    cluster, c = parse_clusters(ei, score, n)
    assert canon(cluster) == naive_parse(ei, score, n)
    assert c == len(set(cluster.tolist()))


@settings(max_examples=40, deadline=None)
@given(graphs())
def test_parse_is_a_partition_into_connected_clusters(g):
    ei, score, n = g
    cluster, c = parse_clusters(ei, score, n)
    assert cluster.shape == (n,)
    assert sorted(set(cluster.tolist())) == list(range(c))            # contiguous ids
    for k in range(c):
        members = (cluster == k).nonzero().view(-1).tolist()
        assert components(ei, members) == 1                            # connected
    partner = dominant_partner(ei[:, ei[0] != ei[1]], score[ei[0] != ei[1]], n)
    assert torch.equal(cluster[partner], cluster)                      # u ~ dom(u)
    has_edge = bool((ei[0] != ei[1]).any())
    assert (c < n) == has_edge


@settings(max_examples=40, deadline=None)
@given(graphs(tie_values=False), st.randoms(use_true_random=False))
def test_parse_permutation_invariant(g, rnd):
    ei, score, n = g
    perm = list(range(n))
    rnd.shuffle(perm)
    perm = torch.tensor(perm)                                          # old id -> new id
    c0, _ = parse_clusters(ei, score, n)
    c1, _ = parse_clusters(perm[ei], score, n)
    assert canon(c1[perm]) == canon(c0)                                 # c1[perm[i]]: node i


def test_distinct_scores_one_mutual_pair_per_cluster():
    torch.manual_seed(0)
    ei = to_undirected(torch.randint(0, 60, (2, 150)), num_nodes=60)
    score = torch.rand(ei.size(1))
    score = torch.maximum(score, score[torch.argsort(ei[1] * 60 + ei[0])])   # symmetric
    keep = ei[0] != ei[1]
    partner = dominant_partner(ei[:, keep], score[keep], 60)
    cluster, c = components_of_partner(partner)
    ar = torch.arange(60)
    mutual = (partner[partner] == ar) & (partner != ar)
    isolated = partner == ar
    # every non-singleton cluster holds exactly one mutual pair (2 nodes)
    pairs = torch.zeros(c, dtype=torch.long).index_add(0, cluster, mutual.long())
    single = torch.zeros(c, dtype=torch.long).index_add(0, cluster, isolated.long())
    assert torch.all((pairs == 2) ^ (single == 1))


def _batch(graphs_):
    eis, scores, batch, off = [], [], [], 0
    for i, (ei, s, n) in enumerate(graphs_):
        eis.append(ei + off)
        scores.append(s)
        batch.append(torch.full((n,), i))
        off += n
    return torch.cat(eis, 1), torch.cat(scores), off, torch.cat(batch)


@settings(max_examples=30, deadline=None)
@given(st.lists(graphs(max_nodes=12), min_size=1, max_size=4))
def test_batched_equals_per_graph_and_batch_order(gs):
    ei, score, n, batch = _batch(gs)
    cluster, c = parse_clusters(ei, score, n)
    expect, total = [], 0
    for g_ei, g_s, g_n in gs:
        cl, k = parse_clusters(g_ei, g_s, g_n)
        expect.append(cl + total)
        total += k
    assert c == total
    assert torch.equal(cluster, torch.cat(expect))            # clusters ordered by graph
    # no cluster spans two graphs
    bc = torch.zeros(c, dtype=torch.long).scatter(0, cluster, batch)
    assert torch.equal(bc[cluster], batch)
    # reversed batch order: the same per-graph partitions
    ei_r, score_r, _, _ = _batch(gs[::-1])
    cl_r, c_r = parse_clusters(ei_r, score_r, n)
    assert c_r == c
    sizes = [g[2] for g in gs]
    pieces = list(torch.split(cl_r, sizes[::-1]))[::-1]
    for a, b in zip(torch.split(cluster, sizes), pieces):
        assert canon(a) == canon(b)


def test_isolated_nodes_and_single_node_graphs():
    ei = torch.tensor([[1, 2, 4, 4], [2, 1, 4, 4]])               # 0, 3 isolated; 4 self-loop
    cluster, c = parse_clusters(ei, torch.tensor([0.5, 0.5, 0.9, 0.9]), 5)
    assert c == 4 and canon(cluster) == [0, 1, 1, 3, 4]
    cluster, c = parse_clusters(torch.empty(2, 0, dtype=torch.long), torch.empty(0), 1)
    assert c == 1 and cluster.tolist() == [0]
    cluster, c = parse_clusters(torch.empty(2, 0, dtype=torch.long), torch.empty(0), 0)
    assert c == 0 and cluster.numel() == 0


def test_ties_constant_scores_long_path_and_star():
    # all scores equal: ties broken by (min, max) node id; path 0-1-...-9 and a star
    path = to_undirected(torch.stack([torch.arange(9), torch.arange(1, 10)]))
    cluster, c = parse_clusters(path, torch.ones(path.size(1)), 10)
    assert canon(cluster) == naive_parse(path, torch.ones(path.size(1)), 10)
    for k in range(c):
        assert components(path, (cluster == k).nonzero().view(-1).tolist()) == 1
    star = to_undirected(torch.stack([torch.zeros(7, dtype=torch.long), torch.arange(1, 8)]))
    cluster, c = parse_clusters(star, torch.ones(star.size(1)), 8)
    assert c == 1


def test_long_in_tree_needs_log_rounds_and_is_one_cluster():
    n = 5000  # path with increasing scores: every node points right, one in-tree of depth n
    ei = to_undirected(torch.stack([torch.arange(n - 1), torch.arange(1, n)]))
    cluster, c = parse_clusters(ei, ei.min(0).values.float(), n)
    assert c == 1 and bool((cluster == 0).all())


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 40), st.integers(0, 10**6))
def test_connected_graph_pools_to_one_node_in_log2_steps(n, seed):
    gen = torch.Generator().manual_seed(seed)
    # a random spanning tree plus random extra edges: connected
    parent = (torch.rand(n - 1, generator=gen) * torch.arange(1, n)).long()
    ei = torch.cat([torch.stack([torch.arange(1, n), parent]),
                    torch.randint(0, n, (2, n), generator=gen)], 1)
    ei = to_undirected(ei, num_nodes=n)
    steps, m = 0, n
    while m > 1:
        score = torch.rand(ei.size(1), generator=gen)
        cluster, c = parse_clusters(ei, score, m)
        assert c <= m // 2 or c < m                    # shrinks, at least halves
        assert c <= math.ceil(m / 2)
        ei, m, steps = coarsen_edges(ei, cluster, c), c, steps + 1
    assert steps <= math.ceil(math.log2(n))


@settings(max_examples=40, deadline=None)
@given(graphs())
def test_coarsened_adjacency_is_binarised_StAS_without_diagonal(g):
    ei, score, n = g
    cluster, c = parse_clusters(ei, score, n)
    out = coarsen_edges(ei, cluster, c)
    A = torch.zeros(n, n)
    A[ei[0], ei[1]] = 1.0
    S = torch.nn.functional.one_hot(cluster, c).float()
    ref = (S.t() @ A @ S).fill_diagonal_(0) > 0
    got = torch.zeros(c, c, dtype=torch.bool)
    got[out[0], out[1]] = True
    assert torch.equal(got, ref)
    assert torch.equal(got, got.t())
    assert out.size(1) == int(ref.sum())                       # coalesced: no duplicates


def test_pool_output_matches_parse_and_definitions():
    torch.manual_seed(0)
    ei = to_undirected(torch.randint(0, 30, (2, 60)), num_nodes=30)
    x = torch.randn(30, 8)
    pool = GraphParsingPool(8, deepsets_layers=2).eval()
    out = pool(x, ei)
    cluster, c = parse_clusters(ei, pool.score(x, ei), 30)
    assert torch.equal(out.cluster, cluster) and out.num_clusters == c
    # x_C = post(sum pre(x_v)) * sum of inside-edge scores (1 for singletons)
    s = pool.score(x, ei)
    inside = (cluster[ei[0]] == cluster[ei[1]]) & (ei[0] != ei[1])   # self-loops do not count
    S = torch.nn.functional.one_hot(cluster, c).float()
    gate = S.t() @ torch.zeros(30).index_add(0, ei[0][inside], s[inside])
    gate = torch.where(gate > 0, gate, torch.ones_like(gate))
    ref = pool.post(S.t() @ pool.pre(x)) * gate.view(-1, 1)
    assert torch.allclose(out.x, ref, atol=1e-5)
    assert torch.allclose(out.cluster_score, gate, atol=1e-6)


def test_bad_input_errors():
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="'score' must have shape"):
        parse_clusters(ei, torch.ones(3), 2)
    with pytest.raises(ValueError, match="'score' must be finite"):
        parse_clusters(ei, torch.tensor([float("nan"), 1.0]), 2)
    with pytest.raises(ValueError, match="node ids"):
        parse_clusters(ei, torch.ones(2), 1)
    with pytest.raises(ValueError, match="cycle longer than 2"):
        components_of_partner(torch.tensor([1, 2, 0]))

"""Slow loop reference of pyg-lib's neighbor-sampling order (tests only).

Deterministic cases only: full neighborhoods (fan-out -1, or fan-out >= degree) and the
``"last"`` temporal strategy, where the sampled set does not depend on random numbers.
"""
from __future__ import annotations


def reference_sample(edges, num_nodes, seeds, fanouts, *, disjoint=False, seed_time=None,
                     time=None, strategy="uniform"):
    """edges: {et: (src list, dst list)}; time: {et: per-edge time list} (edge or source time).

    Returns node, row, col, edge, batch dicts and num_sampled_nodes / edges, like pyg-lib.
    """
    node_types = list(num_nodes)
    nbrs = {}
    for et, (src, dst) in edges.items():
        lists = {}
        order = sorted(range(len(src)), key=lambda e: (dst[e], time[et][e] if time and et in time else 0, e))
        for e in order:
            t = time[et][e] if time and et in time else None
            lists.setdefault(dst[e], []).append((src[e], e, t))
        nbrs[et] = lists
    nodes = {t: [] for t in node_types}
    batch = {t: [] for t in node_types}
    mapper = {t: {} for t in node_types}
    nsn = {t: [] for t in node_types}
    b = 0
    for t in node_types:
        for s in seeds.get(t, []):
            key = (b, s) if disjoint else s
            nodes[t].append(s)
            batch[t].append(b)
            mapper[t].setdefault(key, len(nodes[t]) - 1)
            b += 1
        nsn[t].append(len(nodes[t]))
    slices = {t: (0, len(nodes[t])) for t in node_types}
    rows = {et: [] for et in edges}
    cols = {et: [] for et in edges}
    eids = {et: [] for et in edges}
    nse = {et: [] for et in edges}
    hops = max(len(v) for v in fanouts.values())
    for hop in range(hops):
        for et in edges:
            s_t, d_t = et[0], et[-1]
            k = fanouts[et][hop]
            before = len(rows[et])
            lo, hi = slices[d_t]
            for i in range(lo, hi):
                v, bi = nodes[d_t][i], batch[d_t][i]
                cand = nbrs[et].get(v, [])
                if seed_time is not None and time and et in time:
                    cand = [c for c in cand if c[2] <= seed_time[bi]]
                if k == 0:
                    cand = []
                elif strategy == "last" and k > 0:
                    cand = cand[-k:]
                elif k > 0:
                    assert len(cand) <= k, "reference only covers deterministic cases"
                for u, e, _ in cand:
                    key = (bi, u) if disjoint else u
                    if key not in mapper[s_t]:
                        nodes[s_t].append(u)
                        batch[s_t].append(bi)
                        mapper[s_t][key] = len(nodes[s_t]) - 1
                    rows[et].append(mapper[s_t][key])
                    cols[et].append(i)
                    eids[et].append(e)
            nse[et].append(len(rows[et]) - before)
        for t in node_types:
            slices[t] = (slices[t][1], len(nodes[t]))
            nsn[t].append(slices[t][1] - slices[t][0])
    return nodes, rows, cols, eids, batch, nsn, nse

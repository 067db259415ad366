"""Contract shared by every rewiring transform: valid, symmetric, simple additions, budgets,
determinism, relation ids, edge-feature modes, caching, registry, repr, errors."""
import sys
from pathlib import Path

import pytest
import torch
from torch_geometric.utils import coalesce, is_undirected

from graphkit.registry import TRANSFORMS
from graphkit.transforms import BORF, GDC, LASER, SDRF, FoSR, rewire_dataset

sys.path.insert(0, str(Path(__file__).parent))
import networkx as nx
from _graphs import graph, zoo

MAKERS = {
    "laser": lambda seed=0: LASER(num_snapshots=2, additions_factor=0.5, seed=seed),
    "fosr": lambda seed=0: FoSR(num_iterations=6, seed=seed),
    "sdrf": lambda seed=0: SDRF(loops=6, tau=5.0, seed=seed),
    "borf": lambda seed=0: BORF(loops=2, batch_add=3, batch_remove=1, seed=seed),
}
GRAPHS = zoo()


def _added_removed(before, after):
    n = before.num_nodes
    kb = set((before.edge_index[0] * n + before.edge_index[1]).tolist())
    ka = set((after.edge_index[0] * n + after.edge_index[1]).tolist())
    return ka - kb, kb - ka


@pytest.mark.parametrize("gname", list(GRAPHS))
@pytest.mark.parametrize("name", list(MAKERS))
def test_output_is_valid_symmetric_and_simple(name, gname):
    """edge_index stays valid and undirected; additions are new, never self-loops or duplicates."""
    d = GRAPHS[gname]
    out = MAKERS[name]()(d.clone())
    ei = out.edge_index
    assert ei.dtype == torch.long and ei.size(0) == 2
    if ei.numel():
        assert int(ei.min()) >= 0 and int(ei.max()) < d.num_nodes
    assert is_undirected(ei, num_nodes=d.num_nodes)
    assert coalesce(ei, num_nodes=d.num_nodes).size(1) == ei.size(1)      # no duplicates
    added = ei[:, out.edge_type > 0]
    assert bool((added[0] != added[1]).all())                              # no self-loops
    assert out.edge_type.shape == (ei.size(1),) and out.edge_attr.shape == (ei.size(1),)
    assert torch.equal(out.edge_attr, out.edge_type)
    assert int(out.edge_type.max() if out.edge_type.numel() else 0) < \
        MAKERS[name]().num_relations()
    # original edges that are kept keep type 0 and come first
    n_orig = int((out.edge_type == 0).sum())
    assert bool((out.edge_type[:n_orig] == 0).all())


@pytest.mark.parametrize("name", list(MAKERS))
def test_deterministic_under_seed_and_input_untouched(name):
    """Two instances with one seed give identical output; the input Data is not modified."""
    d = GRAPHS["ba"]
    ei0 = d.edge_index.clone()
    a, b = MAKERS[name](seed=3)(d.clone()), MAKERS[name](seed=3)(d)
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.edge_type, b.edge_type)
    assert torch.equal(d.edge_index, ei0)


def test_budgets():
    """FoSR adds exactly T edges; SDRF at most one addition / removal per loop; BORF at most
    batch_add / batch_remove per round."""
    d = GRAPHS["ba"]
    add, rem = _added_removed(d, FoSR(num_iterations=7)(d.clone()))
    assert len(add) == 14 and not rem
    add, rem = _added_removed(d, SDRF(loops=5, tau=5.0)(d.clone()))
    assert len(add) <= 10 and len(rem) <= 10
    add, rem = _added_removed(d, SDRF(loops=5, remove=False)(d.clone()))
    assert 0 < len(add) <= 10 and not rem
    add, rem = _added_removed(d, BORF(loops=2, batch_add=3, batch_remove=1)(d.clone()))
    assert 0 < len(add) <= 12 and len(rem) <= 4
    add, rem = _added_removed(d, BORF(loops=2, batch_add=3, batch_remove=0)(d.clone()))
    assert not rem


def test_fosr_stops_on_complete_graph():
    d = graph(nx.complete_graph(5))
    out = FoSR(num_iterations=4)(d.clone())
    assert torch.equal(out.edge_index, d.edge_index)


def test_edge_attr_modes():
    """'relation' moves input features to orig_edge_attr; 'keep' keeps them, added rows filled."""
    d = graph(nx.barbell_graph(4, 2), edge_features=2)
    out = LASER(edge_attr="relation", fill_value=0.1)(d.clone())
    E = d.edge_index.size(1)
    assert torch.equal(out.orig_edge_attr[:E], d.edge_attr)
    assert torch.allclose(out.orig_edge_attr[E:], torch.full_like(out.orig_edge_attr[E:], 0.1))
    keep = LASER(edge_attr="keep")(d.clone())
    assert keep.edge_attr.shape == (keep.edge_index.size(1), 2)
    assert torch.equal(keep.edge_attr[:E], d.edge_attr) and bool((keep.edge_attr[E:] == 0).all())
    # removals drop the matching feature rows
    s = SDRF(loops=8, tau=5.0, removal_bound=-10.0, edge_attr="keep")(d.clone())
    assert s.edge_attr.size(0) == s.edge_index.size(1)


def test_cache_and_rewire_dataset(tmp_path):
    """Memoised per graph; rewire_dataset applies once and reloads from its disk cache."""
    t = LASER()
    d = GRAPHS["grid"]
    a, b = t(d.clone()), t(d.clone())
    assert len(t._memo) == 1 and torch.equal(a.edge_index, b.edge_index)
    ds = [GRAPHS["grid"], GRAPHS["tree"], GRAPHS["barbell"]]
    r1 = rewire_dataset(ds, LASER(), cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.pt"))) == 1 and len(r1) == 3
    torch.load(next(tmp_path.glob("*.pt")), weights_only=True)   # no pickled classes inside
    assert not list(tmp_path.glob("*.tmp"))
    r2 = rewire_dataset(ds, LASER(), cache_dir=tmp_path)
    for g1, g2 in zip(r1, r2):
        assert type(g2) is type(g1) and sorted(g1.keys()) == sorted(g2.keys())
        for key, v1 in g1:
            v2 = g2[key]
            assert torch.equal(v1, v2) if torch.is_tensor(v1) else v1 == v2
    assert torch.equal(r1[1].edge_index, LASER()(GRAPHS["tree"].clone()).edge_index)


def test_registry_repr_and_errors():
    assert isinstance(TRANSFORMS.build("LASER", num_snapshots=3), LASER)
    assert isinstance(TRANSFORMS.build("gdc"), GDC)
    for n in ("fosr", "sdrf", "borf"):
        assert n in TRANSFORMS
    assert repr(LASER()) == ("LASER(num_snapshots=2, additions_factor=0.1, min_additions=1, "
                             "mu_power=8, seed=0)")
    assert repr(FoSR(10)) == "FoSR(num_iterations=10, initial_power_iters=5, seed=0)"
    with pytest.raises(ValueError, match="LASER: 'additions_factor' must be a number in"):
        LASER(additions_factor=1.5)
    with pytest.raises(ValueError, match="'edge_attr' must be one of"):
        FoSR(edge_attr="replace")
    with pytest.raises(ValueError, match="SDRF: 'loops'"):
        SDRF(loops=-1)


def test_gdc_marks_new_edges():
    d = GRAPHS["path"]
    out = GDC()(d.clone())
    n = d.num_nodes
    orig = set((d.edge_index[0] * n + d.edge_index[1]).tolist())
    keys = (out.edge_index[0] * n + out.edge_index[1]).tolist()
    assert [int(k not in orig) for k in keys] == out.edge_type.tolist()
    assert out.edge_weight.shape == (out.edge_index.size(1),)

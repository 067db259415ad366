"""Temporal correctness: nothing after a seed's time reaches it (sampler, model, labels,
baseline features); labels of a window read only that window."""
import pandas as pd
import pytest
import torch

pytest.importorskip("relbench")
pytest.importorskip("torch_frame")

from _shop import TEST, shop, shop_frames

from graphkit.relational.bench import make_bundle
from graphkit.relational.graph import HashingTextEmbedder
from graphkit.relational.model import RDLModel
from graphkit.sampling import NeighborLoader


def _labels_by_hand(ds, t, window, cid_new):
    o = ds.get_db(upto_test_timestamp=False).table_dict["orders"].df
    m = (o["placed"] > t) & (o["placed"] <= t + pd.Timedelta(days=window)) & (o["cid"] == cid_new)
    return int(m.any()), float(o.loc[m, "total"].sum())


def test_labels_follow_the_window_and_the_cuts():
    _imp, ds, tasks = shop()
    buy, spend = tasks["buy"], tasks["spend"]
    tr = buy.get_table("train").df
    sp = spend.get_table("train").df
    assert tr["timestamp"].max() < ds.val_timestamp
    for _, row in tr.sample(20, random_state=0).iterrows():
        y, s = _labels_by_hand(ds, row["timestamp"], 30, row["entity"])
        assert row["label"] == y
        assert sp.set_index(["timestamp", "entity"]).loc[(row["timestamp"], row["entity"]), "label"] == pytest.approx(s)
    assert set(buy.get_table("test").df.columns) == {"timestamp", "entity"}  # test labels masked
    # an order planted after the test cut-off changes no train / val label, only test ones
    f = shop_frames()
    f["orders"].loc[len(f["orders"])] = {"oid": 9999, "cid": 100, "placed": pd.Timestamp(TEST) + pd.Timedelta(days=3), "total": 1e5}
    _, _ds2, tasks2 = shop(f)
    for s in ("train", "val"):
        pd.testing.assert_frame_equal(buy.get_table(s).df, tasks2["buy"].get_table(s).df)
    t1 = spend.get_table("test", mask_input_cols=False).df
    t2 = tasks2["spend"].get_table("test", mask_input_cols=False).df
    assert (t2["label"] - t1["label"]).max() == pytest.approx(1e5)


@pytest.fixture(scope="module")
def bundle():
    _, _, tasks = shop()
    b, spec = make_bundle(tasks["buy"], "shop", "buy", HashingTextEmbedder(8))
    return b, spec


def _loader(b, split="train", **kw):
    from relbench.modeling.graph import get_node_train_table_input
    inp = get_node_train_table_input(b.tables[split], b.task)
    return NeighborLoader(b.data, num_neighbors=[8, 8], time_attr="time", input_nodes=inp.nodes,
                          input_time=inp.time, disjoint=True, batch_size=64, shuffle=False, **kw), inp


def test_sampled_subgraphs_hold_only_the_past(bundle):
    b, _ = bundle
    loader, _ = _loader(b)
    seen = 0
    for batch in loader:
        seed_time = batch["customer"].seed_time
        for nt in ("orders", "line"):
            if batch[nt].num_nodes:
                assert (batch[nt].time <= seed_time[batch[nt].batch]).all()
                seen += batch[nt].num_nodes
    assert seen > 0


def test_model_cannot_see_a_planted_future_row(bundle):
    """Plant a row that gives the label away (a huge order right after the seed time): the
    model's outputs for every earlier seed are unchanged; a later seed does see it."""
    b, _ = bundle
    torch.manual_seed(0)
    model = RDLModel(b.data, b.col_stats, "customer", hidden_channels=16, num_layers=2,
                     encoder_layers=1).eval()
    loader, inp = _loader(b)
    orders = b.data["orders"]
    # the planted row: the first order of customer 0 after the median seed time
    t_mid = inp.time.median()
    cust = torch.tensor(b.task.get_db().table_dict["orders"].df["cid"].to_numpy()).long()
    cand = ((orders.time > t_mid) & (cust == 0)).nonzero().view(-1)
    assert cand.numel() > 0
    planted = int(cand[orders.time[cand].argmin()])
    t_plant = int(orders.time[planted])

    def outputs():
        with torch.no_grad():
            return torch.cat([model(batch).view(-1) for batch in loader])

    before = outputs()
    tf = orders.tf
    num = tf.feat_dict[next(iter(tf.feat_dict))]
    saved = num[planted].clone()
    try:
        for st in tf.feat_dict:  # give the planted row extreme values in every column
            if tf.feat_dict[st].is_floating_point():
                tf.feat_dict[st][planted] = 1e4
        after = outputs()
    finally:
        num[planted] = saved
    earlier = inp.time < t_plant
    assert earlier.any() and (~earlier).any()
    assert torch.equal(before[earlier], after[earlier])
    later0 = (~earlier) & (inp.nodes[1] == 0)
    assert not torch.allclose(before[later0], after[later0])  # reachable once it is in the past


def test_baseline_features_use_only_the_past():
    from graphkit.relational.baseline import entity_features
    _, _ds, tasks = shop()
    task = tasks["buy"]
    table = task.get_table("train")
    X1 = entity_features(task.get_db(), task, table)
    f = shop_frames()
    cut = table.df["timestamp"].min()
    f["orders"] = f["orders"].copy()
    later = f["orders"]["placed"] > cut
    f["orders"].loc[later, "total"] = 1e6  # every future-of-first-seed order changes
    _, _ds2, tasks2 = shop(f)
    X2 = entity_features(tasks2["buy"].get_db(), tasks2["buy"], tasks2["buy"].get_table("train"))
    first = (table.df["timestamp"] == cut).to_numpy()
    pd.testing.assert_frame_equal(X1[first], X2[first])
    assert not X1[~first].equals(X2[~first])

"""Integration tests of the trainer and the CLI on synthetic data (no files needed)."""
import json
import os
import signal
import subprocess
import sys
import time
from typing import ClassVar

import pytest
import torch

from graphkit.cli import main
from graphkit.config import from_dict
from graphkit.train import Trainer
from graphkit.train.checkpoint import load_checkpoint, save_checkpoint


def _cfg(tmp_path, **sections):
    raw = {"name": "t", "out_dir": str(tmp_path / "runs")}
    raw.update(sections)
    return from_dict(raw)


def test_node_task_learns_csbm(tmp_path):
    cfg = _cfg(tmp_path, data={"name": "csbm", "splits": [0]},
               model={"hidden_channels": 16}, train={"epochs": 40, "patience": 0, "seeds": [0, 1]})
    s = Trainer(cfg, progress=False).run()
    agg = s["aggregate"]["test_accuracy"]
    assert agg["n"] == 2 and agg["mean"] > 0.75  # chance is 0.5
    res = json.loads((tmp_path / "runs/t/seed0_split0/result.json").read_text())
    for key in ("config", "metrics", "best_epoch", "timings", "num_parameters", "versions", "device"):
        assert key in res
    assert res["metrics"]["test"]["accuracy"] == res["history"][res["best_epoch"] - 1]["test"]["accuracy"]
    assert (tmp_path / "runs/t/seed0_split0/curves.png").stat().st_size > 1000


def test_graph_task_learns_structure(tmp_path):
    cfg = _cfg(tmp_path, data={"name": "random-graphs", "splits": [0]},
               model={"name": "gin", "hidden_channels": 32, "num_layers": 3, "readout": "sum",
                      "kwargs": {"norm": "batch_norm"}},
               train={"epochs": 15, "patience": 0, "batch_size": 32, "lr": 0.01, "weight_decay": 0.0})
    s = Trainer(cfg, progress=False).run()
    assert s["aggregate"]["test_accuracy"]["mean"] > 0.5  # chance is 1/3


def test_link_task_learns(tmp_path):
    cfg = _cfg(tmp_path, data={"name": "random-link"},
               model={"hidden_channels": 32, "dropout": 0.0},
               train={"epochs": 60, "patience": 0, "weight_decay": 0.0})
    s = Trainer(cfg, progress=False).run()
    assert s["aggregate"]["test_auc"]["mean"] > 0.8
    assert "test_ap" in s["aggregate"]


def test_existing_results_need_resume_or_overwrite(tmp_path):
    cfg = _cfg(tmp_path, data={"name": "csbm", "splits": [0]}, train={"epochs": 3})
    first = Trainer(cfg, progress=False).run()
    with pytest.raises(FileExistsError, match="--resume"):
        Trainer(cfg, progress=False).run()
    again = Trainer(cfg, progress=False, resume=True).run()  # finished runs are skipped
    assert again["per_run"] == first["per_run"]
    other = _cfg(tmp_path, data={"name": "csbm", "splits": [0]}, model={"hidden_channels": 8},
                 train={"epochs": 3})
    with pytest.raises(ValueError, match="another config"):
        Trainer(other, progress=False, resume=True).run()


def test_checkpoint_of_other_config_is_refused(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"fingerprint": "abc", "model": {"w": torch.ones(2)}})
    assert load_checkpoint(path, "abc")["model"]["w"].sum() == 2
    with pytest.raises(ValueError, match="written for another config"):
        load_checkpoint(path, "xyz")


def test_checkpoint_loads_weights_only(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    path = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, path)
    with pytest.raises(ValueError, match="cannot be read safely"):
        load_checkpoint(path)


def test_split_out_of_range(tmp_path):
    cfg = _cfg(tmp_path, data={"name": "csbm", "splits": [99]}, train={"epochs": 1})
    with pytest.raises(ValueError, match="asks for split 99 but dataset 'csbm' has 10"):
        Trainer(cfg, progress=False).run()


@pytest.mark.parametrize("override, message", [
    ("data.name=coraa", "unknown dataset 'coraa'"),
    ("model.name=gcnn", "unknown model 'gcnn'"),
    ("train.lrr=1", "unknown config key 'train.lrr'"),
])
def test_cli_bad_input_exits_2_with_message(tmp_path, capsys, override, message):
    cfgfile = tmp_path / "c.yaml"
    cfgfile.write_text("data: {name: csbm, splits: [0]}\ntrain: {epochs: 1}\n")
    rc = main(["train", str(cfgfile), override, "--out-dir", str(tmp_path), "--no-progress"])
    assert rc == 2
    assert message in capsys.readouterr().err


def _cli(args, **kw):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "graphkit", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


@pytest.mark.slow
def test_kill9_then_resume_equals_uninterrupted(tmp_path):
    cfgfile = tmp_path / "r.yaml"
    cfgfile.write_text(
        "name: r\ndata: {name: csbm, splits: [0]}\n"
        "model: {name: gcn, hidden_channels: 16}\n"
        "train: {epochs: 400, patience: 0, checkpoint_every: 5, seeds: [3]}\n")
    ref = _cli(["train", str(cfgfile), "--out-dir", str(tmp_path / "ref"), "--no-progress"])
    assert ref.wait(timeout=600) == 0, ref.stdout.read().decode()

    out = tmp_path / "killed"
    proc = _cli(["train", str(cfgfile), "--out-dir", str(out), "--no-progress"])
    ckpt = out / "r/seed3_split0/checkpoint.pt"
    deadline = time.time() + 300
    while time.time() < deadline and not ckpt.exists():
        time.sleep(0.05)
    time.sleep(0.3)
    assert proc.poll() is None, "run finished before it could be killed; raise epochs"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    state = load_checkpoint(ckpt)
    assert 0 < state["state"]["epoch"] < 400
    assert not (out / "r/seed3_split0/result.json").exists()

    res = _cli(["train", str(cfgfile), "--out-dir", str(out), "--no-progress", "--resume"])
    assert res.wait(timeout=600) == 0, res.stdout.read().decode()
    a = json.loads((tmp_path / "ref/r/seed3_split0/result.json").read_text())
    b = json.loads((out / "r/seed3_split0/result.json").read_text())
    assert a["best_epoch"] == b["best_epoch"]
    assert a["metrics"] == b["metrics"]
    assert [h["loss"] for h in a["history"]] == [h["loss"] for h in b["history"]]


def test_neighbor_loader_minibatch_training(tmp_path):
    cfg = _cfg(tmp_path, data={"name": "csbm", "splits": [0]},
               model={"name": "sage", "hidden_channels": 16},
               train={"epochs": 8, "patience": 0, "loader": "neighbor", "num_neighbors": [5, 5],
                      "batch_size": 128})
    s = Trainer(cfg, progress=False).run()
    assert s["aggregate"]["test_accuracy"]["mean"] > 0.75


def test_neighbor_fanouts_must_match_depth(tmp_path):
    cfg = _cfg(tmp_path, data={"name": "csbm", "splits": [0]},
               train={"epochs": 1, "loader": "neighbor", "num_neighbors": [5, 5, 5]})
    with pytest.raises(ValueError, match="num_neighbors"):
        Trainer(cfg, progress=False).run()


def test_link_neighbor_loader_minibatch_training(tmp_path):
    cfg = _cfg(tmp_path, data={"name": "random-link"},
               model={"name": "sage", "hidden_channels": 32, "dropout": 0.0},
               train={"epochs": 15, "patience": 0, "loader": "neighbor", "num_neighbors": [10, 5],
                      "batch_size": 256, "weight_decay": 0.0})
    s = Trainer(cfg, progress=False).run()
    assert s["aggregate"]["test_auc"]["mean"] > 0.75  # chance is 0.5


def test_select_by_validation_loss(tmp_path):
    cfg = _cfg(tmp_path, data={"name": "csbm", "splits": [0]},
               train={"epochs": 30, "patience": 0, "select": "loss"})
    Trainer(cfg, progress=False).run()
    res = json.loads((tmp_path / "runs/t/seed0_split0/result.json").read_text())
    losses = [h["val"]["loss"] for h in res["history"]]
    assert res["selected_by"] == "val loss"
    assert res["best_epoch"] == 1 + losses.index(min(losses))


def test_link_batches_loader_trains(tmp_path):
    cfg = _cfg(tmp_path, data={"name": "random-link"},
               model={"hidden_channels": 32, "dropout": 0.0},
               train={"epochs": 15, "patience": 0, "loader": "links", "batch_size": 128,
                      "weight_decay": 0.0})
    s = Trainer(cfg, progress=False).run()
    assert s["aggregate"]["test_auc"]["mean"] > 0.75  # chance is 0.5


class _GraphSeeingHead(torch.nn.Module):
    """Scores (u, v) by the common-neighbour count in ``graph`` plus a learned bias, recording
    that it was given the graph."""
    needs_graph = True
    seen: ClassVar[list] = []
    eval_links: ClassVar[list] = []

    def __init__(self, channels=None):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(()))

    def reset_parameters(self):
        torch.nn.init.zeros_(self.bias)

    def forward(self, z, edge_label_index, graph):
        type(self).seen.append(graph.edge_index.size(1))
        if not self.training:
            type(self).eval_links.append(edge_label_index.size(1))
        a = torch.zeros(graph.num_nodes, graph.num_nodes, device=z.device)
        a[graph.edge_index[0], graph.edge_index[1]] = 1.0
        cn = (a[edge_label_index[0]] * a[edge_label_index[1]]).sum(-1)
        return cn + self.bias + 0.0 * z.sum()


def test_subgraph_heads_get_the_training_graph(tmp_path):
    from graphkit.registry import HEADS
    HEADS.register("_test_graph_seeing", _GraphSeeingHead)
    cfg = _cfg(tmp_path, data={"name": "random-link"},
               model={"hidden_channels": 8, "head": "_test_graph_seeing"},
               train={"epochs": 2, "patience": 0, "loader": "links", "batch_size": 256})
    s = Trainer(cfg, progress=False).run()
    # common neighbours beat chance only when the head really sees the graph
    assert _GraphSeeingHead.seen and s["aggregate"]["test_auc"]["mean"] > 0.55
    from graphkit.data import load
    _, spec = load("random-link")
    train_edges = 2 * spec.splits[0]["train_pos"].size(1)
    # message passing sees training links only (both directions), never val / test links
    assert max(_GraphSeeingHead.seen) <= train_edges
    # per evaluation: 512 + 512 training links (a fixed subset), all val and test links
    per_eval = 2 * 512 + 2 * spec.splits[0]["val_pos"].size(1) + 2 * spec.splits[0]["test_pos"].size(1)
    assert sum(_GraphSeeingHead.eval_links) == 2 * per_eval   # 2 epochs


def test_graph_level_backbone_skips_readout():
    from types import SimpleNamespace

    from graphkit.train.models import GraphPredictor, InputEncoder

    class PerGraph(torch.nn.Module):
        graph_level = True

        def reset_parameters(self):
            pass

        def forward(self, x, edge_index, edge_attr=None, batch=None):
            return torch.zeros(int(batch.max()) + 1, 4).index_add_(0, batch, x)

    model = GraphPredictor(InputEncoder("identity"), PerGraph(), torch.nn.Identity(), 4, 2, 0.0)
    batch = SimpleNamespace(x=torch.ones(5, 4), num_nodes=5, edge_index=torch.empty(2, 0, dtype=torch.long),
                            batch=torch.tensor([0, 0, 0, 1, 1]), num_graphs=2)
    assert model(batch).shape == (2, 2)


def _task(cfg, split=0, features=None):
    from graphkit.train.tasks import make_task
    data, spec = Trainer(cfg, progress=False).load_data()
    if features is not None:     # in memory only: features of mixed scales
        x = data._data.x
        data._data.x = torch.randn(x.size(0), features, generator=torch.Generator().manual_seed(0)) \
            * torch.logspace(-2, 3, features) + 5
    return data, make_task(data, spec, split, cfg, torch.device("cpu"), 0)


def test_standardize_uses_training_graphs_only(tmp_path):
    cfg = _cfg(tmp_path, data={"name": "random-graphs", "splits": [0], "standardize": True},
               model={"name": "gin"}, train={"epochs": 1})
    dataset, task = _task(cfg, features=4)
    assert dataset.transform is None                        # the shared data set is untouched
    train_x = torch.cat([d.x for d in task._train_subset]).double()
    torch.testing.assert_close(train_x.mean(0), torch.zeros(4, dtype=torch.double), atol=1e-5, rtol=0)
    torch.testing.assert_close(train_x.std(0, correction=0), torch.ones(4, dtype=torch.double),
                               atol=1e-5, rtol=0)
    raw = torch.cat([dataset[int(i)].x for i in task.idx["train"]]).double()
    mu, sd = raw.mean(0), raw.std(0, correction=0)
    test = next(iter(task.loaders["test"])).x.double()
    raw_test = torch.cat([dataset[int(i)].x for i in task.idx["test"]]).double()[:test.size(0)]
    torch.testing.assert_close(test, (raw_test - mu) / sd, atol=1e-4, rtol=1e-5)  # train stats
    assert test.mean(0).abs().max() > 1e-3                  # ... not the test graphs' own
    off = _cfg(tmp_path, data={"name": "random-graphs", "splits": [0]}, model={"name": "gin"})
    assert off.fingerprint() != cfg.fingerprint()


def test_standardize_node_task_fits_training_nodes(tmp_path):
    cfg = _cfg(tmp_path, data={"name": "csbm", "splits": [0], "standardize": True},
               model={"hidden_channels": 16}, train={"epochs": 40, "patience": 0})
    data, task = _task(cfg)
    x = task.data.x[task.idx["train"]].double()
    torch.testing.assert_close(x.mean(0), torch.zeros(x.size(1), dtype=torch.double),
                               atol=1e-5, rtol=0)
    assert not torch.equal(task.data.x, data.x)            # the task has its own copy
    s = Trainer(cfg, progress=False).run()                  # and it trains end to end
    assert s["aggregate"]["test_accuracy"]["mean"] > 0.6


def test_standardize_needs_features(tmp_path):
    cfg = _cfg(tmp_path, data={"name": "random-link", "standardize": True}, train={"epochs": 1})
    data, spec = Trainer(cfg, progress=False).load_data()
    data.x = None
    with pytest.raises(ValueError, match="no node features 'x'"):
        Trainer(cfg, progress=False, data=(data, spec)).run()

"""torchrun / DDP: two gloo processes on CPU give the single-process result."""
import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from graphkit.train.distributed import DistEnv, gather_cat, shard

CFG = """name: ddp
data: {name: csbm, splits: [0]}
model: {name: gcn, hidden_channels: 16, dropout: 0.0}
train: {epochs: 25, patience: 0, checkpoint_every: 0, seeds: [0]}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_shard_and_gather_single_process_are_identity():
    idx = torch.arange(7)
    assert torch.equal(shard(idx, DistEnv()), idx)
    assert torch.equal(gather_cat(idx, DistEnv()), idx)
    assert shard(idx, DistEnv(1, 2)).tolist() == [1, 3, 5]
    assert shard(torch.arange(10).view(2, 5), DistEnv(0, 2)).tolist() == [[0, 2, 4], [5, 7, 9]]


@pytest.mark.slow
def test_torchrun_two_gloo_ranks_equal_single_process(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CFG)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    single = subprocess.run([sys.executable, "-m", "graphkit", "train", str(cfg), "--out-dir",
                             str(tmp_path / "single"), "--no-progress"], env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    assert single.returncode == 0, single.stderr
    multi = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                            f"--master_port={_free_port()}", "-m", "graphkit", "train", str(cfg),
                            "--out-dir", str(tmp_path / "multi"), "--no-progress"], env=env,
                           capture_output=True, text=True, timeout=600, check=False)
    assert multi.returncode == 0, multi.stderr
    a = json.loads((tmp_path / "single/ddp/seed0_split0/result.json").read_text())
    b = json.loads((tmp_path / "multi/ddp/seed0_split0/result.json").read_text())
    assert b["world_size"] == 2 and a["world_size"] == 1
    for split in ("train", "val", "test"):
        assert b["metrics"][split]["accuracy"] == pytest.approx(a["metrics"][split]["accuracy"], abs=0.01)
    # validation curves agree epoch by epoch (gradients are all-reduced over equal shards)
    va = [h["val"]["accuracy"] for h in a["history"]]
    vb = [h["val"]["accuracy"] for h in b["history"]]
    assert max(abs(x - y) for x, y in zip(va, vb)) <= 0.01
    # only rank 0 wrote: one result file, no stray temporary files
    assert sorted(p.name for p in (tmp_path / "multi/ddp/seed0_split0").iterdir()) == [
        "best_model.pt", "curves.png", "result.json"]

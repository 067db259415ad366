"""Learning-rate schedules (``train.scheduler``) and gradient clipping (``train.grad_clip``)."""
import itertools
import json
import math

import pytest
import torch

from graphkit.config import ConfigError, from_dict
from graphkit.train import Trainer
from graphkit.train.checkpoint import load_checkpoint
from graphkit.train.tasks import Task


def _cfg(tmp_path, **train):
    return from_dict({"name": "t", "out_dir": str(tmp_path / "runs"),
                      "data": {"name": "csbm", "splits": [0]}, "model": {"hidden_channels": 8},
                      "train": {"epochs": 6, "patience": 0, "lr": 0.02, "checkpoint_every": 1,
                                **train}})


def test_cosine_schedule_follows_the_formula_and_is_checkpointed(tmp_path):
    cfg = _cfg(tmp_path, scheduler="cosine")
    Trainer(cfg, progress=False).run()
    res = json.loads((tmp_path / "runs/t/seed0_split0/result.json").read_text())
    lrs = [h["lr"] for h in res["history"]]
    want = [0.02 * (1 + math.cos(math.pi * (e - 1) / 6)) / 2 for e in range(1, 7)]
    assert lrs == pytest.approx(want, rel=1e-6)
    ck = load_checkpoint(tmp_path / "runs/t/seed0_split0/checkpoint.pt", cfg.fingerprint())
    assert ck["scheduler"]["last_epoch"] == 6


def test_plateau_halves_the_rate_when_validation_stalls(tmp_path):
    # threshold 10: no epoch counts as better than the first, so patience 0 halves every epoch
    cfg = _cfg(tmp_path, scheduler="plateau", lr=1e-3,
               scheduler_kwargs={"patience": 0, "threshold": 10.0})
    Trainer(cfg, progress=False).run()
    res = json.loads((tmp_path / "runs/t/seed0_split0/result.json").read_text())
    lrs = [h["lr"] for h in res["history"]]
    assert lrs == pytest.approx([1e-3 * 0.5 ** max(e - 1, 0) for e in range(6)])
    assert all(b <= a for a, b in itertools.pairwise(lrs))


def test_schedule_and_clip_change_the_fingerprint_only_when_set(tmp_path):
    base = _cfg(tmp_path).fingerprint()
    assert _cfg(tmp_path, scheduler="none", grad_clip=0.0).fingerprint() == base
    assert _cfg(tmp_path, scheduler="cosine").fingerprint() != base
    assert _cfg(tmp_path, grad_clip=1.0).fingerprint() != base


@pytest.mark.parametrize("train, message", [
    ({"scheduler": "step"}, "train.scheduler"),
    ({"grad_clip": -1.0}, "train.grad_clip"),
])
def test_bad_schedule_settings_are_refused(tmp_path, train, message):
    with pytest.raises(ConfigError, match=message):
        _cfg(tmp_path, **train)


def test_grad_clip_bounds_the_step():
    """SGD with lr 1 on a loss of slope 1000: clipped to norm 0.5, the weight moves by 0.5."""
    from contextlib import nullcontext

    class Stub(Task):
        def __init__(self, clip):
            self.cfg = from_dict({"train": {"grad_clip": clip}})
            self.device, self.autocast = torch.device("cpu"), nullcontext

    for clip, moved in ((0.5, 0.5), (0.0, 1000.0)):
        w = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([w], lr=1.0)
        Stub(clip).run_batches(None, opt, [0], lambda model, batch, w=w: ((1000 * w).sum(), 1))
        assert float(-w.detach()) == pytest.approx(moved)

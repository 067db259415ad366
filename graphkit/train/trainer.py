"""One trainer for node, link and graph tasks.

For every (seed, split) of a config it trains with early stopping on the validation metric,
reports every split's metric at the best validation epoch (the OGB protocol), writes a results
JSON and a learning-curve PNG per run, checkpoints atomically every few epochs so an interrupted
run resumes exactly, and aggregates mean +- unbiased std over runs.

Example:
    >>> from graphkit.config import load_config
    >>> summary = Trainer(load_config("examples/configs/cora_gcn.yaml")).run()
"""
from __future__ import annotations

import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch

import graphkit
from graphkit.config import Config
from graphkit.train.checkpoint import (
    load_checkpoint,
    rng_state,
    save_checkpoint,
    seed_everything,
    set_rng_state,
    write_json,
)
from graphkit.train.distributed import (
    DistEnv,
    barrier,
    init_from_env,
    unwrap,
    wrap_model,
)
from graphkit.train.tasks import make_task


def resolve_device(name: str, env: DistEnv | None = None) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", env.local_rank) if env and env.enabled else torch.device("cuda")
        return torch.device("cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"config key 'train.device' is {name!r} but CUDA is not available here; "
                         f"use 'auto' or 'cpu'")
    return dev


def versions() -> dict[str, str]:
    import numpy
    import torch_geometric
    out = {"python": platform.python_version(), "graphkit": graphkit.__version__,
           "torch": torch.__version__, "torch_geometric": torch_geometric.__version__,
           "numpy": numpy.__version__}
    for mod in ("ogb", "torch_scatter", "torch_sparse", "pyg_lib"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = getattr(m, "__version__", "?")
    return out


def _better(a: float, b: float, higher: bool) -> bool:
    if math.isnan(a):
        return False
    if math.isnan(b):
        return True
    return a > b if higher else a < b


def _optimizer(cfg: Config, model: torch.nn.Module) -> torch.optim.Optimizer:
    t = cfg.train
    params = [p for p in model.parameters() if p.requires_grad]
    if t.optimizer == "adam":
        return torch.optim.Adam(params, lr=t.lr, weight_decay=t.weight_decay)
    if t.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=t.lr, weight_decay=t.weight_decay)
    return torch.optim.SGD(params, lr=t.lr, weight_decay=t.weight_decay, momentum=0.9)


def _scheduler(cfg: Config, optimizer: torch.optim.Optimizer, higher: bool):
    """The epoch-level learning-rate schedule of ``train.scheduler`` (``None`` for ``none``)."""
    t = cfg.train
    if t.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, **{"T_max": t.epochs, **t.scheduler_kwargs})
    if t.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, **{"mode": "max" if higher else "min", "factor": 0.5, "patience": 20,
                          "min_lr": 1e-5, **t.scheduler_kwargs})
    return None


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and unbiased standard deviation (``torch.std``, as OGB's leaderboards)."""
    vals = torch.tensor([v for v in values if not math.isnan(v)], dtype=torch.float64)
    if vals.numel() == 0:
        return float("nan"), float("nan")
    return float(vals.mean()), float(vals.std()) if vals.numel() > 1 else 0.0


def pooled_mean_std(groups: list[tuple[int, float, float]]) -> tuple[int, float, float]:
    r"""Count, mean and unbiased std of the union of disjoint groups, each given only as
    ``(n, mean, unbiased std)`` (e.g. folds 0-4 and 5-9 of a CV run in two invocations):
    exact, from :math:`\sum x^2 = (n-1)s^2 + n\bar{x}^2` per group."""
    if not groups:
        raise ValueError("pooled_mean_std: 'groups' must hold at least one (n, mean, std); got []")
    for g in groups:
        if len(g) != 3 or int(g[0]) != g[0] or g[0] < 1:
            raise ValueError(f"pooled_mean_std: each group must be (n >= 1, mean, std); got {g}")
    n = sum(int(g[0]) for g in groups)
    mean = sum(g[0] * g[1] for g in groups) / n
    if n == 1:
        return 1, mean, 0.0
    ss = sum((g[0] - 1) * g[2] ** 2 + g[0] * (g[1] - mean) ** 2 for g in groups)
    return n, mean, math.sqrt(ss / (n - 1))


class Trainer:
    """Train and evaluate every (seed, split) run of ``cfg``.

    Args:
        cfg: the run configuration.
        resume: continue runs from their checkpoints and skip finished runs.
        overwrite: discard earlier results of this run name and start afresh.
        progress: show a progress bar per run.
        data: an already loaded ``(data, TaskSpec)`` pair (skips ``graphkit.data.load``).
    """

    def __init__(self, cfg: Config, *, resume: bool = False, overwrite: bool = False,
                 progress: bool = True, data: tuple | None = None) -> None:
        self.cfg, self.resume, self.overwrite = cfg, resume, overwrite
        self.env = init_from_env(cfg.train.device)
        self.progress = progress and self.env.is_main
        self.device = resolve_device(cfg.train.device, self.env)
        self.out = Path(cfg.out_dir) / cfg.name
        self._data = data

    # ----------------------------------------------------------------------------- data
    def load_data(self) -> tuple[Any, Any]:
        if self._data is None:
            from graphkit.data import load
            obj, spec = load(self.cfg.data.name, root=self.cfg.data.root, **self.cfg.data.options)
            obj = self._transform(obj, spec)
            self._data = (obj, spec)
        return self._data

    def _transform(self, obj, spec):
        names = list(self.cfg.data.transforms)
        if self.cfg.model.input_encoder == "degree":
            names.append("degree")
        if not names:
            return obj
        from torch_geometric.transforms import Compose

        import graphkit.transforms  # noqa: F401  (registers transforms)
        from graphkit.registry import TRANSFORMS
        def build(n):
            if isinstance(n, str):
                return TRANSFORMS.build(n)
            if not isinstance(n, dict) or "name" not in n:
                raise ValueError(f"config key 'data.transforms' entries must be a name or a mapping "
                                 f"with 'name' and keyword arguments; got {n!r}")
            return TRANSFORMS.build(n["name"], **{k: v for k, v in n.items() if k != "name"})
        tf = Compose([build(n) for n in names])
        if spec.task == "graph":
            obj.transform = tf if obj.transform is None else Compose([obj.transform, tf])
            return obj
        return tf(obj)

    def runs(self, spec) -> list[tuple[int, int]]:
        splits = self.cfg.data.splits
        idx = list(range(len(spec.splits))) if splits == "all" else list(splits)
        for i in idx:
            if i >= len(spec.splits):
                raise ValueError(f"config key 'data.splits' asks for split {i} but dataset "
                                 f"{spec.name!r} has {len(spec.splits)} (0..{len(spec.splits) - 1})")
        return [(s, i) for s in self.cfg.train.seeds for i in idx]

    # ----------------------------------------------------------------------------- runs
    def run(self) -> dict:
        data, spec = self.load_data()
        if self.env.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
        results = [self.run_one(data, spec, seed, split) for seed, split in self.runs(spec)]
        summary = self.summarize(results, spec)
        if self.env.is_main:
            write_json(self.out / "summary.json", summary)
        barrier(self.env)
        return summary

    def run_dir(self, seed: int, split: int) -> Path:
        return self.out / f"seed{seed}_split{split}"

    def run_one(self, data, spec, seed: int, split: int) -> dict:
        cfg, rdir = self.cfg, self.run_dir(seed, split)
        result_path, ckpt_path = rdir / "result.json", rdir / "checkpoint.pt"
        fp = cfg.fingerprint()
        if result_path.exists() and not self.overwrite:
            if not self.resume:
                raise FileExistsError(f"run {str(rdir)!r} already has results; pass --resume to "
                                      f"keep them (finished runs are skipped) or --overwrite to "
                                      f"start afresh")
            import json
            res = json.loads(result_path.read_text())
            if res.get("fingerprint") != fp:
                raise ValueError(f"results in {str(rdir)!r} were written for another config "
                                 f"(fingerprint {res.get('fingerprint')!r}, this config {fp!r}); "
                                 f"use another run name or --overwrite")
            return res
        if self.overwrite and rdir.exists() and self.env.is_main:
            for f in (result_path, ckpt_path):
                if f.exists():
                    f.unlink()
        barrier(self.env)

        seed_everything(seed, cfg.train.deterministic)
        task = make_task(data, spec, split, cfg, self.device, seed, self.env)
        model = task.build_model().to(self.device)
        optimizer = _optimizer(cfg, model)
        main = self.env.is_main
        select = spec.metric if cfg.train.select == "metric" else "loss"
        higher = spec.higher_is_better if select != "loss" else False
        state = {"epoch": 0, "best_epoch": -1, "best_val": float("nan"), "best": None,
                 "history": [], "bad_epochs": 0, "train_time": 0.0}
        if ckpt_path.exists() and not self.resume:
            raise FileExistsError(f"run {str(rdir)!r} has a checkpoint from an interrupted run; pass "
                                  f"--resume to continue it or --overwrite to start afresh")
        scheduler = _scheduler(cfg, optimizer, higher)
        if ckpt_path.exists():
            ck = load_checkpoint(ckpt_path, fp)
            model.load_state_dict(ck["model"])
            optimizer.load_state_dict(ck["optimizer"])
            if scheduler is not None and ck.get("scheduler") is not None:
                scheduler.load_state_dict(ck["scheduler"])
            set_rng_state(ck["rng"])
            state = ck["state"]
        model = wrap_model(model, self.env, self.device)

        best_state = state.get("best_model") if isinstance(state.get("best_model"), dict) else None
        epochs = cfg.train.epochs
        bar = self._bar(epochs, state["epoch"], f"{cfg.name} seed {seed} split {split}")
        metric = spec.metric
        try:
            for epoch in range(state["epoch"] + 1, epochs + 1):
                t0 = time.perf_counter()
                loss = task.train_epoch(model, optimizer, epoch)
                if not math.isfinite(loss):
                    raise FloatingPointError(f"training loss became {loss} at epoch {epoch} "
                                             f"(seed {seed}, split {split}); lower 'train.lr' or "
                                             f"check the input features")
                ev = task.evaluate(model)
                dt = time.perf_counter() - t0
                state["train_time"] += dt
                state["history"].append({"epoch": epoch, "loss": loss, "time": dt,
                                         "lr": optimizer.param_groups[0]["lr"],
                                         **{k: v for k, v in ev.items()}})
                val = ev["val"][select]
                if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    scheduler.step(val)
                elif scheduler is not None:
                    scheduler.step()
                if _better(val, state["best_val"], higher):
                    state.update(best_val=val, best_epoch=epoch, best=ev, bad_epochs=0)
                    best_state = {k: v.detach().clone() for k, v in unwrap(model).state_dict().items()}
                else:
                    state["bad_epochs"] += 1
                state["epoch"] = epoch
                stop = cfg.train.patience and state["bad_epochs"] >= cfg.train.patience
                if main and cfg.train.checkpoint_every and (epoch % cfg.train.checkpoint_every == 0
                                                            or epoch == epochs or stop):
                    save_checkpoint(ckpt_path, {
                        "fingerprint": fp, "model": unwrap(model).state_dict(),
                        "optimizer": optimizer.state_dict(), "rng": rng_state(),
                        "scheduler": scheduler.state_dict() if scheduler is not None else None,
                        "state": {**state, "best_model": best_state}})
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.4f}", **{f"val_{select}": f"{val:.4f}"},
                                    best=f"{state['best_val']:.4f}")
                if stop:
                    break
        finally:
            if bar is not None:
                bar.close()

        model = unwrap(model)
        n_params = sum(p.numel() for p in model.parameters())
        hist = state["history"]
        result = {
            "name": cfg.name, "seed": seed, "split": split, "fingerprint": fp,
            "dataset": spec.summary(), "metric": metric, "higher_is_better": spec.higher_is_better,
            "selected_by": f"val {select}",
            "best_epoch": state["best_epoch"], "epochs_run": state["epoch"],
            "metrics": state["best"],
            "final": hist[-1] if hist else None,
            "timings": {"train_s": state["train_time"],
                        "epoch_s": state["train_time"] / max(len(hist), 1)},
            "num_parameters": n_params, "device": str(self.device),
            "device_name": torch.cuda.get_device_name(self.device) if self.device.type == "cuda"
            else platform.processor() or platform.machine(),
            "versions": versions(), "config": cfg.to_dict(), "world_size": self.env.world_size,
            "history": hist,
        }
        if cfg.train.diagnostics and best_state is not None:
            result["diagnostics"] = self._diagnostics(task, model, best_state)
        if main:
            rdir.mkdir(parents=True, exist_ok=True)
            if best_state is not None:
                save_checkpoint(rdir / "best_model.pt", best_state)
            write_json(result_path, result)
            self._plot(hist, metric, rdir / "curves.png")
        barrier(self.env)
        return result

    def _diagnostics(self, task, model, best_state) -> dict:
        try:
            from graphkit.diagnostics import DiagnosticsRecorder
        except ImportError:
            return {"error": "graphkit.diagnostics.DiagnosticsRecorder is not available"}
        model.load_state_dict(best_state)
        data = getattr(task, "data", None) or getattr(task, "graph", None)
        if data is None:
            return {"error": "diagnostics need a full-batch graph task"}
        backbone = getattr(model, "backbone", model)
        rec = DiagnosticsRecorder(backbone)
        x = model.encoder(data.x, data.num_nodes)
        return rec.measure(data.__class__(x=x, edge_index=data.edge_index, num_nodes=data.num_nodes))

    def _bar(self, total: int, start: int, desc: str):
        if not self.progress:
            return None
        from tqdm.auto import tqdm
        return tqdm(total=total, initial=start, desc=desc, leave=False, dynamic_ncols=True,
                    disable=None)

    @staticmethod
    def _plot(history: list[dict], metric: str, path: Path) -> None:
        if not history:
            return
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        ep = [h["epoch"] for h in history]
        fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
        a.plot(ep, [h["loss"] for h in history])
        a.set_xlabel("epoch"); a.set_ylabel("training loss")
        for k in ("train", "val", "test"):
            b.plot(ep, [h[k][metric] for h in history], label=k)
        b.set_xlabel("epoch"); b.set_ylabel(metric); b.legend()
        fig.tight_layout()
        tmp = path.with_name(f".{path.name}.tmp.png")
        fig.savefig(tmp, dpi=90)
        plt.close(fig)
        os.replace(tmp, path)

    # ----------------------------------------------------------------------------- summary
    def summarize(self, results: list[dict], spec) -> dict:
        metric = spec.metric
        agg: dict[str, Any] = {}
        names = sorted({m for r in results if r["metrics"] for m in r["metrics"]["test"]})
        for split in ("train", "val", "test"):
            for m in names:
                vals = [r["metrics"][split][m] for r in results if r["metrics"]]
                mu, sd = mean_std(vals)
                agg[f"{split}_{m}"] = {"mean": mu, "std": sd, "n": len(vals)}
        return {
            "name": self.cfg.name, "dataset": spec.summary(), "metric": metric,
            "protocol": spec.protocol, "runs": len(results),
            "aggregate": agg,
            "per_run": [{"seed": r["seed"], "split": r["split"], "best_epoch": r["best_epoch"],
                         "val": r["metrics"]["val"][metric] if r["metrics"] else float("nan"),
                         "test": r["metrics"]["test"][metric] if r["metrics"] else float("nan"),
                         "train_s": r["timings"]["train_s"]} for r in results],
            "num_parameters": results[0]["num_parameters"] if results else 0,
            "train_s_total": sum(r["timings"]["train_s"] for r in results),
            "device": str(self.device), "versions": versions(), "config": self.cfg.to_dict(),
        }

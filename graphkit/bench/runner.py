"""Leaderboard campaigns: a grid of datasets x models x options x seeds run in one command.

A suite is a YAML file::

    name: foundation
    protocol: ogb            # ogb: 10 seeds (0..9); relbench: 5 runs (0..4); or give seeds
    attempts: 2              # tries per cell before it is reported as failed
    threads: 1               # torch.set_num_threads for the whole campaign (optional)
    overrides: [train.device=cpu]          # applied to every cell
    experiments:
      - id: cora_gcn
        config: examples/configs/cora_gcn.yaml   # the base config (paths: cwd, then the suite's
                                                 # folder, then its parents)
        seeds: [0, 1, 2]                          # default: the protocol's
        splits: all                               # default: the config's data.splits
        grid: {model.name: [gcn, sage], train.lr: [0.01, 0.005]}
        overrides: [train.epochs=100]
      - id: chinook_churn
        source: relational                        # data from graphkit.relational (see there)
        source_options: {task: customer-churn}
        config: examples/configs/chinook_churn.yaml

Every (experiment, grid point, seed, split) is one *cell*: one config run by the existing
:class:`~graphkit.train.Trainer` (``train.seeds=[seed]``, ``data.splits=[split]``) under the run
name ``<id>__<grid point>``, so its checkpoints, ``result.json`` and curves sit in
``<out>/runs/<run name>/seed<S>_split<K>/``. The cell's row goes to a
:class:`~graphkit.bench.store.ResultStore` in ``<out>``. ``resume=True`` skips cells that have a
row, continues an interrupted cell from its checkpoint and reports cells found interrupted; a
cell that raises is retried ``attempts`` times and then reported as failed (the campaign goes
on).

Example:
    >>> summary = run_suite("benchmarks/suites/smoke.yaml", out="runs/bench/smoke")
    >>> summary["ran"], summary["failed"]
"""
from __future__ import annotations

import copy
import itertools
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from graphkit.bench.store import ResultStore

PROTOCOL_SEEDS = {"ogb": list(range(10)), "relbench": list(range(5))}
_SUITE_KEYS = {"name", "protocol", "attempts", "threads", "overrides", "experiments", "out",
               "description"}
_EXP_KEYS = {"id", "config", "seeds", "splits", "grid", "overrides", "source", "source_options",
             "description"}

#: data sources other than ``graphkit.data.load``: name -> fn(**options) -> (data, TaskSpec)
SOURCES: dict[str, Callable[..., tuple]] = {}


def register_source(name: str, fn: Callable[..., tuple]) -> None:
    """Make ``source: name`` in a suite call ``fn(**source_options)`` for its data."""
    SOURCES[name] = fn


def _relational_source(**options):
    from graphkit.relational.bench import load_bench_task
    return load_bench_task(**options)


register_source("relational", _relational_source)


class SuiteError(ValueError):
    """A suite file is malformed; the message names the key and what is allowed."""


@dataclass
class Experiment:
    id: str
    config: Path | None
    raw: dict
    seeds: list
    splits: Any
    grid: dict
    overrides: list
    source: str | None = None
    source_options: dict = field(default_factory=dict)


@dataclass
class Suite:
    name: str
    protocol: str
    attempts: int
    threads: int
    overrides: list
    experiments: list[Experiment]
    path: Path | None = None


@dataclass
class Cell:
    experiment: Experiment
    point: dict
    seed: int
    split: int
    run_name: str
    cell_id: str


def _slug(value: Any) -> str:
    s = str(value).replace(" ", "").replace("/", "-")
    return re.sub(r"[^A-Za-z0-9_.=+\-]", "", s.replace("[", "").replace("]", "").replace(",", "-"))


def point_name(point: dict) -> str:
    """``{'model.name': 'sage', 'train.lr': 0.005}`` -> ``'model.name=sage+train.lr=0.005'``."""
    if not point:
        return "default"
    return "+".join(f"{k}={_slug(v)}" for k, v in sorted(point.items()))


def _find(path: str, suite_path: Path | None) -> Path:
    cands = [Path(path)]
    if suite_path is not None:
        cands += [p / path for p in [suite_path.parent, *suite_path.parent.parents]]
    for c in cands:
        if c.is_file():
            return c
    raise SuiteError(f"suite: config file {path!r} not found (searched the working directory and "
                     f"the suite's folder and its parents)")


def parse_suite(raw: dict, path: Path | None = None) -> Suite:
    """Validate a suite mapping (see the module docstring)."""
    if not isinstance(raw, dict):
        raise SuiteError(f"suite must be a mapping; got {type(raw).__name__}")
    bad = sorted(set(raw) - _SUITE_KEYS)
    if bad:
        raise SuiteError(f"suite: unknown key(s) {bad}; allowed: {sorted(_SUITE_KEYS)}")
    protocol = raw.get("protocol", "ogb")
    if protocol not in PROTOCOL_SEEDS:
        raise SuiteError(f"suite key 'protocol' must be one of {sorted(PROTOCOL_SEEDS)}; got {protocol!r}")
    attempts = raw.get("attempts", 2)
    if not isinstance(attempts, int) or attempts < 1:
        raise SuiteError(f"suite key 'attempts' must be an int >= 1; got {attempts!r}")
    exps = raw.get("experiments")
    if not isinstance(exps, list) or not exps:
        raise SuiteError("suite key 'experiments' must be a non-empty list")
    out, seen = [], set()
    for i, e in enumerate(exps):
        if not isinstance(e, dict):
            raise SuiteError(f"suite: experiments[{i}] must be a mapping; got {e!r}")
        bad = sorted(set(e) - _EXP_KEYS)
        if bad:
            raise SuiteError(f"suite: experiments[{i}] has unknown key(s) {bad}; allowed: {sorted(_EXP_KEYS)}")
        eid = e.get("id")
        if not isinstance(eid, str) or not re.match(r"^[A-Za-z0-9_.\-]+$", eid) or "__" in eid:
            raise SuiteError(f"suite: experiments[{i}].id must be letters, digits, '_.-' (no '__'); got {eid!r}")
        if eid in seen:
            raise SuiteError(f"suite: experiment id {eid!r} appears twice")
        seen.add(eid)
        cfg_path = _find(e["config"], path) if e.get("config") else None
        base = yaml.safe_load(cfg_path.read_text()) if cfg_path else {}
        seeds = e.get("seeds", PROTOCOL_SEEDS[protocol])
        if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
            raise SuiteError(f"suite: experiments[{i}].seeds must be a non-empty list of ints; got {seeds!r}")
        grid = e.get("grid") or {}
        if not isinstance(grid, dict) or not all(isinstance(v, list) and v for v in grid.values()):
            raise SuiteError(f"suite: experiments[{i}].grid must map 'section.key' to a non-empty "
                             f"list of values; got {grid!r}")
        source = e.get("source")
        if source is not None and source not in SOURCES:
            raise SuiteError(f"suite: experiments[{i}].source must be one of {sorted(SOURCES)}; got {source!r}")
        out.append(Experiment(id=eid, config=cfg_path, raw=base or {}, seeds=list(seeds),
                              splits=e.get("splits"), grid=grid,
                              overrides=list(e.get("overrides") or []), source=source,
                              source_options=dict(e.get("source_options") or {})))
    return Suite(name=str(raw.get("name", path.stem if path else "suite")), protocol=protocol,
                 attempts=attempts, threads=int(raw.get("threads", 0)),
                 overrides=list(raw.get("overrides") or []), experiments=out, path=path)


def load_suite(path: str | Path) -> Suite:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"suite file {str(path)!r} does not exist")
    return parse_suite(yaml.safe_load(path.read_text()) or {}, path)


class BenchRunner:
    """Run every cell of a suite, resumably, into a results store.

    Args:
        suite: a :class:`Suite` (or a path to its YAML file).
        out: output folder (default ``runs/bench/<suite name>``): ``rows/``, ``results.jsonl``,
            ``runs/`` (the trainer's run folders), ``leaderboard.{md,csv}``, plots, exports.
        resume: skip finished cells; without it an existing non-empty store is an error.
        log: where progress lines go (default ``print``).
    """

    def __init__(self, suite: Suite | str | Path, out: str | Path | None = None, *,
                 resume: bool = False, log: Callable[[str], None] = print) -> None:
        self.suite = suite if isinstance(suite, Suite) else load_suite(suite)
        self.out = Path(out) if out is not None else Path("runs/bench") / self.suite.name
        self.resume, self.log = resume, log
        self.store = ResultStore(self.out)
        self._data: dict[str, tuple] = {}

    # ------------------------------------------------------------------ configs and cells
    def cell_config(self, exp: Experiment, point: dict, seed: int, split: int | None,
                    run_name: str):
        from graphkit.config import apply_overrides, from_dict
        raw = copy.deepcopy(exp.raw)
        over = list(self.suite.overrides) + list(exp.overrides)
        over += [f"{k}={yaml.safe_dump(v, default_flow_style=True).strip().removesuffix('...').strip()}"
                 for k, v in point.items()]
        raw = apply_overrides(raw, over)
        raw["name"] = run_name
        raw["out_dir"] = str(self.out / "runs")
        raw.setdefault("train", {})["seeds"] = [seed]
        if split is not None:
            raw.setdefault("data", {})["splits"] = [split]
        return from_dict(raw)

    def _data_key(self, exp: Experiment, cfg) -> str:
        import json
        return json.dumps([exp.source, exp.source_options, cfg.data.name, cfg.data.root,
                           cfg.data.options, cfg.data.transforms, cfg.model.input_encoder],
                          sort_keys=True, default=str)

    def data_for(self, exp: Experiment, cfg) -> tuple:
        key = self._data_key(exp, cfg)
        if key not in self._data:
            if exp.source is not None:
                from graphkit.train import Trainer
                obj, spec = SOURCES[exp.source](**exp.source_options)
                self._data[key] = Trainer(cfg, progress=False, data=(obj, spec))._data
            else:
                from graphkit.train import Trainer
                self._data[key] = Trainer(cfg, progress=False).load_data()
        return self._data[key]

    def cells(self) -> list[Cell]:
        out = []
        for exp in self.suite.experiments:
            keys = sorted(exp.grid)
            for values in itertools.product(*[exp.grid[k] for k in keys]):
                point = dict(zip(keys, values))
                run_name = f"{exp.id}__{point_name(point)}"
                probe = self.cell_config(exp, point, exp.seeds[0], None, run_name)
                _, spec = self.data_for(exp, probe)
                splits = exp.splits if exp.splits is not None else probe.data.splits
                idx = list(range(len(spec.splits))) if splits == "all" else list(splits)
                for s in idx:
                    if not isinstance(s, int) or not 0 <= s < len(spec.splits):
                        raise SuiteError(f"suite: experiment {exp.id!r} asks for split {s!r}; "
                                         f"dataset {spec.name!r} has splits 0..{len(spec.splits) - 1}")
                for seed in exp.seeds:
                    for split in idx:
                        out.append(Cell(exp, point, seed, split, run_name,
                                        f"{run_name}__s{seed}_k{split}"))
        return out

    # ------------------------------------------------------------------ running
    def run_cell(self, cell: Cell, attempt: int) -> dict:
        import graphkit.nn  # noqa: F401  (registers models)
        from graphkit.train import Trainer
        cfg = self.cell_config(cell.experiment, cell.point, cell.seed, cell.split, cell.run_name)
        data = self.data_for(cell.experiment, cfg)
        trainer = Trainer(cfg, resume=True, progress=False, data=data)
        res = trainer.run_one(data[0], data[1], cell.seed, cell.split)
        rdir = trainer.run_dir(cell.seed, cell.split)
        if data[1].task.startswith("relational"):
            res["relbench"] = self.write_predictions(cfg, data, cell, trainer, rdir)
        return self.make_row(cell, cfg, res, attempt, rdir)

    def write_predictions(self, cfg, data, cell: Cell, trainer, rdir: Path) -> dict:
        """Test predictions of the best-validation model as a RelBench prediction CSV."""
        from graphkit.train.checkpoint import load_checkpoint
        from graphkit.train.tasks import make_task
        task = make_task(data[0], data[1], cell.split, cfg, trainer.device, cell.seed)
        model = task.build_model().to(trainer.device)
        best = Path(rdir) / "best_model.pt"
        if best.is_file():
            model.load_state_dict(load_checkpoint(best))
        out = Path(rdir) / "test_predictions.csv"
        tmp = out.with_name(".test_predictions.csv.tmp")
        names = task.write_predictions(model, tmp)
        import os
        os.replace(tmp, out)
        return names

    def make_row(self, cell: Cell, cfg, res: dict, attempt: int, run_dir: Path) -> dict:
        metric = res["metric"]
        best = res["metrics"] or {}
        hist = res.get("history") or []
        tr = [h["train"][metric] for h in hist if "train" in h]
        row = {
            "cell_id": cell.cell_id, "suite": self.suite.name, "protocol": self.suite.protocol,
            "experiment": cell.experiment.id, "run_name": cell.run_name,
            "dataset": res["dataset"]["name"], "task": res["dataset"]["task"],
            "model": cfg.model.name, "options": point_name(cell.point), "point": cell.point,
            "seed": cell.seed, "split": cell.split, "metric": metric,
            "higher_is_better": res["higher_is_better"],
            "train": best.get("train", {}).get(metric, float("nan")),
            "val": best.get("val", {}).get(metric, float("nan")),
            "test": best.get("test", {}).get(metric, float("nan")),
            "train_highest": (max(tr) if res["higher_is_better"] else min(tr)) if tr else float("nan"),
            "metrics": best, "best_epoch": res["best_epoch"], "epochs_run": res["epochs_run"],
            "num_parameters": res["num_parameters"], "train_s": res["timings"]["train_s"],
            "epoch_s": res["timings"]["epoch_s"], "device": res["device"],
            "device_name": res.get("device_name"), "versions": res.get("versions"),
            "fingerprint": res["fingerprint"], "attempt": attempt, "run_dir": str(run_dir),
        }
        pred = Path(run_dir) / "test_predictions.csv"
        if pred.is_file():
            row["predictions"] = str(pred)
            row["relbench"] = res.get("relbench")
        return row

    def run(self, only: Callable[[Cell], bool] | None = None) -> dict:
        """Run (or resume) the campaign; returns counts and the failed cells."""
        if self.suite.threads:
            import torch
            torch.set_num_threads(self.suite.threads)
        if len(self.store) and not self.resume:
            raise FileExistsError(f"bench: {str(self.out)!r} already holds {len(self.store)} result "
                                  f"rows; pass --resume to skip finished cells and run the rest, "
                                  f"or --out to start a new campaign elsewhere")
        (self.out / "suite.yaml").write_text(yaml.safe_dump(
            {"name": self.suite.name, "source": str(self.suite.path) if self.suite.path else None}))
        interrupted = self.store.interrupted()
        cells = [c for c in self.cells() if only is None or only(c)]
        ids = [c.cell_id for c in cells]
        if len(set(ids)) != len(ids):
            raise SuiteError("bench: two cells share an id (duplicate grid values?)")
        summary = {"cells": len(cells), "ran": 0, "skipped": 0, "retried": [], "failed": [],
                   "interrupted": sorted(interrupted)}
        for cid in sorted(interrupted):
            self.log(f"[bench] {cid}: interrupted earlier (attempt {interrupted[cid].get('attempt', '?')}); "
                     f"retrying from its checkpoint")
        t_all = time.perf_counter()
        for i, cell in enumerate(cells, 1):
            if self.store.has(cell.cell_id):
                summary["skipped"] += 1
                continue
            for attempt in range(1, self.suite.attempts + 1):
                self.store.mark_running(cell.cell_id, attempt)
                t0 = time.perf_counter()
                try:
                    row = self.run_cell(cell, attempt)
                except Exception as e:  # noqa: BLE001  (a cell's failure must not stop the campaign)
                    self.store.record_failure(cell.cell_id, attempt, f"{type(e).__name__}: {e}",
                                              traceback.format_exc())
                    self.store.clear_running(cell.cell_id)
                    self.log(f"[bench] {i}/{len(cells)} {cell.cell_id}: attempt {attempt} failed: "
                             f"{type(e).__name__}: {e}")
                    if attempt == self.suite.attempts:
                        summary["failed"].append({"cell_id": cell.cell_id,
                                                  "error": f"{type(e).__name__}: {e}"})
                    continue
                self.store.append(row)
                self.store.clear_running(cell.cell_id)
                if attempt > 1 or cell.cell_id in interrupted:
                    summary["retried"].append(cell.cell_id)
                summary["ran"] += 1
                self.log(f"[bench] {i}/{len(cells)} {cell.cell_id}: {row['metric']} val "
                         f"{row['val']:.4f} test {row['test']:.4f} ({time.perf_counter() - t0:.1f}s)")
                break
        summary["wall_s"] = time.perf_counter() - t_all
        return summary


def run_suite(path: str | Path, out: str | Path | None = None, *, resume: bool = False,
              report: bool = True, log: Callable[[str], None] = print) -> dict:
    """Run a suite file and (by default) write the leaderboard, plots and exports."""
    runner = BenchRunner(path, out, resume=resume, log=log)
    summary = runner.run()
    if report:
        from graphkit.bench.report import write_report
        summary["report"] = write_report(runner.store, runner.out, title=runner.suite.name)
    return summary

"""Task adapters for relational (RelBench-style) tasks, registered into
:data:`graphkit.train.tasks.TASKS` as ``relational_entity`` and ``relational_rec``.

The data is a :class:`~graphkit.relational.bench.RelationalBundle`. Training follows the
RelBench baseline recipe: every training row (entity, seed time) is a seed of graphkit's
temporal neighbor sampler (:class:`graphkit.sampling.NeighborLoader` with ``time_attr="time"``,
``input_time`` = the row's seed time, ``disjoint=True``), so a seed's subgraph holds only rows
with time :math:`\\le` its seed time; labels are attached by ``input_id``. Losses: BCE (binary),
L1 (regression, predictions clamped to the train targets' 2nd-98th percentiles at evaluation,
as RelBench does), BCE over all destinations (recommendation). Scores come from the RelBench
task's own ``evaluate`` (AUROC, NMAE, MAP@k).

``model.name: gbdt`` runs the feature-engineered gradient-boosting baseline
(:mod:`graphkit.relational.baseline`) through the same adapter, so RDL and the baseline share
the trainer, the protocol and the leaderboard: it is fitted in the first epoch (grid selected on
validation), later epochs change nothing, and its one dummy parameter only satisfies the
optimiser (``num_parameters`` is not meaningful for it).

Config keys used: ``model.hidden_channels``, ``model.num_layers``, ``model.dropout``,
``model.kwargs`` (``aggr``, ``encoder_layers``, ``temporal_strategy``: ``uniform`` as RelBench's
entity recipe or ``last``: the most recent neighbors), ``train.batch_size``, ``train.eval_batch_size``,
``train.num_neighbors``, ``train.max_steps_per_epoch``, ``train.num_workers``.
"""
from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import torch
import torch.nn.functional as F

from graphkit.train.distributed import DistEnv
from graphkit.train.tasks import TASKS, Task


class GBDTModule(torch.nn.Module):
    """Holds a :class:`~graphkit.relational.baseline.GBDTBaseline` inside the trainer."""

    def __init__(self, task, seed: int) -> None:
        super().__init__()
        from graphkit.relational.baseline import GBDTBaseline
        self.baseline = GBDTBaseline(task, seed)
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.fitted = False

    def fit(self, tables: dict) -> None:
        if not self.fitted:
            self.baseline.fit(tables)
            self.fitted = True

    def reset_parameters(self) -> None:
        self.fitted = False

    def __repr__(self) -> str:
        return f"GBDTModule({self.baseline!r})"


class _RelationalTask(Task):
    def __init__(self, bundle, spec, split, cfg, device, split_index, seed, env=None) -> None:
        # Task.__init__ would look up a graphkit metric; RelBench's task scores these.
        self.spec, self.cfg, self.device = spec, cfg, device
        self.split_index, self.seed = split_index, seed
        self.env = env or DistEnv()
        if self.env.enabled and self.env.world_size > 1:
            raise ValueError("relational tasks run in one process; launch without torchrun")
        use_amp = cfg.train.amp and device.type == "cuda"
        self.autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else nullcontext
        self.bundle, self.task = bundle, bundle.task
        self.data = bundle.data
        self.metric = spec.metric
        kw = dict(cfg.model.kwargs)
        self.aggr = kw.pop("aggr", "sum")
        self.encoder_layers = int(kw.pop("encoder_layers", 2))
        self.temporal_strategy = kw.pop("temporal_strategy", "uniform")
        if kw:
            raise ValueError(f"relational models take model.kwargs 'aggr', 'encoder_layers' and "
                             f"'temporal_strategy'; got unknown {sorted(kw)}")
        nn = list(cfg.train.num_neighbors)
        if len(nn) != cfg.model.num_layers:
            nn = (nn + [nn[-1]] * cfg.model.num_layers)[: cfg.model.num_layers]
        self.num_neighbors = nn

    def _gbdt(self) -> bool:
        return self.cfg.model.name == "gbdt"

    def _gbdt_epoch(self, model) -> float:
        model.fit(self.bundle.tables)
        return 0.0

    def _gbdt_evaluate(self, model) -> dict:
        model.fit(self.bundle.tables)  # after a resume the trees are refitted (deterministic)
        return {s: {self.metric: float(v)} for s, v in model.baseline.evaluate().items()}

    def final_prediction(self, model, split: str) -> np.ndarray:
        """What RelBench's ``task.evaluate`` scores for ``split`` (GBDT: its own prediction)."""
        if self._gbdt():
            model.fit(self.bundle.tables)
            return model.baseline.predict(split)
        return self._to_prediction(self.predict(model, split))

    def evaluate(self, model):
        if self._gbdt():
            return self._gbdt_evaluate(model)
        return {s: {self.metric: float(self._metric_value(self.task.evaluate(
            self.final_prediction(model, s), self.bundle.tables[s])))}
            for s in ("train", "val", "test")}

    def _to_prediction(self, out: np.ndarray) -> np.ndarray:  # model output -> RelBench's input
        raise NotImplementedError

    def _metric_value(self, scores: dict) -> float:  # RelBench's scores -> the selected metric
        raise NotImplementedError

    def loader(self, split: str, shuffle: bool, epoch: int = 0):
        from graphkit.sampling import NeighborLoader
        inp = self.inputs[split]
        bs = self.cfg.train.batch_size if shuffle else (self.cfg.train.eval_batch_size
                                                        or self.cfg.train.batch_size)
        return NeighborLoader(self.data, num_neighbors=self.num_neighbors, time_attr="time",
                              input_nodes=inp[0], input_time=inp[1], disjoint=True,
                              temporal_strategy=self.temporal_strategy, batch_size=bs, shuffle=shuffle,
                              generator=self.generator(epoch) if shuffle else None,
                              num_workers=self.cfg.train.num_workers)

    @torch.no_grad()
    def predict(self, model, split: str) -> np.ndarray:
        model.eval()
        outs = []
        for batch in self._steps_all(self.loader(split, shuffle=False)):
            with self.autocast():
                outs.append(model(batch).float().cpu())
        return torch.cat(outs).numpy()

    def train_epoch(self, model, optimizer, epoch):
        """One epoch over the training seed rows (or the GBDT fit), with the subclass's
        ``step_loss(model, batch, y_all)``."""
        if self._gbdt():
            return self._gbdt_epoch(model)
        model.train()
        y_all = self.targets["train"].to(self.device)
        return self.run_batches(model, optimizer, self.loader("train", shuffle=True, epoch=epoch),
                                lambda m, b: self.step_loss(m, b, y_all))

    def _steps_all(self, loader):
        for batch in loader:
            yield batch.to(self.device)

    def write_predictions(self, model, path) -> dict:
        """Test predictions in RelBench's prediction-CSV layout; returns names for the export."""
        from graphkit.relational.relbench_data import predictions_frame
        pred = self.final_prediction(model, "test")
        predictions_frame(self.task, self.bundle.tables["test"], pred).to_csv(path, index=False)
        return {"dataset": self.bundle.dataset_name, "task": self.bundle.task_name}


class RelationalEntityTask(_RelationalTask):
    """Entity classification (binary, AUROC) / regression (L1 loss, NMAE)."""

    def __init__(self, bundle, spec, split, cfg, device, split_index, seed, env=None) -> None:
        super().__init__(bundle, spec, split, cfg, device, split_index, seed, env)
        from relbench.modeling.graph import get_node_train_table_input
        self.binary = spec.kind == "binary"
        self.inputs, self.targets = {}, {}
        for s, table in bundle.tables.items():
            inp = get_node_train_table_input(table, self.task)
            self.inputs[s] = (inp.nodes, inp.time)
            self.targets[s] = inp.target.float()
        y = self.targets["train"].numpy()
        self.clamp = (float(np.percentile(y, 2)), float(np.percentile(y, 98)))

    def build_model(self):
        if self._gbdt():
            return GBDTModule(self.task, self.seed)
        from graphkit.relational.model import RDLModel
        m = self.cfg.model
        return RDLModel(self.data, self.bundle.col_stats, self.task.entity_table,
                        hidden_channels=m.hidden_channels, out_channels=1,
                        num_layers=m.num_layers, aggr=self.aggr,
                        encoder_layers=self.encoder_layers, head_norm="batch_norm",
                        dropout=m.dropout)

    def step_loss(self, model, batch, y_all):
        y = y_all[batch[self.task.entity_table].input_id]
        if y.numel() < 2 and not self.binary:
            return None
        out = model(batch).float().view(-1)
        loss = F.binary_cross_entropy_with_logits(out, y) if self.binary else F.l1_loss(out, y)
        return loss, y.numel()

    def _to_prediction(self, out: np.ndarray) -> np.ndarray:
        out = out.reshape(-1)
        return 1.0 / (1.0 + np.exp(-out)) if self.binary else np.clip(out, *self.clamp)

    def _metric_value(self, scores: dict) -> float:
        return scores["roc_auc"] if self.binary else scores["nmae"]


class RelationalRecommendationTask(_RelationalTask):
    """Recommendation (MAP@k): two-tower scores over every destination row, BCE training."""

    def __init__(self, bundle, spec, split, cfg, device, split_index, seed, env=None) -> None:
        super().__init__(bundle, spec, split, cfg, device, split_index, seed, env)
        from relbench.modeling.graph import get_link_train_table_input
        self.num_dst = bundle.data[self.task.dst_entity_table].num_nodes
        self.inputs, self.targets = {}, {}
        for s, table in bundle.tables.items():
            inp = get_link_train_table_input(table, self.task, self.num_dst)
            self.inputs[s] = (inp.src_nodes, inp.src_time)
            self.targets[s] = inp.dst_nodes[1].to_dense().float()  # (rows, |D|) multi-hot

    def build_model(self):
        if self._gbdt():
            return GBDTModule(self.task, self.seed)
        from graphkit.relational.model import RDLRecommender
        m = self.cfg.model
        return RDLRecommender(self.data, self.bundle.col_stats, self.task.src_entity_table,
                              self.task.dst_entity_table, hidden_channels=m.hidden_channels,
                              num_layers=m.num_layers, aggr=self.aggr,
                              encoder_layers=self.encoder_layers)

    def step_loss(self, model, batch, y_all):
        y = y_all[batch[self.task.src_entity_table].input_id]
        return F.binary_cross_entropy_with_logits(model(batch).float(), y), y.size(0)

    def _to_prediction(self, out: np.ndarray) -> np.ndarray:
        scores = torch.from_numpy(out)
        return scores.topk(min(self.task.eval_k, scores.size(1)), dim=1).indices.numpy()

    def _metric_value(self, scores: dict) -> float:
        return scores["map"]


TASKS["relational_entity"] = RelationalEntityTask
TASKS["relational_rec"] = RelationalRecommendationTask

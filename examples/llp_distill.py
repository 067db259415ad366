"""LLP: distil a GNN link predictor (GraphSAGE + Hadamard-MLP head) into an MLP that scores
links from node features alone.

1. train the teacher with the graphkit Trainer on one split of ``cora-link`` (validation
   Hits@20 selects the epoch);
2. rebuild it from the run's ``best_model.pt`` and freeze its scores;
3. distil an :class:`~graphkit.nn.link.MLPLinkPredictor` with LLP's rank- and
   distribution-based losses (:func:`~graphkit.nn.link.distill`);
4. score the test links with the student, given only ``x``.

    GRAPHKIT_DATA=/work/shared/data OMP_NUM_THREADS=1 python examples/llp_distill.py
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from graphkit.config import from_dict
from graphkit.data import load
from graphkit.nn.link import LLPConfig, MLPLinkPredictor, TeacherScores, distill
from graphkit.train import Trainer
from graphkit.train.checkpoint import load_checkpoint
from graphkit.train.metrics import link_metrics
from graphkit.train.tasks import make_task

# LLP's teacher: GraphSAGE, 2 layers of 256, Hadamard-MLP head
TEACHER = {"name": "sage", "hidden_channels": 256, "num_layers": 2, "dropout": 0.5,
           "head": "hadamard", "head_kwargs": {"num_layers": 2}}


def train_teacher(dataset: str, split: int, epochs: int = 200, metric: str = "hits@20",
                  out_dir: str | None = None):
    """Train the GNN teacher on ``split``; returns ``(task, model, summary)`` with the model at
    its best validation epoch."""
    data = load(dataset, metric=metric)
    cfg = from_dict({
        "name": f"llp_teacher_{dataset}_{split}", "out_dir": out_dir or tempfile.mkdtemp(),
        "data": {"name": dataset, "options": {"metric": metric}, "splits": [split]},
        "model": TEACHER,
        "train": {"epochs": epochs, "lr": 0.005, "weight_decay": 0.0, "patience": 50,
                  "seeds": [0], "checkpoint_every": 0, "device": "cpu"},
    })
    trainer = Trainer(cfg, progress=False, overwrite=True, data=data)
    summary = trainer.run()
    task = make_task(*data, split, cfg, torch.device("cpu"), seed=0)
    model = task.build_model()
    model.load_state_dict(load_checkpoint(Path(trainer.run_dir(0, split)) / "best_model.pt"))
    model.eval()
    return task, model, summary


@torch.no_grad()
def student_metrics(student: MLPLinkPredictor, x: torch.Tensor, pairs: tuple,
                    names=("hits@20", "auc", "ap")) -> dict:
    """Metrics of a graph-free student on ``(pos, neg)`` links: it sees only ``x``."""
    student.eval()
    pos, neg = pairs
    return link_metrics(student(x, pos), student(x, neg), names)


def run_llp(task, teacher_model, cfg: LLPConfig, hidden: int = 256, seed: int = 0):
    """Distil ``teacher_model`` (trained on ``task``'s training graph) into a fresh student."""
    torch.manual_seed(seed)
    x = task.graph.x.to_sparse()          # bag-of-words: the student's first layer goes sparse
    teacher = TeacherScores.from_link_predictor(teacher_model, task.graph)
    student = MLPLinkPredictor(x.size(1), hidden, num_layers=2, head_layers=2, dropout=0.5)
    distill(student, teacher, x, task.pairs["train"][0], task.graph.num_nodes, cfg,
            evaluate=lambda s: student_metrics(s, x, task.pairs["val"], ("hits@20",))["hits@20"])
    return student


def main() -> None:
    p = argparse.ArgumentParser(description="LLP distillation on one split")
    p.add_argument("--dataset", default="cora-link")
    p.add_argument("--split", type=int, default=0)
    p.add_argument("--teacher-epochs", type=int, default=200)
    p.add_argument("--student-epochs", type=int, default=300)
    args = p.parse_args()
    torch.set_num_threads(1)
    task, teacher, _ = train_teacher(args.dataset, args.split, args.teacher_epochs)
    with torch.no_grad():
        z = teacher.encode(task.graph)
        t_test = link_metrics(teacher.score(z, task.pairs["test"][0], task.graph),
                              teacher.score(z, task.pairs["test"][1], task.graph),
                              ("hits@20", "auc", "ap"))
    student = run_llp(task, teacher, LLPConfig(epochs=args.student_epochs))
    s_test = student_metrics(student, task.graph.x, task.pairs["test"])
    print(f"teacher (SAGE) test: {t_test}")
    print(f"student (MLP, no graph) test: {s_test}")


if __name__ == "__main__":
    main()

"""Typed run configuration: dataclasses loaded from YAML (``yaml.safe_load``) with ``key=value``
overrides, validated so that a bad key or value names itself and lists what is allowed.

Example:
    >>> cfg = load_config("examples/configs/cora_gcn.yaml", ["train.lr=0.005", "model.name=sage"])
    >>> cfg.train.lr
    0.005
"""
from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml


class ConfigError(ValueError):
    """A config key or value is not allowed; the message says which and what is."""


@dataclass
class DataConfig:
    """Which dataset and which of its splits.

    Args:
        name: catalogue name (``graphkit data list``).
        root: data folder (default: ``$GRAPHKIT_DATA``).
        options: keyword arguments for ``graphkit.data.load`` (e.g. ``split_ratio: 0.1``).
        splits: ``"all"`` to run every split / fold of the protocol, or a list of split indices.
        transforms: names of graphkit transforms applied before training (e.g. ``[laser]``).
        standardize: z-score every node-feature column with the mean and standard deviation
            of the training split's nodes (graphs) only (:class:`~graphkit.transforms.
            StandardizeFeatures`); for continuous attributes of mixed scales.
    """

    name: str = "cora"
    root: str | None = None
    options: dict = field(default_factory=dict)
    splits: str | list = "all"
    transforms: list = field(default_factory=list)
    standardize: bool = False


@dataclass
class ModelConfig:
    """Backbone and head.

    Args:
        name: a name in ``graphkit.registry.MODELS`` (gcn, sage, gin, gat, deepgnn, ...).
        hidden_channels: width.
        num_layers: message-passing depth.
        dropout: dropout inside the backbone.
        readout: graph readout (``READOUTS``) for graph tasks.
        head: link head (``HEADS``) for link tasks, ``"auto"`` picks ``"dot"``.
        input_encoder: for graphs without features: ``"embedding"`` (a learned vector per node),
            ``"degree"`` (one-hot degree) or ``"ones"``; ``"auto"`` uses the features when present;
            ``"vgae"`` / ``"dgi"`` / ``"gic"`` (link tasks): unsupervised VGAE / Deep Graph
            Infomax / Graph InfoClust embeddings of the training graph.
        encoder_kwargs: options of the ``vgae`` input encoder (``out_channels``: embedding
            size, 16; ``hidden_channels``: 32; ``epochs``: 200; ``lr``: 0.01;
            ``variational``: true) or of ``dgi`` (``out_channels``: 512; ``epochs``: 1000;
            ``lr``: 0.001; ``patience``: 20; ``normalize``: false) or of ``gic`` (the same keys,
            defaults 32, 2000, 0.001, 100, true, and ``num_clusters``: 128; ``beta``: 100;
            ``alpha``: 0.5).
        kwargs: passed on to the backbone (e.g. ``residual: rezero``, ``norm: batch``, ``aggr: gnp``).
        head_kwargs: passed on to the link head (e.g. ``walk_len: 7`` for ``walkpool``).
    """

    name: str = "gcn"
    hidden_channels: int = 64
    num_layers: int = 2
    dropout: float = 0.5
    readout: str = "mean"
    head: str = "auto"
    input_encoder: str = "auto"
    encoder_kwargs: dict = field(default_factory=dict)
    kwargs: dict = field(default_factory=dict)
    head_kwargs: dict = field(default_factory=dict)


@dataclass
class TrainConfig:
    """Optimisation, selection, reproducibility and device.

    Args:
        epochs: maximum epochs.
        lr, weight_decay, optimizer: the optimiser (``adam``, ``adamw``, ``sgd``).
        scheduler: learning-rate schedule, stepped once per epoch: ``none``, ``cosine``
            (cosine annealing to 0 over ``epochs``; GPN's TU recipe) or ``plateau`` (halve the
            rate after 20 epochs without a better validation ``select`` value, down to 1e-5;
            LASER's LRGB recipe); ``scheduler_kwargs`` override the torch defaults.
        grad_clip: clip the gradients' global norm to this value before each step (0: off).
        patience: epochs without validation improvement before stopping (0: never stop early).
        batch_size: graphs per batch (graph tasks), seeds per batch (mini-batch node/link tasks).
        eval_batch_size: batch size at evaluation (default: ``batch_size``).
        seeds: one run per seed (x per split).
        device: ``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``.
        amp: bf16 autocast on CUDA (ignored on CPU).
        deterministic: ``torch.use_deterministic_algorithms`` (warn-only) and seeded everything.
        checkpoint_every: write a checkpoint every N epochs (and at the end); 0 disables.
        loader: ``full`` (full-batch), ``neighbor`` (graphkit's neighbor sampler) or, for link
            tasks, ``links`` (mini-batches of ``batch_size`` candidate links over the whole
            training graph; what subgraph heads such as WalkPool and SEAL train with).
        num_neighbors: fan-outs per layer for ``loader: neighbor``.
        num_workers: data-loader workers.
        max_steps_per_epoch: cap on optimisation steps per epoch (0: no cap).
        val_ratio: share of training links (or graphs) held out for validation when the protocol
            gives no validation split.
        val_edges_as_input: link tasks: score the *test* links over the training graph plus the
            validation positives (all observed links, as OGB's ``use_valedges_as_input`` and
            WalkPool's ``observe_val_and_injection``); training and validation always use the
            training graph only. Test links are never message edges.
        link_loss: link tasks' training loss: ``bce`` (binary cross-entropy on the logits) or
            ``mse`` (squared error between ``sigmoid(logit)`` and the 0/1 label, the loss of
            WalkPool's original code).
        select: pick the reported epoch by the validation ``metric`` (OGB) or the validation
            ``loss`` (lowest; PyG's TU benchmark protocol).
        diagnostics: record Dirichlet energy / MAD / gradient norms per layer (deep backbones).
    """

    epochs: int = 200
    lr: float = 0.01
    weight_decay: float = 5e-4
    optimizer: str = "adam"
    scheduler: str = "none"
    scheduler_kwargs: dict = field(default_factory=dict)
    grad_clip: float = 0.0
    patience: int = 100
    batch_size: int = 32
    eval_batch_size: int = 0
    seeds: list = field(default_factory=lambda: [0])
    device: str = "auto"
    amp: bool = True
    deterministic: bool = True
    checkpoint_every: int = 10
    loader: str = "full"
    num_neighbors: list = field(default_factory=lambda: [15, 10])
    num_workers: int = 0
    max_steps_per_epoch: int = 0
    val_ratio: float = 0.05
    val_edges_as_input: bool = False
    link_loss: str = "bce"
    select: str = "metric"
    diagnostics: bool = False


@dataclass
class Config:
    """A whole run: ``name`` names the output folder ``<out_dir>/<name>``."""

    name: str = "run"
    out_dir: str = "runs"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def fingerprint(self) -> str:
        """Hash of everything that shapes a run's model and data (not epochs, devices, paths)."""
        d = self.to_dict()
        keep = {"data": {k: d["data"][k] for k in ("name", "options", "transforms")},
                "model": {k: v for k, v in d["model"].items()   # only when set: old runs
                          if k != "encoder_kwargs" or v},            # keep their fingerprints
                "train": {k: d["train"][k] for k in ("lr", "weight_decay", "optimizer",
                                                     "batch_size", "loader", "num_neighbors",
                                                     "val_ratio", "select")}}
        if d["data"]["standardize"]:                                # only when set: old runs
            keep["data"]["standardize"] = True                      # keep their fingerprints
        for k in ("scheduler", "scheduler_kwargs", "grad_clip",    # only when set: old runs
                  "val_edges_as_input", "link_loss"):              # keep their fingerprints
            if d["train"][k] not in ("none", {}, 0.0, False, "bce"):
                keep["train"][k] = d["train"][k]
        return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:16]


_CHOICES = {
    ("train", "optimizer"): {"adam", "adamw", "sgd"},
    ("train", "scheduler"): {"none", "cosine", "plateau"},
    ("train", "loader"): {"full", "neighbor", "links"},
    ("train", "select"): {"metric", "loss"},
    ("train", "link_loss"): {"bce", "mse"},
    ("model", "input_encoder"): {"auto", "embedding", "degree", "ones", "vgae", "dgi", "gic"},
}
_POSITIVE = {("train", "epochs"), ("model", "hidden_channels"), ("model", "num_layers"),
             ("train", "batch_size")}


def _allowed(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _type_ok(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if tp is Any:
        return True
    if origin in (Union, types.UnionType):
        return any(_type_ok(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(tp, type):
        return isinstance(value, tp)
    return True


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    return "null" if tp is type(None) else getattr(tp, "__name__", str(tp))


def _build(cls, raw: Any, path: str):
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config section {path or 'top level'!r} must be a mapping; got "
                          f"{type(raw).__name__} ({raw!r})")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    names = _allowed(cls)
    for key, value in raw.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown config key {where!r}{hint}; allowed keys in "
                              f"{path or 'top level'!r}: {names}")
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            kwargs[key] = _build(tp, value, where)
            continue
        if not _type_ok(value, tp):
            raise ConfigError(f"config key {where!r} must be {_type_name(tp)}; got "
                              f"{type(value).__name__} ({value!r})")
        if tp is float and isinstance(value, int):
            value = float(value)
        sect = path.split(".")[-1] if path else ""
        if (sect, key) in _CHOICES and value not in _CHOICES[(sect, key)]:
            raise ConfigError(f"config key {where!r} must be one of "
                              f"{sorted(_CHOICES[(sect, key)])}; got {value!r}")
        if (sect, key) in _POSITIVE and value < 1:
            raise ConfigError(f"config key {where!r} must be an int >= 1; got {value!r}")
        kwargs[key] = value
    return cls(**kwargs)


def validate(cfg: Config) -> Config:
    """Cross-field checks that a single key cannot express."""
    t = cfg.train
    if not t.seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in t.seeds):
        raise ConfigError(f"config key 'train.seeds' must be a non-empty list of ints; got {t.seeds!r}")
    if not 0.0 <= cfg.model.dropout < 1.0:
        raise ConfigError(f"config key 'model.dropout' must be in [0, 1); got {cfg.model.dropout!r}")
    if not 0.0 < t.val_ratio < 1.0:
        raise ConfigError(f"config key 'train.val_ratio' must be in (0, 1); got {t.val_ratio!r}")
    if t.lr <= 0:
        raise ConfigError(f"config key 'train.lr' must be > 0; got {t.lr!r}")
    if not t.grad_clip >= 0:
        raise ConfigError(f"config key 'train.grad_clip' must be >= 0 (0: off); got {t.grad_clip!r}")
    if t.patience < 0 or t.checkpoint_every < 0:
        raise ConfigError("config keys 'train.patience' and 'train.checkpoint_every' must be >= 0")
    s = cfg.data.splits
    if isinstance(s, str) and s != "all":
        raise ConfigError(f"config key 'data.splits' must be 'all' or a list of split indices; got {s!r}")
    if isinstance(s, list) and not all(isinstance(i, int) and i >= 0 for i in s):
        raise ConfigError(f"config key 'data.splits' must hold split indices >= 0; got {s!r}")
    if t.device != "auto" and not (t.device == "cpu" or t.device.startswith("cuda")):
        raise ConfigError(f"config key 'train.device' must be 'auto', 'cpu', 'cuda' or 'cuda:N'; "
                          f"got {t.device!r}")
    return cfg


def from_dict(raw: dict) -> Config:
    return validate(_build(Config, raw, ""))


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply ``a.b=value`` overrides (values parsed as YAML scalars / lists) to a raw mapping."""
    raw = copy.deepcopy(raw)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like 'section.key=value' "
                              f"(e.g. 'train.lr=0.005')")
        key, text = item.split("=", 1)
        value = yaml.safe_load(text) if text != "" else ""
        node = raw
        parts = key.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r}: {p!r} is not a section")
        node[parts[-1]] = value
    return raw


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Read a YAML file safely, apply overrides, validate and return a :class:`Config`."""
    raw: dict = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file {str(path)!r} does not exist")
        raw = yaml.safe_load(path.read_text()) or {}
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {str(path)!r} must hold a mapping at the top level; "
                              f"got {type(raw).__name__}")
        raw.setdefault("name", path.stem)
    return from_dict(apply_overrides(raw, overrides or []))

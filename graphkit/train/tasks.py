"""Task adapters: how one (dataset, split) is trained and scored.

Each adapter prepares its split once (on the run's device), builds its model, runs one
training epoch and evaluates every split. The :class:`~graphkit.train.Trainer` drives them with
the same loop (selection, early stopping, checkpoints) whatever the task.
"""
from __future__ import annotations

import copy
import dataclasses
from contextlib import nullcontext
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from torch_geometric.transforms import Compose
from torch_geometric.utils import negative_sampling, to_undirected

from graphkit.data.spec import Split, TaskSpec
from graphkit.nn.link import PRETRAINED_INPUTS, regularization_loss
from graphkit.train.distributed import DistEnv, gather_cat, shard
from graphkit.train.metrics import get_metric, link_metrics
from graphkit.train.models import build_task_model

#: training links (positives and as many negatives) scored per epoch for subgraph heads
TRAIN_EVAL_LINKS = 512


def _scaler(cfg, data, mask: Tensor | None = None):
    """``data.standardize``: a :class:`~graphkit.transforms.StandardizeFeatures` fit on
    ``data`` (the training graphs, or one graph's ``mask`` nodes); ``None`` when off."""
    if not cfg.data.standardize:
        return None
    from graphkit.transforms.standardize import StandardizeFeatures
    return StandardizeFeatures().fit(data, mask)


def _carve(idx: Tensor, ratio: float, seed: int) -> tuple[Tensor, Tensor]:
    """Split ``idx`` into (rest, held-out ratio) with a fixed generator."""
    g = torch.Generator().manual_seed(seed)
    perm = idx[torch.randperm(idx.numel(), generator=g)]
    n_val = max(1, round(ratio * idx.numel()))
    return perm[n_val:].sort().values, perm[:n_val].sort().values


def _loss(kind: str, out: Tensor, y: Tensor) -> Tensor:
    if kind == "multiclass":
        return F.cross_entropy(out, y.view(-1).long())
    y = y.view(out.shape).float()
    mask = ~torch.isnan(y)
    if kind == "regression":
        return F.mse_loss(out[mask], y[mask])
    return F.binary_cross_entropy_with_logits(out[mask], y[mask])


class Task:
    """Base adapter. ``generator_seed(epoch)`` gives each epoch its own data-order seed so that a
    resumed run draws the same batches as an uninterrupted one."""

    def __init__(self, data: Any, spec: TaskSpec, split: Split, cfg, device: torch.device,
                 split_index: int, seed: int, env: DistEnv | None = None) -> None:
        self.spec, self.cfg, self.device = spec, cfg, device
        self.split_index, self.seed = split_index, seed
        self.env = env or DistEnv()
        self.metric = get_metric(spec.metric, spec.evaluator)
        use_amp = cfg.train.amp and device.type == "cuda"
        self.autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else nullcontext

    def generator(self, epoch: int) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)

    def run_batches(self, model, optimizer, loader, step_loss) -> float:
        """One pass of optimisation steps over ``loader`` (capped by ``max_steps_per_epoch``);
        ``step_loss(model, batch) -> (loss, weight)``, or ``None`` to skip a batch; returns the
        weighted mean loss."""
        total, count, cap = 0.0, 0, self.cfg.train.max_steps_per_epoch
        for step, batch in enumerate(loader):
            if cap and step >= cap:
                break
            if hasattr(batch, "to"):
                batch = batch.to(self.device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            with self.autocast():
                res = step_loss(model, batch)
            if res is None:
                continue
            loss, weight = res
            loss.backward()
            if self.cfg.train.grad_clip:
                torch.nn.utils.clip_grad_norm_(
                    [p for g in optimizer.param_groups for p in g["params"]],
                    self.cfg.train.grad_clip)
            optimizer.step()
            total += float(loss.detach()) * weight
            count += weight
        return total / max(count, 1)

    def build_model(self) -> torch.nn.Module:
        raise NotImplementedError

    def train_epoch(self, model, optimizer, epoch: int) -> float:
        raise NotImplementedError

    def evaluate(self, model) -> dict[str, dict[str, float]]:
        raise NotImplementedError


class NodeTask(Task):
    """Node classification / regression on one ``Data``: full-batch (``train.loader: full``) or
    mini-batches of seed nodes with graphkit's neighbor sampler (``train.loader: neighbor``).
    Evaluation is full-batch (exact)."""

    def __init__(self, data: Data, spec, split, cfg, device, split_index, seed, env=None) -> None:
        super().__init__(data, spec, split, cfg, device, split_index, seed, env)
        if getattr(data, "y", None) is None:
            raise ValueError(f"dataset {spec.name!r}: node task needs labels 'y'; the graph has none")
        train = split["train"]
        val = split.get("val")
        if val is None:
            train, val = _carve(train, cfg.train.val_ratio, split_index)
        self.idx = {"train": train.to(device), "val": val.to(device), "test": split["test"].to(device)}
        self.train_shard = shard(self.idx["train"], self.env)
        scaler = _scaler(cfg, data, train)       # statistics of the training nodes only
        if scaler is not None:
            data = scaler(data)                  # a copy: other splits keep the raw features
        self.data = data.to(device, non_blocking=True)
        self.sampler = None
        if cfg.train.loader == "neighbor":
            from graphkit.sampling import GraphkitNeighborSampler
            self.sampler = GraphkitNeighborSampler(self.data, list(cfg.train.num_neighbors),
                                                   num_layers=cfg.model.num_layers)

    def build_model(self):
        return build_task_model("node", self.cfg.model, self.spec.num_features, self.spec.num_outputs,
                                num_nodes=self.data.num_nodes, has_x=self.data.x is not None)

    def train_epoch(self, model, optimizer, epoch):
        model.train()
        if self.sampler is not None:
            return self._train_minibatch(model, optimizer, epoch)
        optimizer.zero_grad(set_to_none=True)
        idx = self.train_shard
        with self.autocast():
            out = model(self.data)
            loss = _loss(self.spec.kind, out[idx].float(), self.data.y[idx])
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    def _train_minibatch(self, model, optimizer, epoch):
        from torch_geometric.loader import NodeLoader
        loader = NodeLoader(self.data, node_sampler=self.sampler, input_nodes=self.train_shard.cpu(),
                            batch_size=self.cfg.train.batch_size, shuffle=True,
                            generator=self.generator(epoch), num_workers=self.cfg.train.num_workers,
                            pin_memory=self.device.type == "cuda")
        def step_loss(model, batch):
            out = model(batch)[: batch.batch_size].float()
            return _loss(self.spec.kind, out, batch.y[: batch.batch_size]), batch.batch_size
        return self.run_batches(model, optimizer, loader, step_loss)

    @torch.no_grad()
    def evaluate(self, model):
        model.eval()
        with self.autocast():
            out = model(self.data).float()
        res = {}
        for k, i in self.idx.items():
            i = shard(i, self.env)  # each rank scores its share; the metric sees all of them
            pred, y = gather_cat(out[i], self.env), gather_cat(self.data.y[i], self.env)
            res[k] = {self.spec.metric: self.metric(pred, y),
                      "loss": float(_loss(self.spec.kind, pred, y))}
        return res


class GraphTask(Task):
    """Mini-batched graph classification / regression over a PyG ``Dataset``."""

    def __init__(self, dataset, spec, split, cfg, device, split_index, seed, env=None) -> None:
        super().__init__(dataset, spec, split, cfg, device, split_index, seed, env)
        train = split["train"]
        val = split.get("val")
        if val is None:
            train, val = _carve(train, cfg.train.val_ratio, split_index)
        scaler = _scaler(cfg, dataset[train])   # statistics of the training graphs only
        if scaler is not None:
            dataset = copy.copy(dataset)         # other splits keep the raw features
            dataset.transform = (scaler if dataset.transform is None
                                 else Compose([dataset.transform, scaler]))
        self.dataset = dataset
        self.idx = {"train": train, "val": val, "test": split["test"]}
        bs = cfg.train.batch_size
        ebs = cfg.train.eval_batch_size or bs
        pin = device.type == "cuda"
        self.loaders = {k: DataLoader(dataset[shard(i, self.env)], batch_size=ebs, shuffle=False,
                                      pin_memory=pin, num_workers=cfg.train.num_workers)
                        for k, i in self.idx.items()}
        self._train_subset = dataset[train]
        self._bs, self._pin = bs, pin

    def build_model(self):
        x = self.dataset[0].x if len(self.dataset) else None
        atom = bool(self.spec.extra.get("atom_features")) or (
            self.spec.evaluator or "").startswith("ogbg-mol")
        return build_task_model("graph", self.cfg.model, self.spec.num_features, self.spec.num_outputs,
                                has_x=x is not None, atom_features=atom)

    def train_epoch(self, model, optimizer, epoch):
        model.train()
        # one permutation for all ranks, then each rank takes its share of it
        perm = torch.randperm(len(self._train_subset), generator=self.generator(epoch))
        loader = DataLoader(self._train_subset[shard(perm, self.env)], batch_size=self._bs,
                            shuffle=False, pin_memory=self._pin,
                            num_workers=self.cfg.train.num_workers, drop_last=False)
        def step_loss(model, batch):
            return _loss(self.spec.kind, model(batch).float(), batch.y), batch.num_graphs
        return self.run_batches(model, optimizer, loader, step_loss)

    @torch.no_grad()
    def evaluate(self, model):
        model.eval()
        res = {}
        for k, loader in self.loaders.items():
            preds, ys = [], []
            for batch in loader:
                batch = batch.to(self.device, non_blocking=True)
                with self.autocast():
                    preds.append(model(batch).float().cpu())
                ys.append(batch.y.cpu())
            pred = gather_cat(torch.cat(preds), self.env)
            y = gather_cat(torch.cat(ys), self.env)
            if self.spec.kind in ("binary", "multilabel", "regression"):
                y = y.view(pred.shape)
            res[k] = {self.spec.metric: self.metric(pred, y), "loss": float(_loss(self.spec.kind, pred, y))}
        return res


class LinkTask(Task):
    """Full-batch link prediction: message passing over training links only, a fresh set of
    negatives each epoch (sampled from non-edges of the training graph, so the sampler never
    sees validation or test positives), AUC / AP / Hits@K / MRR (through ogb's Evaluator) on
    fixed evaluation negatives. The training loss is ``train.link_loss`` (BCE by default, see
    :func:`link_loss`) plus whatever ``regularization_loss()`` the model's modules report after
    the forward pass (the KL term of a VGAE encoder)."""

    def __init__(self, data: Data, spec, split, cfg, device, split_index, seed, env=None) -> None:
        super().__init__(data, spec, split, cfg, device, split_index, seed, env)
        n = data.num_nodes
        train_pos = split["train_pos"]
        if "val_pos" in split:
            val_pos = split["val_pos"]
            val_neg = split.get("val_neg")
        else:
            keep, held = _carve(torch.arange(train_pos.size(1)), cfg.train.val_ratio, split_index)
            val_pos, train_pos = train_pos[:, held], train_pos[:, keep]
            val_neg = None
            if "train_neg" in split:
                tn = split["train_neg"]
                keep_n, held_n = _carve(torch.arange(tn.size(1)), cfg.train.val_ratio, split_index)
                val_neg, split = tn[:, held_n], {**split, "train_neg": tn[:, keep_n]}
        mp = to_undirected(train_pos, num_nodes=n)
        g = torch.Generator().manual_seed(10_007 + split_index)
        # evaluation negatives (when the protocol gives none) are true non-edges of the whole graph
        known = to_undirected(torch.cat([mp, val_pos, split["test_pos"]] + (
            [data.edge_index] if getattr(data, "edge_index", None) is not None else []), 1), num_nodes=n)
        if val_neg is None:
            val_neg = _sample_neg(known, n, val_pos.size(1), g)
        test_neg = split.get("test_neg")
        if test_neg is None:
            test_neg = _sample_neg(known, n, split["test_pos"].size(1), g)
        train_neg = split.get("train_neg")
        if train_neg is None:
            train_neg = _sample_neg(mp, n, train_pos.size(1), g)
        # transductive: every node's features are an input, so all nodes fit the scaler
        x = data.x if not cfg.data.standardize else _scaler(cfg, data)(data).x
        self.graph = Data(x=x, edge_index=mp, num_nodes=n).to(device)
        # test-time message edges when they differ from the training graph's
        self._test_edge_index = (to_undirected(torch.cat([mp, val_pos], 1), num_nodes=n).to(device)
                                 if cfg.train.val_edges_as_input else None)
        self.pairs = {"train": (train_pos, train_neg), "val": (val_pos, val_neg),
                      "test": (split["test_pos"], test_neg)}
        self.pairs = {k: (p.to(device), q.to(device)) for k, (p, q) in self.pairs.items()}
        self.extra_metrics = tuple(m for m in ("auc", "ap") if m != spec.metric)
        self._link_sampler = None

    def build_model(self):
        m, num_features = self._resolve_sort_k(self.cfg.model), self.spec.num_features
        if m.input_encoder in PRETRAINED_INPUTS:
            m, num_features = self._pretrained_features(m)
        return build_task_model("link", m, num_features, 1, num_nodes=self.graph.num_nodes,
                                has_x=self.graph.x is not None)

    def _pretrained_features(self, m):
        """``model.input_encoder: vgae | dgi | gic``: the node features become unsupervised
        VGAE, Deep Graph Infomax or Graph InfoClust embeddings of the training graph
        (WalkPool's kind of input on attributed graphs), computed once per task;
        ``model.encoder_kwargs`` are the pretraining options."""
        if getattr(self, "_pretrained", None) is None:
            fn, options = PRETRAINED_INPUTS[m.input_encoder]
            bad = sorted(set(m.encoder_kwargs) - options)
            if bad:
                raise ValueError(f"config key 'model.encoder_kwargs' has unknown option(s) "
                                 f"{bad} for input_encoder {m.input_encoder!r}; expected some "
                                 f"of {sorted(options)}")
            x = self.graph.x if self.graph.x is not None else torch.ones(
                self.graph.num_nodes, 1, device=self.device)
            self._pretrained = fn(x, self.graph.edge_index, seed=self.seed, **m.encoder_kwargs)
            self.graph.x = self._pretrained
        return (dataclasses.replace(m, input_encoder="identity", encoder_kwargs={}),
                self._pretrained.size(1))

    def _resolve_sort_k(self, m):
        """SEAL's sort-pooling size from the data: ``head_kwargs.sort_k`` given as a fraction
        (``0.6``) becomes that quantile of the training links' subgraph sizes (positives and the
        split's fixed training negatives, over the training graph)."""
        k = m.head_kwargs.get("sort_k") if m.head == "seal" else None
        if not isinstance(k, float):
            return m
        from graphkit.nn.link.seal import sort_k_percentile
        kw = m.head_kwargs
        links = torch.cat(self.pairs["train"], dim=1)
        k_int = sort_k_percentile(self.graph.edge_index, self.graph.num_nodes, links,
                                  kw.get("num_hops", 2), percentile=k,
                                  max_nodes_per_hop=kw.get("max_nodes_per_hop"))
        return dataclasses.replace(m, head_kwargs={**kw, "sort_k": k_int})

    def train_epoch(self, model, optimizer, epoch):
        model.train()
        if self.cfg.train.loader == "neighbor":
            return self._train_minibatch(model, optimizer, epoch)
        if self.cfg.train.loader == "links":
            return self._train_link_batches(model, optimizer, epoch)
        pos = self.pairs["train"][0]
        neg = negative_sampling(self.graph.edge_index, num_nodes=self.graph.num_nodes,
                                num_neg_samples=pos.size(1))
        pos, neg = shard(pos, self.env), shard(neg, self.env)
        optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            logits = model(self.graph, torch.cat([pos, neg], dim=1)).float()
        labels = torch.cat([torch.ones(pos.size(1)), torch.zeros(neg.size(1))]).to(logits.device)
        loss = _with_reg(model, link_loss(self.cfg.train.link_loss, logits, labels))
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    def _train_minibatch(self, model, optimizer, epoch):
        """Seed links in mini-batches with the sampled neighborhoods of their end nodes and one
        random negative per positive (graphkit's ``LinkNeighborLoader``)."""
        from graphkit.sampling import LinkNeighborLoader
        if self._link_sampler is None:
            from graphkit.sampling import GraphkitNeighborSampler
            self._link_sampler = GraphkitNeighborSampler(
                self.graph, list(self.cfg.train.num_neighbors), num_layers=self.cfg.model.num_layers)
        loader = LinkNeighborLoader(self.graph, list(self.cfg.train.num_neighbors),
                                    edge_label_index=shard(self.pairs["train"][0], self.env).cpu(),
                                    neg_sampling_ratio=1.0, neighbor_sampler=self._link_sampler,
                                    batch_size=self.cfg.train.batch_size, shuffle=True,
                                    generator=self.generator(epoch))
        def step_loss(model, batch):
            logits = model(batch, batch.edge_label_index).float()
            loss = link_loss(self.cfg.train.link_loss, logits, batch.edge_label.float())
            return _with_reg(model, loss), logits.numel()
        return self.run_batches(model, optimizer, loader, step_loss)

    def _train_link_batches(self, model, optimizer, epoch):
        """Mini-batches of ``batch_size`` candidate links (the training positives and as many
        fresh negatives, shuffled), each scored over the whole training graph."""
        g = self.generator(epoch)
        pos = self.pairs["train"][0]
        neg = _sample_neg(self.graph.edge_index.cpu(), self.graph.num_nodes, pos.size(1), g)
        links = torch.cat([pos.cpu(), neg], dim=1)
        labels = torch.cat([torch.ones(pos.size(1)), torch.zeros(neg.size(1))])
        perm = shard(torch.randperm(links.size(1), generator=g), self.env)
        batches = [(links[:, b].to(self.device), labels[b].to(self.device))
                   for b in perm.split(self.cfg.train.batch_size)]

        def step_loss(model, batch):
            eli, y = batch
            logits = model(self.graph, eli).float()
            return _with_reg(model, link_loss(self.cfg.train.link_loss, logits, y)), y.numel()
        return self.run_batches(model, optimizer, batches, step_loss)

    def _score(self, model, z: Tensor, links: Tensor, graph: Data | None = None) -> Tensor:
        """Scores of ``links`` over ``graph`` (default: the training graph) in chunks of
        ``eval_batch_size`` (all at once when it is 0)."""
        graph = self.graph if graph is None else graph
        size = self.cfg.train.eval_batch_size or (
            self.cfg.train.batch_size if self.cfg.train.loader == "links" else 0)
        chunks = links.split(size, dim=1) if size else (links,)
        return torch.cat([model.score(z, c, graph).float() for c in chunks])

    def eval_graph(self, split: str) -> Data:
        """The message-passing graph the ``split`` ("train" | "val" | "test") links are scored
        over: the training graph, plus the validation positives for "test" when
        ``train.val_edges_as_input`` is set."""
        if split != "test" or self._test_edge_index is None:
            return self.graph
        return Data(x=self.graph.x, edge_index=self._test_edge_index,
                    num_nodes=self.graph.num_nodes)

    @torch.no_grad()
    def score_pairs(self, model, split: str, max_links: int | None = None,
                    cache: dict | None = None) -> tuple[Tensor, Tensor]:
        """Scores of the positive and the negative ``split`` links (the first ``max_links`` of
        each when given), on CPU; ``model`` must be in eval mode. ``cache`` (a dict kept by
        the caller) reuses the node embeddings of a graph already encoded."""
        p, q = self.pairs[split]
        if max_links is not None:
            p, q = p[:, :max_links], q[:, :max_links]
        graph = self.eval_graph(split)
        cache = {} if cache is None else cache
        key = "train" if graph is self.graph else "test"
        if key not in cache:
            with self.autocast():
                cache[key] = model.encode(graph)
        z = cache[key]
        return (gather_cat(self._score(model, z, shard(p, self.env), graph), self.env).cpu(),
                gather_cat(self._score(model, z, shard(q, self.env), graph), self.env).cpu())

    @torch.no_grad()
    def evaluate(self, model):
        model.eval()
        model = getattr(model, "module", model)
        names = (self.spec.metric,) + self.extra_metrics
        out = {}
        # subgraph heads cost one enclosing subgraph per link: the training-set figures (only
        # reported, never used for selection) come from a fixed subset of the training links
        subsample = getattr(getattr(model, "head", None), "needs_graph", False)
        cache: dict = {}
        for k in self.pairs:
            sp, sq = self.score_pairs(model, k, TRAIN_EVAL_LINKS if k == "train" and subsample
                                      else None, cache)
            out[k] = link_metrics(sp, sq, names)
            out[k]["loss"] = float(link_loss(
                self.cfg.train.link_loss, torch.cat([sp, sq]),
                torch.cat([torch.ones_like(sp), torch.zeros_like(sq)])))
        return out


def link_loss(kind: str, logits: Tensor, labels: Tensor) -> Tensor:
    r"""Training loss of link scores: ``"bce"``, binary cross-entropy on the logits, or
    ``"mse"``, :math:`\operatorname{mean}(\sigma(s) - y)^2` (the loss of WalkPool's original
    code, which trains the sigmoid output with ``MSELoss``; bounded, so confidently wrong
    links weigh less than under BCE)."""
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits, labels)
    if kind == "mse":
        return F.mse_loss(torch.sigmoid(logits), labels)
    raise ValueError(f"link_loss: 'kind' must be 'bce' or 'mse'; got {kind!r}")


def _with_reg(model, loss: Tensor) -> Tensor:
    """``loss`` plus the regularisation terms the model's modules report after the forward
    pass (e.g. the KL term of a VGAE encoder, :func:`graphkit.nn.link.regularization_loss`)."""
    reg = regularization_loss(model)
    return loss if reg is None else loss + reg.float()


def _sample_neg(mp: Tensor, n: int, k: int, g: torch.Generator) -> Tensor:
    """``k`` distinct node pairs (no self-loops) that are not edges of ``mp``, from generator ``g``."""
    key_edges = mp[0] * n + mp[1]
    out = torch.empty(2, 0, dtype=torch.long)
    while out.size(1) < k:
        m = int((k - out.size(1)) * 1.5) + 16
        cand = torch.randint(0, n, (2, m), generator=g)
        cand = cand[:, cand[0] != cand[1]]
        key = cand[0] * n + cand[1]
        ok = ~torch.isin(key, key_edges)
        if out.size(1):
            ok &= ~torch.isin(key, out[0] * n + out[1])
        cand, key = cand[:, ok], key[ok]
        _, first = _unique_first(key)
        out = torch.cat([out, cand[:, first]], dim=1)
    return out[:, :k]


def _unique_first(key: Tensor) -> tuple[Tensor, Tensor]:
    uniq, inv = torch.unique(key, return_inverse=True)
    first = torch.full((uniq.numel(),), key.numel(), dtype=torch.long)
    first.scatter_reduce_(0, inv, torch.arange(key.numel()), reduce="amin")
    return uniq, first.sort().values


TASKS: dict[str, type[Task]] = {"node": NodeTask, "graph": GraphTask, "link": LinkTask}


def make_task(data, spec: TaskSpec, split_index: int, cfg, device, seed: int,
              env: DistEnv | None = None) -> Task:
    if split_index >= len(spec.splits):
        raise ValueError(f"dataset {spec.name!r} has {len(spec.splits)} splits; split index "
                         f"{split_index} does not exist (use 0..{len(spec.splits) - 1})")
    if cfg.data.standardize and spec.task not in ("node", "graph", "link"):
        raise ValueError(f"config key 'data.standardize' works for node, graph and link tasks; "
                         f"dataset {spec.name!r} is a {spec.task!r} task")
    return TASKS[spec.task](data, spec, spec.splits[split_index], cfg, device, split_index, seed, env)

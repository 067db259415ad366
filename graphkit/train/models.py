"""Task models: an input encoder, a registered backbone and a task head, over PyG batches.

These are plain ``nn.Module``\\ s, usable outside the trainer:

- :class:`NodePredictor`: ``encoder -> backbone`` (the backbone's ``out_channels`` is the class
  count);
- :class:`GraphPredictor`: ``encoder -> backbone -> readout -> MLP`` (a backbone with
  ``graph_level = True``, such as a hierarchical pooling network, returns one vector per graph
  itself and the readout is skipped);
- :class:`LinkPredictor`: ``encoder -> backbone -> head(z, edge_label_index)``; a head with
  ``needs_graph = True`` (subgraph heads: WalkPool, SEAL) also gets the message-passing graph,
  ``head(z, edge_label_index, graph)``.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn.models import MLP

import graphkit.nn  # noqa: F401  (registers every backbone, head and readout by name)
from graphkit._checks import check_choice
from graphkit.nn.link import PRETRAINED_INPUTS
from graphkit.nn.pool.readout import build_readout
from graphkit.registry import HEADS, MODELS


class InputEncoder(torch.nn.Module):
    r"""Turns whatever a graph has into node vectors.

    Args:
        kind (str): ``"identity"`` (use ``x``), ``"embedding"`` (a learned vector per node id,
            for featureless graphs of fixed size), ``"ones"`` (a constant feature),
            ``"atom"`` (OGB's ``AtomEncoder`` for categorical molecule features).
        channels (int): output size for ``embedding`` and ``atom``.
        num_nodes (int, optional): number of node ids for ``embedding``.
    """

    KINDS = ("identity", "embedding", "ones", "atom")

    def __init__(self, kind: str, channels: int = 0, num_nodes: int | None = None) -> None:
        super().__init__()
        check_choice("InputEncoder", "kind", kind, self.KINDS)
        self.kind, self.channels, self.num_nodes = kind, channels, num_nodes
        self.module: torch.nn.Module | None = None
        self.register_buffer("_anchor", torch.empty(0), persistent=False)  # follows .to(device)
        if kind == "embedding":
            if not num_nodes:
                raise ValueError("InputEncoder: kind='embedding' needs 'num_nodes' >= 1; "
                                 f"got {num_nodes!r}")
            self.module = torch.nn.Embedding(num_nodes, channels)
        elif kind == "atom":
            from ogb.graphproppred.mol_encoder import AtomEncoder
            self.module = AtomEncoder(channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if isinstance(self.module, torch.nn.Embedding):
            torch.nn.init.xavier_uniform_(self.module.weight)
        elif self.module is not None:
            for emb in self.module.atom_embedding_list:
                torch.nn.init.xavier_uniform_(emb.weight.data)

    @property
    def out_channels_for(self) -> int | None:
        return {"embedding": self.channels, "atom": self.channels, "ones": 1}.get(self.kind)

    def forward(self, x: Tensor | None, num_nodes: int, n_id: Tensor | None = None) -> Tensor:
        if self.kind == "identity":
            if x is None:
                raise ValueError("InputEncoder: the graph has no node features 'x'; set "
                                 "model.input_encoder to 'embedding', 'degree' or 'ones'")
            return x.float()
        if self.kind == "embedding":
            ids = n_id if n_id is not None else torch.arange(num_nodes, device=self.module.weight.device)
            return self.module(ids)
        if self.kind == "ones":
            return torch.ones(num_nodes, 1, device=self._anchor.device)
        return self.module(x.long())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kind!r}, channels={self.channels})"


def _backbone(name: str, in_channels: int, hidden: int, out: int, num_layers: int,
              dropout: float, kwargs: dict) -> torch.nn.Module:
    return MODELS.build(name, in_channels=in_channels, hidden_channels=hidden, out_channels=out,
                        num_layers=num_layers, dropout=dropout, **kwargs)


def _edge_attr_for(backbone: torch.nn.Module, batch) -> Tensor | None:
    """Edge features go to backbones that declare they use them (``uses_edge_attr``) and to PyG
    models built with ``edge_dim``; everything else gets none."""
    convs = getattr(backbone, "convs", None)
    wants = getattr(backbone, "uses_edge_attr", False) or (
        getattr(backbone, "supports_edge_attr", False) and convs is not None and len(convs) > 0
        and getattr(convs[0], "edge_dim", None) is not None)
    return getattr(batch, "edge_attr", None) if wants else None


class NodePredictor(torch.nn.Module):
    """``encoder -> backbone``; returns one row of logits / values per node."""

    def __init__(self, encoder: InputEncoder, backbone: torch.nn.Module) -> None:
        super().__init__()
        self.encoder, self.backbone = encoder, backbone

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        self.backbone.reset_parameters()

    def forward(self, batch) -> Tensor:
        x = self.encoder(batch.x, batch.num_nodes, getattr(batch, "n_id", None))
        return self.backbone(x, batch.edge_index, edge_attr=_edge_attr_for(self.backbone, batch))


class GraphPredictor(torch.nn.Module):
    """``encoder -> backbone -> readout -> MLP``; one row per graph."""

    def __init__(self, encoder: InputEncoder, backbone: torch.nn.Module, readout: torch.nn.Module,
                 hidden: int, out: int, dropout: float) -> None:
        super().__init__()
        self.encoder, self.backbone, self.readout = encoder, backbone, readout
        self.mlp = MLP([hidden, hidden, out], dropout=dropout, norm=None)

    def reset_parameters(self) -> None:
        for m in (self.encoder, self.backbone, self.mlp):
            m.reset_parameters()
        if hasattr(self.readout, "reset_parameters"):
            self.readout.reset_parameters()

    def forward(self, batch) -> Tensor:
        x = self.encoder(batch.x, batch.num_nodes)
        h = self.backbone(x, batch.edge_index, edge_attr=_edge_attr_for(self.backbone, batch),
                          batch=batch.batch)
        if not getattr(self.backbone, "graph_level", False):
            h = self.readout(h, batch.batch, dim_size=batch.num_graphs)
        return self.mlp(h)


class LinkPredictor(torch.nn.Module):
    """``encoder -> backbone -> head``; :meth:`encode` gives node embeddings, :meth:`score` a
    logit per candidate link. Heads with ``needs_graph = True`` score a link from its enclosing
    subgraph in ``graph`` (the message-passing graph: training links only)."""

    def __init__(self, encoder: InputEncoder, backbone: torch.nn.Module,
                 head: torch.nn.Module) -> None:
        super().__init__()
        self.encoder, self.backbone, self.head = encoder, backbone, head

    def reset_parameters(self) -> None:
        for m in (self.encoder, self.backbone, self.head):
            m.reset_parameters()

    def encode(self, batch) -> Tensor:
        x = self.encoder(batch.x, batch.num_nodes, getattr(batch, "n_id", None))
        return self.backbone(x, batch.edge_index, edge_attr=_edge_attr_for(self.backbone, batch))

    def score(self, z: Tensor, edge_label_index: Tensor, graph=None) -> Tensor:
        if getattr(self.head, "needs_graph", False):
            if graph is None:
                raise ValueError(f"LinkPredictor: head {type(self.head).__name__} scores links "
                                 "from their enclosing subgraphs and needs 'graph'; got None")
            return self.head(z, edge_label_index, graph)
        return self.head(z, edge_label_index)

    def forward(self, batch, edge_label_index: Tensor) -> Tensor:
        return self.score(self.encode(batch), edge_label_index, batch)


def build_task_model(task: str, cfg_model, num_features: int, num_outputs: int,
                     num_nodes: int | None = None, has_x: bool = True,
                     atom_features: bool = False) -> torch.nn.Module:
    """Assemble the model for ``task`` ("node" | "graph" | "link") from a ``ModelConfig``."""
    m = cfg_model
    kind = m.input_encoder
    if kind in PRETRAINED_INPUTS:
        raise ValueError(f"config key 'model.input_encoder' is {kind!r} (pretrained link "
                         f"embeddings), which only link tasks support; got a {task} task")
    if m.encoder_kwargs:
        raise ValueError(f"config key 'model.encoder_kwargs' is {m.encoder_kwargs}, but only "
                         f"the pretrained input_encoders {sorted(PRETRAINED_INPUTS)} take "
                         f"options; got input_encoder {kind!r}")
    if kind == "auto":
        kind = "atom" if atom_features else ("identity" if has_x else "embedding")
    elif kind == "degree":
        kind = "identity"  # degree features are added as x by the trainer's transform
    encoder = InputEncoder(kind, m.hidden_channels, num_nodes)
    in_channels = encoder.out_channels_for or num_features
    if task == "node":
        backbone = _backbone(m.name, in_channels, m.hidden_channels, num_outputs, m.num_layers,
                             m.dropout, m.kwargs)
        return NodePredictor(encoder, backbone)
    backbone = _backbone(m.name, in_channels, m.hidden_channels, m.hidden_channels, m.num_layers,
                         m.dropout, m.kwargs)
    if task == "graph":
        readout = build_readout(m.readout, m.hidden_channels)
        return GraphPredictor(encoder, backbone, readout, m.hidden_channels, num_outputs,
                              m.dropout)
    head_name = "dot" if m.head == "auto" else m.head
    head = HEADS.build(head_name, m.hidden_channels, **m.head_kwargs)
    return LinkPredictor(encoder, backbone, head)

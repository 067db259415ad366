r"""The RelBench baseline model (Relational Deep Learning, Robinson et al. 2024,
`"RelBench: A Benchmark for Deep Learning on Relational Databases"
<https://arxiv.org/abs/2407.20060>`_): per-table PyTorch-Frame ResNet encoders, a relative-time
positional encoding added to every timed node, a heterogeneous GraphSAGE (sum aggregation,
LayerNorm + ReLU per layer) and an MLP head on the seed rows.

.. math::
    \mathbf{h}_v^{(0)} = \mathrm{Enc}_{T(v)}(\mathrm{row}_v)
        + \mathrm{Lin}_{T(v)}\big(\mathrm{PE}((t_{\mathrm{seed}} - t_v) / 1\,\mathrm{day})\big),
    \qquad
    \mathbf{h}_v^{(\ell+1)} = \mathrm{ReLU}\Big(\mathrm{LN}\Big(\sum_{r=(T', \cdot, T(v))}
        \mathrm{SAGE}_r^{(\ell)}\big(\mathbf{h}^{(\ell)}, \mathcal{E}_r\big)_v\Big)\Big)

:class:`RecommendationHead` scores every destination row against a seed's embedding (a
two-tower model whose destination tower is the destination table's own encoder plus a shallow
per-row embedding):

.. math::
    s(u, d) = \langle \mathbf{h}_u^{(L)},\; \mathrm{Lin}(\mathrm{Enc}_{D}(\mathrm{row}_d))
        + \mathbf{e}_d \rangle

Shapes:
    - **input:** a temporal mini-batch ``HeteroData`` (``tf_dict``, ``edge_index_dict``,
      ``time_dict``, ``batch_dict``, ``seed_time`` on the seed type);
    - **output:** :math:`(B, C)` for the ``B`` seed rows.
"""
from __future__ import annotations

import torch
from torch import Tensor


class RDLModel(torch.nn.Module):
    """Hetero temporal GNN of the RelBench baseline.

    Args:
        data (HeteroData): the full graph (node types, edge types, ``tf`` column layout).
        col_stats (dict): per-table column statistics from ``make_pkey_fkey_graph``.
        entity_table (str): the seed node type.
        hidden_channels (int): width :math:`H`. (default: ``128``)
        out_channels (int): outputs per seed. (default: ``1``)
        num_layers (int): GraphSAGE layers. (default: ``2``)
        aggr (str): SAGE neighbor aggregation. (default: ``"sum"``)
        encoder_layers (int): ResNet layers of each table encoder. (default: ``4``)
        head_norm (str): ``"batch_norm"`` or ``"layer_norm"`` in the MLP head. (default: ``"batch_norm"``)
        dropout (float): head dropout. (default: ``0.0``)
    """

    def __init__(self, data, col_stats: dict, entity_table: str, hidden_channels: int = 128,
                 out_channels: int = 1, num_layers: int = 2, aggr: str = "sum",
                 encoder_layers: int = 4, head_norm: str = "batch_norm", dropout: float = 0.0) -> None:
        super().__init__()
        from relbench.modeling.nn import (
            HeteroEncoder,
            HeteroGraphSAGE,
            HeteroTemporalEncoder,
        )
        from torch_geometric.nn import MLP
        if entity_table not in data.node_types:
            raise ValueError(f"RDLModel: entity_table {entity_table!r} is not a node type; "
                             f"node types: {data.node_types}")
        self.entity_table = entity_table
        self.hidden_channels, self.out_channels, self.num_layers = hidden_channels, out_channels, num_layers
        self.timed_types = [nt for nt in data.node_types if "time" in data[nt]]
        self.encoder = HeteroEncoder(
            channels=hidden_channels,
            node_to_col_names_dict={nt: data[nt].tf.col_names_dict for nt in data.node_types},
            node_to_col_stats=col_stats,
            torch_frame_model_kwargs={"channels": hidden_channels, "num_layers": encoder_layers})
        self.temporal_encoder = HeteroTemporalEncoder(self.timed_types, hidden_channels)
        self.gnn = HeteroGraphSAGE(data.node_types, data.edge_types, hidden_channels, aggr=aggr,
                                   num_layers=num_layers)
        self.head = MLP(hidden_channels, out_channels=out_channels, norm=head_norm, num_layers=1,
                        dropout=dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        self.temporal_encoder.reset_parameters()
        self.gnn.reset_parameters()
        self.head.reset_parameters()

    def embed(self, batch) -> Tensor:
        """Seed embeddings :math:`(B, H)` after message passing."""
        seed_time = batch[self.entity_table].seed_time
        x_dict = self.encoder(batch.tf_dict)
        time_dict = {nt: t for nt, t in batch.time_dict.items() if nt in self.timed_types}
        rel = self.temporal_encoder(seed_time, time_dict, batch.batch_dict)
        for nt, r in rel.items():
            x_dict[nt] = x_dict[nt] + r
        x_dict = self.gnn(x_dict, batch.edge_index_dict)
        return x_dict[self.entity_table][: seed_time.size(0)]

    def forward(self, batch) -> Tensor:
        return self.head(self.embed(batch))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(entity={self.entity_table!r}, {self.hidden_channels}, "
                f"out={self.out_channels}, num_layers={self.num_layers}, "
                f"node_types={len(self.encoder.encoders)})")


class RecommendationHead(torch.nn.Module):
    """Destination tower: the destination table's encoder plus a shallow embedding per row.

    Args:
        dst_tf (TensorFrame): every destination row's features.
        col_names_dict, col_stats: the destination table's column layout and statistics.
        num_dst (int): number of destination rows.
        hidden_channels (int): :math:`H`.
    """

    def __init__(self, dst_tf, col_names_dict: dict, col_stats: dict, num_dst: int,
                 hidden_channels: int) -> None:
        super().__init__()
        from relbench.modeling.nn import HeteroEncoder
        self.dst_tf = dst_tf
        self.encoder = HeteroEncoder(hidden_channels, {"dst": col_names_dict}, {"dst": col_stats},
                                     torch_frame_model_kwargs={"channels": hidden_channels,
                                                               "num_layers": 2})
        self.lin = torch.nn.Linear(hidden_channels, hidden_channels)
        self.shallow = torch.nn.Embedding(num_dst, hidden_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        self.lin.reset_parameters()
        torch.nn.init.normal_(self.shallow.weight, std=0.1)

    def forward(self) -> Tensor:
        """All destination embeddings :math:`(|D|, H)`."""
        dev = self.shallow.weight.device
        x = self.encoder({"dst": self.dst_tf.to(dev)})["dst"]
        return self.lin(x) + self.shallow.weight


class RDLRecommender(torch.nn.Module):
    """Two-tower recommender: :class:`RDLModel` seed embeddings against
    :class:`RecommendationHead` destination embeddings (inner product, all destinations)."""

    def __init__(self, data, col_stats: dict, src_table: str, dst_table: str,
                 hidden_channels: int = 128, num_layers: int = 2, aggr: str = "sum",
                 encoder_layers: int = 4) -> None:
        super().__init__()
        self.src = RDLModel(data, col_stats, src_table, hidden_channels, hidden_channels,
                            num_layers, aggr, encoder_layers, head_norm="layer_norm")
        self.dst = RecommendationHead(data[dst_table].tf, data[dst_table].tf.col_names_dict,
                                      col_stats[dst_table], data[dst_table].num_nodes,
                                      hidden_channels)

    def reset_parameters(self) -> None:
        self.src.reset_parameters()
        self.dst.reset_parameters()

    def forward(self, batch) -> Tensor:
        """Scores :math:`(B, |D|)`."""
        return self.src(batch) @ self.dst().t()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.src!r} x {self.dst.shallow.num_embeddings} destinations)"

"""Link-prediction heads (``HEADS`` registry), graph auto-encoders and LLP distillation."""
from graphkit.nn.link.autoencoder import (
           GraphAutoEncoder,
           kl_normal,
           pretrain_embeddings,
           regularization_loss,
)
from graphkit.nn.link.dot import DotHead
from graphkit.nn.link.hadamard import HadamardMLPHead
from graphkit.nn.link.infomax import dgi_embeddings
from graphkit.nn.link.llp import LLPConfig, MLPLinkPredictor, TeacherScores, distill
from graphkit.nn.link.seal import SEALHead, drnl_labels, sort_k_percentile
from graphkit.nn.link.subgraph import EnclosingSubgraphs, enclosing_subgraphs
from graphkit.nn.link.walkpool import WalkPool, walk_profile, walk_profile_dense

__all__ = ["DotHead", "EnclosingSubgraphs", "GraphAutoEncoder", "HadamardMLPHead", "LLPConfig",
           "MLPLinkPredictor", "SEALHead", "TeacherScores", "WalkPool", "dgi_embeddings", "distill",
           "drnl_labels",
           "enclosing_subgraphs", "kl_normal", "pretrain_embeddings", "regularization_loss", "sort_k_percentile", "walk_profile",
           "walk_profile_dense"]

"""Link-prediction heads (``HEADS`` registry), graph auto-encoders and LLP distillation."""
from graphkit.nn.link.autoencoder import (
           PRETRAIN_OPTIONS,
           GraphAutoEncoder,
           kl_normal,
           pretrain_embeddings,
           regularization_loss,
)
from graphkit.nn.link.dot import DotHead
from graphkit.nn.link.hadamard import HadamardMLPHead
from graphkit.nn.link.infomax import (
           DGI_OPTIONS,
           GIC_OPTIONS,
           GraphInfoClust,
           dgi_embeddings,
           gic_embeddings,
)
from graphkit.nn.link.llp import LLPConfig, MLPLinkPredictor, TeacherScores, distill
from graphkit.nn.link.seal import SEALHead, drnl_labels, sort_k_percentile
from graphkit.nn.link.subgraph import EnclosingSubgraphs, enclosing_subgraphs
from graphkit.nn.link.walkpool import WalkPool, walk_profile, walk_profile_dense

#: ``model.input_encoder`` names of unsupervised pretrained inputs for link tasks:
#: name -> (function(x, edge_index, seed=..., **options) -> embeddings, allowed options)
PRETRAINED_INPUTS = {"vgae": (pretrain_embeddings, PRETRAIN_OPTIONS),
                     "dgi": (dgi_embeddings, DGI_OPTIONS),
                     "gic": (gic_embeddings, GIC_OPTIONS)}

__all__ = [
           "PRETRAINED_INPUTS",
           "DotHead",
           "EnclosingSubgraphs",
           "GraphAutoEncoder",
           "GraphInfoClust",
           "HadamardMLPHead",
           "LLPConfig",
           "MLPLinkPredictor",
           "SEALHead",
           "TeacherScores",
           "WalkPool",
           "dgi_embeddings",
           "distill",
           "drnl_labels",
           "enclosing_subgraphs",
           "gic_embeddings",
           "kl_normal",
           "pretrain_embeddings",
           "regularization_loss",
           "sort_k_percentile",
           "walk_profile",
           "walk_profile_dense",
]

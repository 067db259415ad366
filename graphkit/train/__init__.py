"""The shared trainer, task adapters, metrics and checkpoints."""
from graphkit.train.metrics import (accuracy, average_precision, get_metric, hits_at_k,
                                    link_metrics, mae, mrr, rmse, roc_auc)
from graphkit.train.models import GraphPredictor, InputEncoder, LinkPredictor, NodePredictor
from graphkit.train.trainer import Trainer, mean_std

__all__ = ["Trainer", "mean_std", "NodePredictor", "GraphPredictor", "LinkPredictor",
           "InputEncoder", "accuracy", "roc_auc", "average_precision", "rmse", "mae",
           "hits_at_k", "mrr", "link_metrics", "get_metric"]

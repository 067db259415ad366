"""The shared trainer, task adapters, metrics and checkpoints."""
from graphkit.train.metrics import (
                                    accuracy,
                                    average_precision,
                                    get_metric,
                                    hits_at_k,
                                    link_metrics,
                                    mae,
                                    mrr,
                                    rmse,
                                    roc_auc,
)
from graphkit.train.models import (
                                    GraphPredictor,
                                    InputEncoder,
                                    LinkPredictor,
                                    NodePredictor,
)
from graphkit.train.trainer import Trainer, mean_std, pooled_mean_std

__all__ = [
                                    "GraphPredictor",
                                    "InputEncoder",
                                    "LinkPredictor",
                                    "NodePredictor",
                                    "Trainer",
                                    "accuracy",
                                    "average_precision",
                                    "get_metric",
                                    "hits_at_k",
                                    "link_metrics",
                                    "mae",
                                    "mean_std",
                                    "mrr",
                                    "pooled_mean_std",
                                    "rmse",
                                    "roc_auc",
]

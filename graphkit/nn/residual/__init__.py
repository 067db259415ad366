r"""Residual modules that wrap any message-passing layer ``f(x, edge_index, ...)``.

Every kind is registered in :data:`graphkit.registry.RESIDUALS` and shares one constructor
signature ``Kind(branch, channels, *, layer_index=0, num_layers=1, drop_path=0.0,
drop_path_mode="node", **kind_options)`` and one call ``block(x, *branch_args, state=None,
**branch_kwargs)``. State carried across depth (initial representation, previous activations)
lives in one :class:`DepthState` per forward pass; hyper-connection streams are the tensor
passed between blocks. :class:`ResidualStack` builds a stack of one kind and runs it.

=============  ================================================================
name           module
=============  ================================================================
none           :class:`NoResidual`            ``f(h)``
plain          :class:`Residual`              ``h + f(h)``
preact         :class:`PreActResidual`        ``h + f(drop(act(norm(h))))``
rezero         :class:`ReZero`                ``h + a f(h)``, ``a = 0``
laurel_rw      :class:`LaurelRW`              ``alpha f(h) + beta h``
laurel_lr      :class:`LaurelLR`              ``f(h) + h + B A h``, ``B = 0``
laurel_pa      :class:`LaurelPA`              ``f(h) + h + sum_j gamma_j h_{l-j}``
hc_static      :class:`StaticHyperConnections`
hc_dynamic     :class:`DynamicHyperConnections`
mhc            :class:`ManifoldHyperConnections`
gcnii          :class:`InitialResidual`       GCNII initial residual + identity mapping
dense          :class:`DenseResidual`         ``f(W [h_0 || ... || h_l])``
jk_cat/max/lstm  jumping knowledge over all layer outputs
=============  ================================================================
"""
from graphkit.nn.residual.base import (
                                       DepthState,
                                       DropPath,
                                       ResidualBlock,
                                       ResidualStack,
                                       StackIO,
                                       drop_path,
                                       drop_path_rates,
                                       weighted_sum,
)
from graphkit.nn.residual.classic import (
                                       InitialResidual,
                                       NoResidual,
                                       PreActResidual,
                                       Residual,
                                       ReZero,
)
from graphkit.nn.residual.dense import (
                                       DenseResidual,
                                       JumpingKnowledgeCat,
                                       JumpingKnowledgeLSTM,
                                       JumpingKnowledgeMax,
)
from graphkit.nn.residual.hyper import (
                                       DynamicHyperConnections,
                                       HyperConnections,
                                       ManifoldHyperConnections,
                                       StaticHyperConnections,
                                       StreamIO,
                                       sinkhorn_log,
)
from graphkit.nn.residual.laurel import LaurelLR, LaurelPA, LaurelRW

__all__ = [
                                       "DenseResidual",
                                       "DepthState",
                                       "DropPath",
                                       "DynamicHyperConnections",
                                       "HyperConnections",
                                       "InitialResidual",
                                       "JumpingKnowledgeCat",
                                       "JumpingKnowledgeLSTM",
                                       "JumpingKnowledgeMax",
                                       "LaurelLR",
                                       "LaurelPA",
                                       "LaurelRW",
                                       "ManifoldHyperConnections",
                                       "NoResidual",
                                       "PreActResidual",
                                       "ReZero",
                                       "Residual",
                                       "ResidualBlock",
                                       "ResidualStack",
                                       "StackIO",
                                       "StaticHyperConnections",
                                       "StreamIO",
                                       "drop_path",
                                       "drop_path_rates",
                                       "sinkhorn_log",
                                       "weighted_sum",
]

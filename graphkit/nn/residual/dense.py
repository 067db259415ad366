r"""Dense connections and jumping knowledge over a stack of layers.

- Huang et al., `"Densely Connected Convolutional Networks" <https://arxiv.org/abs/1608.06993>`_;
  Li et al., `"DeepGCNs" <https://arxiv.org/abs/1904.03751>`_ (DenseGCN).
- Xu et al., `"Representation Learning on Graphs with Jumping Knowledge Networks"
  <https://arxiv.org/abs/1806.03536>`_ (aggregation by PyG's ``JumpingKnowledge``).

PyG's LSTM attention sizes its bi-LSTM hidden state as :math:`LF/2` (2,048 for 64 layers of
width 64), so its cost grows with :math:`L^2`; ``lstm_channels`` sets it independently of depth
(the JK paper does not tie the two). Default: PyG's size.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch_geometric.nn import JumpingKnowledge

from graphkit._checks import check_choice, check_range
from graphkit.nn.residual.base import DepthState, ResidualBlock, StackIO
from graphkit.registry import RESIDUALS


@RESIDUALS.register("dense")
class DenseResidual(ResidualBlock):
    r"""Dense connection: the branch reads a learned projection of all earlier representations.

    .. math::
        \mathbf{h}^{(\ell+1)} = f\big(\mathbf{W}_\ell\,[\mathbf{h}^{(0)} \,\|\, \cdots \,\|\,
        \mathbf{h}^{(\ell)}]\big)

    The width stays :math:`F` (a transition :math:`\mathbf{W}_\ell \in
    \mathbb{R}^{F \times (\ell+1)F}` per layer, DenseNet-style) so any branch fits; the cost
    grows linearly with depth per layer (quadratically over the stack). Drop-path drops to the
    zero map. Reads ``state.history`` (all block inputs).

    Args:
        branch (Callable): wrapped layer.
        channels (int): feature size :math:`F`.
        **kwargs: ``layer_index``, ``num_layers``, ``drop_path``, ``drop_path_mode``.

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`; **output:** same shape
    """

    history_size = None

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, **kwargs: Any
                 ) -> None:
        super().__init__(branch, channels, **kwargs)
        self.transition = torch.nn.Linear((self.layer_index + 1) * channels, channels)
        self.reset_residual_parameters()

    def forward(self, x: Tensor, *args: Any, state: DepthState | None = None,
                **kwargs: Any) -> Tensor:
        prev = [x] if state is None or not state.history else state.history
        if len(prev) != self.layer_index + 1:
            raise ValueError(f"DenseResidual: layer {self.layer_index} expects "
                             f"{self.layer_index + 1} earlier representations in "
                             f"state.history; got {len(prev)}; run it inside a ResidualStack")
        h = self.transition(torch.cat(prev, dim=-1))
        return self.run_branch(h, args, kwargs, state)

    def reset_residual_parameters(self) -> None:
        if hasattr(self, "transition"):
            # start as "read the newest representation": identity on the last block of columns
            with torch.no_grad():
                self.transition.reset_parameters()
                self.transition.weight.mul_(0.1)
                F = self.channels
                self.transition.weight[:, -F:] += torch.eye(F)
                self.transition.bias.zero_()


class JKIO(StackIO):
    """Jumping-knowledge reduction of all block outputs (``state.history[1:]``)."""

    def __init__(self, mode: str, channels: int, num_layers: int,
                 lstm_channels: int | None = None) -> None:
        super().__init__()
        check_choice("JumpingKnowledge", "mode", mode, {"cat", "max", "lstm"})
        self.mode, self.num_layers, self.channels = mode, num_layers, channels
        if mode == "lstm" and lstm_channels is not None:
            # PyG's forward and reset_parameters with a depth-independent LSTM size (built
            # without PyG's L*F/2 one, which would be allocated only to be thrown away)
            self.jk = JumpingKnowledge("max")
            self.jk.mode, self.jk.channels, self.jk.num_layers = "lstm", channels, num_layers
            self.jk.lstm = torch.nn.LSTM(channels, lstm_channels, bidirectional=True,
                                         batch_first=True)
            self.jk.att = torch.nn.Linear(2 * lstm_channels, 1)
            self.jk.reset_parameters()
        else:
            self.jk = JumpingKnowledge(mode, channels, num_layers)

    def reduce(self, h: Tensor, state: DepthState) -> Tensor:
        return self.jk(state.history[1:])

    def out_channels(self, channels: int) -> int:
        return channels * self.num_layers if self.mode == "cat" else channels

    def reset_parameters(self) -> None:
        self.jk.reset_parameters()

    def extra_repr(self) -> str:
        if self.mode != "lstm":
            return f"mode={self.mode}"
        return f"mode=lstm, lstm_channels={self.jk.lstm.hidden_size}"


class _JumpingKnowledge(ResidualBlock):
    r"""Jumping knowledge (Xu et al., 2018): no skip per layer,
    :math:`\mathbf{h}^{(\ell+1)} = f(\mathbf{h}^{(\ell)})`, and the stack output aggregates all
    layer outputs: concatenation (width :math:`LF`), element-wise max, or bi-LSTM attention.

    Args:
        branch (Callable): wrapped layer.
        channels (int): feature size :math:`F`.
        residual (bool): also add the skip per layer (:math:`\mathbf{h} + f(\mathbf{h})`).
            (default: :obj:`False`)
        **kwargs: ``layer_index``, ``num_layers``, ``drop_path``, ``drop_path_mode``.

    Shapes:
        - **input:** :math:`(|\mathcal{V}|, F)`; **output (stack):** :math:`(|\mathcal{V}|, LF)`
          for ``cat``, else :math:`(|\mathcal{V}|, F)`
    """

    mode = "cat"
    history_size = None

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, *,
                 residual: bool = False, **kwargs: Any) -> None:
        super().__init__(branch, channels, **kwargs)
        self.residual = residual

    @classmethod
    def stack_io(cls, channels: int, num_layers: int, **kwargs: Any) -> StackIO:
        return JKIO(cls.mode, channels, num_layers)

    def combine(self, x: Tensor, fx: Tensor, state: DepthState | None) -> Tensor:
        return x + fx if self.residual else fx


@RESIDUALS.register("jk_cat")
class JumpingKnowledgeCat(_JumpingKnowledge):
    __doc__ = _JumpingKnowledge.__doc__
    mode = "cat"


@RESIDUALS.register("jk_max")
class JumpingKnowledgeMax(_JumpingKnowledge):
    __doc__ = _JumpingKnowledge.__doc__
    mode = "max"


@RESIDUALS.register("jk_lstm")
class JumpingKnowledgeLSTM(_JumpingKnowledge):
    r"""Jumping knowledge with bi-LSTM attention over the layer outputs (Xu et al., 2018).

    .. math::
        \mathbf{y}_v = \sum_\ell s_v^{(\ell)} \mathbf{h}_v^{(\ell)}, \qquad
        s_v = \mathrm{softmax}_\ell\big(\mathbf{w}^\top
        \mathrm{BiLSTM}(\mathbf{h}_v^{(1)}, \ldots, \mathbf{h}_v^{(L)})\big)

    Args:
        branch (Callable): wrapped layer.
        channels (int): feature size :math:`F`.
        lstm_channels (int, optional): hidden size of each LSTM direction. ``None`` keeps
            PyG's :math:`\lfloor LF/2 \rfloor`, whose cost grows with :math:`L^2`.
            (default: :obj:`None`)
        residual (bool): also add the skip per layer. (default: :obj:`False`)
        **kwargs: ``layer_index``, ``num_layers``, ``drop_path``, ``drop_path_mode``.
    """

    mode = "lstm"

    def __init__(self, branch: Callable[..., Tensor] | None, channels: int, *,
                 lstm_channels: int | None = None, **kwargs: Any) -> None:
        super().__init__(branch, channels, **kwargs)
        if lstm_channels is not None:
            check_range(type(self).__name__, "lstm_channels", lstm_channels, 1, integer=True)
        self.lstm_channels = lstm_channels

    @classmethod
    def stack_io(cls, channels: int, num_layers: int, lstm_channels: int | None = None,
                 **kwargs: Any) -> StackIO:
        return JKIO(cls.mode, channels, num_layers, lstm_channels)

r"""(Variational) graph auto-encoders whose encoder is any registered graphkit backbone.

With ``encoder="deepgnn"`` and a residual kind (``residual="plain"``, ``"rezero"``, ...) this is
the idea of `"Going Deeper with Residual Modules for Link Prediction"
<https://arxiv.org/abs/2105.00695>`_ (ResVGAE) built properly: every depth has its own weights
(the reference code reuses one residual block at every depth) and the variational branch is a
real VGAE (the reference code always builds the non-variational one).

The decoder is the inner product (:class:`~graphkit.nn.link.DotHead`, or any other head);
the KL term reaches the training loss through :func:`regularization_loss`, which the link
trainer adds to the reconstruction loss after each forward pass.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from graphkit._checks import check_range, check_type
from graphkit.registry import MODELS

MAX_LOGSTD = 10.0  # as PyG's VGAE


def kl_normal(mu: Tensor, logstd: Tensor) -> Tensor:
    r"""Mean over nodes of :math:`\mathrm{KL}(\mathcal{N}(\boldsymbol\mu_i,
    \mathrm{diag}\,\boldsymbol\sigma_i^2)\,\|\,\mathcal{N}(\mathbf{0}, \mathbf{I}))
    = \tfrac12 \sum_d (\mu_{id}^2 + \sigma_{id}^2 - 1 - 2 \log \sigma_{id})`."""
    return 0.5 * (mu.pow(2) + (2 * logstd).exp() - 1 - 2 * logstd).sum(dim=-1).mean()


class GraphAutoEncoder(torch.nn.Module):
    r"""Encoder of a graph auto-encoder (GAE) or, with ``variational=True``, of a variational
    one (VGAE), from `"Variational Graph Auto-Encoders" <https://arxiv.org/abs/1611.07308>`_.

    The wrapped backbone maps the graph to :math:`2D` channels (VGAE) that are split into
    :math:`\boldsymbol\mu` and :math:`\log\boldsymbol\sigma`, so its last layer is the
    :math:`\mu` / :math:`\log\sigma` head (two GCN layers for ``encoder="gcn"``: Kipf and
    Welling's VGAE exactly). Then

    .. math::
        \mathbf{z}_i = \boldsymbol\mu_i + \boldsymbol\sigma_i \odot \boldsymbol\varepsilon_i,
        \ \boldsymbol\varepsilon_i \sim \mathcal{N}(\mathbf{0}, \mathbf{I})
        \ \text{(training)}, \qquad \mathbf{z}_i = \boldsymbol\mu_i \ \text{(evaluation)},

    with :math:`\log\sigma` clamped at 10. After each forward pass :meth:`regularization_loss`
    returns :math:`\beta \cdot \frac{1}{N}\sum_i \mathrm{KL}(q(\mathbf{z}_i)\,\|\,\mathcal{N}(0, I))`
    with :math:`\beta` = ``kl_weight`` (default :math:`1/N`, as the reference VGAE and PyG's
    autoencoder example). Without ``variational`` the backbone output is :math:`\mathbf{z}`
    and the regularisation is zero (GAE).

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): backbone width.
        out_channels (int): latent size :math:`D`.
        num_layers (int): backbone depth.
        dropout (float, optional): backbone dropout. (default: :obj:`0.0`)
        encoder (str, optional): a name in ``MODELS`` (``"gcn"``, ``"deepgnn"``, ...).
            (default: :obj:`"gcn"`)
        variational (bool, optional): VGAE instead of GAE. (default: :obj:`False`)
        kl_weight (float, optional): :math:`\beta`; ``None`` means :math:`1/N` for a graph of
            :math:`N` nodes. (default: :obj:`None`)
        latent_channels (int, optional): latent size overriding ``out_channels`` (configs
            pass ``hidden_channels`` as ``out_channels``; Kipf and Welling use 32 -> 16).
            (default: :obj:`None`)
        **encoder_kwargs: passed to the backbone (e.g. ``residual="plain"`` for ``deepgnn``).

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})`, ``edge_index`` :math:`(2, E)`
        - **output:** :math:`\mathbf{z}` :math:`(N, D)`

    Example:
        >>> enc = GraphAutoEncoder(1433, 64, 16, num_layers=8, encoder="deepgnn",
        ...                        variational=True, residual="plain")
        >>> z = enc(data.x, data.edge_index)
        >>> loss = recon_loss + enc.regularization_loss()
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int, dropout: float = 0.0, encoder: str = "gcn",
                 variational: bool = False, kl_weight: float | None = None,
                 latent_channels: int | None = None, **encoder_kwargs: Any) -> None:
        super().__init__()
        owner = type(self).__name__
        check_type(owner, "encoder", encoder, str)
        check_type(owner, "variational", variational, bool)
        out_channels = latent_channels or out_channels
        check_range(owner, "out_channels", out_channels, low=1, integer=True)
        if kl_weight is not None:
            check_range(owner, "kl_weight", kl_weight, low=0.0)
        if encoder.lower() in ("gae", "vgae"):
            raise ValueError(f"{owner}: 'encoder' must be a backbone, not {encoder!r}")
        self.encoder_name, self.variational = encoder, variational
        self.out_channels, self.kl_weight = out_channels, kl_weight
        self.encoder = MODELS.build(encoder, in_channels=in_channels,
                                    hidden_channels=hidden_channels,
                                    out_channels=out_channels * (2 if variational else 1),
                                    num_layers=num_layers, dropout=dropout, **encoder_kwargs)
        self.mu: Tensor | None = None
        self.logstd: Tensor | None = None

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        self.mu = self.logstd = None

    def encode_distribution(self, x: Tensor, edge_index: Tensor, **kwargs: Any
                            ) -> tuple[Tensor, Tensor]:
        """``(mu, logstd)``, each :math:`(N, D)` (VGAE only)."""
        if not self.variational:
            raise ValueError(f"{type(self).__name__}: encode_distribution needs "
                             "variational=True")
        h = self.encoder(x, edge_index, **kwargs)
        mu, logstd = h.split(self.out_channels, dim=-1)
        return mu, logstd.clamp(max=MAX_LOGSTD)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None,
                **kwargs: Any) -> Tensor:
        if edge_attr is not None:
            kwargs["edge_attr"] = edge_attr
        if not self.variational:
            self.mu = self.logstd = None
            return self.encoder(x, edge_index, **kwargs)
        mu, logstd = self.encode_distribution(x, edge_index, **kwargs)
        self.mu, self.logstd = mu, logstd
        if not self.training:
            return mu
        return mu + torch.randn_like(mu) * logstd.exp()

    def kl_loss(self, mu: Tensor | None = None, logstd: Tensor | None = None) -> Tensor:
        """Mean KL over nodes of the last forward pass (or of the given ``mu`` / ``logstd``)."""
        mu = self.mu if mu is None else mu
        logstd = self.logstd if logstd is None else logstd
        if mu is None or logstd is None:
            raise RuntimeError(f"{type(self).__name__}: kl_loss needs a forward pass with "
                               "variational=True first (or explicit 'mu' and 'logstd')")
        return kl_normal(mu, logstd)

    def regularization_loss(self) -> Tensor | None:
        """:math:`\\beta \\cdot` KL of the last training forward pass; ``None`` for a GAE, in
        evaluation mode, or before any forward pass."""
        if not self.variational or self.mu is None or not self.training:
            return None
        beta = self.kl_weight if self.kl_weight is not None else 1.0 / self.mu.size(0)
        return beta * self.kl_loss()

    def __repr__(self) -> str:
        kind = "VGAE" if self.variational else "GAE"
        return f"{type(self).__name__}({kind}, encoder={self.encoder!r}, latent={self.out_channels})"


@MODELS.register("gae")
def gae(in_channels: int, hidden_channels: int, out_channels: int, num_layers: int,
        dropout: float = 0.0, **kwargs: Any) -> GraphAutoEncoder:
    """``model.name: gae``: :class:`GraphAutoEncoder` (``encoder`` kwarg, default ``gcn``)."""
    kwargs.setdefault("variational", False)
    return GraphAutoEncoder(in_channels, hidden_channels, out_channels, num_layers, dropout,
                            **kwargs)


@MODELS.register("vgae")
def vgae(in_channels: int, hidden_channels: int, out_channels: int, num_layers: int,
         dropout: float = 0.0, **kwargs: Any) -> GraphAutoEncoder:
    """``model.name: vgae``: variational :class:`GraphAutoEncoder`."""
    if kwargs.pop("variational", True) is not True:
        raise ValueError("vgae: 'variational' is always true for model 'vgae'; use model 'gae' "
                         "for the non-variational auto-encoder")
    return GraphAutoEncoder(in_channels, hidden_channels, out_channels, num_layers, dropout,
                            variational=True, **kwargs)


def regularization_loss(model: torch.nn.Module) -> Tensor | None:
    """Sum of ``regularization_loss()`` over the submodules of ``model`` that define it (the
    KL term of variational encoders), or ``None`` when none contributes."""
    total = None
    for m in model.modules():
        fn = getattr(m, "regularization_loss", None)
        if not callable(fn):
            continue
        r = fn()
        if r is not None:
            total = r if total is None else total + r
    return total


#: the options of :func:`pretrain_embeddings` a config may set (``model.encoder_kwargs``)
PRETRAIN_OPTIONS = {"variational", "hidden_channels", "out_channels", "epochs", "lr"}


def pretrain_embeddings(x: Tensor, edge_index: Tensor, *, variational: bool = True,
                        hidden_channels: int = 32, out_channels: int = 16, epochs: int = 200,
                        lr: float = 0.01, seed: int = 0) -> Tensor:
    r"""Unsupervised node embeddings: train a 2-layer GCN (V)GAE to reconstruct ``edge_index``
    (inner-product decoder, BCE on the edges and as many fresh uniformly random node pairs each
    epoch as negatives, plus the KL term for a VGAE: Kipf and Welling's recipe) and return
    :math:`\boldsymbol\mu`, detached, ``(N, out_channels)``: what WalkPool's paper feeds its
    head on attributed graphs. Deterministic for a given ``seed`` (own generator; the global RNG
    is left as it was).

    Only the edges passed here are seen: for a link split pass the training graph, never the
    validation or test links.
    """
    owner = "pretrain_embeddings"
    check_range(owner, "epochs", epochs, low=1, integer=True)
    check_range(owner, "out_channels", out_channels, low=1, integer=True)
    if x.dim() != 2:
        raise ValueError(f"{owner}: 'x' must be (num_nodes, features); got shape {tuple(x.shape)}")
    n = x.size(0)
    devices = [x.device] if x.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):       # the reparameterisation noise
        torch.manual_seed(seed)
        gen = torch.Generator(device=x.device).manual_seed(seed)
        model = GraphAutoEncoder(x.size(1), hidden_channels, out_channels, 2,
                                 variational=variational).to(x.device)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        x = x.float()
        for _ in range(epochs):
            model.train()
            opt.zero_grad()
            z = model(x, edge_index)
            neg = torch.randint(0, n, (2, edge_index.size(1)), generator=gen, device=x.device)
            pos_logit = (z[edge_index[0]] * z[edge_index[1]]).sum(-1)
            neg_logit = (z[neg[0]] * z[neg[1]]).sum(-1)
            loss = (torch.nn.functional.binary_cross_entropy_with_logits(
                        pos_logit, torch.ones_like(pos_logit))
                    + torch.nn.functional.binary_cross_entropy_with_logits(
                        neg_logit, torch.zeros_like(neg_logit)))
            reg = model.regularization_loss()
            (loss if reg is None else loss + reg).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            return model(x, edge_index).detach()

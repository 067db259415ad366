r"""WalkPool, from `"Neural Link Prediction with Walk Pooling"
<https://arxiv.org/abs/2110.04375>`_ (Pan, Shi, Dokmanic, ICLR 2022).

A candidate link :math:`e = (i, j)` is scored from its enclosing subgraph :math:`G^+` (with
:math:`e`) and :math:`G^- = G^+ \setminus \{e\}`. Node representations :math:`Z` give
attention logits :math:`\omega_{uv} = \langle Q_u, K_v \rangle / \sqrt{d}` on every edge
:math:`u \to v` of :math:`G^+`; a softmax over the in-edges of every node gives the latent
transition matrix :math:`P^+`, and the same logits without the two copies of :math:`e` give
:math:`P^-`:

.. math::
    P^{+}_{vu} = \operatorname{softmax}_{u' \to v}(\omega_{u'v})_u, \qquad
    P^{-}_{vu} = \frac{P^{+}_{vu}\,[u \to v \ne e]}{\sum_{u'} P^{+}_{vu'}\,[u' \to v \ne e]}.

For :math:`\tau = 2, \dots, \tau_c + 1` the walk profile holds the node-level
:math:`(P^{\pm})^\tau_{ii} + (P^{\pm})^\tau_{jj}`, the link-level
:math:`(P^{\pm})^\tau_{ij} + (P^{\pm})^\tau_{ji}` and the graph-level
:math:`\operatorname{tr}(P^{+})^\tau - \operatorname{tr}(P^{-})^\tau` features, plus
:math:`\sigma(\omega_{ij}) + \sigma(\omega_{ji})`: :math:`5\tau_c + 1` numbers per head.

:func:`walk_profile` is exact and never forms a dense matrix. Only the two columns
:math:`a_k = (P^+)^k E`, :math:`E = [e_i, e_j]`, are propagated (:math:`\tau_c + 1` sparse steps
per head, all links of the batch at once). Everything about :math:`P^-` follows from them because
:math:`\Delta = P^+ - P^- = E D^\top` is non-zero only in rows :math:`i, j`
(:math:`D = [\Delta_{i,:}, \Delta_{j,:}]^\top`). With the :math:`2 \times 2` blocks
:math:`A_k = E^\top a_k`, :math:`G_k = D^\top a_k` and :math:`F_u = D^\top (P^-)^u E`:

.. math::
    F_u = G_u - \sum_{s<u} G_s F_{u-1-s}, \qquad
    E^\top (P^-)^\tau E = A_\tau - \sum_{s<\tau} A_s F_{\tau-1-s},

.. math::
    \operatorname{tr}(P^{+\tau}) - \operatorname{tr}(P^{-\tau})
    = \sum_{s<\tau} \operatorname{tr}\big(D^\top (P^+)^{\tau-1-s} (P^-)^s E\big)
    = \tau \operatorname{tr} G_{\tau-1} - \sum_{q \le \tau-2} (\tau-1-q)
      \operatorname{tr}(G_{\tau-2-q} F_q),

from :math:`X^\tau - Y^\tau = \sum_s Y^s (X - Y) X^{\tau-1-s}`. Sparse work is
:math:`O(\tau_c \cdot |E_{sub}|)` (no :math:`P^-` propagation at all), plus
:math:`O(\tau_c \cdot |V_{sub}|)` dot products and :math:`O(\tau_c^3)` products of
:math:`2 \times 2` blocks per link. :func:`walk_profile_dense` is the explicit-powers reference.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import softmax, to_dense_adj

from graphkit._checks import check_edge_index, check_range, check_type
from graphkit.nn.link.subgraph import CSRCache, EnclosingSubgraphs, enclosing_subgraphs
from graphkit.registry import HEADS

__all__ = ["WalkPool", "transition_weights", "walk_profile", "walk_profile_dense"]


def transition_weights(logits: Tensor, edge_index: Tensor, cand_mask: Tensor,
                       num_nodes: int, eps: float = 1e-16) -> tuple[Tensor, Tensor]:
    r"""Edge weights of :math:`P^+` and :math:`P^-` from attention logits.

    Args:
        logits (Tensor): :math:`(m, H)` logit of every edge :math:`u \to v` and head.
        edge_index (Tensor): :math:`(2, m)` edges of :math:`G^+`.
        cand_mask (Tensor): :math:`(m,)` ``True`` at the candidate's directed copies.
        num_nodes (int): number of nodes.
        eps (float): added to the :math:`P^-` row sums (a node whose only in-edge was the
            candidate gets an all-zero row). (default: :obj:`1e-16`)

    Returns:
        ``(w_plus, w_minus)``, each :math:`(m, H)`.
    """
    dst = edge_index[1]
    w_plus = softmax(logits, dst, num_nodes=num_nodes)
    kept = w_plus * (~cand_mask).unsqueeze(-1).to(w_plus.dtype)
    den = torch.zeros(num_nodes, kept.size(1), dtype=kept.dtype, device=kept.device)
    den.index_add_(0, dst, kept)
    return w_plus, kept / (den[dst] + eps)


def _step(w: Tensor, src: Tensor, dst: Tensor, x: Tensor) -> Tensor:
    """``out[v] = sum_{u -> v} w_e x[u]`` for ``x`` of shape ``(n, H, k)``."""
    return torch.zeros_like(x).index_add_(0, dst, w.unsqueeze(-1) * x.index_select(0, src))


def walk_profile(w_plus: Tensor, w_minus: Tensor, edge_index: Tensor, center: Tensor,
                 batch: Tensor, num_graphs: int, walk_len: int) -> Tensor:
    r"""Node-, link- and graph-level walk features for :math:`\tau = 2..\tau_c + 1`.

    Args:
        w_plus (Tensor), w_minus (Tensor): :math:`(m, H)` weights of :math:`P^\pm`.
        edge_index (Tensor): :math:`(2, m)` batched edges :math:`u \to v`.
        center (Tensor): :math:`(2, B)` batched positions of :math:`i` and :math:`j`.
        batch (Tensor): :math:`(n,)` subgraph of every node.
        num_graphs (int): :math:`B`.
        walk_len (int): :math:`\tau_c`.

    Returns:
        :math:`(B, H, 5, \tau_c)`: node+, node-, link+, link-, graph along dim 2.
    """
    src, dst = edge_index
    n, num_heads, L = batch.numel(), w_plus.size(1), walk_len
    ci, cj = center
    e = torch.zeros(n, num_heads, 2, dtype=w_plus.dtype, device=w_plus.device)
    e[ci, :, 0] = 1.0
    e[cj, :, 1] = 1.0
    a = [e]  # a_k = (P^+)^k E with E = [e_i, e_j], k = 0..L+1
    for _ in range(L + 1):
        a.append(_step(w_plus, src, dst, a[-1]))
    a = torch.stack(a)  # (L+2, n, H, 2)
    # D = [delta_i, delta_j]: rows i, j of Delta = P^+ - P^- as vectors over source nodes
    d = w_plus - w_minus
    eb = batch[dst]
    dl = torch.zeros_like(e)
    for r, cr in enumerate((ci, cj)):
        at = dst == cr[eb]
        dl[:, :, r].index_add_(0, src[at], d[at])
    # A_k = E^T a_k and G_k = D^T a_k: (L+2, B, H, 2, 2), [row r, column c]
    A = torch.stack([a[:, ci], a[:, cj]], dim=-2)
    prod = dl.unsqueeze(-1) * a[:L + 1].unsqueeze(-2)  # (L+1, n, H, 2, 2)
    G = prod.new_zeros(L + 1, num_graphs, num_heads, 2, 2).index_add_(1, batch, prod)
    # F_u = D^T (P^-)^u E from (P^-)^u E = a_u - sum_{s<u} a_s F_{u-1-s}, since Delta = E D^T
    F = [G[0]]
    for u in range(1, L + 1):
        F.append(G[u] - sum(G[s] @ F[u - 1 - s] for s in range(u)))
    diag = lambda m: m[..., 0, 0] + m[..., 1, 1]
    off = lambda m: m[..., 0, 1] + m[..., 1, 0]
    node_p, link_p, node_m, link_m, graph = [], [], [], [], []
    for tau in range(2, L + 2):
        b = A[tau] - sum(A[s] @ F[tau - 1 - s] for s in range(tau))  # E^T (P^-)^tau E
        node_p.append(diag(A[tau]))
        link_p.append(off(A[tau]))
        node_m.append(diag(b))
        link_m.append(off(b))
        # tr(P+^tau) - tr(P-^tau) = sum_s tr(D^T (P^+)^{tau-1-s} (P^-)^s E)
        graph.append(tau * diag(G[tau - 1]) - sum(
            (tau - 1 - q) * diag(G[tau - 2 - q] @ F[q]) for q in range(tau - 1)))
    return torch.stack([torch.stack(x, -1) for x in (node_p, node_m, link_p, link_m, graph)],
                       dim=2)


def walk_profile_dense(w_plus: Tensor, w_minus: Tensor, edge_index: Tensor, center: Tensor,
                       batch: Tensor, num_graphs: int, walk_len: int) -> Tensor:
    """Reference for :func:`walk_profile` with explicit dense powers of :math:`P^\\pm` (padded
    per subgraph): :math:`O(B \\cdot H \\cdot \\tau_c \\cdot n_{max}^3)`."""
    ptr = torch.zeros(num_graphs + 1, dtype=torch.long, device=batch.device)
    ptr[1:] = torch.bincount(batch, minlength=num_graphs).cumsum(0)
    li, lj = center[0] - ptr[:-1], center[1] - ptr[:-1]
    ar = torch.arange(num_graphs, device=batch.device)
    out = []
    for w in (w_plus, w_minus):
        # to_dense_adj gives A[b, u, v] = w(u -> v); P[v, u] = w(u -> v)
        p = to_dense_adj(edge_index, batch, edge_attr=w, batch_size=num_graphs)
        p = p.permute(0, 3, 2, 1)  # (B, H, n_max, n_max), P[b, h, v, u]
        powers, q = [], p
        for tau in range(2, walk_len + 2):
            q = q @ p
            powers.append(q)
        out.append(torch.stack(powers, -1))  # (B, H, n, n, L)
    pp, pm = out
    node = [x[ar, :, li, li] + x[ar, :, lj, lj] for x in (pp, pm)]
    link = [x[ar, :, li, lj] + x[ar, :, lj, li] for x in (pp, pm)]
    trace = torch.diagonal(pp, dim1=2, dim2=3).sum(-1) - torch.diagonal(pm, dim1=2, dim2=3).sum(-1)
    return torch.stack([node[0], node[1], link[0], link[1], trace], dim=2)


class WalkAttention(torch.nn.Module):
    r"""Multi-head attention logits :math:`\omega_{uv} = \langle f_q(z_u), f_k(z_v)\rangle /
    \sqrt{d}` on every edge :math:`u \to v`; :math:`f_q, f_k` are 2-layer MLPs
    (Linear, LeakyReLU(0.2), Dropout, Linear).

    Shapes:
        - **input:** ``z``: :math:`(n, F)`, ``edge_index``: :math:`(2, m)`
        - **output:** :math:`(m, H)`
    """

    def __init__(self, in_channels: int, hidden_channels: int, heads: int,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.hidden_channels, self.heads = hidden_channels, heads

        def mlp() -> torch.nn.Sequential:
            return torch.nn.Sequential(
                torch.nn.Linear(in_channels, hidden_channels), torch.nn.LeakyReLU(0.2),
                torch.nn.Dropout(dropout), torch.nn.Linear(hidden_channels, heads * hidden_channels))
        self.query, self.key = mlp(), mlp()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for seq in (self.query, self.key):
            for layer in seq:
                if isinstance(layer, torch.nn.Linear):
                    layer.reset_parameters()

    def forward(self, z: Tensor, edge_index: Tensor) -> Tensor:
        h, d = self.heads, self.hidden_channels
        q = self.query(z).view(-1, h, d)
        k = self.key(z).view(-1, h, d)
        return (q.index_select(0, edge_index[0]) * k.index_select(0, edge_index[1])).sum(-1) / math.sqrt(d)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(heads={self.heads}, hidden={self.hidden_channels})"


def subgraph_features(x: Tensor, sub: EnclosingSubgraphs) -> Tensor:
    """Input features of the subgraph nodes (``x`` of the whole graph, gathered)."""
    return x.index_select(0, sub.node_id)


@HEADS.register("walkpool")
class WalkPool(torch.nn.Module):
    r"""WalkPool link head (see the module docstring): enclosing subgraphs, a 2-layer GCN on
    :math:`G^+` (:math:`Z = [X \Vert \mathrm{GCN}_1(X) \Vert \mathrm{GCN}_2(\mathrm{GCN}_1(X))]`),
    attention transition matrices, walk profiles and an MLP classifier.

    Args:
        channels (int): size of the node vectors ``z`` it receives.
        in_channels (int, optional): overrides ``channels`` (e.g. ``1`` for the ``ones``
            encoder with the ``identity`` backbone).
        hidden_channels (int): GCN and attention width :math:`d`. (default: :obj:`32`)
        heads (int): attention heads :math:`H`. (default: :obj:`2`)
        walk_len (int): :math:`\tau_c`; walks of length 2..:math:`\tau_c + 1`. (default: :obj:`7`)
        num_hops (int): enclosing-subgraph radius. (default: :obj:`2`)
        max_nodes_per_hop (int, optional): random cap per hop. (default: :obj:`None`)
        dropout (float): dropout in the GCN, attention and classifier. (default: :obj:`0.5`)
        drnl (bool): concatenate a DRNL label embedding to the inputs. (default: :obj:`False`)
        dense (bool): use :func:`walk_profile_dense` (reference; slow). (default: :obj:`False`)

    Shapes:
        - **input:** ``z``: :math:`(|\mathcal{V}|, F)`, ``edge_label_index``: :math:`(2, B)`,
          ``graph``: ``Data`` with the observed ``edge_index`` and ``num_nodes``
        - **output:** logits :math:`(B,)`
    """

    needs_graph = True

    def __init__(self, channels: int, *, in_channels: int | None = None,
                 hidden_channels: int = 32, heads: int = 2, walk_len: int = 7,
                 num_hops: int = 2, max_nodes_per_hop: int | None = None,
                 dropout: float = 0.5, drnl: bool = False, num_labels: int = 50,
                 dense: bool = False) -> None:
        super().__init__()
        owner = type(self).__name__
        in_channels = channels if in_channels is None else in_channels
        check_range(owner, "in_channels", in_channels, 1, integer=True)
        check_range(owner, "hidden_channels", hidden_channels, 1, integer=True)
        check_range(owner, "heads", heads, 1, integer=True)
        check_range(owner, "walk_len", walk_len, 1, integer=True)
        check_range(owner, "num_hops", num_hops, 1, integer=True)
        check_range(owner, "dropout", dropout, 0.0, 1.0)
        check_type(owner, "drnl", drnl, bool)
        self.in_channels, self.hidden_channels, self.heads = in_channels, hidden_channels, heads
        self.walk_len, self.num_hops, self.max_nodes_per_hop = walk_len, num_hops, max_nodes_per_hop
        self.dropout, self.drnl, self.num_labels, self.dense = dropout, drnl, num_labels, dense
        feat = in_channels + (hidden_channels if drnl else 0)
        self.label_emb = torch.nn.Embedding(num_labels, hidden_channels) if drnl else None
        # symmetric normalisation computed once per batch, shared by both layers
        self.conv1 = GCNConv(feat, hidden_channels, normalize=False)
        self.conv2 = GCNConv(hidden_channels, hidden_channels, normalize=False)
        self.attention = WalkAttention(feat + 2 * hidden_channels, hidden_channels, heads, dropout)
        L = heads * (5 * walk_len + 1)
        self.num_features = L
        self.classifier = torch.nn.Sequential(
            torch.nn.BatchNorm1d(L), torch.nn.Linear(L, 20 * L), torch.nn.ReLU(),
            torch.nn.Linear(20 * L, 20 * L), torch.nn.ReLU(), torch.nn.Linear(20 * L, 10 * L),
            torch.nn.ReLU(), torch.nn.Linear(10 * L, L), torch.nn.ReLU(), torch.nn.Dropout(dropout),
            torch.nn.Linear(L, 1))
        self._csr = CSRCache()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.label_emb is not None:
            self.label_emb.reset_parameters()
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()
        self.attention.reset_parameters()
        for layer in self.classifier:
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()

    def extract(self, edge_label_index: Tensor, graph) -> EnclosingSubgraphs:
        """:math:`G^+` of every candidate (candidate edges flagged in ``cand_mask``)."""
        n = int(graph.num_nodes)
        check_edge_index(type(self).__name__, graph.edge_index, n, "graph.edge_index")
        return enclosing_subgraphs(graph.edge_index, n, edge_label_index, self.num_hops,
                                   candidate="add", max_nodes_per_hop=self.max_nodes_per_hop,
                                   csr=self._csr.get(graph.edge_index, n))

    def node_representations(self, x: Tensor, sub: EnclosingSubgraphs) -> Tensor:
        r""":math:`Z = [X \Vert h_1 \Vert h_2]` on :math:`G^+`."""
        if self.label_emb is not None:
            from graphkit.nn.link.seal import drnl_labels
            lab = drnl_labels(sub).clamp(max=self.num_labels - 1)
            x = torch.cat([x, self.label_emb(lab)], dim=-1)
        ei, ew = gcn_norm(sub.edge_index, None, sub.num_nodes, add_self_loops=True)
        h1 = self.conv1(x, ei, ew)
        h2 = self.conv2(torch.relu(torch.dropout(h1, self.dropout, self.training)), ei, ew)
        return torch.cat([x, h1, h2], dim=-1)

    def features(self, z: Tensor, edge_label_index: Tensor, graph) -> Tensor:
        """The :math:`H (5\\tau_c + 1)` walk-pooling features of every candidate, ``(B, L)``."""
        if z.size(-1) != self.in_channels:
            raise ValueError(f"{type(self).__name__}: 'z' has {z.size(-1)} channels but the head "
                             f"was built for in_channels={self.in_channels}")
        sub = self.extract(edge_label_index, graph)
        zs = self.node_representations(subgraph_features(z, sub), sub)
        logits = self.attention(zs, sub.edge_index)  # (m, H)
        w_plus, w_minus = transition_weights(logits, sub.edge_index, sub.cand_mask, sub.num_nodes)
        profile = walk_profile_dense if self.dense else walk_profile
        walk = profile(w_plus, w_minus, sub.edge_index, sub.center, sub.batch,
                       sub.num_subgraphs, self.walk_len)  # (B, H, 5, L)
        att = torch.zeros(sub.num_subgraphs, self.heads, dtype=logits.dtype, device=logits.device)
        att.index_add_(0, sub.edge_batch[sub.cand_mask], torch.sigmoid(logits[sub.cand_mask]))
        return torch.cat([att.unsqueeze(-1), walk.flatten(2)], dim=-1).flatten(1)

    def forward(self, z: Tensor, edge_label_index: Tensor, graph) -> Tensor:
        f = self.features(z, edge_label_index, graph)
        if self.training and f.size(0) == 1:  # one link: BatchNorm uses its running statistics
            bn = self.classifier[0]
            f = torch.nn.functional.batch_norm(f, bn.running_mean, bn.running_var, bn.weight,
                                               bn.bias, False, 0.0, bn.eps)
            return self.classifier[1:](f).view(-1)
        return self.classifier(f).view(-1)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, hidden={self.hidden_channels}, "
                f"heads={self.heads}, walk_len={self.walk_len}, num_hops={self.num_hops})")

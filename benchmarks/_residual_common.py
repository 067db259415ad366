"""Shared helpers of the residual benchmarks: dataset loading (no network) and a compact
full-batch node-classification loop (the graphkit Trainer is not used so the scripts run on
their own)."""
from __future__ import annotations

import os
import shutil
import tempfile
import time

import torch
from torch_geometric.data import Data

DATA = os.environ.get("GRAPHKIT_DATA", "/work/shared/data")

#: keyword arguments of each residual kind in the residual benchmarks
KIND_KW = {"hc_static": {"num_streams": 4}, "hc_dynamic": {"num_streams": 4},
           "mhc": {"num_streams": 4}, "laurel_lr": {"rank": 16}, "laurel_pa": {"num_prev": 3},
           "gcnii": {"alpha": 0.1, "theta": 0.5}}
#: pseudo-kinds: name -> (residual kind, keyword arguments)
ALIASES = {"laurel_lr_depth": ("laurel_lr", {"rank": 16, "scale": "depth"}),
           # JK-LSTM with a depth-independent LSTM size (PyG's is L*F/2: 2,048 at 64 layers)
           "jk_lstm_h64": ("jk_lstm", {"lstm_channels": 64})}
#: kinds built without normalisation (the rest use LayerNorm)
NO_NORM = {"none", "gcnii", "jk_cat", "jk_max", "jk_lstm", "dense"}


def kind_spec(name: str) -> tuple[str, dict, str]:
    """``(residual kind, keyword arguments, norm)`` of a benchmark kind name (or alias)."""
    kind, kw = ALIASES.get(name, (name, KIND_KW.get(name, {})))
    return kind, kw, "none" if kind in NO_NORM else "layer"


def load_planetoid(name: str) -> Data:
    """Cora / CiteSeer, public split, from ``$GRAPHKIT_DATA/planetoid/<name>`` (copied to a
    temporary ``<tmp>/<Name>/raw`` so PyG's ``Planetoid`` processes it without downloading)."""
    from torch_geometric.datasets import Planetoid
    src = os.path.join(DATA, "planetoid", name.lower())
    pyg_name = {"cora": "Cora", "citeseer": "CiteSeer"}[name.lower()]
    root = tempfile.mkdtemp(prefix="gk_planetoid_")
    raw = os.path.join(root, pyg_name, "raw")
    os.makedirs(raw)
    for f in os.listdir(src):
        shutil.copy(os.path.join(src, f), raw)
    data = Planetoid(root, pyg_name, split="public")[0]
    shutil.rmtree(root, ignore_errors=True)
    return data


def csbm(num_nodes: int = 1000, num_classes: int = 2, feat_dim: int = 16, avg_degree: float = 8.0,
         homophily: float = 0.8, mu: float = 1.0, seed: int = 0) -> Data:
    """Contextual stochastic block model: balanced classes, intra-class edge probability set by
    ``homophily``, Gaussian features with class means ``mu * e_class`` (unit noise). Split: 20
    train nodes per class, 500 validation, the rest test (Planetoid-like)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(num_nodes) % num_classes
    y = y[torch.randperm(num_nodes, generator=g)]
    n_pairs = num_nodes * (num_nodes - 1) / 2
    m = avg_degree * num_nodes / 2
    same_frac = 1.0 / num_classes
    p_in = homophily * m / (n_pairs * same_frac)
    p_out = (1 - homophily) * m / (n_pairs * (1 - same_frac))
    iu = torch.triu_indices(num_nodes, num_nodes, offset=1)
    same = y[iu[0]] == y[iu[1]]
    prob = torch.where(same, torch.tensor(p_in), torch.tensor(p_out))
    keep = torch.rand(prob.shape, generator=g) < prob
    e = iu[:, keep]
    edge_index = torch.cat([e, e.flip(0)], dim=1)
    means = torch.zeros(num_classes, feat_dim)
    means[torch.arange(num_classes), torch.arange(num_classes)] = mu
    x = means[y] + torch.randn(num_nodes, feat_dim, generator=g)
    perm = torch.randperm(num_nodes, generator=g)
    train = torch.zeros(num_nodes, dtype=torch.bool)
    for c in range(num_classes):
        train[perm[y[perm] == c][:20]] = True
    rest = perm[~train[perm]]
    val = torch.zeros(num_nodes, dtype=torch.bool)
    val[rest[:500]] = True
    test = ~(train | val)
    return Data(x=x, edge_index=edge_index, y=y, train_mask=train, val_mask=val, test_mask=test)


def load(name: str) -> Data:
    return csbm() if name == "csbm" else load_planetoid(name)


def train_node_classifier(model: torch.nn.Module, data: Data, *, lr: float = 0.01,
                          weight_decay: float = 5e-4, dense_weight_decay: float | None = None,
                          epochs: int = 200, patience: int = 50, select: str = "acc") -> dict:
    """Full-batch Adam; early stopping on validation accuracy (ties: lower validation loss), or
    on validation loss alone with ``select="loss"`` (GCNII's rule); returns the test accuracy of
    the best-validation epoch. ``dense_weight_decay`` (GCNII
    recipe) applies to ``lin_in``/``lin_out``; ``weight_decay`` to everything else."""
    if dense_weight_decay is None:
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        dense = [p for n, p in model.named_parameters() if n.startswith(("lin_in", "lin_out"))]
        rest = [p for n, p in model.named_parameters()
                if not n.startswith(("lin_in", "lin_out"))]
        opt = torch.optim.Adam([{"params": rest, "weight_decay": weight_decay},
                                {"params": dense, "weight_decay": dense_weight_decay}], lr=lr)
    best = (-1.0, float("inf"))
    best_state, best_test, best_epoch, bad = None, 0.0, 0, 0
    t0 = time.perf_counter()
    epoch = 0
    for epoch in range(1, epochs + 1):
        model.train()
        opt.zero_grad()
        out = model(data.x, data.edge_index)
        loss = torch.nn.functional.cross_entropy(out[data.train_mask], data.y[data.train_mask])
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            out = model(data.x, data.edge_index)
            pred = out.argmax(-1)
            val_loss = float(torch.nn.functional.cross_entropy(out[data.val_mask],
                                                               data.y[data.val_mask]))
            val_acc = float((pred[data.val_mask] == data.y[data.val_mask]).float().mean())
            test_acc = float((pred[data.test_mask] == data.y[data.test_mask]).float().mean())
        better = (val_loss < best[1]) if select == "loss" else (
            (val_acc, -val_loss) > (best[0], -best[1]))
        if better:
            best, best_test, best_epoch, bad = (val_acc, val_loss), test_acc, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return {"val_acc": best[0], "val_loss": best[1], "test_acc": best_test, "best_epoch": best_epoch,
            "epochs": epoch, "train_s": time.perf_counter() - t0}

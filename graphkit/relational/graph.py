r"""The temporal heterogeneous graph of a database (RelBench's ``make_pkey_fkey_graph``) with
offline text embeddings.

Every table becomes a node type holding a PyTorch-Frame ``TensorFrame`` (``.tf``: numerical,
categorical, multicategorical, timestamp and text-embedded columns; keys removed), a ``time``
per row for timed tables (unix seconds), and every foreign key gives the edge types
``(table, "f2p_<fkey>", referenced)`` and ``(referenced, "rev_f2p_<fkey>", table)``.

Text columns are embedded without downloading a model: :class:`HashingTextEmbedder` is the
signed hashing trick (Weinberger et al., `"Feature Hashing for Large Scale Multitask Learning"
<https://arxiv.org/abs/0902.2206>`_) over word unigrams and character trigrams with a stable
hash (CRC32), L2-normalised:

.. math::
    \mathbf{e}(s) = \frac{\sum_{g \in \mathrm{grams}(s)} \sigma(g)\, \mathbf{1}_{h(g) \bmod d}}
                         {\big\lVert \sum_g \sigma(g)\, \mathbf{1}_{h(g) \bmod d} \big\rVert_2}

Any callable ``list[str] -> Tensor (N, d)`` (e.g. a sentence-transformers model) can be passed
instead as ``text_embedder=``.

Example:
    >>> data, col_stats = build_hetero_graph(task.get_db(), text_embedder=HashingTextEmbedder(32))
    >>> data["Invoice"].time.shape
"""
from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor


class HashingTextEmbedder:
    """Offline text embedder: signed feature hashing of words and character trigrams.

    Args:
        out_channels (int): embedding size :math:`d`. (default: ``64``)
        char_ngrams (int): character n-gram size (0 disables). (default: ``3``)

    Shapes:
        - **input:** ``N`` strings;  **output:** :math:`(N, d)` float tensor, rows of unit norm
          (zero for an empty string).
    """

    def __init__(self, out_channels: int = 64, char_ngrams: int = 3) -> None:
        if not isinstance(out_channels, int) or out_channels < 1:
            raise ValueError(f"HashingTextEmbedder: out_channels must be an int >= 1; got {out_channels!r}")
        self.out_channels, self.char_ngrams = out_channels, char_ngrams

    def _grams(self, s: str) -> list[str]:
        s = str(s).lower()
        words = s.split()
        out = [f"w:{w}" for w in words]
        n = self.char_ngrams
        if n:
            padded = f" {s} "
            out += [f"c:{padded[i:i + n]}" for i in range(max(len(padded) - n + 1, 0))]
        return out

    def __call__(self, sentences: list[str]) -> Tensor:
        rows, cols, vals = [], [], []
        for i, s in enumerate(sentences):
            for g in self._grams(s):
                h = zlib.crc32(g.encode())
                rows.append(i)
                cols.append(h % self.out_channels)
                vals.append(1.0 if (h >> 31) & 1 else -1.0)
        out = torch.zeros(len(sentences), self.out_channels)
        if rows:
            out.index_put_((torch.tensor(rows), torch.tensor(cols)), torch.tensor(vals),
                           accumulate=True)
        return torch.nn.functional.normalize(out, dim=1)

    def __repr__(self) -> str:
        return f"HashingTextEmbedder({self.out_channels}, char_ngrams={self.char_ngrams})"


def propose_stypes(db, overrides: dict | None = None) -> dict:
    """RelBench's stype proposal (PyTorch-Frame inference on a sample), made deterministic
    (all rows) and with per-table overrides ``{table: {column: stype or None}}`` (``None``
    drops the column)."""
    from torch_frame import stype
    from torch_frame.utils import infer_df_stype
    out = {}
    for name, table in db.table_dict.items():
        df = table.df
        inferred = infer_df_stype(df.head(1000) if len(df) > 1000 else df)
        for col, st in list(inferred.items()):
            if st.value == "embedding":
                inferred[col] = stype.multicategorical
        for col, st in (overrides or {}).get(name, {}).items():
            if st is None:
                inferred.pop(col, None)
            else:
                inferred[col] = stype(st) if isinstance(st, str) else st
        out[name] = inferred
    return out


def build_hetero_graph(db, text_embedder: Callable[[list[str]], Tensor] | None = None,
                       stypes: dict | None = None, cache_dir: str | None = None,
                       remove_columns=None) -> tuple[Any, dict]:
    """``(HeteroData, col_stats)`` of ``db`` via ``relbench.modeling.graph.make_pkey_fkey_graph``.

    Args:
        db: a RelBench database (keys ``0..n-1``), normally the task's ``get_db()`` (cut at the
            test timestamp).
        text_embedder: ``list[str] -> (N, d)`` for ``text_embedded`` columns (default:
            :class:`HashingTextEmbedder` ``(64)``).
        stypes: column stypes ``{table: {column: stype}}`` (default: :func:`propose_stypes`).
        cache_dir: where materialised tensor frames are cached (default: none).
        remove_columns: ``(table, column)`` pairs left out of the features.
    """
    from relbench.modeling.graph import make_pkey_fkey_graph
    from torch_frame.config.text_embedder import TextEmbedderConfig
    stypes = stypes if stypes is not None else propose_stypes(db)
    cfg = TextEmbedderConfig(text_embedder=text_embedder or HashingTextEmbedder(64), batch_size=None)
    for name, t in db.table_dict.items():
        if len(t.df) == 0:
            raise ValueError(f"build_hetero_graph: table {name!r} is empty (after the time cut?); "
                             f"RelBench's graph needs at least one row per table")
    data, col_stats = make_pkey_fkey_graph(db, {k: dict(v) for k, v in stypes.items()},
                                           text_embedder_cfg=cfg, cache_dir=cache_dir,
                                           remove_columns=remove_columns)
    return data, col_stats


def add_static_time(data, value: int = np.iinfo(np.int64).min // 2) -> Any:
    """Give untimed node types a ``time`` far in the past (RelBench: rows without a time column
    exist since ``-inf``), so one temporal sampler covers every node type."""
    for nt in data.node_types:
        if "time" not in data[nt]:
            data[nt].time = torch.full((data[nt].num_nodes,), value, dtype=torch.long)
    return data

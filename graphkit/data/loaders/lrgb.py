"""Long Range Graph Benchmark peptide sets from their raw SMILES files.

Peptides-func: 15,535 peptides as SMILES, 10 binary functional labels (multilabel), scored by
average precision over the labels, with the fixed stratified train / val / test split of the LRGB
release. Molecules become graphs with ``ogb.utils.smiles2graph`` (OGB's 9 atom and 3 bond
categorical features), which needs RDKit (``pip install graphkit[chem]``); the processed graphs
are stored once in the writable cache. The split file is a pickle: it is read with an unpickler
that only admits numpy arrays.

From `"Long Range Graph Benchmark" <https://arxiv.org/abs/2206.08164>`_ (Dwivedi et al.,
NeurIPS 2022 Datasets and Benchmarks).
"""
from __future__ import annotations

import gzip
import pickle
from pathlib import Path
from typing import ClassVar

import torch
from torch_geometric.data import Data, InMemoryDataset

from graphkit.data.catalogue import Entry
from graphkit.data.loaders.base import register
from graphkit.data.spec import TaskSpec

CSV = "raw/peptide_multi_class_dataset.csv.gz"
SPLITS = "splits_random_stratified_peptide.pickle"
FORMAT = 1


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and nothing else (the split file is a dict of index arrays)."""

    ALLOWED: ClassVar[frozenset] = frozenset({
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct")})

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f"graphkit.data: {SPLITS} may only hold numpy arrays; it asks for {module}.{name}")
        import importlib
        return getattr(importlib.import_module(module), name)


def read_splits(path: Path) -> dict[str, torch.Tensor]:
    with open(path, "rb") as f:
        raw = _NumpyOnlyUnpickler(f).load()
    if not isinstance(raw, dict) or set(raw) != {"train", "val", "test"}:
        raise ValueError(f"graphkit.data: {path}: expected a dict with keys train / val / test; "
                         f"got {type(raw).__name__} {sorted(raw) if isinstance(raw, dict) else ''}")
    return {k: torch.as_tensor(raw[k], dtype=torch.long) for k in ("train", "val", "test")}


def smiles_to_data(smiles: str, y: torch.Tensor) -> Data:
    from ogb.utils import smiles2graph
    g = smiles2graph(smiles)
    return Data(x=torch.from_numpy(g["node_feat"]).long(),
                edge_index=torch.from_numpy(g["edge_index"]).long(),
                edge_attr=torch.from_numpy(g["edge_feat"]).long(), y=y.view(1, -1),
                num_nodes=int(g["num_nodes"]))


class PeptidesFunctional(InMemoryDataset):
    """Peptides-func as a PyG ``InMemoryDataset`` (processed under ``root/processed``)."""

    def __init__(self, root: str, csv_path: Path) -> None:
        self.csv_path = Path(csv_path)
        super().__init__(root)
        self.load(self.processed_paths[0])

    @property
    def raw_file_names(self) -> list[str]:
        return []

    @property
    def processed_file_names(self) -> list[str]:
        return [f"peptides_func_v{FORMAT}.pt"]

    def download(self) -> None:  # the raw file comes from the data root, never the network
        pass

    def process(self) -> None:
        try:
            import rdkit  # noqa: F401
        except ImportError as e:
            raise ImportError("graphkit.data: peptides-func is stored as SMILES; turning them into "
                              "graphs needs RDKit: pip install 'graphkit[chem]' (or rdkit)") from e
        import pandas as pd
        with gzip.open(self.csv_path, "rt") as f:
            df = pd.read_csv(f)
        labels = torch.tensor([eval_label_list(s) for s in df["labels"]], dtype=torch.float)
        data_list = [smiles_to_data(s, labels[i]) for i, s in enumerate(df["smiles"])]
        self.save(data_list, self.processed_paths[0])


def eval_label_list(text: str) -> list[int]:
    """``"[0, 1, 0]"`` -> ``[0, 1, 0]`` (parsed as integers, never evaluated as code)."""
    body = text.strip()
    if not (body.startswith("[") and body.endswith("]")):
        raise ValueError(f"graphkit.data: peptides-func label {text!r} is not a list like '[0, 1]'")
    return [int(v) for v in body[1:-1].split(",")]


@register("lrgb_peptides", {}, raw_subdir="")
def load_peptides(entry: Entry, raw_dir: Path, work_dir: Path) -> tuple[PeptidesFunctional, TaskSpec]:
    """Peptides-func with its fixed split (one split: train / val / test)."""
    ds = PeptidesFunctional(str(work_dir), raw_dir / CSV)
    split = read_splits(raw_dir / SPLITS)
    if sum(v.numel() for v in split.values()) != len(ds):
        raise ValueError(f"graphkit.data: {SPLITS} covers {sum(v.numel() for v in split.values())} "
                         f"graphs; the data set has {len(ds)}")
    spec = TaskSpec(name=entry.name, task="graph", kind="multilabel", metric=entry.metric,
                    protocol="fixed", num_features=ds.num_features,
                    num_outputs=int(ds._data.y.size(1)), splits=[split],
                    extra={"atom_features": True, "num_edge_features": ds.num_edge_features})
    return ds, spec

"""Peptides-func loader pieces: the numpy-only split unpickler, label parsing, SMILES -> graph."""
import io
import pickle

import numpy as np
import pytest
import torch

from graphkit.data.loaders.lrgb import (
    SPLITS,
    _NumpyOnlyUnpickler,
    eval_label_list,
    read_splits,
)


def test_split_file_is_a_disjoint_cover(data_root):
    path = data_root / "lrgb" / "peptides-functional" / SPLITS
    if not path.is_file():
        pytest.skip("no peptides-functional split file")
    split = read_splits(path)
    sizes = [split[k].numel() for k in ("train", "val", "test")]
    assert sizes == [10873, 2331, 2331]
    every = torch.cat(list(split.values()))
    assert torch.equal(every.sort().values, torch.arange(15535))


def test_unpickler_refuses_anything_but_numpy():
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    blob = pickle.dumps({"train": Evil()})
    with pytest.raises(pickle.UnpicklingError, match="builtins.print"):
        _NumpyOnlyUnpickler(io.BytesIO(blob)).load()
    ok = pickle.dumps({"train": np.arange(3)})
    assert _NumpyOnlyUnpickler(io.BytesIO(ok)).load()["train"].tolist() == [0, 1, 2]


def test_label_lists_are_parsed_not_evaluated():
    assert eval_label_list("[0, 1, 0, 1]") == [0, 1, 0, 1]
    with pytest.raises(ValueError, match="not a list"):
        eval_label_list("__import__('os')")
    with pytest.raises(ValueError):
        eval_label_list("[0, os]")


def test_smiles_become_ogb_graphs():
    pytest.importorskip("rdkit")
    from graphkit.data.loaders.lrgb import smiles_to_data
    d = smiles_to_data("CC(=O)O", torch.tensor([1.0, 0.0]))   # acetic acid: 4 heavy atoms
    assert d.num_nodes == 4 and d.x.shape == (4, 9) and d.edge_index.size(1) == 6
    assert d.edge_attr.shape == (6, 3) and d.y.shape == (1, 2)

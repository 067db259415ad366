import pytest

from graphkit.config import ConfigError, apply_overrides, from_dict, load_config


def test_defaults_and_overrides(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("data: {name: cora}\nmodel: {name: gcn, hidden_channels: 16}\n")
    cfg = load_config(p, ["train.lr=0.005", "model.name=sage", "train.seeds=[1,2]"])
    assert cfg.name == "c" and cfg.train.lr == 0.005 and cfg.model.name == "sage"
    assert cfg.train.seeds == [1, 2] and cfg.model.hidden_channels == 16


def test_int_accepted_for_float():
    assert from_dict({"train": {"lr": 1}}).train.lr == 1.0


@pytest.mark.parametrize("raw, match", [
    ({"trian": {}}, r"unknown config key 'trian' \(did you mean 'train'\?\)"),
    ({"train": {"lrr": 0.1}}, r"unknown config key 'train.lrr'.*allowed keys in 'train'"),
    ({"train": {"lr": "fast"}}, r"'train.lr' must be float; got str \('fast'\)"),
    ({"train": {"epochs": 0}}, r"'train.epochs' must be an int >= 1; got 0"),
    ({"train": {"optimizer": "adamm"}}, r"'train.optimizer' must be one of \['adam', 'adamw', 'sgd'\]"),
    ({"train": {"seeds": []}}, r"'train.seeds' must be a non-empty list of ints"),
    ({"model": {"dropout": 1.5}}, r"'model.dropout' must be in \[0, 1\)"),
    ({"data": {"splits": "some"}}, r"'data.splits' must be 'all' or a list"),
    ({"train": {"device": "tpu"}}, r"'train.device' must be 'auto', 'cpu'"),
    ({"model": "gcn"}, r"config section 'model' must be a mapping"),
    ({"train": {"epochs": True}}, r"'train.epochs' must be int; got bool"),
])
def test_bad_config_names_key_and_value(raw, match):
    with pytest.raises(ConfigError, match=match):
        from_dict(raw)


def test_bad_override_form():
    with pytest.raises(ConfigError, match="must look like 'section.key=value'"):
        apply_overrides({}, ["train.lr"])


def test_yaml_is_parsed_safely(tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(Exception, match="could not determine a constructor|constructor"):
        load_config(p)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config("/nonexistent/x.yaml")


def test_fingerprint_ignores_epochs_not_model():
    a = from_dict({"train": {"epochs": 10}})
    b = from_dict({"train": {"epochs": 20}})
    c = from_dict({"model": {"hidden_channels": 8}})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()

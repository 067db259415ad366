import json

from graphkit.cli import main


def test_info_reports_versions_and_extensions(capsys):
    assert main(["info"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["versions"]["torch"] and set(out["extensions"]) == {"pyg_lib", "torch_scatter", "torch_sparse"}


def test_data_list_and_info(capsys):
    assert main(["data", "list"]) == 0
    listing = capsys.readouterr().out
    for name in ("cora", "proteins", "usair", "ogbg-molbace", "csbm"):
        assert name in listing
    assert main(["data", "info", "csbm"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["task"] == "node" and info["metric"] == "accuracy"


def test_data_info_unknown_name(capsys):
    assert main(["data", "info", "coraa"]) == 2
    assert "unknown dataset 'coraa'" in capsys.readouterr().err

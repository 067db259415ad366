"""Raw-file handling: missing files, never prompting, checksums, the verification cache,
downloads (exercised with file:// URLs only; no test touches the network)."""
from __future__ import annotations

import builtins
import hashlib
import io
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from graphkit.data import ChecksumError, load, storage
from graphkit.data.catalogue import resolve


@pytest.fixture
def no_stdin(monkeypatch):
    """stdin closed and input() failing the test: loaders must never try to prompt."""
    def fail(*args, **kwargs):
        raise AssertionError("graphkit tried to read stdin")
    closed = io.StringIO("")
    closed.close()
    monkeypatch.setattr(sys, "stdin", closed)
    monkeypatch.setattr(builtins, "input", fail)


def _copy(shared: Path, tmp: Path, rel: str) -> Path:
    dst = tmp / rel
    shutil.copytree(shared / rel, dst)
    dst.chmod(0o755)
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


@pytest.fixture
def own_cache(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("GRAPHKIT_CACHE", str(cache))
    return cache


class TestMissingFiles:
    def test_folder_without_expected_files(self, tmp_path, own_cache, no_stdin):
        (tmp_path / "planetoid" / "cora").mkdir(parents=True)
        (tmp_path / "planetoid" / "cora" / "ind.cora.x").write_bytes(b"")
        with pytest.raises(FileNotFoundError) as err:
            load("cora", root=tmp_path)
        msg = str(err.value)
        assert "'cora'" in msg and str(tmp_path / "planetoid" / "cora") in msg
        assert "ind.cora.graph" in msg and "GRAPHKIT_DATA" in msg and "root=" in msg
        assert str(own_cache / "downloads") in msg          # every folder searched is named

    def test_ogb_absent_never_prompts(self, tmp_path, own_cache, no_stdin):
        (tmp_path / "ogb" / "ogbg_molbace" / "raw").mkdir(parents=True)
        with pytest.raises(FileNotFoundError, match="ogbg-molbace"):
            load("ogbg-molbace", root=tmp_path)

    def test_ogb_stale_cache_folder_never_prompts(self, data_root, own_cache, no_stdin):
        # an ogb cache folder without RELEASE marker makes ogb ask (y/N); graphkit writes it
        (own_cache / "ogb" / "ogbg_molfreesolv").mkdir(parents=True)
        ds, spec = load("ogbg-molfreesolv")
        assert len(ds) == 642 and spec.metric == "rmse"

    def test_absent_dataset_with_empty_root(self, tmp_path, own_cache, no_stdin):
        with pytest.raises(FileNotFoundError, match="GRAPHKIT_OFFLINE"):
            load("usair", root=tmp_path)

    def test_no_prompt_guard_raises(self):
        with storage.no_prompt("x"), pytest.raises(RuntimeError, match="never prompts"):
            input("Will you update the dataset now? (y/N)")
        assert builtins.input is not None


class TestChecksums:
    def test_truncated_file_names_file_and_digests(self, shared_root, tmp_path, own_cache):
        src = _copy(shared_root, tmp_path, "linkpred/USAir")
        mat = src / "USAir.mat"
        good = hashlib.sha256(mat.read_bytes()).hexdigest()
        mat.write_bytes(mat.read_bytes()[:100])
        bad = hashlib.sha256(mat.read_bytes()).hexdigest()
        with pytest.raises(ChecksumError) as err:
            load("usair", root=tmp_path)
        msg = str(err.value)
        assert str(mat) in msg and good in msg and bad in msg and "truncated or corrupt" in msg

    def test_verification_is_cached_and_redone_on_change(self, shared_root, tmp_path,
                                                         own_cache, monkeypatch):
        src = _copy(shared_root, tmp_path, "linkpred/USAir")
        calls = []
        real = storage.sha256
        monkeypatch.setattr(storage, "sha256", lambda p: calls.append(p) or real(p))
        load("usair", root=tmp_path)
        assert len(calls) == 21                        # .mat + 2 x 10 split files
        load("usair", root=tmp_path)
        assert len(calls) == 21                        # cached: no re-hashing
        split = src / "splits_test0.1" / "USAir_split_3.mat"
        split.write_bytes(split.read_bytes() + b"\0")  # same path, new content
        with pytest.raises(ChecksumError, match="USAir_split_3.mat"):
            load("usair", root=tmp_path)

    def test_processed_cache_rebuilt_when_raw_changes(self, shared_root, tmp_path, own_cache):
        # a generic entry has no checksums: a changed raw file must still trigger reprocessing
        src = _copy(shared_root, tmp_path, "tu/MUTAG")
        (tmp_path / "tu" / "MYMUTAG").mkdir()
        for f in src.iterdir():
            shutil.copy(f, tmp_path / "tu" / "MYMUTAG" / f.name.replace("MUTAG", "MYMUTAG"))
        ds, _ = load("tu:MYMUTAG", root=tmp_path)
        assert len(ds) == 188
        _, by_folder = load("mymutag", root=tmp_path)      # plain name of an unlisted TU folder
        assert by_folder.name == "tu:MYMUTAG"
        labels = tmp_path / "tu" / "MYMUTAG" / "MYMUTAG_graph_labels.txt"
        flipped = [str(-int(v)) for v in labels.read_text().split()]     # swap the classes
        labels.write_text("\n".join(flipped) + "\n")
        ds2, spec = load("tu:MYMUTAG", root=tmp_path)
        assert int(ds2.y.sum()) == 188 - int(ds.y.sum()) and spec.name == "tu:MYMUTAG"


class TestDownload:
    def _entry_with_file_urls(self, shared_root, tmp_path):
        mirror = _copy(shared_root, tmp_path / "mirror", "planetoid/cora")
        entry = resolve("cora", [])
        entry = type(entry)(**{**entry.as_dict(), "source": {"files": {
            f: (mirror / f).as_uri() for f in entry.files}}})
        return entry, mirror

    def test_download_verifies_and_lands_in_cache(self, shared_root, tmp_path, own_cache,
                                                  monkeypatch):
        entry, _ = self._entry_with_file_urls(shared_root, tmp_path)
        monkeypatch.delenv("GRAPHKIT_OFFLINE")
        folder = storage.ensure_raw(entry, [tmp_path / "empty"])
        assert folder == own_cache / "downloads" / "planetoid" / "cora"
        assert sorted(p.name for p in folder.iterdir()) == sorted(entry.files)

    def test_download_with_bad_checksum_fails_cleanly(self, shared_root, tmp_path, own_cache,
                                                      monkeypatch):
        entry, mirror = self._entry_with_file_urls(shared_root, tmp_path)
        (mirror / "ind.cora.y").write_bytes(b"corrupt")
        monkeypatch.delenv("GRAPHKIT_OFFLINE")
        with pytest.raises(ChecksumError, match="ind.cora.y"):
            storage.ensure_raw(entry, [tmp_path / "empty"])
        assert not (own_cache / "downloads" / "planetoid" / "cora").exists()
        assert not (own_cache / "downloads" / "planetoid" / "cora.partial").exists()

    def test_zip_archive_download(self, shared_root, tmp_path, own_cache, monkeypatch):
        entry = resolve("mutag", [])
        zpath = tmp_path / "MUTAG.zip"
        with zipfile.ZipFile(zpath, "w") as zf:
            for f in entry.files:
                zf.write(shared_root / "tu" / "MUTAG" / f, f"MUTAG/{f}")
        entry = type(entry)(**{**entry.as_dict(), "source": {"archive": {
            "url": zpath.as_uri(), "format": "zip", "prefix": "MUTAG/"}}})
        monkeypatch.delenv("GRAPHKIT_OFFLINE")
        folder = storage.ensure_raw(entry, [tmp_path / "empty"])
        assert (folder / "MUTAG_A.txt").read_bytes() == \
            (shared_root / "tu" / "MUTAG" / "MUTAG_A.txt").read_bytes()

    def test_failed_download_is_a_file_not_found_error(self, tmp_path, own_cache, monkeypatch):
        entry = resolve("cora", [])
        entry = type(entry)(**{**entry.as_dict(), "source": {"files": {
            f: (tmp_path / "nowhere" / f).as_uri() for f in entry.files}}})
        monkeypatch.delenv("GRAPHKIT_OFFLINE")
        with pytest.raises(FileNotFoundError, match="download failed"):
            storage.ensure_raw(entry, [tmp_path / "empty"])


def test_cache_is_the_tmp_dir(own_cache):
    assert storage.cache_dir() == own_cache and own_cache.is_dir()


def test_offline_flag(monkeypatch):
    monkeypatch.setenv("GRAPHKIT_OFFLINE", "0")
    assert not storage.offline()
    monkeypatch.setenv("GRAPHKIT_OFFLINE", "1")
    assert storage.offline()
    torch.manual_seed(0)


def test_synthetic_load_writes_nothing(tmp_path, monkeypatch):
    cache = tmp_path / "never-created"
    monkeypatch.setenv("GRAPHKIT_CACHE", str(cache))
    load("csbm", num_nodes=50)
    assert not cache.exists()


class TestCacheLock:
    def test_second_holder_waits_for_the_first(self, tmp_path):
        import threading
        import time
        work, events = tmp_path / "tu" / "MUTAG", []

        def hold(name: str, pause: float) -> None:
            with storage.cache_lock(work):
                events.append(f"{name} in")
                time.sleep(pause)
                events.append(f"{name} out")

        first = threading.Thread(target=hold, args=("a", 0.3))
        first.start()
        time.sleep(0.1)
        hold("b", 0.0)
        first.join()
        assert events == ["a in", "a out", "b in", "b out"]
        assert (tmp_path / "tu" / ".MUTAG.lock").is_file()

    def test_load_stages_and_processes_under_the_lock(self, data_root, own_cache, monkeypatch):
        """load() holds the lock of the folder it processes, around staging and processing."""
        import contextlib
        held, seen = [], []
        real_stage = storage.verify_and_stage

        @contextlib.contextmanager
        def spy(work):
            held.append(work)
            yield
            held.remove(work)

        def stage(entry, src, work, **kw):
            seen.append(list(held))
            return real_stage(entry, src, work, **kw)

        monkeypatch.setattr(storage, "cache_lock", spy)
        monkeypatch.setattr(storage, "verify_and_stage", stage)
        ds, _ = load("mutag")
        assert len(ds) == 188 and seen == [[own_cache / "tu" / "MUTAG"]] and held == []

"""Fixtures for graphkit.data tests: offline, a session-wide tmp cache, the shared data root."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory) -> Path:
    """One processed-data cache for the whole session (processing happens once)."""
    return tmp_path_factory.mktemp("graphkit-cache")


@pytest.fixture(autouse=True)
def _offline_tmp_cache(monkeypatch, session_cache) -> None:
    """No test may download; processed files go to the session tmp cache, never ~/.cache."""
    monkeypatch.setenv("GRAPHKIT_OFFLINE", "1")
    monkeypatch.setenv("GRAPHKIT_CACHE", str(session_cache))
    monkeypatch.delenv("GRAPHKIT_CATALOGUE", raising=False)


@pytest.fixture(scope="session")
def shared_root() -> Path:
    """``$GRAPHKIT_DATA`` (or ``../shared/data`` beside the checkout); skip when absent."""
    root = Path(os.environ.get("GRAPHKIT_DATA") or DEFAULT_SHARED)
    if not (root / "planetoid").is_dir():
        pytest.skip(f"shared data not found at {root} (set GRAPHKIT_DATA to the folder laid out "
                    f"like shared/data; CI always has it)")
    return root


@pytest.fixture
def data_root(shared_root, monkeypatch) -> Path:
    monkeypatch.setenv("GRAPHKIT_DATA", str(shared_root))
    return shared_root

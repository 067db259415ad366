import pytest

pytest.importorskip("relbench")
pytest.importorskip("torch_frame")

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")


import runpy  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

DOCS_EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


@pytest.fixture
def example(monkeypatch):
    """example("mlp.py") -> the main() of a tutorial program in docs/examples (which import their neighbour
    _common.py, hence the path)."""
    monkeypatch.syspath_prepend(str(DOCS_EXAMPLES))
    return lambda name: runpy.run_path(str(DOCS_EXAMPLES / name), run_name="docs_example")["main"]

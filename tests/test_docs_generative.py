"""The generative tutorial: its program runs with small sizes, draws its pictures, and shows what the page says
it shows; the page's pictures exist."""
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_generative_tutorial(example, tmp_path):
    r = example("generative.py")(out_dir=tmp_path, small=True)
    # both estimators are unbiased for the gradient 2; the reparameterised one spreads far less
    assert r["pathwise_mean"] == pytest.approx(2, abs=0.1) and r["score_mean"] == pytest.approx(2, abs=0.3)
    assert r["pathwise_std"] == pytest.approx(1.0, abs=0.1) and r["score_std"] > 3 * r["pathwise_std"]
    assert r["noise_left"] < 0.01  # sqrt(abar_T): x_T holds under 1% of x_0
    found = sorted(p.name for p in tmp_path.glob("*.png"))
    assert found == ["generative_game_1d.png", "generative_noising.png", "generative_reparameterisation.png"]
    assert all((tmp_path / name).stat().st_size > 1500 for name in found)


def test_page_links_existing_files():
    text = (DOCS / "generative.md").read_text()
    assert "examples/generative.py" in text
    images = re.findall(r"!\[[^\]]*\]\((images/[^)]+)\)", text)
    assert len(images) >= 12
    for rel in images:
        assert (DOCS / rel).exists() and (DOCS / rel).stat().st_size < 400_000, rel

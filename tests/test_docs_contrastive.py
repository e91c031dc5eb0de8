"""The contrastive-learning tutorial: its program runs with small sizes and draws its pictures; the tutorial and
the efficient-attention page link files that exist."""
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_contrastive_tutorial(example, tmp_path):
    r = example("contrastive.py")(out_dir=tmp_path, small=True)
    assert r["steps"] == 4 and r["final_loss"] < r["first_loss"]
    assert 0 <= r["partner_before"] <= 1 and 0 <= r["partner_after"] <= 1 and 0 <= r["probe_accuracy"] <= 1
    found = sorted(p.name for p in tmp_path.glob("*.png"))
    assert found == ["contrastive_curves.png", "contrastive_similarity.png", "contrastive_tsne.png",
                     "contrastive_views.png"]
    assert all((tmp_path / name).stat().st_size > 1500 for name in found)


def test_pages_link_existing_files():
    for page, program in (("contrastive.md", "examples/contrastive.py"),
                          ("efficient_attention.md", "../benchmarks/bench_efficient_attention.py")):
        text = (DOCS / page).read_text()
        assert program in text and (DOCS / program).exists(), (page, program)
        images = re.findall(r"!\[[^\]]*\]\((images/[^)]+)\)", text)
        assert images, f"{page} shows no picture"
        for rel in images:
            assert (DOCS / rel).exists() and (DOCS / rel).stat().st_size < 400_000, rel

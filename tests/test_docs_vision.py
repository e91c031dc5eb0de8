"""The ResNet and the segmentation-and-detection tutorials: their programs run with small sizes, draw their
pictures, and show what the pages say they show."""
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _pictures(folder):
    found = sorted(p.name for p in Path(folder).glob("*.png"))
    assert all((Path(folder) / name).stat().st_size > 1500 for name in found)
    return found


def test_resnet_tutorial(example, tmp_path):
    r = example("resnet.py")(out_dir=tmp_path, small=True)
    assert r["layers"] == {"plain-8": 8, "resnet-8": 8, "plain-20": 20, "resnet-20": 20}
    # at initialisation the plain network's gradient grows toward the input; the residual one's stays level
    plain, res = r["block_gradients"]["plain-20"], r["block_gradients"]["resnet-20"]
    assert plain[0] / plain[-1] > 10 and res[0] / res[-1] < 10
    assert r["first_over_last"]["plain-20"] > 5 * r["first_over_last"]["resnet-20"]
    assert _pictures(tmp_path) == ["resnet_block_gradients.png", "resnet_gradient_norms.png", "resnet_training.png"]


def test_dense_tutorial(example, tmp_path):
    r = example("dense.py")(out_dir=tmp_path, small=True)
    assert 0 <= r["mean_iou"] <= 1 and len(r["iou"]) == 11 and 0 <= r["map50"] <= 1
    assert r["boxes_before_nms"] >= r["boxes_after_nms"]
    assert _pictures(tmp_path) == ["dense_after_nms.png", "dense_before_nms.png", "dense_heatmaps.png",
                                   "dense_pr_curve.png", "dense_unet.png"]


@pytest.mark.parametrize("page, program", [("resnet", "resnet.py"), ("dense", "dense.py")])
def test_pages_link_existing_files(page, program):
    text = (DOCS / f"{page}.md").read_text()
    assert f"examples/{program}" in text
    images = re.findall(r"!\[[^\]]*\]\((images/[^)]+)\)", text)
    assert images, f"{page}.md shows no picture"
    for rel in images:
        assert (DOCS / rel).exists() and (DOCS / rel).stat().st_size < 400_000, rel

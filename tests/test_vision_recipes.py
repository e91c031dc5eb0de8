"""The vision recipes of ResNet, U-Net and the detectors, each trained briefly on the embedded MNIST sample: a
number an untrained model does not reach, and the run's pictures and summary entries."""
import json

import numpy as np
import pytest

import glassnet as gn

from glassnet.recipes import get
from glassnet.recipes.detect_digits import DetectConfig
from glassnet.recipes.detr_digits import DETRConfig
from glassnet.recipes.resnet_degradation import DegradationConfig
from glassnet.recipes.resnet_mnist import ResNetMNISTConfig
from glassnet.recipes.unet_segment import SegmentConfig


def _summary(run_dir):
    return json.loads((run_dir / "summary.json").read_text())


def test_resnet_mnist_learns_digits(tmp_path):
    config = ResNetMNISTConfig(sample=True, limit=2000, epochs=1, depth=8, width=8, batch_size=32, lr=1e-2,
                               augment=False, pictures=False)
    summary = get("resnet-mnist").run(config, tmp_path / "run")
    assert summary["test_accuracy"] >= 0.5, summary  # an untrained network: about 0.1 (this run: 0.66)


def test_resnet_degradation_compares_four_networks(tmp_path):
    config = DegradationConfig(sample=True, iters=40, eval_every=40, shallow=8, deep=14, width=8, lr=0.05, warmup=5,
                               test_limit=300)
    summary = get("resnet-degradation").run(config, tmp_path / "run")
    names = ["plain8", "resnet8", "plain14", "resnet14"]
    assert list(summary["final_train_loss"]) == names
    for name in names:
        assert summary[f"test_accuracy_{name}"] >= 0.25, (name, summary)  # untrained: about 0.1 (this run: 0.32-0.57)
        first, last = summary["init_grad_norm_first_last"][name]
        assert first > 0 and last > 0
    for path in summary["plots"]:
        assert (tmp_path / "run" / "plots" / path.rsplit("/", 1)[1]).stat().st_size > 0


def test_resnet_degradation_pairs_start_from_the_same_weights(tmp_path):
    from glassnet.recipes.resnet_degradation import _networks

    nets = _networks(DegradationConfig(shallow=8, deep=14, width=4))
    for depth in (8, 14):
        plain, res = nets[f"plain{depth}"].state_dict(), nets[f"resnet{depth}"].state_dict()
        assert all((plain[k].array == res[k].array).all() for k in plain)
    assert not (nets["plain8"].conv1.weight.array == nets["plain14"].conv1.weight.array).all()


def test_resnet_degradation_zero_init_starts_only_the_residual_blocks_as_identities():
    from glassnet.recipes.resnet_degradation import _networks

    nets = _networks(DegradationConfig(shallow=8, deep=14, width=4, zero_init_residual=True))
    for depth in (8, 14):
        plain, res = nets[f"plain{depth}"].state_dict(), nets[f"resnet{depth}"].state_dict()
        last_norms = [k for k in plain if k.endswith("bn2.weight")]
        assert len(last_norms) == 3 * ((depth - 2) // 6)
        assert all((res[k].array == 0).all() and (plain[k].array == 1).all() for k in last_norms)
        assert all((plain[k].array == res[k].array).all() for k in plain if k not in last_norms)


def test_unet_segment_learns_the_digits_pixels(tmp_path):
    config = SegmentConfig(sample=True, train_canvases=256, test_canvases=32, epochs=2, width=8, levels=2,
                           batch_size=8, lr=5e-3)
    summary = get("unet-segment").run(config, tmp_path / "run")
    # where the digits are comes first (which digit takes longer): an untrained network scores about 0.06
    assert summary["test_foreground_iou"] >= 0.5, summary
    assert len(summary["test_iou_per_class"]) == 11
    assert (tmp_path / "run" / "plots" / "segmentation.png").stat().st_size > 0


def test_detect_digits_finds_digits(tmp_path):
    config = DetectConfig(sample=True, train_canvases=384, test_canvases=64, epochs=3, width=8, batch_size=16,
                          lr=5e-3)
    summary = get("detect-digits").run(config, tmp_path / "run")
    assert summary["test_map50"] >= 0.1, summary  # an untrained detector: about 0 (this run: 0.18)
    assert (tmp_path / "run" / "plots" / "detections.png").stat().st_size > 0


def test_detr_digits_set_loss_falls(tmp_path):
    """DETR learns too slowly for an mAP in seconds: its set loss must fall well below an untrained one's."""
    config = DETRConfig(sample=True, train_canvases=256, test_canvases=32, epochs=3, width=4, d_model=16, layers=1,
                        batch_size=16, lr=3e-3, pictures=False)
    gn.manual_seed(config.seed)
    untrained = get("detr-digits").build(config)
    first = np.mean([untrained.loss(untrained.model, untrained.batches.next()).item() for _ in range(4)])
    summary = get("detr-digits").run(config, tmp_path / "run")
    assert summary["train_loss"] < 0.8 * first, (first, summary)
    assert 0 <= summary["test_map50"] <= 1


@pytest.mark.parametrize("name", ["resnet-mnist", "resnet-degradation", "unet-segment", "detect-digits",
                                  "detr-digits"])
def test_bad_values_are_refused_by_flag(name, tmp_path):
    recipe = get(name)
    field = "depth" if name == "resnet-mnist" else "shallow" if name == "resnet-degradation" else "batch_size"
    bad = {"depth": 9, "shallow": 10, "batch_size": 0}[field]
    with pytest.raises(ValueError, match=f"--{field.replace('_', '-')}: must be"):
        recipe.run(recipe.config(**{field: bad}), tmp_path / "run")

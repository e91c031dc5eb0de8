"""transfer-mnist: the splits (nothing of 5-9 in pretraining; ten labelled images a digit, from the training split),
what each method trains and freezes, and that a briefly pretrained network transfers: on the embedded MNIST sample,
its whole-network fine-tune beats the same network trained from scratch on the same 50 images."""
import copy
import re
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.nn import functional as F
from glassnet.random import Generator
from glassnet.recipes import get
from glassnet.recipes.mnist import load_split
from glassnet.recipes.transfer_mnist import (NEW_DIGITS, PRETRAIN_DIGITS, TransferConfig, build, digits,
                                             few_shot_indices, head_only, linear_probe, resnet, whole_network)

TINY = dict(sample=True, width=8, batch_size=64, lr=1e-2, epochs=2, finetune_steps=40, seeds=2, test_limit=1000)


def test_pretraining_sees_only_the_digits_0_to_4():
    config = TransferConfig(sample=True)
    exp = build(config)
    images, labels = exp.batches.loader.dataset.tensors
    all_images, all_labels = load_split(config, True)
    assert set(np.unique(labels.array)) == set(range(len(PRETRAIN_DIGITS)))
    assert len(labels) == int(np.isin(all_labels.array, PRETRAIN_DIGITS).sum()) == 2500
    np.testing.assert_array_equal(images.array, all_images.array[all_labels.array < 5])
    assert exp.model.fc.out_features == 5


def test_digits_relabels_from_the_first_wanted_digit():
    x = gn.tensor(np.arange(6, dtype=np.float32)[:, None])
    y = gn.tensor(np.array([9, 4, 5, 7, 0, 5]))
    xs, ys = digits(x, y, NEW_DIGITS)
    assert xs.array[:, 0].tolist() == [0, 2, 3, 5] and ys.array.tolist() == [4, 0, 2, 0]


def test_the_labelled_images_are_ten_a_digit_from_the_training_split():
    config = TransferConfig(sample=True)
    train_x, train_y = load_split(config, True)
    test_x, _ = load_split(config, False)
    index = few_shot_indices(train_y.array, NEW_DIGITS, 10, Generator(1000))
    assert len(index) == 50 and len(set(index.tolist())) == 50
    assert np.bincount(train_y.array[index], minlength=10).tolist() == [0] * 5 + [10] * 5
    np.testing.assert_array_equal(index, few_shot_indices(train_y.array, NEW_DIGITS, 10, Generator(1000)))
    assert set(index.tolist()) != set(few_shot_indices(train_y.array, NEW_DIGITS, 10, Generator(2000)).tolist())
    test_images = {image.tobytes() for image in test_x.array}
    assert not any(image.tobytes() in test_images for image in train_x.array[index])  # none is a test image
    with pytest.raises(ValueError, match="--shots 600 needs 600 training images of the digit 5"):
        few_shot_indices(train_y.array, NEW_DIGITS, 600, Generator(0))


def _labelled(config, seed=1000):
    train_x, train_y = load_split(config, True)
    index = few_shot_indices(train_y.array, NEW_DIGITS, config.shots, Generator(seed))
    return gn.tensor(train_x.array[index]), gn.tensor(train_y.array[index] - 5)


def test_head_only_freezes_below_the_head_and_whole_network_trains_everything():
    config = TransferConfig(sample=True, width=4, finetune_steps=3, augment=False)
    gn.manual_seed(0)
    pretrained = resnet(config)
    before = copy.deepcopy(pretrained.state_dict())
    x, y = _labelled(config)
    head = head_only(pretrained, x, y, config)
    frozen = {k: v for k, v in before.items() if k.split(".")[0] in ("conv1", "bn1", "layer1", "layer2")}
    head_state = {k.replace(".module", ""): v for k, v in head.state_dict().items()}
    for k, v in frozen.items():  # weights and batch-norm statistics as pretrained
        np.testing.assert_array_equal(head_state[k].array, v.array, err_msg=k)
    assert not np.array_equal(head_state["layer3.0.conv1.weight"].array, before["layer3.0.conv1.weight"].array)
    assert head.fc.out_features == 5
    whole = whole_network(head, x, y, config)
    assert not np.array_equal(whole.conv1.weight.array, before["conv1.weight"].array)
    assert not np.array_equal(whole.bn1.running_mean.array, before["bn1.running_mean"].array)
    for k, v in pretrained.state_dict().items():  # the pretrained network itself is left as it was
        np.testing.assert_array_equal(v.array, before[k].array, err_msg=k)


def test_linear_probe_is_fitted_to_convergence_on_frozen_features():
    config = TransferConfig(sample=True, width=4)
    gn.manual_seed(0)
    pretrained = resnet(config)
    x, y = _labelled(config)
    features, probe = linear_probe(pretrained, x, y, config)
    assert not any(p.requires_grad for p in features.parameters())
    features.train()  # as the loop would: the frozen features stay in eval mode (batch norm's running statistics)
    assert not any(m.training for m in features.module.modules())
    with gn.no_grad():
        f = features(x)
    assert f.shape == (50, 16)  # pooled features of the last stage (4 * width)
    loss = F.cross_entropy(probe(f), y) + config.probe_l2 / 2 * (probe.weight ** 2).sum()
    loss.backward()
    assert np.abs(probe.weight.grad.array).max() < 1e-5 and np.abs(probe.bias.grad.array).max() < 1e-5


def test_transfer_beats_training_from_scratch(tmp_path):
    summary = get("transfer-mnist").run(TransferConfig(**TINY), tmp_path / "run")
    assert summary["test_accuracy"] > 0.9  # pretraining on 0-4 worked (this run: 0.968)
    runs = summary["accuracy_per_seed"]
    assert list(runs) == ["linear_probe", "head_only", "whole_network", "from_scratch"]
    assert summary["transfer_test_images"] == 500  # every test image of 5-9 among the first 1,000
    # both seeds, by a clear margin (this run: whole network 0.868, 0.904; from scratch 0.716, 0.746)
    assert all(w > s + 0.05 for w, s in zip(runs["whole_network"], runs["from_scratch"])), runs
    assert summary["whole_network_accuracy"] > summary["from_scratch_accuracy"] + 0.08, runs
    for method, values in runs.items():
        assert summary[f"{method}_accuracy"] == pytest.approx(np.mean(values))
        assert summary[f"{method}_accuracy_std"] == pytest.approx(np.std(values, ddof=1))
    assert [p.rsplit("/", 1)[1] for p in summary["plots"]] == ["curves.png", "transfer.png"]
    assert (tmp_path / "run" / "plots" / "transfer.png").stat().st_size > 5000


# ---- the tutorial page and its program (docs/transfer.md, docs/examples/transfer.py) ---------------------------
DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_tutorial_program_probes_each_depth_and_sweeps_the_learning_rate(example, tmp_path):
    r = example("transfer.py")(out_dir=tmp_path, small=True)
    assert list(r["probe_by_depth"]) == [f"layer{s}\n{w}" for s in (1, 2, 3) for w in ("untrained", "pretrained")]
    accuracies = [a for runs in r["probe_by_depth"].values() for a in runs] + r["sweep"]["head_only"]
    assert all(0 <= a <= 1 for a in accuracies)
    moved = r["sweep"]["moved"]
    assert 0 < moved[0.1][0] < moved[1.0][0]  # a larger learning rate carries the weights further
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["transfer_learning_rate.png",
                                                              "transfer_probe_depth.png"]


def test_tutorial_page_links_its_program_and_pictures():
    text = (DOCS / "transfer.md").read_text()
    assert "examples/transfer.py" in text and "glassnet train transfer-mnist" in text
    images = re.findall(r"!\[[^\]]*\]\((images/[^)]+)\)", text)
    assert len(images) == 3
    for rel in images:
        assert (DOCS / rel).exists() and (DOCS / rel).stat().st_size < 400_000, rel

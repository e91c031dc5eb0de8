"""MultiDigitCanvas: deterministic canvases, masks and boxes that agree, and digits that come only from
their own MNIST split."""
import numpy as np
import pytest

from glassnet import transforms as T
from glassnet.datasets import MultiDigitCanvas, canvas as canvas_module
from glassnet.datasets.canvas import resize_bilinear
from glassnet.utils.data import DataLoader


@pytest.fixture(scope="module")
def sample_canvases():
    return {train: MultiDigitCanvas(train=train, num_canvases=60, sample=True, seed=3) for train in (True, False)}


def test_same_seed_same_canvases_and_each_canvas_its_own_stream(sample_canvases):
    a = sample_canvases[True]
    b = MultiDigitCanvas(train=True, num_canvases=20, sample=True, seed=3)  # fewer canvases: the same first 20
    for name in ("images", "masks", "boxes", "labels", "sources"):
        np.testing.assert_array_equal(getattr(a, name)[:20], getattr(b, name))
    c = MultiDigitCanvas(train=True, num_canvases=20, sample=True, seed=4)
    assert not np.array_equal(a.images[:20], c.images)


def test_masks_boxes_and_labels_agree(sample_canvases):
    for data in sample_canvases.values():
        assert set(np.unique(data.counts)) <= {1, 2, 3, 4} and len(np.unique(data.counts)) >= 3
        for i in range(len(data)):
            boxes, labels = data.targets_of(i)
            k = data.counts[i]
            assert np.all(data.labels[i, k:] == -1) and np.all(data.boxes[i, k:] == 0) and np.all(labels >= 0)
            assert np.all((boxes[:, :2] >= 0) & (boxes[:, 2:] <= 64) & (boxes[:, 2:] > boxes[:, :2]))
            inside = np.zeros((64, 64), bool)  # every digit pixel of the mask lies in a box of its digit
            for (x1, y1, x2, y2), label in zip(boxes.astype(int), labels):
                assert np.any(data.masks[i, y1:y2, x1:x2] == label + 1)
                inside[y1:y2, x1:x2] |= data.masks[i, y1:y2, x1:x2] == label + 1
            assert np.array_equal(inside, data.masks[i] > 0)
            assert np.all(data.images[i][data.masks[i] > 0] >= 128) and data.masks[i].max() <= 10


def test_each_digit_is_the_recorded_digit_of_its_own_split(sample_canvases):
    """Re-render every pasted digit from the MNIST split of its canvases at the recorded index: it is on
    the canvas (the canvas is at least as bright everywhere in its window, and equal on the digit's own
    mask pixels, but for a few where a neighbour is brighter)."""
    from glassnet.datasets import MNIST
    for train, data in sample_canvases.items():
        source = MNIST(train=train, sample=True).data.array
        for i in range(len(data)):
            for (x1, y1, x2, y2), label, src in zip(*data.targets_of(i), data.sources[i]):
                assert data._digit_labels[src] == label
                mine = data.masks[i] == label + 1
                for side in range(18, 35):  # its size and place are not recorded: find them
                    digit = resize_bilinear(source[src], side)
                    if _found(data.images[i], digit, mine, (x1, y1, x2, y2)):
                        break
                else:
                    raise AssertionError(f"canvas {i}: digit {label} (MNIST index {src}) is not on the canvas")


def _found(image, digit, mine, box):
    ink = np.argwhere(digit >= 128)
    y, x = int(box[1]) - ink[:, 0].min(), int(box[0]) - ink[:, 1].min()
    side, digit = len(digit), np.rint(digit)
    if y < 0 or x < 0 or y + side > image.shape[0] or x + side > image.shape[1]:
        return False
    window = image[y:y + side, x:x + side].astype(float)
    own = mine[y:y + side, x:x + side] & (digit >= 128)
    return bool(np.all(window >= digit) and np.mean(window[own] == digit[own]) >= 0.9)


def test_training_canvases_use_only_training_digits(monkeypatch):
    """A stand-in MNIST whose training digits are squares of intensity 200 and test digits of 150: the
    training canvases hold 200 and never 150, the test canvases the reverse."""
    class FakeMNIST:
        def __init__(self, root=None, train=True, download=True, sample=False):
            import glassnet as gn
            images = np.zeros((50, 28, 28), np.uint8)
            images[:, 6:22, 6:22] = 200 if train else 150
            self.data, self.targets = gn.tensor(images), gn.tensor(np.arange(50) % 10)

    monkeypatch.setattr(canvas_module, "MNIST", FakeMNIST)
    for train, own, other in ((True, 200, 150), (False, 150, 200)):
        images = MultiDigitCanvas(train=train, num_canvases=40, seed=1).images
        values = set(np.unique(images).tolist())
        assert own in values and other not in values and max(values) == own


def test_batches_through_a_dataloader(sample_canvases):
    data = MultiDigitCanvas(train=False, num_canvases=10, sample=True, transform=T.ToTensor())
    images, target = next(iter(DataLoader(data, batch_size=4)))
    assert images.shape == (4, 1, 64, 64) and str(images.dtype) == "float32" and float(images.max()) <= 1
    assert target["mask"].shape == (4, 64, 64) and target["boxes"].shape == (4, 4, 4)
    assert target["labels"].shape == (4, 4)
    np.testing.assert_array_equal(target["labels"].array, data.labels[:4])
    image, single = data[1]
    assert image.shape == (1, 64, 64) and single["mask"].shape == (64, 64)


def test_overlap_stays_small(sample_canvases):
    for data in sample_canvases.values():
        for i in range(len(data)):
            boxes = data.targets_of(i)[0]
            for j in range(1, len(boxes)):
                assert canvas_module._overlap(boxes[j], list(boxes[:j])) <= data.max_overlap


def test_resize_bilinear_keeps_constants_and_averages():
    np.testing.assert_allclose(resize_bilinear(np.full((28, 28), 7, np.uint8), 40), 7, rtol=1e-6)
    np.testing.assert_allclose(resize_bilinear(np.array([[0, 0], [4, 4]], np.uint8), 1), [[2.0]])
    ramp = np.tile(np.arange(4, dtype=np.uint8), (4, 1))  # 0 1 2 3 -> 2 pixels at 0.5 and 2.5
    np.testing.assert_allclose(resize_bilinear(ramp, 2)[0], [0.5, 2.5])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="MultiDigitCanvas: .*digits=\\(3, 2\\)"):
        MultiDigitCanvas(digits=(3, 2), sample=True)
    with pytest.raises(ValueError, match="MultiDigitCanvas: .*digit_size=\\(18, 80\\)"):
        MultiDigitCanvas(digit_size=(18, 80), sample=True)

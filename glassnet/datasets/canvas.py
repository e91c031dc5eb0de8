"""Canvases of a few MNIST digits, for segmentation and detection.

    from glassnet.datasets import MultiDigitCanvas
    train = MultiDigitCanvas(train=True, num_canvases=20000)   # only MNIST training digits
    test = MultiDigitCanvas(train=False, num_canvases=2000)    # only MNIST test digits
    image, target = test[0]   # uint8 (64, 64); {"mask", "boxes", "labels"}

Each canvas is black, size x size pixels, with 1 to 4 digits pasted at random positions and sizes (a
digit's 28x28 MNIST image resized, bilinearly, to a side drawn from `digit_size`), brighter pixel winning
where two touch. Canvas i of a split is drawn from its own random stream, seeded by (seed, split, i),
so it is the same whatever else is generated, on any machine.

Targets, per canvas:
    mask    int64 (size, size): the class of each pixel, 0 for background and 1 + d for a pixel of
            digit d (a pixel is a digit's where its resized intensity is at least half of full scale)
    boxes   float32 (max_digits, 4): (x1, y1, x2, y2) of each digit's mask pixels in pixel coordinates
            (x2, y2 one past the last column and row), rows past the canvas's digit count are zero
    labels  int64 (max_digits,): the digits 0-9, -1 past the digit count
Digits are placed so that their boxes overlap little (at most `max_overlap` of the smaller box); when no
such place is found in 100 tries a canvas keeps the digits it has.
"""
import numpy as np

from ..tensor import Tensor
from ..utils.data import Dataset
from .mnist import MNIST

__all__ = ["MultiDigitCanvas", "NUM_CANVAS_CLASSES"]

NUM_CANVAS_CLASSES = 11  # background + 10 digits
_INK = 128  # a pixel belongs to a digit where its intensity is at least this (of 255)
_TRIES = 100


def resize_bilinear(image, size):
    """(h, w) array -> float32 (size, size), bilinear, pixel centres aligned (align_corners=False)."""
    h, w = image.shape

    def taps(n_in):
        pos = np.clip((np.arange(size) + 0.5) * n_in / size - 0.5, 0, n_in - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, (pos - lo).astype(np.float32)

    (r0, r1, fr), (c0, c1, fc) = taps(h), taps(w)
    img = image.astype(np.float32)
    rows = img[r0] * (1 - fr)[:, None] + img[r1] * fr[:, None]  # (size, w)
    return rows[:, c0] * (1 - fc) + rows[:, c1] * fc  # (size, size)


def _overlap(box, boxes):
    """Largest intersection of `box` with any of `boxes`, as a fraction of the smaller of the two areas."""
    if not boxes:
        return 0.0
    b = np.asarray(boxes, np.float64)
    w = np.clip(np.minimum(box[2], b[:, 2]) - np.maximum(box[0], b[:, 0]), 0, None)
    h = np.clip(np.minimum(box[3], b[:, 3]) - np.maximum(box[1], b[:, 1]), 0, None)
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
    return float((w * h / np.minimum(area(np.asarray(box, np.float64)), area(b))).max())


def _ink_box(ink, x, y):
    """(x1, y1, x2, y2) of the True pixels of `ink`, whose top-left corner is at (x, y) on the canvas."""
    rows, cols = np.nonzero(ink.any(1))[0], np.nonzero(ink.any(0))[0]
    return (x + cols[0], y + rows[0], x + cols[-1] + 1, y + rows[-1] + 1)


class MultiDigitCanvas(Dataset):
    """Canvases of 1 to 4 MNIST digits with per-pixel class masks and boxes (see the module docstring).

    train: draw digits from the MNIST training set (True) or the test set (False), never the other.
    num_canvases: how many canvases; size: their side in pixels; digits: (fewest, most) per canvas;
    digit_size: (smallest, largest) side of a pasted digit; max_overlap: how much two digits' boxes may
    overlap, as a fraction of the smaller box; seed: the canvases drawn.
    root, download, sample: where the MNIST digits come from, as for `MNIST` (sample=True: the digits
    embedded in glassnet). transform: applied to the image (a batchable one to whole batches).

    Attributes: `images` uint8 (N, size, size), `masks` int64 (N, size, size), `boxes` float32
    (N, max_digits, 4), `labels` int64 (N, max_digits), `counts` (N,), and `sources` int64
    (N, max_digits), the index in the MNIST split of each pasted digit (-1 past the count).
    """

    classes = ["background"] + [str(d) for d in range(10)]

    def __init__(self, train=True, num_canvases=10000, size=64, digits=(1, 4), digit_size=(18, 34),
                 max_overlap=0.15, seed=0, root=None, download=True, sample=False, transform=None):
        lo, hi = digits
        if not (1 <= lo <= hi) or not (8 <= digit_size[0] <= digit_size[1] <= size) or num_canvases < 1:
            raise ValueError(f"MultiDigitCanvas: need num_canvases >= 1, 1 <= digits[0] <= digits[1] and "
                             f"8 <= digit_size[0] <= digit_size[1] <= size; got num_canvases={num_canvases}, "
                             f"digits={digits}, digit_size={digit_size}, size={size}")
        self.train, self.size, self.seed, self.transform = bool(train), size, seed, transform
        self.digits, self.digit_size, self.max_overlap = (lo, hi), tuple(digit_size), max_overlap
        source = MNIST(root, train=self.train, download=download, sample=sample)
        self._digits, self._digit_labels = source.data.array, source.targets.array
        n = num_canvases
        self.images = np.zeros((n, size, size), np.uint8)
        self.masks = np.zeros((n, size, size), np.int64)
        self.boxes = np.zeros((n, hi, 4), np.float32)
        self.labels = np.full((n, hi), -1, np.int64)
        self.sources = np.full((n, hi), -1, np.int64)
        self.counts = np.zeros(n, np.int64)
        for i in range(n):
            self._draw(i)

    def _draw(self, i):
        """Render canvas i from its own random stream."""
        rng = np.random.default_rng((self.seed, int(self.train), i))
        canvas = np.zeros((self.size, self.size), np.float32)
        placed = []
        for _ in range(rng.integers(self.digits[0], self.digits[1] + 1)):
            src = int(rng.integers(len(self._digits)))
            side = int(rng.integers(self.digit_size[0], self.digit_size[1] + 1))
            digit = resize_bilinear(self._digits[src], side)
            ink = digit >= _INK
            if not ink.any():
                continue
            for _ in range(_TRIES):
                x, y = (int(v) for v in rng.integers(0, self.size - side + 1, size=2))
                box = _ink_box(ink, x, y)
                if _overlap(box, placed) <= self.max_overlap:
                    break
            else:
                break
            window = (slice(y, y + side), slice(x, x + side))
            wins = ink & (digit > canvas[window])  # where this digit is the brightest
            self.masks[i][window][wins] = 1 + self._digit_labels[src]
            canvas[window] = np.maximum(canvas[window], digit)
            k = len(placed)
            self.boxes[i, k], self.labels[i, k], self.sources[i, k] = box, self._digit_labels[src], src
            placed.append(box)
        self.counts[i] = len(placed)
        self.images[i] = np.rint(canvas).astype(np.uint8)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        image = self.images[index].copy()
        if self.transform is not None:
            image = self.transform(image)
        return image, {"mask": self.masks[index].copy(), "boxes": self.boxes[index].copy(),
                       "labels": self.labels[index].copy()}

    def __getbatch__(self, indices):
        """[images, {"mask", "boxes", "labels"}] for an index array, by fancy indexing."""
        idx = np.asarray(indices, dtype=np.int64)
        images = MNIST._batch(self.images[idx], self.transform)
        targets = {"mask": Tensor._make(self.masks[idx]), "boxes": Tensor._make(self.boxes[idx]),
                   "labels": Tensor._make(self.labels[idx])}
        return [images, targets]

    def targets_of(self, index):
        """The boxes (k, 4) and labels (k,) of canvas `index`, without the padding rows."""
        k = self.counts[index]
        return self.boxes[index, :k], self.labels[index, :k]

    def __repr__(self):
        return (f"Dataset {type(self).__name__}\n    Number of canvases: {len(self)} ({self.size}x{self.size}, "
                f"{self.digits[0]}-{self.digits[1]} digits)\n    Digits from: MNIST "
                f"{'training' if self.train else 'test'} set")

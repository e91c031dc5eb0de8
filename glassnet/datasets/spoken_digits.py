"""Spoken digit sequences: 3,000 training and 600 test utterances of one to five English digit words
("three one four"), 8 kHz 16-bit mono, spoken by a speech synthesizer with random voices; the test set
uses voices never heard in training.

    from glassnet.datasets import SpokenDigits
    train = SpokenDigits(train=True)      # root, $GLASSNET_DATA/spoken-digits/, then the cache
    waveform, digits = train[0]           # float32 (T,) in [-1, 1], int64 (L,) digits 0-9

Each split is one archive of plain arrays (`train.npz`, `test.npz`): all utterances concatenated in
`audio` with `offsets` (n + 1) saying where each starts, and the digits likewise in `labels` with
`label_offsets`. Files are found like MNIST's (see glassnet.datasets.paths) and checked against their
SHA-256.
"""
import numpy as np

from ..utils.data import Dataset
from .npz import find_file, load_verified_npz

__all__ = ["SpokenDigits"]

SHA256 = {"train.npz": "0669438560fb3218ac1ed656d6ea2be919b373d1d6a534b0b11869dddbd4380a",
          "test.npz": "3bf73bc806cbe8bd238ca586d84b3405eee2209e4ef9cd92bab4908291bbaf4e"}
_ARRAYS = ("audio", "offsets", "labels", "label_offsets")


class SpokenDigits(Dataset):
    """Utterances of digit sequences; a sample is (waveform, digits).

    root: a folder to look in first (for train.npz / test.npz, directly or in `spoken-digits/`).
    train: the 3,000 training utterances (True) or the 600 test utterances (False).
    transform: applied to each float32 waveform (for example a log-mel spectrogram).

    Attributes: `sample_rate` 8000, `audio` (int16, all utterances), `offsets`, `labels`,
    `label_offsets` (the arrays of the archive), `path`.
    """

    subdirs = ("spoken-digits", "spoken_digits")
    sample_rate = 8000
    num_classes = 10

    def __init__(self, root=None, train=True, transform=None):
        filename = "train.npz" if train else "test.npz"
        self.train, self.transform = train, transform
        self.path = find_file("SpokenDigits", filename, self.subdirs, root,
                              "The archives hold the arrays audio, offsets, labels and label_offsets.")
        arrays = load_verified_npz("SpokenDigits", self.path, SHA256[filename], _ARRAYS)
        self.audio, self.offsets = arrays["audio"], arrays["offsets"]
        self.labels, self.label_offsets = arrays["labels"], arrays["label_offsets"]

    def __len__(self):
        return len(self.offsets) - 1

    def waveform(self, index):
        """Utterance `index` as float32 samples in [-1, 1)."""
        return self.audio[self.offsets[index]:self.offsets[index + 1]].astype(np.float32) / 32768.0

    def digits(self, index):
        """The digits spoken in utterance `index`, int64 (L,)."""
        return self.labels[self.label_offsets[index]:self.label_offsets[index + 1]]

    def __getitem__(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"SpokenDigits: index {index} is out of range for {len(self)} utterances")
        index %= len(self)
        wave = self.waveform(index)
        return (self.transform(wave) if self.transform is not None else wave), self.digits(index)

    def __repr__(self):
        seconds = len(self.audio) / self.sample_rate
        return (f"Dataset SpokenDigits\n    Utterances: {len(self)} ({seconds / 3600:.2f} h at {self.sample_rate} Hz), "
                f"split: {'train' if self.train else 'test'}\n    Location: {self.path}")

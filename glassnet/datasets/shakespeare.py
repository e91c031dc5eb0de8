"""Tiny Shakespeare: about 40,000 lines of Shakespeare's plays in one 1,115,394-byte text file
(karpathy's char-rnn `input.txt`), the usual corpus for small character-level language models.

    from glassnet.datasets import TinyShakespeare
    train, val = TinyShakespeare(split="train"), TinyShakespeare(split="val")
    tok = train.char_tokenizer()           # the 65 characters of the whole text
    data = train.encode(tok)               # int64 array, one id per character

The file is found like MNIST's (see `glassnet.datasets.paths`): the `root` argument (the file directly
in it or in `tinyshakespeare/`), then $GLASSNET_DATA/tinyshakespeare/, then the cache
(~/.cache/glassnet/tinyshakespeare/ or under $GLASSNET_CACHE), and finally, with `download=True`, the
public char-rnn URL, the download being checked against the known SHA-256 and written atomically into
the cache. Files found on disk are checked against the same SHA-256.
"""
import http.client
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

from ..tensor import Tensor
from ..text import CharTokenizer
from . import paths
from .idx import ChecksumError, sha256

__all__ = ["TinyShakespeare"]

URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
NUM_BYTES = 1115394
_MAX_DOWNLOAD = 4 * 1024 * 1024


def _urlopen(url, timeout):
    """Open `url` (replaced by a fake in tests, which must never reach the network)."""
    return urllib.request.urlopen(url, timeout=timeout)


def _write_atomic(path, data):
    """Write bytes to `path` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class TinyShakespeare:
    """The tiny Shakespeare text, split by characters: the first 90% for training, the last 10% for
    validation (1,003,854 and 111,540 characters).

    root: a folder to look in first (for `input.txt` or `tinyshakespeare.txt`, directly or in
        `tinyshakespeare/`).
    split: "train", "val" or "all".
    download: fetch the file from the public URL into the cache when it is found nowhere.

    Attributes: `text` (the split's text, a str), `full_text` (the whole file), `split`, `path` (the
    file used). `len()` is the number of characters of the split.
    """

    filenames = ("input.txt", "tinyshakespeare.txt")
    subdirs = ("tinyshakespeare", "tiny_shakespeare")
    cache_subdir = "tinyshakespeare"
    url = URL
    sha256 = SHA256
    train_fraction = 0.9
    download_timeout = 60

    def __init__(self, root=None, split="train", download=True):
        if split not in ("train", "val", "all"):
            raise ValueError(f"TinyShakespeare: split must be 'train', 'val' or 'all', got {split!r}")
        self.root = root
        self.split = split
        self.path = self._find_or_download(download)
        raw = self.path.read_bytes()
        self._check(raw, self.path)
        self.full_text = raw.decode("utf-8")
        n_train = int(len(self.full_text) * self.train_fraction)
        self.text = {"train": self.full_text[:n_train], "val": self.full_text[n_train:],
                     "all": self.full_text}[split]

    def __len__(self):
        return len(self.text)

    # ---- turning the text into ids ---------------------------------------------------------------
    def char_tokenizer(self):
        """A CharTokenizer over the characters of the WHOLE text (65 of them), so that every split
        uses the same ids."""
        return CharTokenizer(self.full_text)

    def encode(self, tokenizer=None):
        """The split's text as an int64 NumPy array of token ids (`tokenizer` defaults to
        `char_tokenizer()`; any object with `encode(str) -> list[int]` works)."""
        tokenizer = self.char_tokenizer() if tokenizer is None else tokenizer
        if hasattr(tokenizer, "encode_array"):
            return np.asarray(tokenizer.encode_array(self.text), dtype=np.int64)
        return np.asarray(tokenizer.encode(self.text), dtype=np.int64)

    def tensor(self, tokenizer=None):
        """`encode(tokenizer)` as an int64 Tensor."""
        return Tensor._make(self.encode(tokenizer))

    # ---- files ------------------------------------------------------------------------------------
    def _check(self, raw, where):
        digest = sha256(raw)
        if digest != type(self).sha256:
            raise ChecksumError(f"TinyShakespeare: {where} has SHA-256 {digest} ({len(raw)} bytes), expected "
                                f"{type(self).sha256} ({NUM_BYTES} bytes): not the tiny Shakespeare file, or a "
                                f"damaged copy")

    def _find_or_download(self, download):
        cls = type(self)
        candidates = paths.candidate_dirs(self.root, cls.subdirs, bare_in_root=True, bare_in_env=False)
        for folder, _ in candidates:
            for name in cls.filenames:
                if (Path(folder) / name).is_file():
                    return Path(folder) / name
        problem = "\nDownloading is off (download=False)."
        if download:
            target = paths.cache_dir() / cls.cache_subdir / cls.filenames[0]
            try:
                self._download(target)
                return target
            except (OSError, http.client.HTTPException, ValueError) as e:
                problem = f"\nDownload failed: {cls.url}: {e}"
        looked = "\n".join(f"  {folder}  ({origin})" for folder, origin in candidates)
        raise FileNotFoundError(
            f"TinyShakespeare: could not find {' or '.join(cls.filenames)}. Looked in:\n{looked}{problem}\n"
            f"To provide it, download {cls.url} ({NUM_BYTES} bytes) and put it as input.txt into one of the folders "
            f"above, for example a folder given as root=..., or set ${paths.DATA_ENV} to a folder that contains "
            f"{cls.subdirs[0]}/input.txt, or allow download=True with network access.")

    def _download(self, target):
        with _urlopen(type(self).url, timeout=self.download_timeout) as resp:
            raw = resp.read(_MAX_DOWNLOAD + 1)
        if len(raw) > _MAX_DOWNLOAD:
            raise ValueError(f"more than {_MAX_DOWNLOAD} bytes, not the tiny Shakespeare file")
        self._check(raw, "the download")
        _write_atomic(target, raw)
        print(f"TinyShakespeare: downloaded {type(self).url} ({len(raw)} bytes) into {target}", file=sys.stderr)

    def __repr__(self):
        return (f"Dataset TinyShakespeare\n    Number of characters: {len(self)}\n    Location: {self.path}\n"
                f"    Split: {self.split}")

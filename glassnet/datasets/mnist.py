"""MNIST and Fashion-MNIST: 28x28 grayscale images in 10 classes, 60,000 for training and 10,000 for test.

    from glassnet.datasets import MNIST
    from glassnet import transforms as T
    train = MNIST(train=True, transform=T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]))

Where the files come from (see `glassnet.datasets.paths`): the `root` argument, then $GLASSNET_DATA,
then the cache (~/.cache/glassnet or $GLASSNET_CACHE), and finally, when `download=True`, a public
mirror, the file being verified and then written atomically into the cache. `MNIST(sample=True)`
needs none of that: it is a 5,000 + 1,000 image sample shipped inside the package.

A sample is `(image, target)`: the image a uint8 (28, 28) NumPy array (where torchvision gives a PIL
image; `ToTensor` turns either into a float32 (1, 28, 28) tensor in [0, 1]), the target a Python int.
"""
import gzip
import http.client
import os
import sys
import tempfile
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from ..tensor import Tensor
from ..utils.data import Dataset, default_collate
from . import paths
from .idx import ChecksumError, IDXError, parse_idx, read_idx, sha256

__all__ = ["MNIST", "FashionMNIST"]

_MAX_DOWNLOAD = 64 * 1024 * 1024
SAMPLE_FILE = Path(__file__).with_name("mnist_sample.npz")


def _urlopen(url, timeout):
    """Open `url` (replaced by a fake in tests, which must never reach the network)."""
    return urllib.request.urlopen(url, timeout=timeout)


class _File:
    """One IDX file: base name (without .gz), array shape, SHA-256 of the decompressed contents and of
    the distributed .gz file (either may be None when no published value is known)."""

    def __init__(self, name, shape, sha256_raw=None, sha256_gz=None):
        self.name, self.shape, self.sha256_raw, self.sha256_gz = name, shape, sha256_raw, sha256_gz


class MNIST(Dataset):
    """The MNIST handwritten digits (LeCun, Cortes and Burges).

    root: a folder to look in first (the files directly in it, in `mnist/` or in `MNIST/raw/`).
    train: the 60,000 training images (True) or the 10,000 test images (False).
    transform / target_transform: applied to each image / target. Transforms from
        `glassnet.transforms` also have a vectorised batch form, which the DataLoader uses.
    download: fetch missing files from a public mirror into the cache.
    sample: use the small sample shipped with glassnet (5,000 training and 1,000 test digits, 500 and
        100 per class, in their original order; `sample_index` gives their positions in the full set).
        No file lookup or network.

    Attributes: `data` (uint8 tensor (N, 28, 28)), `targets` (int64 tensor (N,)), `classes`,
    `class_to_idx`. Files are checked for format and size, and against the published SHA-256 of
    their decompressed contents.
    """

    files = {
        True: (_File("train-images-idx3-ubyte", (60000, 28, 28),
                     "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                     "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
               _File("train-labels-idx1-ubyte", (60000,),
                     "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                     "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c")),
        False: (_File("t10k-images-idx3-ubyte", (10000, 28, 28),
                      "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                      "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
                _File("t10k-labels-idx1-ubyte", (10000,),
                      "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                      "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6")),
    }
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "https://storage.googleapis.com/cvdf-datasets/mnist/")
    subdirs = ("mnist", "MNIST/raw")
    cache_subdir = "mnist"
    bare_in_env = True  # files directly in $GLASSNET_DATA are accepted
    sample_file = SAMPLE_FILE
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    download_timeout = 60

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=True, *,
                 sample=False):
        self.root = root
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        self.sample = bool(sample)
        self.sample_index = None
        if self.sample:
            images, labels = self._load_sample()
            self.folder = None
        else:
            self.folder = self._find_or_download(download)
            images, labels = (read_idx(self._path(self.folder, f), f.sha256_raw, f.shape) for f in self._files)
            if len(images) != len(labels):
                raise IDXError(f"{type(self).__name__}: {len(images)} images but {len(labels)} labels in "
                               f"{self.folder}")
        self.data, self.targets = images, labels

    # ---- data ----------------------------------------------------------------------------------
    @property
    def data(self):
        """The images, a uint8 tensor (N, 28, 28)."""
        return Tensor._make(self._images)

    @data.setter
    def data(self, value):
        self._images = np.asarray(value.array if isinstance(value, Tensor) else value)

    @property
    def targets(self):
        """The labels, an int64 tensor (N,)."""
        return Tensor._make(self._labels)

    @targets.setter
    def targets(self, value):
        self._labels = np.asarray(value.array if isinstance(value, Tensor) else value).astype(np.int64, copy=False)

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self):
        return len(self._labels)

    def __getitem__(self, index):
        img, target = self._images[index].copy(), int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getbatch__(self, indices):
        """The collated batch [images, targets] for an index array, by fancy indexing; batch-capable
        transforms are applied to the whole batch at once, others sample by sample."""
        idx = np.asarray(indices, dtype=np.int64)
        return [self._batch(self._images[idx], self.transform), self._batch(self._labels[idx], self.target_transform,
                                                                           as_int=True)]

    @staticmethod
    def _batch(values, transform, as_int=False):
        if transform is None:
            return Tensor._make(values)
        if getattr(transform, "batchable", False):
            out = transform.apply_batch(values)
            return Tensor._make(out) if isinstance(out, np.ndarray) else out
        return default_collate([transform(int(v) if as_int else v) for v in values])

    # ---- files ---------------------------------------------------------------------------------
    @property
    def _files(self):
        return type(self).files[self.train]

    @property
    def _split(self):
        return "training" if self.train else "test"

    @staticmethod
    def _path(folder, f):
        for name in (f.name + ".gz", f.name):
            if (Path(folder) / name).is_file():
                return Path(folder) / name
        return None

    def _load_sample(self):
        cls = type(self)
        if cls.sample_file is None:
            raise ValueError(f"{cls.__name__}: there is no embedded sample of this data set (only MNIST has one)")
        split = "train" if self.train else "test"
        with np.load(cls.sample_file, allow_pickle=False) as z:
            images, labels = z[f"{split}_images"], z[f"{split}_labels"]
            self.sample_index = z[f"{split}_index"].astype(np.int64)
        return images, labels

    def _find_or_download(self, download):
        cls = type(self)
        candidates = paths.candidate_dirs(self.root, cls.subdirs, bare_in_root=True, bare_in_env=cls.bare_in_env)
        for folder, _ in candidates:
            if all(self._path(folder, f) is not None for f in self._files):
                return folder
        errors = []
        if download:
            target = paths.cache_dir() / cls.cache_subdir
            try:
                for f in self._files:
                    if self._path(target, f) is None:
                        self._download(f, target)
                return target
            except OSError as e:
                errors.append(str(e))
        looked = "\n".join(f"  {folder}  ({origin})" for folder, origin in candidates)
        names = ", ".join(f"{f.name}.gz" for f in self._files)
        failure = ("\nDownload failed:\n  " + "\n  ".join(errors)) if errors else \
            "\nDownloading is off (download=False)."
        raise FileNotFoundError(
            f"{cls.__name__}: could not find the {self._split} files ({names}, gzipped or not). Looked in:\n"
            f"{looked}{failure}\n"
            f"To provide them, put the .gz files (from {cls.mirrors[0]}) into one of the folders above, for example "
            f"a folder given as root=..., or set ${paths.DATA_ENV} to a folder that contains "
            f"{cls.subdirs[0]}/ with them, or allow download=True with network access."
            + (" For a quick start without files, MNIST(sample=True) uses the small sample shipped with glassnet."
               if cls.sample_file is not None else ""))

    def _download(self, f, target):
        """Fetch `f` from the first mirror that serves a valid copy; verify it; write it atomically."""
        problems = []
        for base in type(self).mirrors:
            url = base + f.name + ".gz"
            try:
                with _urlopen(url, timeout=self.download_timeout) as resp:
                    raw = resp.read(_MAX_DOWNLOAD + 1)
                if len(raw) > _MAX_DOWNLOAD:
                    raise IDXError(f"{url}: more than {_MAX_DOWNLOAD} bytes, not an MNIST file")
                self._verify_download(f, url, raw)
            except (OSError, http.client.HTTPException, ValueError) as e:  # network, bad gzip/IDX/checksum
                problems.append(f"{url}: {e}")
                continue
            print(f"{type(self).__name__}: downloaded {url} ({len(raw)} bytes) into {target}", file=sys.stderr)
            target.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target, prefix=f".{f.name}.", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(raw)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, target / (f.name + ".gz"))
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
            return
        raise OSError(f"could not download {f.name}.gz from any mirror:\n    " + "\n    ".join(problems))

    @staticmethod
    def _verify_download(f, url, raw):
        if f.sha256_gz is not None and f.sha256_raw is None and sha256(raw) != f.sha256_gz:
            raise ChecksumError(f"SHA-256 of the download is {sha256(raw)}, expected {f.sha256_gz}")
        try:
            data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        except (EOFError, OSError, zlib.error) as e:
            raise IDXError(f"corrupt or truncated gzip stream: {e}") from None
        parse_idx(data, name=url, expected_shape=f.shape)
        if f.sha256_raw is not None and sha256(data) != f.sha256_raw:
            raise ChecksumError(f"SHA-256 of the decompressed download is {sha256(data)}, expected {f.sha256_raw}")

    def __repr__(self):
        where = "embedded sample" if self.sample else str(self.folder)
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Location: {where}", f"    Split: {'Train' if self.train else 'Test'}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Xiao, Rasul and Vollgraf, Zalando): clothing images in MNIST's format and sizes.

    Same arguments and attributes as `MNIST` (no embedded sample). Files are looked for in `root`
    itself, `fashion-mnist/`, `fashion_mnist/` or `FashionMNIST/raw/` (in $GLASSNET_DATA and the cache only
    in those sub-folders, so that MNIST files of the same names are never picked up by mistake).

    Verification: no published SHA-256 of the decompressed files could be found, so files already on
    disk are checked for IDX format and sizes only; a download is checked against the published
    SHA-256 of the distributed .gz files, as well as for format and sizes.
    """

    files = {
        True: (_File("train-images-idx3-ubyte", (60000, 28, 28), None,
                     "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc"),
               _File("train-labels-idx1-ubyte", (60000,), None,
                     "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc")),
        False: (_File("t10k-images-idx3-ubyte", (10000, 28, 28), None,
                      "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229"),
                _File("t10k-labels-idx1-ubyte", (10000,), None,
                      "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf")),
    }
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/")
    subdirs = ("fashion-mnist", "fashion_mnist", "FashionMNIST/raw")
    cache_subdir = "fashion-mnist"
    bare_in_env = False
    sample_file = None
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


def build_sample(source=None, out=SAMPLE_FILE, train_per_class=500, test_per_class=100):
    """Rebuild the embedded sample from the full MNIST files (found like `MNIST(root=source)`): the first
    `train_per_class` training and `test_per_class` test images of each digit, in their original order,
    saved with np.savez_compressed (uint8 images and labels, int32 positions in the full sets)."""
    arrays = {}
    for train, split, per in ((True, "train", train_per_class), (False, "test", test_per_class)):
        full = MNIST(root=source, train=train, download=False)
        labels = full.targets.array
        index = np.sort(np.concatenate([np.flatnonzero(labels == c)[:per] for c in range(10)]))
        arrays[f"{split}_images"] = full.array.array[index]
        arrays[f"{split}_labels"] = labels[index].astype(np.uint8)
        arrays[f"{split}_index"] = index.astype(np.int32)
    np.savez_compressed(out, **arrays)

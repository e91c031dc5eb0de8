"""glassnet.datasets: IDX parsing, file lookup, (fake) downloads, the real MNIST and the embedded sample.

Nothing here reaches the network: every test runs with urllib's opener replaced by one that fails,
and the download tests install their own fake opener.
"""
import gzip
import hashlib
import io
import os
import struct
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from glassnet import transforms as T
from glassnet.datasets import MNIST, FashionMNIST, mnist as mnist_module
from glassnet.datasets.idx import ChecksumError, IDXError, parse_idx, read_idx, write_idx
from glassnet.datasets.mnist import _File
from glassnet.utils.data import DataLoader

@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No network, no real cache, no inherited GLASSNET_DATA unless a test sets it."""
    def no_network(*args, **kwargs):
        raise AssertionError("a test tried to reach the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.setattr(mnist_module, "_urlopen", no_network)
    monkeypatch.setenv("GLASSNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GLASSNET_DATA", raising=False)


def idx_bytes(array, code=None):
    """A hand-made IDX file: 0, 0, type code, ndim, big-endian sizes, big-endian values."""
    array = np.asarray(array)
    codes = {np.uint8: 0x08, np.int32: 0x0C, np.float32: 0x0D}
    code = codes[array.dtype.type] if code is None else code
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


# ---- IDX ---------------------------------------------------------------------------------------
def test_parse_hand_made_idx(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = idx_bytes(images)
    assert raw[:4] == b"\x00\x00\x08\x03" and raw[4:8] == b"\x00\x00\x00\x02"
    np.testing.assert_array_equal(parse_idx(raw), images)
    ints = np.array([1, -2, 70000], dtype=np.int32)
    parsed = parse_idx(idx_bytes(ints))
    assert parsed.dtype == np.int32 and parsed.dtype.isnative and parsed.tolist() == [1, -2, 70000]
    plain, packed = tmp_path / "a-idx3-ubyte", tmp_path / "a-idx3-ubyte.gz"
    plain.write_bytes(raw)
    packed.write_bytes(gzip.compress(raw))
    for path in (plain, packed):
        out = read_idx(path, sha256_hex=hashlib.sha256(raw).hexdigest(), expected_shape=(2, None, 4))
        np.testing.assert_array_equal(out, images)
        out[0, 0, 0] = 99  # writable, not a view of a buffer
    # a gzip file is recognised by its contents, not by its name
    (tmp_path / "renamed").write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(read_idx(tmp_path / "renamed"), images)


def test_idx_bad_magic_names_the_file(tmp_path):
    path = tmp_path / "bad-magic"
    path.write_bytes(b"\x01\x02\x08\x01" + struct.pack(">I", 1) + b"\x05")
    with pytest.raises(IDXError, match=r"bad-magic.*magic number"):
        read_idx(path)
    path.write_bytes(b"\x00\x00\x42\x01" + struct.pack(">I", 1) + b"\x05")
    with pytest.raises(IDXError, match="type code 0x42"):
        read_idx(path)


def test_idx_truncated_files(tmp_path):
    raw = idx_bytes(np.zeros((3, 4, 4), np.uint8))
    path = tmp_path / "short-idx3-ubyte"
    path.write_bytes(raw[:-5])
    with pytest.raises(IDXError, match=r"short-idx3-ubyte: truncated IDX file.*needs 48 data bytes, found 43"):
        read_idx(path)
    path.write_bytes(raw[:9])
    with pytest.raises(IDXError, match="truncated IDX header"):
        read_idx(path)
    path.write_bytes(raw + b"xx")
    with pytest.raises(IDXError, match="2 unexpected trailing bytes"):
        read_idx(path)
    gz = tmp_path / "cut.gz"
    gz.write_bytes(gzip.compress(raw)[:-12])
    with pytest.raises(IDXError, match=r"cut\.gz: corrupt or truncated gzip"):
        read_idx(gz)


def test_idx_wrong_checksum_and_shape(tmp_path):
    raw = idx_bytes(np.ones(5, np.uint8))
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(raw)
    with pytest.raises(ChecksumError, match=r"labels-idx1-ubyte: SHA-256 .* expected 0{64}"):
        read_idx(path, sha256_hex="0" * 64)
    with pytest.raises(IDXError, match=r"shape is \(5,\), expected \(6,\)"):
        read_idx(path, expected_shape=(6,))


def test_write_idx_round_trip(tmp_path):
    data = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    write_idx(tmp_path / "x.gz", data)
    assert (tmp_path / "x.gz").read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz"), data)
    with pytest.raises(TypeError, match="write_idx"):
        write_idx(tmp_path / "y", np.zeros(2, np.int64))


# ---- lookup order and downloads (tiny fake data sets) ------------------------------------------
N_TRAIN, N_TEST = 12, 4


def tiny_files(label_value, n):
    images = np.full((n, 28, 28), label_value, dtype=np.uint8)
    labels = np.full(n, label_value, dtype=np.uint8)
    return idx_bytes(images), idx_bytes(labels)


class TinyMNIST(MNIST):
    """MNIST's lookup and download logic with 12 + 4 image files (format and size checks only)."""
    files = {True: (_File("train-images-idx3-ubyte", (N_TRAIN, 28, 28)), _File("train-labels-idx1-ubyte", (N_TRAIN,))),
             False: (_File("t10k-images-idx3-ubyte", (N_TEST, 28, 28)), _File("t10k-labels-idx1-ubyte", (N_TEST,)))}
    mirrors = ("https://mirror-one.invalid/mnist/", "https://mirror-two.invalid/mnist/")


def write_split(folder, value, train=True, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    names = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte") if train else \
        ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    for name, raw in zip(names, tiny_files(value, N_TRAIN if train else N_TEST)):
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)


def test_lookup_order_root_env_cache(tmp_path, monkeypatch):
    root, env, cache = tmp_path / "root", tmp_path / "env", tmp_path / "cache"
    write_split(root / "MNIST" / "raw", 1)
    write_split(env / "mnist", 2)
    write_split(cache / "mnist", 3)
    monkeypatch.setenv("GLASSNET_DATA", str(env))
    assert TinyMNIST(root=root, download=False).targets.array.tolist() == [1] * N_TRAIN
    assert TinyMNIST(root=tmp_path / "empty", download=False).targets.array[0] == 2
    assert TinyMNIST(download=False).targets.array[0] == 2
    monkeypatch.delenv("GLASSNET_DATA")
    ds = TinyMNIST(download=False)
    assert ds.targets.array[0] == 3 and Path(ds.folder) == cache / "mnist"


@pytest.mark.parametrize("layout", ["", "mnist", "MNIST/raw"])
def test_env_dir_layouts_plain_or_gz(tmp_path, monkeypatch, layout):
    env = tmp_path / "data"
    write_split(env / layout if layout else env, 5, train=False, gz=layout != "mnist")
    monkeypatch.setenv("GLASSNET_DATA", str(env))
    ds = TinyMNIST(train=False, download=False)
    assert len(ds) == N_TEST and ds.data.shape == (N_TEST, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.dtype == np.int64 and ds.targets.array.tolist() == [5] * N_TEST
    img, target = ds[0]
    assert isinstance(img, np.ndarray) and img.shape == (28, 28) and target == 5 and type(target) is int


def test_not_found_lists_every_place(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "envdir"))
    with pytest.raises(FileNotFoundError) as info:
        TinyMNIST(root=tmp_path / "myroot", download=False)
    msg = str(info.value)
    for place in (tmp_path / "myroot", tmp_path / "myroot" / "MNIST" / "raw", tmp_path / "envdir" / "mnist",
                  tmp_path / "cache" / "mnist"):
        assert str(place) in msg
    assert "GLASSNET_DATA" in msg and "train-images-idx3-ubyte.gz" in msg and "download=False" in msg


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_download_falls_back_to_next_mirror_and_writes_atomically(tmp_path, monkeypatch):
    payload = {"train-images-idx3-ubyte.gz": gzip.compress(tiny_files(7, N_TRAIN)[0]),
               "train-labels-idx1-ubyte.gz": gzip.compress(tiny_files(7, N_TRAIN)[1])}
    calls = []

    def fake_open(url, timeout):
        calls.append(url)
        if "mirror-one" in url:
            raise urllib.error.URLError("mirror one is down")
        return FakeResponse(payload[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(mnist_module, "_urlopen", fake_open)
    ds = TinyMNIST(download=True)
    assert ds.targets.array.tolist() == [7] * N_TRAIN
    target = tmp_path / "cache" / "mnist"
    assert sorted(os.listdir(target)) == sorted(payload)  # no temporary files left behind
    assert len(calls) == 4 and calls[1] == "https://mirror-two.invalid/mnist/train-images-idx3-ubyte.gz"
    TinyMNIST(download=True)  # now found in the cache: no new request
    assert len(calls) == 4


def test_download_rejects_bad_content(tmp_path, monkeypatch):
    raw = tiny_files(1, N_TRAIN)[0]

    class Checked(TinyMNIST):
        files = {True: (_File("train-images-idx3-ubyte", (N_TRAIN, 28, 28), sha256_raw="f" * 64),
                        _File("train-labels-idx1-ubyte", (N_TRAIN,)))}

    monkeypatch.setattr(mnist_module, "_urlopen", lambda url, timeout: FakeResponse(gzip.compress(raw)))
    with pytest.raises(FileNotFoundError, match=r"(?s)mirror-one.*SHA-256.*mirror-two.*SHA-256"):
        Checked(download=True)
    monkeypatch.setattr(mnist_module, "_urlopen", lambda url, timeout: FakeResponse(gzip.compress(raw)[:-30]))
    with pytest.raises(FileNotFoundError, match="corrupt or truncated gzip"):
        TinyMNIST(download=True)
    assert not any((tmp_path / "cache").rglob("*ubyte*"))  # nothing bad was kept


def test_local_file_with_wrong_checksum_is_an_error(tmp_path):
    class Checked(TinyMNIST):
        files = {False: (_File("t10k-images-idx3-ubyte", (N_TEST, 28, 28), sha256_raw="0" * 64),
                         _File("t10k-labels-idx1-ubyte", (N_TEST,)))}

    write_split(tmp_path, 1, train=False)
    with pytest.raises(ChecksumError, match="t10k-images-idx3-ubyte.gz: SHA-256"):
        Checked(root=tmp_path, train=False, download=False)


def test_fashion_mnist_lookup_and_download_checksum(tmp_path, monkeypatch):
    class TinyFashion(FashionMNIST):
        files = TinyMNIST.files

    env = tmp_path / "env"
    write_split(env, 1)  # MNIST-named files directly in $GLASSNET_DATA must not be taken for Fashion-MNIST
    write_split(env / "FashionMNIST" / "raw", 4)
    monkeypatch.setenv("GLASSNET_DATA", str(env))
    ds = TinyFashion(download=False)
    assert ds.targets.array[0] == 4 and ds.classes[9] == "Ankle boot" and ds.class_to_idx["Bag"] == 8
    assert FashionMNIST.files[True][0].sha256_gz.startswith("08dc20ab")
    monkeypatch.delenv("GLASSNET_DATA")
    monkeypatch.setattr(mnist_module, "_urlopen", lambda url, timeout: FakeResponse(gzip.compress(b"x")))
    with pytest.raises(FileNotFoundError, match="SHA-256 of the download"):
        FashionMNIST(download=True)
    with pytest.raises(ValueError, match="no embedded sample"):
        FashionMNIST(sample=True)


# ---- the embedded sample -----------------------------------------------------------------------
def test_embedded_sample():
    assert mnist_module.SAMPLE_FILE.stat().st_size < 2 * 1024 * 1024
    train, test = MNIST(sample=True), MNIST(train=False, sample=True)
    assert train.data.shape == (5000, 28, 28) and test.data.shape == (1000, 28, 28)
    assert train.data.dtype == np.uint8 and train.targets.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(train.targets.array, minlength=10), [500] * 10)
    np.testing.assert_array_equal(np.bincount(test.targets.array, minlength=10), [100] * 10)
    assert train.targets.array[:5].tolist() == [5, 0, 4, 1, 9]
    assert np.all(np.diff(train.sample_index) > 0) and train.sample_index[-1] < 60000
    assert 30 < train.data.array.mean() < 40  # real digits: mostly black background
    x, y = next(iter(DataLoader(train, batch_size=8)))
    assert x.shape == (8, 28, 28) and y.array.tolist() == train.targets.array[:8].tolist()


# ---- the real MNIST ----------------------------------------------------------------------------
REAL_ENV = os.environ.get("GLASSNET_DATA")  # read at import, before the autouse fixture clears it
REAL_CACHE = os.environ.get("GLASSNET_CACHE")


@pytest.fixture
def real_data(monkeypatch):
    """The real MNIST where the test run finds it: $GLASSNET_DATA as it got it (the CI sets it), or the cache;
    skip when it is in neither."""
    for name, value in (("GLASSNET_DATA", REAL_ENV), ("GLASSNET_CACHE", REAL_CACHE)):
        if value:
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)
    try:
        MNIST(train=False, download=False)
    except FileNotFoundError:
        pytest.skip("real MNIST unavailable: not under $GLASSNET_DATA nor in the cache")
    return REAL_ENV


def test_real_mnist_train(real_data):
    ds = MNIST(train=True, download=False)
    assert ds.data.shape == (60000, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.shape == (60000,) and ds.targets.dtype == np.int64
    assert ds.targets.array[:5].tolist() == [5, 0, 4, 1, 9]
    np.testing.assert_array_equal(np.bincount(ds.targets.array),
                                  [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    sample = MNIST(sample=True)
    np.testing.assert_array_equal(ds.data.array[sample.sample_index], sample.data.array)
    np.testing.assert_array_equal(ds.targets.array[sample.sample_index], sample.targets.array)


def test_real_mnist_test_split_and_loader(real_data):
    tf = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    ds = MNIST(train=False, transform=tf, download=False)
    assert len(ds) == 10000 and ds.targets.array[:5].tolist() == [7, 2, 1, 0, 4]
    np.testing.assert_array_equal(np.bincount(ds.targets.array),
                                  [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    loader = DataLoader(ds, batch_size=64)
    batches = list(loader)
    assert len(batches) == len(loader) == 157
    x, y = batches[0]
    assert x.shape == (64, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    per_item = np.stack([ds[i][0].array for i in range(64)])
    np.testing.assert_allclose(x.array, per_item, rtol=1e-6, atol=1e-6)  # batch path == item path
    assert y.array.tolist() == [ds[i][1] for i in range(64)]
    assert batches[-1][0].shape == (10000 - 156 * 64, 1, 28, 28)

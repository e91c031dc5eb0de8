"""Tiny Shakespeare (lookup, checksum, download, splits) and language-model batching.

Nothing here reaches the network: urllib's opener and the data set's are replaced by ones that fail,
and the download tests install their own fake opener.
"""
import hashlib
import io
import os
import urllib.error
import urllib.request

import numpy as np
import pytest

import glassnet as gn
from glassnet.datasets import TinyShakespeare, shakespeare as shakespeare_module
from glassnet.datasets.idx import ChecksumError
from glassnet.text import BPETokenizer, CharTokenizer
from glassnet.utils.data import StreamBatcher, random_windows

REAL_ENV = os.environ.get("GLASSNET_DATA")  # read at import, before the autouse fixture clears it
REAL_CACHE = os.environ.get("GLASSNET_CACHE")
FAKE_TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 10
N_TRAIN = int(0.9 * len(FAKE_TEXT))  # 549 of 610 characters


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No network, no real cache, no inherited GLASSNET_DATA unless a test sets it."""
    def no_network(*args, **kwargs):
        raise AssertionError("a test tried to reach the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.setattr(shakespeare_module, "_urlopen", no_network)
    monkeypatch.setenv("GLASSNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GLASSNET_DATA", raising=False)


@pytest.fixture
def fake_checksum(monkeypatch):
    """Make FAKE_TEXT the file whose SHA-256 is expected, so lookups can be tested with tiny files."""
    monkeypatch.setattr(TinyShakespeare, "sha256", hashlib.sha256(FAKE_TEXT.encode()).hexdigest())


@pytest.fixture
def real_data(monkeypatch):
    """The real text where the test run finds it: $GLASSNET_DATA as it got it (the CI sets it), or the cache;
    skip when it is in neither."""
    for name, value in (("GLASSNET_DATA", REAL_ENV), ("GLASSNET_CACHE", REAL_CACHE)):
        if value:
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)
    try:
        TinyShakespeare(download=False)
    except (FileNotFoundError, ChecksumError):
        pytest.skip("tiny Shakespeare unavailable: not under $GLASSNET_DATA nor in the cache")
    return REAL_ENV


def put(folder, text=FAKE_TEXT, name="input.txt"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


# ---- the real file -----------------------------------------------------------------------------
def test_real_tiny_shakespeare_splits(real_data):
    full = TinyShakespeare(split="all", download=False)
    train, val = TinyShakespeare(download=False), TinyShakespeare(split="val", download=False)
    assert full.path.name in TinyShakespeare.filenames
    assert len(full.text) == len(full) == 1_115_394 and len(set(full.text)) == 65
    assert (len(train), len(val)) == (1_003_854, 111_540) and train.split == "train"
    assert train.text + val.text == full.text and full.text.startswith("First Citizen:\nBefore we proceed")
    tok = train.char_tokenizer()
    assert tok.vocab_size == 65 and tok.chars[:3] == ["\n", " ", "!"]
    ids = train.encode(tok)
    assert ids.dtype == np.int64 and ids.shape == (1_003_854,) and ids[:5].tolist() == [18, 47, 56, 57, 58]
    np.testing.assert_array_equal(val.encode(), tok.encode_array(val.text))  # default: the whole-text vocabulary
    assert val.tensor().dtype == np.int64 and val.tensor().shape == (111_540,)
    assert "Number of characters: 111540" in repr(val)


def test_encode_with_bpe_tokenizer(fake_checksum, tmp_path):
    ds = TinyShakespeare(root=put(tmp_path / "r").parent, split="all", download=False)
    bpe = BPETokenizer().train(ds.text, vocab_size=256 + 20)
    ids = ds.encode(bpe)
    assert ids.dtype == np.int64 and ids.tolist() == bpe.encode(ds.text) and bpe.decode(ids) == ds.text
    train, val = (TinyShakespeare(root=tmp_path / "r", split=s, download=False) for s in ("train", "val"))
    assert (len(train), len(val)) == (549, 61) and train.text + val.text == FAKE_TEXT


# ---- lookup order, checksum, errors ------------------------------------------------------------
def test_lookup_order(fake_checksum, tmp_path, monkeypatch):
    root, env, cache = tmp_path / "root", tmp_path / "env", tmp_path / "cache"
    in_cache = put(cache / "tinyshakespeare")
    assert TinyShakespeare(download=False).path == in_cache
    put(env)  # a bare input.txt in $GLASSNET_DATA is too generic a name: not picked up
    monkeypatch.setenv("GLASSNET_DATA", str(env))
    assert TinyShakespeare(download=False).path == in_cache
    in_env = put(env / "tinyshakespeare")
    assert TinyShakespeare(download=False).path == in_env
    in_root_sub = put(root / "tinyshakespeare")
    assert TinyShakespeare(root=root, download=False).path == in_root_sub
    in_root = put(root, name="tinyshakespeare.txt")  # the root itself comes before its sub-folders
    assert TinyShakespeare(root=root, download=False).path == in_root
    assert TinyShakespeare(root=str(root), split="val", download=False).text == FAKE_TEXT[N_TRAIN:]


def test_checksum_failure_names_the_file(tmp_path):
    path = put(tmp_path / "data" / "tinyshakespeare", FAKE_TEXT + "extra")
    with pytest.raises(ChecksumError, match=r"input\.txt has SHA-256 [0-9a-f]{64} \(615 bytes\), expected 86c4e6"):
        TinyShakespeare(root=tmp_path / "data", download=False)
    assert path.is_file()  # left alone


def test_missing_file_error_lists_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError) as info:
        TinyShakespeare(root=tmp_path / "mine", download=False)
    msg = str(info.value)
    for folder in (tmp_path / "mine", tmp_path / "mine" / "tinyshakespeare", tmp_path / "env" / "tinyshakespeare",
                   tmp_path / "cache" / "tinyshakespeare"):
        assert f"{folder}  (" in msg
    assert "Downloading is off" in msg and "$GLASSNET_DATA" in msg and shakespeare_module.URL in msg
    with pytest.raises(ValueError, match="split must be 'train', 'val' or 'all'"):
        TinyShakespeare(split="test")


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_download_is_verified_and_atomic(fake_checksum, tmp_path, monkeypatch):
    calls = []

    def opener(url, timeout):
        calls.append(url)
        return FakeResponse(FAKE_TEXT.encode())

    monkeypatch.setattr(shakespeare_module, "_urlopen", opener)
    ds = TinyShakespeare(split="all")
    target = tmp_path / "cache" / "tinyshakespeare" / "input.txt"
    assert calls == [shakespeare_module.URL] and ds.path == target and ds.text == FAKE_TEXT
    assert sorted(p.name for p in target.parent.iterdir()) == ["input.txt"]  # no temporary file left
    monkeypatch.setattr(shakespeare_module, "_urlopen", lambda *a, **k: pytest.fail("downloaded twice"))
    assert TinyShakespeare(split="all").path == target  # found in the cache


def test_download_failures_leave_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(shakespeare_module, "_urlopen", lambda url, timeout: FakeResponse(b"<html>not found</html>"))
    with pytest.raises(FileNotFoundError, match=r"Download failed: .*input\.txt: .*SHA-256"):
        TinyShakespeare()
    assert not (tmp_path / "cache").exists()

    def offline(url, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(shakespeare_module, "_urlopen", offline)
    with pytest.raises(FileNotFoundError, match="Download failed: .*no network"):
        TinyShakespeare()
    assert not (tmp_path / "cache").exists()


# ---- random_windows ----------------------------------------------------------------------------
def test_random_windows_shapes_and_shift():
    data = np.arange(1000, dtype=np.int64) * 3
    x, y = random_windows(data, block_size=16, batch_size=8, generator=gn.Generator(1))
    assert isinstance(x, gn.Tensor) and x.shape == y.shape == (8, 16) and x.dtype == y.dtype == np.int64
    starts = x.array[:, 0] // 3
    np.testing.assert_array_equal(x.array, data[starts[:, None] + np.arange(16)])
    np.testing.assert_array_equal(y.array, data[starts[:, None] + np.arange(1, 17)])
    np.testing.assert_array_equal(y.array[:, :-1], x.array[:, 1:])
    # the only possible window when len(data) == block_size + 1
    x, y = random_windows(gn.tensor([5, 6, 7, 8]), 3, 2)
    assert x.array.tolist() == [[5, 6, 7]] * 2 and y.array.tolist() == [[6, 7, 8]] * 2


def test_random_windows_reproducible_and_covering():
    data = np.arange(50)
    gn.manual_seed(3)
    a = random_windows(data, 8, 4)
    gn.manual_seed(3)
    b = random_windows(data, 8, 4)
    c = random_windows(data, 8, 4)
    assert np.array_equal(a[0].array, b[0].array) and np.array_equal(a[1].array, b[1].array)
    assert not np.array_equal(b[0].array, c[0].array)
    g1, g2 = gn.Generator(7), gn.Generator(7)
    assert np.array_equal(random_windows(data, 8, 4, g1)[0].array, random_windows(data, 8, 4, g2)[0].array)
    starts = random_windows(data, 8, 5000, gn.Generator(0))[0].array[:, 0]
    assert starts.min() == 0 and starts.max() == 50 - 8 - 1  # every start from first to last is drawn


def test_random_windows_errors():
    with pytest.raises(ValueError, match=r"data has 8 tokens, too few for windows of block_size=8 "
                                         r"\(need at least block_size \+ 1 = 9"):
        random_windows(np.arange(8), 8, 2)
    with pytest.raises(ValueError, match=r"1-D .* shape \(2, 5\)"):
        random_windows(np.zeros((2, 5), np.int64), 2, 2)
    with pytest.raises(TypeError, match="integer token ids, got dtype float32"):
        random_windows(np.zeros(10, np.float32), 2, 2)
    with pytest.raises(ValueError, match="block_size must be a positive integer"):
        random_windows(np.arange(10), 0, 2)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        random_windows(np.arange(10), 2, 2.0)


# ---- StreamBatcher -----------------------------------------------------------------------------
def test_stream_batcher_layout_and_continuity():
    data = np.arange(103)
    batches = StreamBatcher(data, batch_size=4, seq_len=7)
    assert batches.stream_len == 25 and len(batches) == 4  # 102 // 4 = 25 steps: 7 + 7 + 7 + 4
    out = list(batches)
    assert [x.shape for x, _ in out] == [(4, 7)] * 3 + [(4, 4)]
    for x, y in out:
        assert x.dtype == y.dtype == np.int64
        np.testing.assert_array_equal(y.array, x.array + 1)  # targets: the next token
    for (x0, y0), (x1, _) in zip(out, out[1:]):
        # each row continues exactly where it stopped: the next input is the last target
        np.testing.assert_array_equal(x1.array[:, 0], x0.array[:, -1] + 1)
        np.testing.assert_array_equal(x1.array[:, 0], y0.array[:, -1])
    streams = np.concatenate([x.array for x, _ in out], axis=1)
    np.testing.assert_array_equal(streams, data[:100].reshape(4, 25))  # contiguous streams, one per row
    again = list(StreamBatcher(data, 4, 7))
    assert all(np.array_equal(a.array, b.array) for (a, _), (b, _) in zip(out, again))  # same order every time
    x, y = batches[-1]
    assert np.array_equal(x.array, out[3][0].array) and np.array_equal(batches[1][1].array, out[1][1].array)


def test_stream_batcher_carries_state_like_one_long_pass():
    """A running state carried across chunks equals the state after reading each stream in one go."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, 50, size=1001)
    state = np.zeros(8, dtype=np.int64)
    for x, _ in StreamBatcher(gn.tensor(data), batch_size=8, seq_len=13):
        for t in range(x.shape[1]):
            state = (state * 31 + x.array[:, t]) % 1_000_003
    expected = np.zeros(8, dtype=np.int64)
    for t in range(125):
        expected = (expected * 31 + data[:1000].reshape(8, 125)[:, t]) % 1_000_003
    np.testing.assert_array_equal(state, expected)


def test_stream_batcher_drop_last_and_errors():
    assert len(StreamBatcher(np.arange(103), 4, 7, drop_last=True)) == 3
    assert len(StreamBatcher(np.arange(101), 4, 5)) == len(StreamBatcher(np.arange(101), 4, 5, drop_last=True)) == 5
    assert [x.shape for x, _ in StreamBatcher(list(range(11)), 2, 100)] == [(2, 5)]
    with pytest.raises(ValueError, match=r"data has 4 tokens, too few for 4 streams \(need at least batch_size \+ 1"):
        StreamBatcher(np.arange(4), 4, 2)
    with pytest.raises(ValueError, match="seq_len must be a positive integer"):
        StreamBatcher(np.arange(40), 4, 0)
    with pytest.raises(IndexError, match="batch 5 is out of range for 5 batches"):
        StreamBatcher(np.arange(101), 4, 5)[5]
    with pytest.raises(TypeError, match="integer token ids"):
        StreamBatcher(np.linspace(0, 1, 20), 2, 2)


def test_char_pipeline_end_to_end(real_data):
    """Real text -> char ids -> batches whose decoded rows are pieces of the text."""
    train = TinyShakespeare(download=False)
    tok = CharTokenizer(TinyShakespeare(split="all", download=False).text)
    ids = train.encode(tok)
    x, y = random_windows(ids, 32, 4, gn.Generator(0))
    for row_x, row_y in zip(x.array, y.array):
        assert tok.decode(row_x) in train.text and tok.decode(row_y)[:-1] == tok.decode(row_x)[1:]
    x, _ = next(iter(StreamBatcher(ids, batch_size=4, seq_len=20)))
    assert tok.decode(x.array[0]) == train.text[:20]

"""Batches for language models from one long 1-D array of token ids.

Two ways, for the two kinds of model:

* `random_windows(data, block_size, batch_size)`: independent random windows (nanoGPT style), for
  models that see a fixed context (transformers): x[b] = data[s_b : s_b + T] and
  y[b] = data[s_b + 1 : s_b + T + 1] for random starts s_b.
* `StreamBatcher(data, batch_size, seq_len)`: truncated backpropagation through time, for recurrent
  models whose hidden state is carried from one batch to the next. The data is cut into `batch_size`
  contiguous streams, one per batch row, and consecutive chunks of `seq_len` steps are yielded, so
  row b of a batch continues exactly where row b of the previous batch stopped.

    x, y = random_windows(train_ids, block_size=64, batch_size=32)
    for x, y in StreamBatcher(train_ids, batch_size=32, seq_len=35):
        out, h = model(x, h.detach())
"""
import numpy as np

from ...random import rng
from ...tensor import Tensor

__all__ = ["random_windows", "StreamBatcher"]


def _token_array(data, where):
    """`data` (Tensor, NumPy array or list of ints) as a 1-D int64 array, without copying when possible."""
    arr = np.asarray(data.array if isinstance(data, Tensor) else data)
    if arr.ndim != 1:
        raise ValueError(f"{where}: data must be a 1-D sequence of token ids, got shape {tuple(arr.shape)}")
    if arr.dtype.kind not in "iu" and arr.size:
        raise TypeError(f"{where}: data must hold integer token ids, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _positive(value, name, where):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{where}: {name} must be a positive integer, got {name}={value!r}")
    return int(value)


def random_windows(data, block_size, batch_size, generator=None):
    """`batch_size` windows of `block_size` consecutive tokens at uniformly random starts.

    data: 1-D integer token ids (Tensor, NumPy array or list), at least block_size + 1 of them.
    Returns (x, y), int64 Tensors of shape (batch_size, block_size), with y[b, t] = data[start_b + t + 1]
    = x[b, t + 1]: the next token of each position. Starts are drawn from `generator` (default:
    glassnet's default generator, so `glassnet.manual_seed` reproduces them), uniformly in
    [0, len(data) - block_size - 1], with replacement.
    """
    arr = _token_array(data, "random_windows")
    T = _positive(block_size, "block_size", "random_windows")
    B = _positive(batch_size, "batch_size", "random_windows")
    if len(arr) < T + 1:
        raise ValueError(f"random_windows: data has {len(arr)} tokens, too few for windows of block_size={T} "
                         f"(need at least block_size + 1 = {T + 1}, the targets being shifted by one)")
    starts = rng(generator).integers(0, len(arr) - T, size=B)
    windows = np.lib.stride_tricks.sliding_window_view(arr, T + 1)[starts]  # (B, T + 1), a copy
    return Tensor._make(np.ascontiguousarray(windows[:, :-1])), Tensor._make(np.ascontiguousarray(windows[:, 1:]))


class StreamBatcher:
    """Consecutive (x, y) chunks of `batch_size` parallel streams, for truncated BPTT.

    With n = len(data) and L = (n - 1) // batch_size, stream b is data[b*L : (b+1)*L] (inputs) and
    data[b*L + 1 : (b+1)*L + 1] (targets, shifted by one); the last n - 1 - batch_size*L tokens are
    not used. Batch i is x = streams[:, i*seq_len : (i+1)*seq_len] and y the same columns of the
    targets, int64 Tensors of shape (batch_size, seq_len); the last batch is shorter when seq_len does
    not divide L, unless `drop_last=True` drops it. So x[b, 0] of batch i + 1 is the token that follows
    x[b, -1] of batch i (and equals y[b, -1] of batch i): a hidden state can be carried across batches.

    The order is always the same (batch 0, 1, ...); `len()` is the number of batches; `batcher[i]`
    gives batch i directly.
    """

    def __init__(self, data, batch_size, seq_len, drop_last=False):
        arr = _token_array(data, "StreamBatcher")
        self.batch_size = _positive(batch_size, "batch_size", "StreamBatcher")
        self.seq_len = _positive(seq_len, "seq_len", "StreamBatcher")
        if not isinstance(drop_last, bool):
            raise ValueError(f"StreamBatcher: drop_last must be a bool, got {drop_last!r}")
        self.drop_last = drop_last
        L = (len(arr) - 1) // self.batch_size if len(arr) else 0
        if L < 1:
            raise ValueError(f"StreamBatcher: data has {len(arr)} tokens, too few for {self.batch_size} streams "
                             f"(need at least batch_size + 1 = {self.batch_size + 1})")
        self.stream_len = L
        self._x = arr[:self.batch_size * L].reshape(self.batch_size, L)
        self._y = arr[1:self.batch_size * L + 1].reshape(self.batch_size, L)

    def __len__(self):
        full, rest = divmod(self.stream_len, self.seq_len)
        return full if (self.drop_last or rest == 0) else full + 1

    def __getitem__(self, i):
        n = len(self)
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"StreamBatcher: batch index must be an int, got {type(i).__name__}")
        if not -n <= i < n:
            raise IndexError(f"StreamBatcher: batch {i} is out of range for {n} batches")
        start = (i % n) * self.seq_len
        cols = slice(start, start + self.seq_len)
        return (Tensor._make(np.ascontiguousarray(self._x[:, cols])),
                Tensor._make(np.ascontiguousarray(self._y[:, cols])))

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        return (f"StreamBatcher(batch_size={self.batch_size}, seq_len={self.seq_len}, "
                f"stream_len={self.stream_len}, batches={len(self)})")

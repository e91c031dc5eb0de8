"""glassnet.utils.data: datasets, samplers, collation and the DataLoader."""
import collections

import numpy as np
import pytest

import glassnet as gn
from glassnet import Tensor
from glassnet.utils.data import (
    BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
    SequentialSampler, StackDataset, Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
    default_collate, default_convert, random_split,
)


def index_dataset(n=10):
    """Sample i is (x_i = [i, i], y_i = i)."""
    x = np.repeat(np.arange(n, dtype=np.float32)[:, None], 2, axis=1)
    return TensorDataset(gn.tensor(x), gn.arange(n))


class ListDataset(Dataset):
    """A plain map-style dataset without any batch hook (the per-item path)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": np.full(3, i, dtype=np.float32), "y": i, "name": f"item{i}"}

    def __len__(self):
        return self.n


class Stream(IterableDataset):
    def __init__(self, n, with_len=True):
        self.n, self.with_len = n, with_len

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.with_len:
            raise TypeError("no length")
        return self.n


def labels(loader):
    return [b[1].array.tolist() for b in loader]


# ---- DataLoader order, shuffling, batching -------------------------------------------------------
def test_sequential_order_and_batch_count():
    loader = DataLoader(index_dataset(10), batch_size=4)
    assert len(loader) == 3
    batches = list(loader)
    assert [b[1].array.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    x, y = batches[0]
    assert isinstance(x, Tensor) and x.shape == (4, 2) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x.array[:, 0], [0, 1, 2, 3])


def test_drop_last():
    loader = DataLoader(index_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(index_dataset(8), batch_size=4, drop_last=True)) == 2
    assert len(DataLoader(index_dataset(9), batch_size=4, drop_last=False)) == 3


def test_shuffle_is_a_permutation_and_reproducible_with_generator():
    ds = index_dataset(50)
    a = labels(DataLoader(ds, batch_size=8, shuffle=True, generator=gn.Generator(123)))
    b = labels(DataLoader(ds, batch_size=8, shuffle=True, generator=gn.Generator(123)))
    c = labels(DataLoader(ds, batch_size=8, shuffle=True, generator=gn.Generator(124)))
    flat = sum(a, [])
    assert a == b
    assert a != c
    assert sorted(flat) == list(range(50)) and flat != list(range(50))
    assert [len(x) for x in a] == [8] * 6 + [2]


def test_shuffle_without_generator_follows_manual_seed_and_changes_each_epoch():
    ds = index_dataset(40)
    loader = DataLoader(ds, batch_size=10, shuffle=True)
    gn.manual_seed(7)
    first, second = labels(loader), labels(loader)
    gn.manual_seed(7)
    assert labels(loader) == first
    assert first != second  # a new order each epoch
    assert sorted(sum(second, [])) == list(range(40))


def test_fast_path_matches_item_path():
    ds = index_dataset(23)
    fast = list(DataLoader(ds, batch_size=5, shuffle=True, generator=gn.Generator(3)))
    slow = list(DataLoader(ds, batch_size=5, shuffle=True, generator=gn.Generator(3),
                           collate_fn=lambda items: default_collate(items)))
    assert len(fast) == len(slow) == 5
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx.array, sx.array)
        np.testing.assert_array_equal(fy.array, sy.array)
        assert fx.dtype == sx.dtype and fy.dtype == sy.dtype


def test_subset_of_tensor_dataset_uses_batch_path():
    ds = index_dataset(20)
    sub = Subset(ds, [19, 3, 7, 11, 0])
    assert callable(getattr(sub, "__getbatch__", None))
    assert not hasattr(Subset(ListDataset(3), [0]), "__getbatch__")
    assert labels(DataLoader(sub, batch_size=2)) == [[19, 3], [7, 11], [0]]
    assert sub[1][1].item() == 3 and sub[-1][1].item() == 0


def test_map_dataset_without_hooks_and_collate_of_dicts():
    loader = DataLoader(ListDataset(5), batch_size=2)
    batches = list(loader)
    assert len(batches) == len(loader) == 3
    b = batches[1]
    assert set(b) == {"x", "y", "name"}
    np.testing.assert_array_equal(b["x"].array, [[2, 2, 2], [3, 3, 3]])
    assert b["y"].array.tolist() == [2, 3] and b["y"].dtype == np.int64
    assert b["name"] == ["item2", "item3"]


def test_getitems_hook_is_used():
    calls = []

    class Hooked(ListDataset):
        def __getitems__(self, indices):
            calls.append(list(indices))
            return [self[i] for i in indices]

    out = list(DataLoader(Hooked(4), batch_size=3))
    assert calls == [[0, 1, 2], [3]]
    assert out[1]["y"].array.tolist() == [3]


def test_batch_size_none_yields_converted_samples():
    loader = DataLoader(ListDataset(3), batch_size=None)
    items = list(loader)
    assert len(loader) == 3 and len(items) == 3
    assert isinstance(items[2]["x"], Tensor) and items[2]["x"].shape == (3,) and items[2]["y"] == 2


def test_custom_sampler_and_batch_sampler():
    ds = index_dataset(6)
    assert labels(DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])) == [[5, 4], [3, 2], [1, 0]]
    bs = BatchSampler(SequentialSampler(ds), batch_size=4, drop_last=False)
    loader = DataLoader(ds, batch_sampler=bs)
    assert len(loader) == 2 and labels(loader) == [[0, 1, 2, 3], [4, 5]]


def test_loader_argument_errors():
    ds = index_dataset(4)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)


# ---- IterableDataset ---------------------------------------------------------------------------
def test_iterable_dataset_batches_in_stream_order():
    loader = DataLoader(Stream(7), batch_size=3)
    assert [b.array.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(loader) == 3
    dropped = DataLoader(Stream(7), batch_size=3, drop_last=True)
    assert [b.array.tolist() for b in dropped] == [[0, 1, 2], [3, 4, 5]] and len(dropped) == 2
    assert [int(x) for x in DataLoader(Stream(3), batch_size=None)] == [0, 1, 2]


def test_iterable_dataset_rejects_shuffle_and_samplers_and_may_lack_len():
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="sampler"):
        DataLoader(Stream(3), sampler=[0, 1, 2])
    loader = DataLoader(Stream(5, with_len=False), batch_size=2)
    assert [b.array.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    with pytest.raises(TypeError):
        len(loader)


def test_chain_dataset():
    chained = Stream(2) + Stream(3)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5


# ---- collate -----------------------------------------------------------------------------------
def test_collate_numbers_dtypes():
    assert default_collate([1, 2, 3]).dtype == np.int64
    floats = default_collate([1.5, 2.0])
    assert floats.dtype == np.float32 and floats.array.tolist() == [1.5, 2.0]
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.float64(1.0), np.float64(2.0)]).dtype == np.float64
    assert default_collate(["a", "b"]) == ["a", "b"]


def test_collate_nested_structures():
    Pair = collections.namedtuple("Pair", "a b")
    batch = [
        {"img": np.zeros((2, 2), np.uint8), "meta": (1, 0.5, [gn.tensor([1.0, 2.0]), 7]), "p": Pair(1, 2.0)},
        {"img": np.ones((2, 2), np.uint8), "meta": (2, 1.5, [gn.tensor([3.0, 4.0]), 8]), "p": Pair(3, 4.0)},
    ]
    out = default_collate(batch)
    assert out["img"].shape == (2, 2, 2) and out["img"].dtype == np.uint8
    assert isinstance(out["meta"], list) and len(out["meta"]) == 3  # tuples become lists, as in PyTorch
    assert out["meta"][0].array.tolist() == [1, 2] and out["meta"][0].dtype == np.int64
    assert out["meta"][1].array.tolist() == [0.5, 1.5] and out["meta"][1].dtype == np.float32
    inner = out["meta"][2]
    np.testing.assert_array_equal(inner[0].array, [[1, 2], [3, 4]])
    assert inner[1].array.tolist() == [7, 8]
    assert isinstance(out["p"], Pair) and out["p"].a.array.tolist() == [1, 3]


def test_collate_errors():
    with pytest.raises(RuntimeError, match=r"equal size.*\[2\].*\[3\]"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1, 2, 3)])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])


def test_default_convert():
    out = default_convert((np.arange(3), {"k": np.float32(2.0)}, "s"))
    assert isinstance(out, list) and isinstance(out[0], Tensor) and isinstance(out[1]["k"], Tensor)
    assert out[2] == "s"


# ---- datasets ----------------------------------------------------------------------------------
def test_tensor_dataset():
    ds = TensorDataset(gn.zeros(4, 3), np.arange(4))
    assert len(ds) == 4
    x, y = ds[2]
    assert x.shape == (3,) and y.item() == 2
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(gn.zeros(4, 3), gn.zeros(5))
    with pytest.raises(IndexError, match="out of range"):
        ds.__getbatch__(np.array([0, 4]))


def test_concat_dataset():
    a, b = ListDataset(3), ListDataset(2)
    cat = a + b
    assert isinstance(cat, ConcatDataset) and len(cat) == 5 and cat.cumulative_sizes == [3, 5]
    assert [cat[i]["y"] for i in range(5)] == [0, 1, 2, 0, 1]
    assert cat[-1]["y"] == 1 and cat[-5]["y"] == 0
    with pytest.raises(IndexError):
        cat[5]
    with pytest.raises(IndexError):
        cat[-6]
    assert [b["y"].array.tolist() for b in DataLoader(cat, batch_size=4)] == [[0, 1, 2, 0], [1]]


def test_stack_dataset():
    s = StackDataset(x=ListDataset(2), y=ListDataset(2))
    assert len(s) == 2 and s[1]["y"]["y"] == 1
    with pytest.raises(ValueError, match="size mismatch"):
        StackDataset(ListDataset(2), ListDataset(3))


def test_random_split_counts():
    ds = index_dataset(10)
    parts = random_split(ds, [3, 7], generator=gn.Generator(0))
    assert [len(p) for p in parts] == [3, 7]
    idx = [set(p.indices) for p in parts]
    assert not idx[0] & idx[1] and idx[0] | idx[1] == set(range(10))
    again = random_split(ds, [3, 7], generator=gn.Generator(0))
    assert [p.indices for p in again] == [p.indices for p in parts]
    with pytest.raises(ValueError, match="does not equal"):
        random_split(ds, [3, 8])


def test_random_split_fractions():
    ds = index_dataset(11)
    parts = random_split(ds, [0.5, 0.5], generator=gn.Generator(1))
    assert [len(p) for p in parts] == [6, 5]  # floor gives 5 + 5, the remainder goes to the first split
    assert [len(p) for p in random_split(index_dataset(10), [0.7, 0.2, 0.1])] == [7, 2, 1]
    all_idx = sorted(i for p in parts for i in p.indices)
    assert all_idx == list(range(11))
    with pytest.raises(ValueError):
        random_split(ds, [0.5, 0.7])


# ---- samplers ----------------------------------------------------------------------------------
def test_random_sampler_variants():
    data = list(range(10))
    s = RandomSampler(data, generator=gn.Generator(0))
    assert sorted(s) == data and len(s) == 10
    r = list(RandomSampler(data, replacement=True, num_samples=50, generator=gn.Generator(0)))
    assert len(r) == 50 and all(0 <= i < 10 for i in r) and len(set(r)) < 50
    long = list(RandomSampler(data, num_samples=25, generator=gn.Generator(0)))
    assert len(long) == 25 and sorted(long[:10]) == data and sorted(long[10:20]) == data
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(data, num_samples=0)
    with pytest.raises(ValueError, match="replacement"):
        RandomSampler(data, replacement=1)


def test_subset_and_weighted_samplers():
    s = SubsetRandomSampler([10, 20, 30, 40], generator=gn.Generator(5))
    assert sorted(s) == [10, 20, 30, 40] and len(s) == 4
    w = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], num_samples=200, generator=gn.Generator(0))
    drawn = np.array(list(w))
    assert set(drawn.tolist()) <= {1, 3} and 0.6 < (drawn == 3).mean() < 0.9
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([0.0, 1.0], num_samples=2, replacement=False)


def test_batch_sampler():
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last"):
        BatchSampler(range(3), 2, "no")


def test_random_sampler_with_replacement_draws_lazily():
    """minGPT's trainer asks for 10**10 samples and stops when it likes: nothing may be drawn up front."""
    import itertools
    import time

    from glassnet.utils.data import RandomSampler

    gn.manual_seed(0)
    sampler = RandomSampler(TensorDataset(gn.arange(10)), replacement=True, num_samples=10**10)
    start = time.perf_counter()
    first = list(itertools.islice(iter(sampler), 1000))
    assert time.perf_counter() - start < 1.0 and len(sampler) == 10**10
    assert set(first) == set(range(10))
    loader = DataLoader(TensorDataset(gn.arange(10)), sampler=sampler, batch_size=4)
    assert next(iter(loader))[0].shape == (4,)

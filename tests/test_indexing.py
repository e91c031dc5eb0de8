import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
from parity import Case, Const, both, run_case


def idx(*values):
    """A constant int64 index array: idx(1, 2, 2) or idx([[0, 1], [2, 2]])."""
    value = values[0] if len(values) == 1 else values
    return Const(lambda rng: np.array(value, dtype=np.int64))


def mask(shape, p=0.5):
    return Const(lambda rng: rng.random(shape) < p)


def gn_pad(*args, **kw):
    return gn.nn.functional.pad(*args, **kw)


GETITEM = [
    Case("getitem_int", lambda x: x[1], [(3, 4)]),
    Case("getitem_neg_int", lambda x: x[-1, 2], [(3, 4)]),
    Case("getitem_all_ints", lambda x: x[1, 0, 2], [(2, 3, 4)]),
    Case("getitem_slice", lambda x: x[1:3], [(4, 3)]),
    Case("getitem_slice_step", lambda x: x[::2, 1::3], [(5, 7)]),
    Case("getitem_slice_out_of_range", lambda x: x[2:10, -10:2], [(4, 3)]),
    Case("getitem_empty_slice", lambda x: x[3:1], [(4, 3)]),
    Case("getitem_none_ellipsis", lambda x: x[None, ..., None, 1], [(2, 3, 4)]),
    Case("getitem_ellipsis_middle", lambda x: x[0, ..., 1:], [(2, 3, 4, 5)]),
    Case("getitem_list", lambda x: x[[0, 2, 3]], [(4, 3)]),
    Case("getitem_list_repeated", lambda x: x[[1, 1, 0, 1]], [(3, 4)]),
    Case("getitem_tensor_index", lambda x, i: x[i], [(5, 3), idx([[0, 4], [4, -1], [2, 0]])]),
    Case("getitem_tensor_index_dim1_repeated", lambda x, i: x[:, i], [(3, 4), idx(2, 2, -2, 0, 2)]),
    Case("getitem_two_tensor_indices", lambda x, i, j: x[i, j], [(4, 5), idx(0, 1, 1, 3), idx(2, 2, 2, -1)]),
    Case("getitem_adv_broadcast", lambda x, i, j: x[i, :, j], [(3, 4, 5), idx([[0], [2]]), idx(1, 4, 1)]),
    Case("getitem_int_then_adv", lambda x: x[0, :, [0, 1, 1]], [(2, 3, 4)]),  # PyTorch: ints first -> (3, 3)
    Case("getitem_none_int_adv", lambda x: x[None, 1, None, [0, 2, 0], None, 1], [(2, 3, 4)]),
    Case("getitem_adjacent_adv", lambda x: x[:, [0, 2, 2], [1, 3, 1]], [(2, 3, 4)]),
    Case("getitem_bool_mask_full", lambda x, m: x[m], [(3, 4), mask((3, 4))]),
    Case("getitem_bool_mask_dim0", lambda x, m: x[m], [(5, 2), Const(lambda rng: np.array([1, 0, 1, 1, 0], bool))]),
    Case("getitem_bool_mask_dim1", lambda x, m: x[:, m], [(2, 4, 3), Const(lambda rng: np.array([0, 1, 1, 0], bool))]),
    Case("getitem_bool_list_and_ints", lambda x: x[[0, 1], [True, False, True]], [(2, 3, 4)]),
    Case("getitem_bool_scalar", lambda x: x[True], [(2, 3)]),
    Case("getitem_empty_list", lambda x: x[[]], [(3, 4)]),
    Case("getitem_empty_mask", lambda x, m: x[m], [(3, 2), Const(lambda rng: np.zeros(3, bool))]),
]

JOIN = [
    Case("cat_dim0", lambda a, b, c: gn.cat([a, b, c]), [(2, 3), (1, 3), (4, 3)],
         torch_fn=lambda a, b, c: torch.cat([a, b, c])),
    Case("cat_neg_dim", lambda a, b, c: gn.cat((a, b, c), dim=-1), [(2, 3, 1), (2, 3, 4), (2, 3, 2)],
         torch_fn=lambda a, b, c: torch.cat((a, b, c), dim=-1)),
    Case("cat_empty_piece", lambda a, b: gn.cat([a, b], 1), [(2, 0), (2, 3)],
         torch_fn=lambda a, b: torch.cat([a, b], 1)),
    Case("cat_legacy_1d_empty", lambda a, b: gn.cat([a, b]), [(0,), (2, 3)], torch_fn=lambda a, b: torch.cat([a, b])),
    Case("stack_dim0", lambda a, b, c: gn.stack([a, b, c]), [(2, 3)] * 3,
         torch_fn=lambda a, b, c: torch.stack([a, b, c])),
    Case("stack_neg_dim", lambda a, b, c: gn.stack([a, b, c], dim=-1), [(2, 3)] * 3,
         torch_fn=lambda a, b, c: torch.stack([a, b, c], dim=-1)),
    Case("stack_middle", lambda a, b: gn.stack([a, b], 1), [(2, 3)] * 2, torch_fn=lambda a, b: torch.stack([a, b], 1)),
    Case("stack_0d", lambda a, b: gn.stack([a, b]), [(), ()], torch_fn=lambda a, b: torch.stack([a, b])),
    Case("split_int", lambda x: x.split(2), [(5, 3)]),
    Case("split_sizes_list", lambda x: x.split([1, 3, 0, 2], dim=1), [(2, 6)]),
    Case("split_neg_dim", lambda x: x.split(3, -1), [(2, 7)]),
    Case("split_partial_use", lambda x: x.split(2)[1], [(6, 2)]),
    Case("chunk_even", lambda x: x.chunk(3), [(6, 2)]),
    Case("chunk_uneven", lambda x: x.chunk(3, dim=1), [(2, 5)]),
    Case("chunk_fewer", lambda x: x.chunk(4), [(6,)]),  # size 2 pieces: only 3 chunks
    Case("chunk_empty_dim", lambda x: x.chunk(2), [(0, 3)], gradcheck=False),
]

SLICE = [
    Case("flip_one", lambda x: x.flip(0), [(3, 4)], torch_fn=lambda x: x.flip(0)),
    Case("flip_multi", lambda x: x.flip((0, -1)), [(2, 3, 4)]),
    Case("flip_list", lambda x: x.flip([1, 2]), [(2, 3, 4)]),
    Case("repeat_same_ndim", lambda x: x.repeat(2, 3), [(2, 3)]),
    Case("repeat_lead", lambda x: x.repeat(2, 1, 3), [(3, 2)]),
    Case("repeat_tuple_zero", lambda x: x.repeat((2, 0)), [(3,)], gradcheck=False),
    Case("pad_last", lambda x: gn_pad(x, (1, 2)), [(2, 3)], torch_fn=lambda x: TF.pad(x, (1, 2))),
    Case("pad_two_dims_value", lambda x: gn_pad(x, (1, 0, 2, 1), value=-1.5), [(2, 3, 4)],
         torch_fn=lambda x: TF.pad(x, (1, 0, 2, 1), value=-1.5)),
    Case("pad_negative", lambda x: gn_pad(x, (-1, 2, 1, -2)), [(3, 5)], torch_fn=lambda x: TF.pad(x, (-1, 2, 1, -2))),
    Case("pad_crop_only", lambda x: gn_pad(x, (-1, -1, 0, 0, 1, 0)), [(2, 3, 4)],
         torch_fn=lambda x: TF.pad(x, (-1, -1, 0, 0, 1, 0))),
    Case("pad_reflect", lambda x: gn_pad(x, (2, 3), mode="reflect"), [(2, 4)],
         torch_fn=lambda x: TF.pad(x, (2, 3), mode="reflect")),
    Case("pad_reflect_2d", lambda x: gn_pad(x, (1, 2, 2, 1), mode="reflect"), [(1, 3, 4)],
         torch_fn=lambda x: TF.pad(x, (1, 2, 2, 1), mode="reflect")),
    Case("pad_replicate", lambda x: gn_pad(x, (2, 1, 0, 3), mode="replicate"), [(1, 2, 3, 2)],
         torch_fn=lambda x: TF.pad(x, (2, 1, 0, 3), mode="replicate")),
    Case("pad_circular", lambda x: gn_pad(x, (3, 1), mode="circular"), [(2, 2, 3)],
         torch_fn=lambda x: TF.pad(x, (3, 1), mode="circular")),
    Case("masked_fill", lambda x, m: x.masked_fill(m, -2.0), [(3, 4), mask((3, 4))]),
    Case("masked_fill_broadcast_mask", lambda x, m: x.masked_fill(m, 0.5), [(2, 3, 4), mask((3, 1))]),
    Case("masked_fill_mask_bigger", lambda x, m: x.masked_fill(m, 1.0), [(4,), mask((2, 4))]),
    Case("masked_fill_tensor_value", lambda x, v, m: x.masked_fill(m, v), [(3, 4), (), mask((3, 4))]),
    Case("gather_dim0", lambda x, i: x.gather(0, i), [(3, 4), idx([0, 2, 2, 1], [1, 1, 0, 0])]),
    Case("gather_dim1_repeated", lambda x, i: x.gather(1, i), [(2, 3), idx([0, 0, 0, 2], [1, 2, 1, 1])]),
    Case("gather_smaller_index", lambda x, i: x.gather(-1, i), [(3, 4, 5), idx([[4, 4]], [[0, 3]])]),
    Case("gather_torch_fn", lambda x, i: gn.gather(x, 1, i), [(2, 3), idx([2], [0])],
         torch_fn=lambda x, i: torch.gather(x, 1, i)),
    Case("scatter_add_dim0", lambda x, i, s: x.scatter_add(0, i, s), [(3, 4), idx([0, 2, 0, 0], [0, 0, 1, 2]), (2, 4)]),
    Case("scatter_add_dim1_repeated", lambda x, i, s: x.scatter_add(1, i, s),
         [(2, 3), idx([1, 1, 1], [0, 2, 0]), (2, 3)]),
    Case("index_select_dim0", lambda x, i: x.index_select(0, i), [(4, 3), idx(3, 0, 3, 3)]),
    Case("index_select_dim1", lambda x, i: x.index_select(-1, i), [(2, 3, 4), idx(1, 1, 0)]),
    Case("index_select_0d_index", lambda x, i: x.index_select(1, i), [(2, 3), Const(lambda rng: np.array(2))]),
    Case("tril", lambda x: x.tril(), [(4, 4)]),
    Case("tril_diag", lambda x: x.tril(1), [(2, 3, 5)]),
    Case("tril_neg_diag", lambda x: x.tril(-2), [(5, 3)]),
    Case("triu", lambda x: x.triu(), [(3, 4)]),
    Case("triu_neg_diag", lambda x: x.triu(diagonal=-1), [(2, 4, 3)]),
    Case("triu_big_diag", lambda x: x.triu(5), [(3, 3)]),
    Case("one_hot", lambda i: gn.nn.functional.one_hot(i), [idx(0, 3, 1, 1)], gradcheck=False,
         torch_fn=lambda i: TF.one_hot(i)),
    Case("one_hot_classes_2d", lambda i: gn.nn.functional.one_hot(i, num_classes=5), [idx([0, 4], [2, 2])],
         gradcheck=False, torch_fn=lambda i: TF.one_hot(i, num_classes=5)),
]


PAD_NEGATIVE = [
    Case(f"pad_{mode}_negative_{left}_{right}", lambda x, m=mode, p=(left, right): gn_pad(x, p, mode=m), [(1, 2, 5)],
         torch_fn=lambda x, m=mode, p=(left, right): TF.pad(x, p, mode=m))
    for mode in ("circular", "reflect", "replicate") for left, right in ((-1, 2), (2, -1), (3, -2), (-2, -1))
]

SCATTER = [
    both("scatter_src", lambda lib, x, i, s: lib.scatter(x, 1, i, s), [(3, 4), idx([[0, 3], [1, 2], [2, 0]]), (3, 2)]),
    both("scatter_dim0", lambda lib, x, i, s: lib.scatter(x, 0, i, s), [(3, 4), idx([[2, 0, 1, 1]]), (1, 4)]),
    both("scatter_value", lambda lib, x, i: lib.scatter(x, 1, i, value=-2.5), [(3, 4), idx([[0], [3], [1]])]),
    Case("scatter_value_positional", lambda x, i: x.scatter(1, i, 1.5), [(2, 3), idx([[0, 2], [1, 1]])]),
    Case("scatter_reduce_add", lambda x, i, s: x.scatter(0, i, s, reduce="add"),  # (torch has no gradient here)
         [(3, 2), idx([[0, 0], [0, 2]]), (2, 2)], torch_fn=lambda x, i, s: x.scatter_add(0, i, s)),
    *(both(f"scatter_reduce_{r}{'' if inc else '_exclude_self'}", lambda lib, x, i, s, r=r, inc=inc:
           lib.scatter_reduce(x, 1, i, s, r, include_self=inc),
           [(2, 4), idx([[0, 0, 3, 1, 0], [2, 2, 2, 3, 0]]), (2, 5)], domain="distinct")
      for r in ("sum", "mean", "amax", "amin") for inc in (True, False)),
    both("scatter_reduce_amax_ties", lambda lib, x, i, s: lib.scatter_reduce(x, 0, i, s, "amax"), [
        Const(lambda r: np.array([[1.0, 2.0], [0.0, 5.0]])), idx([[0, 1], [0, 1]]), (2, 2)], gradcheck=False),
    both("scatter_reduce_prod_forward", lambda lib, x, i, s: lib.scatter_reduce(x, 0, i, s, "prod"), [
        Const(lambda r: r.standard_normal((3, 2))), idx([[0, 0], [0, 2]]), Const(lambda r: r.standard_normal((2, 2)))],
        gradcheck=False),
    both("index_add", lambda lib, x, i, s: lib.index_add(x, 0, i, s), [(4, 3), idx(0, 2, 0), (3, 3)]),
    both("index_add_alpha_dim1", lambda lib, x, i, s: lib.index_add(x, 1, i, s, alpha=-2.0),
         [(2, 4), idx(3, 1), (2, 2)]),
    both("index_copy", lambda lib, x, i, s: lib.index_copy(x, 0, i, s), [(4, 3), idx(3, 1), (2, 3)]),
    both("index_fill", lambda lib, x, i: lib.index_fill(x, 1, i, 7.0), [(3, 4), idx(0, 2)]),
    both("index_fill_tensor_value", lambda lib, x, i, v: lib.index_fill(x, 0, i, v), [(3, 2), idx(1), ()]),
    both("nonzero", lambda lib, c: (lib.nonzero(c), *lib.nonzero(c, as_tuple=True)), [mask((3, 4))],
         gradcheck=False),
    both("nonzero_0d_and_argwhere", lambda lib, c: (lib.nonzero(c[0, 0]), lib.argwhere(c)), [mask((2, 3))],
         gradcheck=False),
    both("masked_select", lambda lib, x, m: lib.masked_select(x, m), [(3, 4), mask((3, 4))]),
    both("masked_select_broadcast", lambda lib, x, m: lib.masked_select(x, m), [(4,), mask((2, 4))]),
    both("where_condition_only", lambda lib, c: lib.where(c), [mask((2, 3))], gradcheck=False),
    Case("scatter_reduce_multiply", lambda x, i, s: x.scatter(0, i, s, reduce="multiply"), [
        Const(lambda r: r.standard_normal((3, 2))), idx([[0, 1], [0, 0]]), Const(lambda r: r.standard_normal((2, 2)))],
         gradcheck=False),
    Case("getitem_tuple_inside_index", lambda x: (x[(0,), (1, 2)], x[((0,),)], x[(1, 0), 1:]), [(2, 3, 4)]),
    both("bitwise_shifts", lambda lib, a, b: (a << 2, a >> 1, lib.bitwise_right_shift(a, b)),
         [Const(lambda r: np.array([1, -8, 16])), Const(lambda r: np.array([0, 1, 2]))], gradcheck=False),
    Case("bitwise_reflected", lambda a: (0x1337 & a, 5 | a, 3 ^ a, ~a), [Const(lambda r: np.array([1, -8, 16, 7]))],
         gradcheck=False),
]

SLICING = [
    both("unbind", lambda lib, x: lib.unbind(x, 1), [(2, 3, 2)]),
    Case("unbind_method_dim0", lambda x: x.unbind(), [(3, 2)]),
    both("select_narrow", lambda lib, x: (lib.select(x, 1, -1), lib.narrow(x, 0, 1, 2)), [(3, 4)]),
    both("tensor_split_sections", lambda lib, x: lib.tensor_split(x, 3, dim=1), [(2, 7)]),
    both("tensor_split_indices", lambda lib, x: lib.tensor_split(x, (1, 4, 10)), [(6, 2)]),
    both("repeat_interleave_int", lambda lib, x: lib.repeat_interleave(x, 2), [(2, 3)]),
    both("repeat_interleave_dim", lambda lib, x: lib.repeat_interleave(x, 3, dim=0), [(2, 3)]),
    both("repeat_interleave_tensor", lambda lib, x, r: lib.repeat_interleave(x, r, dim=1), [(2, 3), idx(1, 0, 3)]),
    both("repeat_interleave_counts_only", lambda lib, r: lib.repeat_interleave(r), [idx(2, 0, 1)], gradcheck=False),
    both("take", lambda lib, x, i: lib.take(x, i), [(3, 4), idx([[0, 11], [-1, 5]])]),
    both("take_along_dim", lambda lib, x, i: lib.take_along_dim(x, i, dim=1), [(3, 4), idx([[0, 3]])]),
    both("take_along_dim_flat", lambda lib, x, i: lib.take_along_dim(x, i), [(3, 4), idx(1, 5, 5)]),
    Case("unfold", lambda x: x.unfold(1, 3, 2), [(2, 7)]),
    Case("unfold_overlap_dim0", lambda x: x.unfold(0, 2, 1), [(4, 3)]),
    both("diff", lambda lib, x: lib.diff(x), [(3, 5)]),
    both("diff_n2_dim0_prepend", lambda lib, x, p: lib.diff(x, n=2, dim=0, prepend=p), [(4, 3), (1, 3)]),
    both("meshgrid_ij", lambda lib, a, b: lib.meshgrid(a, b, indexing="ij"), [(3,), (4,)]),
    both("axis_alias", lambda lib, x, i: (lib.cat([x, x], axis=1), lib.stack([x, x], axis=0),
                                          lib.chunk(x, 2, axis=1)[0], lib.gather(x, axis=1, index=i),
                                          lib.index_select(x, axis=0, index=i[0])),
         [(2, 4), idx([[0, 1], [3, 0]])]),
    both("meshgrid_xy", lambda lib, a, b, c: lib.meshgrid(a, b, c, indexing="xy"), [(2,), (3,), (4,)]),
]


@pytest.mark.parametrize("case", GETITEM + JOIN + SLICE + PAD_NEGATIVE + SCATTER + SLICING, ids=str)
def test_parity(case):
    run_case(case)


# ---- behaviour beyond the parity table ----------------------------------------------------------

def test_getitem_repeated_index_accumulates():
    x = gn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[gn.tensor([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.array, [3.0, 0.0, 1.0])


def test_getitem_basic_is_view_of_input():
    x = gn.zeros(3, 4)
    x[1][2] = 5.0
    assert x.array[1, 2] == 5.0


def test_getitem_second_order():
    x = gn.tensor([1.0, 2.0, 3.0], dtype=gn.float64, requires_grad=True)
    y = (x[[0, 0, 2]] ** 3).sum()
    (g,) = gn.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.array, [6.0, 0.0, 27.0])
    (h,) = gn.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.array, [12.0, 0.0, 18.0])


def test_setitem_with_tensor_index():
    x = gn.zeros(4)
    x[gn.tensor([1, 3])] = 2.0
    np.testing.assert_array_equal(x.array, [0, 2, 0, 2])


def test_cat_promotes_dtype():
    a = gn.zeros(2, dtype=gn.float32)
    b = gn.zeros(3, dtype=gn.float64)
    assert gn.cat([a, b]).dtype == gn.float64
    assert gn.cat([a, gn.tensor([1, 2])]).dtype == gn.float32


def test_split_returns_views_and_tuple():
    x = gn.arange(10.0)
    parts = x.split([3, 7])
    assert isinstance(parts, tuple) and [p.shape for p in parts] == [(3,), (7,)]
    assert [p.shape for p in x.chunk(4)] == [(3,), (3,), (3,), (1,)]


def test_scatter_add_src_larger_than_index():
    x = gn.zeros(3, 3, dtype=gn.float64, requires_grad=True)
    s = gn.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    out = x.scatter_add(0, gn.tensor([[0, 1], [2, 0]]), s)
    np.testing.assert_array_equal(out.array, [[0, 5, 0], [0, 1, 0], [4, 0, 0]])
    out.sum().backward()
    np.testing.assert_array_equal(s.grad.array, [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(x.grad.array, np.ones((3, 3)))


def test_one_hot_dtype_and_value():
    out = gn.nn.functional.one_hot(gn.tensor([2, 0]), 3)
    assert out.dtype == gn.int64
    np.testing.assert_array_equal(out.array, [[0, 0, 1], [1, 0, 0]])


# ---- bad input: the error names the op and the offending shapes / values -----------------------

def _raises(exc, *words):
    return pytest.raises(exc, match=".*".join(words))


def test_getitem_out_of_range():
    x = gn.zeros(2, 3)
    with _raises(IndexError, "getitem", "index 3", "dimension 1", "size 3"):
        x[:, 3]
    with _raises(IndexError, "getitem", "index -3", "dimension 0", "size 2"):
        x[gn.tensor([0, -3])]
    with _raises(IndexError, "getitem", "too many indices"):
        x[0, 0, 0]
    with _raises(IndexError, "getitem", "mask"):
        x[gn.tensor([True, False, True])]
    with _raises(ValueError, "getitem", "step"):
        x[::-1]
    with _raises(IndexError, "getitem", "float32"):
        x[gn.tensor([0.0])]


def test_cat_stack_mismatch():
    with _raises(ValueError, "cat", r"\(2, 3\)", r"\(2, 4\)"):
        gn.cat([gn.zeros(2, 3), gn.zeros(2, 4)])
    with _raises(ValueError, "cat", r"\(2, 3\)", r"\(3,\)"):
        gn.cat([gn.zeros(2, 3), gn.zeros(3)])
    with _raises(ValueError, "stack", r"\(2, 3\)", r"\(3, 3\)"):
        gn.stack([gn.zeros(2, 3), gn.zeros(3, 3)])
    with _raises(ValueError, "cat", "non-empty"):
        gn.cat([])
    with _raises(IndexError, "cat", "dimension 2"):
        gn.cat([gn.zeros(2, 3)], dim=2)


def test_split_chunk_bad():
    with _raises(ValueError, "split", r"\[1, 2\]", "5"):
        gn.zeros(5).split([1, 2])
    with _raises(ValueError, "chunk", "positive"):
        gn.zeros(5).chunk(0)


def test_gather_scatter_index_select_bad():
    x = gn.zeros(2, 3)
    with _raises(ValueError, "gather", r"\(3,\)", r"\(2, 3\)"):
        x.gather(1, gn.tensor([0, 1, 2]))
    with _raises(IndexError, "gather", "index 3", "size 3"):
        x.gather(1, gn.tensor([[3]]))
    with _raises(IndexError, "gather", "index -1"):
        x.gather(0, gn.tensor([[-1]]))
    with _raises(TypeError, "gather", "float32"):
        x.gather(0, gn.zeros(1, 1))
    with _raises(ValueError, "scatter_add", "src"):
        x.scatter_add(0, gn.tensor([[0, 1]]), gn.zeros(1, 1))
    with _raises(IndexError, "index_select", "index 2", "size 2"):
        x.index_select(0, gn.tensor([0, 2]))
    with _raises(ValueError, "index_select", "1-D"):
        x.index_select(0, gn.tensor([[0]]))


def test_one_hot_bad():
    with _raises(ValueError, "one_hot", "class value 3", "num_classes=3"):
        gn.nn.functional.one_hot(gn.tensor([0, 3]), 3)
    with _raises(ValueError, "one_hot", "non-negative", "-1"):
        gn.nn.functional.one_hot(gn.tensor([0, -1]), 3)
    with _raises(TypeError, "one_hot", "int64"):
        gn.nn.functional.one_hot(gn.tensor([0.0]), 3)


def test_pad_masked_fill_tril_bad():
    with _raises(ValueError, "pad", "divisible by 2"):
        gn.pad(gn.zeros(2, 3), (1,))
    with _raises(ValueError, "pad", "crops", "size 3"):
        gn.pad(gn.zeros(2, 3), (-2, -2))
    with _raises(ValueError, "pad", "reflect", "size 3"):
        gn.pad(gn.zeros(2, 3), (3, 0), mode="reflect")
    with _raises(ValueError, "pad", "mode"):
        gn.pad(gn.zeros(2, 3), (1, 1), mode="wrap")
    with _raises(TypeError, "masked_fill", "bool"):
        gn.zeros(2).masked_fill(gn.tensor([1, 0]), 1.0)
    with _raises(ValueError, "masked_fill", r"\(3,\)", r"\(2,\)"):
        gn.zeros(3).masked_fill(gn.tensor([True, False]), 1.0)
    with _raises(ValueError, "tril", r"\(3,\)"):
        gn.zeros(3).tril()
    with _raises(ValueError, "repeat", "3 dimensions"):
        gn.zeros(2, 3, 4).repeat(2, 2)


# ---- second order: every backward here is built from differentiable ops -----------------------

SECOND_ORDER = {
    "getitem_adv": lambda x: x[[0, 0, 2], 1:],
    "cat": lambda x: gn.cat([x, x[:1] * 2.0], 0),
    "stack": lambda x: gn.stack([x, x * x], -1),
    "split": lambda x: x.split([1, 2])[1] * x.chunk(3)[0],
    "flip": lambda x: x.flip((0, 1)),
    "repeat": lambda x: x.repeat(2, 1, 2),
    "pad_constant": lambda x: gn.pad(x, (1, -1, 0, 2)),
    "pad_reflect": lambda x: gn.pad(x, (2, 1), mode="reflect"),
    "masked_fill": lambda x: x.masked_fill(gn.tensor([True, False, True]), 0.5),
    "gather": lambda x: x.gather(1, gn.tensor([[0, 0], [2, 1], [1, 1]])),
    "scatter_add": lambda x: x.scatter_add(0, gn.tensor([[1, 0, 1]]), x[1:2] * 3.0),
    "index_select": lambda x: x.index_select(1, gn.tensor([2, 2, 0])),
    "tril_triu": lambda x: x.tril(-1) + x.triu(1) * 2.0,
    "scatter": lambda x: x.scatter(0, gn.tensor([[2, 0, 1]]), x[1:2] * x[0:1]),
    "scatter_reduce_mean": lambda x: x.scatter_reduce(1, gn.tensor([[0, 0], [1, 2], [2, 2]]), x[:, :2] * 2.0, "mean"),
    "index_add": lambda x: x.index_add(0, gn.tensor([0, 0]), x[1:] * x[:2]),
    "masked_select": lambda x: gn.masked_select(x, gn.tensor([True, False, True])),
    "unfold": lambda x: x.unfold(1, 2, 1),
    "repeat_interleave": lambda x: x.repeat_interleave(2, dim=0),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_order_gradcheck(name):
    f = SECOND_ORDER[name]

    def first_grad(x):
        with gn.enable_grad():  # gradcheck evaluates fn under no_grad for its finite differences
            (g,) = gn.autograd.grad((f(x) ** 3).sum(), x, create_graph=True)
        return g

    x = gn.tensor(np.random.default_rng(0).standard_normal((3, 3)), requires_grad=True)
    gn.autograd.gradcheck(first_grad, [x])


def test_scatter_indexing_errors():
    x = gn.zeros(3, 4)
    with _raises(IndexError, "scatter", "index 4 is out of range"):
        x.scatter(1, gn.tensor([[4]]), 1.0)
    with _raises(ValueError, "scatter_reduce", "reduce must be one of"):
        x.scatter_reduce(0, gn.tensor([[0]]), gn.ones(1, 1), "median")
    with _raises(NotImplementedError, "scatter_reduce", "prod"):
        gn.zeros(2, requires_grad=True).scatter_reduce(0, gn.tensor([0]), gn.ones(1), "prod")
    with _raises(ValueError, "index_add", r"source must have shape \(2, 4\)"):
        x.index_add(0, gn.tensor([0, 1]), gn.ones(2, 3))
    # another dtype is refused, not converted (PyTorch refuses it too)
    with _raises(TypeError, "scatter", "src dtype float64", "input dtype float32"):
        x.scatter(0, gn.tensor([[0]]), gn.ones(1, 1, dtype=gn.float64))
    with _raises(TypeError, "scatter", "src dtype float16"):
        x.scatter(0, gn.tensor([[0]]), gn.ones(1, 1, dtype=gn.float16), reduce="multiply")
    with _raises(TypeError, "index_add", "source dtype int64", "input dtype float32"):
        x.index_add_(0, gn.tensor([0]), gn.ones(1, 4, dtype=gn.int64))
    with _raises(TypeError, "index_copy", "source dtype float64"):
        x.index_copy(0, gn.tensor([0]), gn.ones(1, 4, dtype=gn.float64))
    with _raises(TypeError, "masked_select", "bool"):
        gn.masked_select(x, gn.ones(3, 4))
    with _raises(IndexError, "select", "index 4"):
        x.select(1, 4)
    with _raises(IndexError, "narrow", "start 3 and length 2"):
        x.narrow(0, 3, 2)
    with _raises(ValueError, "repeat_interleave", "one entry per element"):
        x.repeat_interleave(gn.tensor([1, 2]), dim=1)
    with _raises(ValueError, "unfold", "size 5"):
        x.unfold(1, 5, 1)
    with _raises(ValueError, "meshgrid", "indexing"):
        gn.meshgrid(gn.ones(2), indexing="ab")
    with _raises(ValueError, "unbind", "0-d"):
        gn.unbind(gn.tensor(1.0))


def test_inplace_scatter_and_index_ops_match_torch():
    results = []
    for lib in (gn, torch):
        x = lib.zeros(3, 4)
        x.scatter_(1, lib.tensor([[1], [3], [0]]), 1.0)
        x.index_add_(0, lib.tensor([2, 2]), lib.ones(2, 4))
        x.index_fill_(1, lib.tensor([0]), -1.0)
        x.scatter_add_(0, lib.tensor([[0, 1, 2, 0]]), lib.full((1, 4), 5.0))
        results.append(np.asarray(x.tolist()))
    np.testing.assert_array_equal(*results)

"""Padding, pixel and channel shuffles, fold/unfold, max unpooling, LP pooling, local response norm, bilinear,
embedding bags, grid sampling, the extra dropouts and the lazy layers, against PyTorch (parity rows with
float64 gradcheck, forward mode, second derivatives), with their modules and bad input."""
import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.autograd.forward_ad import jvp
from parity import Const, both, run_case
from test_reduction import check_second_order


def _pool_indices(shape, kernel):
    """Indices of a max pool over random distinct values (the Const input of max_unpool)."""
    def make(rng):
        x = rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)
        return torch.nn.functional.max_pool2d(torch.tensor(x), kernel, return_indices=True)[1].numpy()

    return Const(make)


BAG_IDS = Const(lambda rng: np.array([1, 2, 4, 5, 4, 3, 2, 9, 0]))
BAG_OFFSETS = Const(lambda rng: np.array([0, 3, 3, 7]))
GRID_THETA = Const(lambda rng: np.array([[[0.9, -0.3, 0.1], [0.2, 1.1, -0.2]], [[1.3, 0.4, 0.3], [-0.5, 0.7, 0.2]]]))


def f(name, *args, **kw):
    return lambda lib, *a: getattr(lib.nn.functional, name)(*a, *args, **kw)


CASES = [
    both("pixel_shuffle", f("pixel_shuffle", 2), [(2, 8, 3, 2)]),
    both("pixel_unshuffle", f("pixel_unshuffle", 2), [(2, 3, 4, 6)]),
    both("pixel_shuffle_5d", f("pixel_shuffle", 3), [(2, 1, 9, 2, 2)]),
    both("channel_shuffle", f("channel_shuffle", 3), [(2, 6, 2, 2)]),
    both("unfold", f("unfold", (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), [(2, 3, 7, 6)]),
    both("unfold_unbatched", f("unfold", 2), [(2, 4, 3)]),
    both("fold", f("fold", (5, 6), (2, 3), padding=(1, 0), stride=(1, 2)), [(2, 12, 12)]),
    both("fold_overlap", f("fold", 4, 2), [(8, 9)]),
    both("max_unpool2d", lambda lib, x, i: lib.nn.functional.max_unpool2d(x, lib.tensor(i), 2, output_size=(5, 5)),
         [(2, 3, 2, 2), _pool_indices((2, 3, 5, 5), 2)]),
    both("lp_pool2d", f("lp_pool2d", 2, (2, 3), stride=1), [(2, 3, 4, 5)], domain="positive"),
    both("lp_pool1d_p3", f("lp_pool1d", 3, 2), [(2, 3, 6)], domain="positive"),
    both("lp_pool2d_ceil", f("lp_pool2d", 1.5, 2, ceil_mode=True), [(1, 2, 5, 5)], domain="positive"),
    both("local_response_norm", f("local_response_norm", 3, alpha=0.3, beta=0.6, k=1.5), [(2, 5, 3, 2)]),
    both("local_response_norm_3d", f("local_response_norm", 2, alpha=0.5), [(2, 4, 6)]),
    both("bilinear", f("bilinear"), [(4, 3), (4, 2), (5, 3, 2), (5,)]),
    both("bilinear_lead_dims", f("bilinear"), [(2, 3, 3), (2, 3, 2), (4, 3, 2)]),
    both("embedding_bag_mean", lambda lib, w, i, o: lib.nn.functional.embedding_bag(lib.tensor(i), w, lib.tensor(o)),
         [(10, 3), BAG_IDS, BAG_OFFSETS]),
    both("embedding_bag_sum_weights_padding", lambda lib, w, p, i, o: lib.nn.functional.embedding_bag(
        lib.tensor(i), w, lib.tensor(o), mode="sum", per_sample_weights=p, padding_idx=4), [(10, 3), (9,), BAG_IDS,
                                                                                          BAG_OFFSETS]),
    both("embedding_bag_max_2d", lambda lib, w: lib.nn.functional.embedding_bag(
        lib.tensor([[1, 2, 3], [4, 3, 0]]), w, mode="max"), [(6, 4)], domain="distinct"),
    both("embedding_bag_last_offset", lambda lib, w: lib.nn.functional.embedding_bag(
        lib.tensor([1, 2, 4, 5]), w, lib.tensor([0, 1, 4]), include_last_offset=True), [(6, 2)]),
    both("affine_grid", lambda lib, t: lib.nn.functional.affine_grid(t, (2, 3, 4, 5), align_corners=False),
         [(2, 2, 3)]),
    both("affine_grid_3d", lambda lib, t: lib.nn.functional.affine_grid(t, (1, 1, 2, 3, 2), align_corners=True),
         [(1, 3, 4)]),
]


def _sampled(mode, corners):
    def sample(lib, x, theta):
        grid = lib.nn.functional.affine_grid(theta * 1.2, (2, 3, 4, 3), align_corners=corners)
        return lib.nn.functional.grid_sample(x, grid, padding_mode=mode, align_corners=corners)

    return sample


for _mode in ("zeros", "border", "reflection"):
    for _corners in (False, True):
        CASES.append(both(f"grid_sample_{_mode}_{_corners}", _sampled(_mode, _corners), [(2, 3, 5, 4), (2, 2, 3)]))
CASES.append(both("grid_sample_3d_reflection", lambda lib, x, t: lib.nn.functional.grid_sample(
    x, lib.nn.functional.affine_grid(t, (1, 2, 2, 3, 2), align_corners=False), padding_mode="reflection",
    align_corners=False), [(1, 2, 3, 4, 3), (1, 3, 4)]))
CASES.append(both("grid_sample_3d_zeros_corners", lambda lib, x, t: lib.nn.functional.grid_sample(
    x, lib.nn.functional.affine_grid(t * 1.3, (2, 1, 2, 2, 3), align_corners=True), align_corners=True),
    [(2, 1, 3, 3, 4), (2, 3, 4)]))
CASES.append(both("grid_sample_nearest", lambda lib, x, t: lib.nn.functional.grid_sample(
    x, lib.nn.functional.affine_grid(lib.tensor(t, dtype=x.dtype), (2, 3, 4, 3), align_corners=False), mode="nearest"),
    [(2, 3, 5, 4), GRID_THETA]))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


JVP = {
    "unfold": lambda lib, x: lib.nn.functional.unfold(x.reshape(1, 1, 3, 4), 2),
    "fold": lambda lib, x: lib.nn.functional.fold(x.reshape(1, 4, 3), (2, 4), 2),
    "pixel_shuffle": lambda lib, x: lib.nn.functional.pixel_shuffle(x.reshape(1, 4, 3, 1), 2),
    "lp_pool": lambda lib, x: lib.nn.functional.lp_pool1d(x.abs() + 0.5, 2, 2),
    "local_response_norm": lambda lib, x: lib.nn.functional.local_response_norm(x.reshape(1, 3, 4), 2),
    "bilinear": lambda lib, x: lib.nn.functional.bilinear(x, x * 2, lib.ones(2, 4, 4, dtype=x.dtype) + x[0, 0]),
    "grid_sample": lambda lib, x: lib.nn.functional.grid_sample(
        x.reshape(1, 1, 3, 4), lib.nn.functional.affine_grid(x[:2, :3].reshape(1, 2, 3) * 0.5, (1, 1, 2, 2),
                                                             align_corners=False), align_corners=False),
    "embedding_bag": lambda lib, x: lib.nn.functional.embedding_bag(lib.tensor([0, 2, 1, 2]), x, lib.tensor([0, 1]),
                                                                    mode="sum"),
    "max_unpool": lambda lib, x: lib.nn.functional.max_unpool1d(x.reshape(1, 3, 4), lib.tensor(
        [[[1, 2, 5, 6], [0, 3, 4, 7], [1, 3, 4, 6]]]), 2),
}


NO_TORCH_FORWARD_AD = ("grid_sample", "embedding_bag")  # torch.func.jvp refuses them: central differences of torch


@pytest.mark.parametrize("name", list(JVP))
def test_jvp_matches_torch_func(name):
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    _, ours = jvp(lambda t: JVP[name](gn, t), (gn.tensor(x),), (gn.tensor(v),))
    if name in NO_TORCH_FORWARD_AD:
        h = 1e-6
        theirs = (JVP[name](torch, torch.tensor(x + h * v)) - JVP[name](torch, torch.tensor(x - h * v))) / (2 * h)
        np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-6, atol=1e-8)
        return
    _, theirs = torch.func.jvp(lambda t: JVP[name](torch, t), (torch.tensor(x),), (torch.tensor(v),))
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["unfold", "fold", "lp_pool", "local_response_norm", "grid_sample", "max_unpool"])
def test_second_order_matches_torch(name):
    check_second_order(lambda t: JVP[name](gn, t) ** 2, [(3, 4)], torch_fn=lambda t: JVP[name](torch, t) ** 2)


# ---- modules ----------------------------------------------------------------------------------------
PADS = [(f"{kind}Pad{d}d", args, (2, 3) + (4,) * d) for d in (1, 2, 3)
        for kind, args in (("Zero", (1,)), ("Constant", ((1, 2) * d, 2.5)), ("Reflection", ((2, 1) * d,)),
                           ("Replication", (2,)), ("Circular", ((1, 3) * d,)))]
MODULES = PADS + [
    ("PixelShuffle", (2,), (1, 8, 2, 3)), ("PixelUnshuffle", (2,), (1, 2, 4, 2)),
    ("ChannelShuffle", (2,), (1, 4, 2, 2)),
    ("Unfold", ((2, 2),), (1, 2, 3, 3)), ("Fold", ((3, 3), 2), (1, 8, 4)), ("LPPool2d", (2, 2), (1, 2, 4, 4)),
    ("LPPool1d", (1.5, 3, 1), (1, 2, 5)), ("LocalResponseNorm", (3,), (2, 6, 2)),
]


@pytest.mark.parametrize("name, args, shape", MODULES, ids=[m[0] for m in MODULES])
def test_modules_match_torch(name, args, shape):
    x = np.abs(np.random.default_rng(0).standard_normal(shape)).astype(np.float32) + 0.1
    ours, theirs = getattr(gn.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(ours(gn.tensor(x)).array, theirs(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)


def test_max_unpool_modules_invert_max_pool():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    for d, shape in ((1, (2, 3, 7)), (2, (2, 3, 6, 6)), (3, (1, 2, 4, 4, 4))):
        x = np.random.default_rng(d).standard_normal(shape).astype(np.float32)
        pool_g, pool_t = getattr(gn.nn, f"MaxPool{d}d")(2, return_indices=True), getattr(torch.nn, f"MaxPool{d}d")(
            2, return_indices=True)
        unpool_g, unpool_t = getattr(gn.nn, f"MaxUnpool{d}d")(2), getattr(torch.nn, f"MaxUnpool{d}d")(2)
        assert repr(unpool_g) == repr(unpool_t)
        (yg, ig), (yt, it) = pool_g(gn.tensor(x)), pool_t(torch.tensor(x))
        np.testing.assert_array_equal(unpool_g(yg, ig, output_size=shape).array,
                                      unpool_t(yt, it, output_size=shape).numpy())


def test_bilinear_and_embedding_bag_modules():
    torch.manual_seed(0)
    for ours, theirs in ((gn.nn.Bilinear(3, 2, 4), torch.nn.Bilinear(3, 2, 4)),
                         (gn.nn.EmbeddingBag(10, 3, mode="max", padding_idx=2), torch.nn.EmbeddingBag(
                             10, 3, mode="max", padding_idx=2))):
        assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    bound = 1 / np.sqrt(3)
    w = gn.nn.Bilinear(3, 2, 400).weight.array
    assert -bound <= w.min() and w.max() <= bound and w.max() > 0.9 * bound
    assert np.all(gn.nn.EmbeddingBag(5, 2, padding_idx=1).weight.array[1] == 0)
    table = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    ours = gn.nn.EmbeddingBag.from_pretrained(gn.tensor(table), mode="sum")
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), mode="sum")
    assert not ours.weight.requires_grad and repr(ours) == repr(theirs)
    ids, offsets = np.array([1, 5, 2, 2]), np.array([0, 2])
    np.testing.assert_allclose(ours(gn.tensor(ids), gn.tensor(offsets)).array,
                               theirs(torch.tensor(ids), torch.tensor(offsets)).numpy(), rtol=1e-6)


def test_dropout_variants():
    gn.manual_seed(0)
    x = gn.randn(8, 16, 3, 4, 5)
    y = F.dropout3d(x, 0.5, training=True).array
    zeroed = np.all(y == 0, axis=(2, 3, 4))
    assert 0.3 < zeroed.mean() < 0.7  # whole channels dropped
    np.testing.assert_allclose(y[~zeroed], x.array[~zeroed] * 2, rtol=1e-6)
    big = gn.randn(400000)
    for fn in (F.alpha_dropout, F.feature_alpha_dropout):
        out = fn(big.reshape(2000, 200), 0.2, training=True).array
        assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.02  # SELU's fixed point kept
        assert fn(big, 0.2) is big  # identity when not training (PyTorch's default training=False)
    g = gn.randn(4, 6, 3, requires_grad=True)
    out = F.feature_alpha_dropout(g, 0.5, training=True)
    out.sum().backward()
    dropped = np.all(g.grad.array == 0, axis=2)
    assert dropped.any() and not dropped.all()
    for name in ("Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
        assert repr(getattr(gn.nn, name)(0.3)) == repr(getattr(torch.nn, name)(0.3))
        assert getattr(gn.nn, name)(0.3).eval()(x) is x


@pytest.mark.parametrize("name, args, shape", [("LazyLinear", (3,), (2, 5)), ("LazyConv2d", (4, 3), (2, 2, 5, 5)),
                                               ("LazyConv1d", (4, 2, 1, 0, 1, 2), (3, 4, 6)),
                                               ("LazyConvTranspose2d", (3, 2, 2), (1, 2, 3, 3))])
def test_lazy_layers(name, args, shape):
    ours, theirs = getattr(gn.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    opt = gn.optim.SGD(ours.parameters(), lr=0.1)  # made before the shapes are known, as PyTorch allows
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    theirs(torch.tensor(x))
    out = ours(gn.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__ and repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    ours.load_state_dict({k: gn.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(ours(gn.tensor(x)).array, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    out.sum().backward()
    before = ours.weight.array.copy()
    opt.step()
    assert not np.array_equal(before, ours.weight.array)
    fresh = getattr(gn.nn, name)(*args)
    fresh.load_state_dict(ours.state_dict())  # a lazy layer takes its shapes from a checkpoint
    np.testing.assert_array_equal(fresh.weight.array, ours.weight.array)


def test_errors():
    with pytest.raises(ValueError, match="pixel_shuffle: expected an input"):
        F.pixel_shuffle(gn.ones(1, 3, 2, 2), 2)
    with pytest.raises(ValueError, match="fold: .*expected size of input's dimension 2 to match"):
        F.fold(gn.ones(1, 4, 5), (3, 3), 2)
    with pytest.raises(ValueError, match="unfold: expected a 3-D"):
        F.unfold(gn.ones(2, 2), 2)
    with pytest.raises(IndexError, match="max_unpool2d: found an invalid max index 30"):
        F.max_unpool2d(gn.ones(1, 1, 2, 2), gn.tensor([[[[0, 1], [2, 30]]]]), 2)
    with pytest.raises(ValueError, match="embedding_bag: per_sample_weights .* only supported for mode='sum'"):
        F.embedding_bag(gn.tensor([1, 2]), gn.ones(3, 2), gn.tensor([0]), per_sample_weights=gn.ones(2))
    with pytest.raises(ValueError, match="embedding_bag: offsets\\[0\\] has to be 0"):
        F.embedding_bag(gn.tensor([1, 2]), gn.ones(3, 2), gn.tensor([1]))
    with pytest.raises(ValueError, match="grid_sample: expected input \\(N, C, H, W\\) with grid"):
        F.grid_sample(gn.ones(1, 1, 2, 2), gn.zeros(1, 1, 1, 3))
    with pytest.raises(ValueError, match="grid_sample: mode must be 'bilinear' or 'nearest'"):
        F.grid_sample(gn.ones(1, 1, 2, 2), gn.zeros(1, 1, 1, 2), mode="bicubic")
    with pytest.raises(ValueError, match="affine_grid: expected a 4-D size"):
        F.affine_grid(gn.ones(1, 2, 2), (1, 1, 3, 3))
    with pytest.raises(ValueError, match="local_response_norm: expected 3D or higher"):
        F.local_response_norm(gn.ones(2, 3), 2)
    with pytest.raises(ValueError, match="CircularPad2d: padding must be an int or a tuple of 4 ints"):
        gn.nn.CircularPad2d((1, 2))
    with pytest.raises(ValueError, match="bilinear: inputs of sizes 3 and 2 do not match"):
        F.bilinear(gn.ones(2, 3), gn.ones(2, 2), gn.ones(4, 2, 2))

"""glassnet.transforms against small hand-computed examples."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import Tensor
from glassnet import transforms as T

IMG = np.arange(1, 10, dtype=np.uint8).reshape(3, 3)  # [[1 2 3] [4 5 6] [7 8 9]]


# ---- ToTensor ----------------------------------------------------------------------------------
def test_to_tensor_gray_scaling_and_layout():
    img = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    out = T.ToTensor()(img)
    assert isinstance(out, Tensor) and out.shape == (1, 2, 2) and out.dtype == np.float32
    np.testing.assert_array_equal(out.array, np.array([[[0.0, 1.0], [0.2, 0.4]]], dtype=np.float32))


def test_to_tensor_channels_last_to_first():
    img = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)  # H=2, W=3, C=4
    out = T.ToTensor()(img)
    assert out.shape == (4, 2, 3)
    assert out.array[3, 1, 2] == np.float32(img[1, 2, 3]) / np.float32(255)
    np.testing.assert_array_equal(out.array, img.transpose(2, 0, 1).astype(np.float32) / np.float32(255))


def test_to_tensor_non_uint8_keeps_values_and_batch_form():
    f = np.full((2, 2), 3.5, dtype=np.float64)
    out = T.ToTensor()(f)
    assert out.dtype == np.float64 and out.shape == (1, 2, 2) and np.all(out.array == 3.5)
    batch = np.stack([IMG, IMG * 2])
    b = T.ToTensor().apply_batch(batch)
    assert b.shape == (2, 1, 3, 3)
    np.testing.assert_array_equal(b.array[1], T.ToTensor()(IMG * 2).array)
    with pytest.raises(TypeError, match="ToTensor"):
        T.ToTensor()(gn.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="ToTensor"):
        T.ToTensor()(np.zeros((1, 2, 2, 3), np.uint8))


# ---- Normalize ---------------------------------------------------------------------------------
def test_normalize_per_channel():
    x = gn.tensor(np.array([[[1.0, 2.0]], [[3.0, 5.0]]], dtype=np.float32))  # C=2, H=1, W=2
    out = T.Normalize((1.0, 1.0), (2.0, 4.0))(x)
    np.testing.assert_allclose(out.array, [[[0.0, 0.5]], [[0.5, 1.0]]])
    np.testing.assert_array_equal(x.array, [[[1.0, 2.0]], [[3.0, 5.0]]])  # not in place by default
    batch = gn.tensor(np.stack([x.array, 2 * x.array]))
    np.testing.assert_allclose(T.Normalize((1.0, 1.0), (2.0, 4.0)).apply_batch(batch).array[1],
                               [[[0.5, 1.5]], [[1.25, 2.25]]])
    same = T.Normalize((1.0,), (2.0,), inplace=True)(x)
    assert same is x and x.array[0, 0, 1] == 0.5


def test_normalize_errors_and_grad():
    with pytest.raises(TypeError, match="float"):
        T.Normalize((0,), (1,))(gn.zeros(1, 2, 2, dtype=gn.int64))
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize((0,), (0,))(gn.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="expected 1 or 3"):
        T.Normalize((0, 0), (1, 1))(gn.zeros(3, 2, 2))
    with pytest.raises(TypeError, match="ToTensor"):
        T.Normalize((0,), (1,))(np.zeros((1, 2, 2), np.float32))
    x = gn.ones(1, 2, 2, requires_grad=True)
    T.Normalize((0.5,), (0.25,))(x).sum().backward()
    np.testing.assert_allclose(x.grad.array, np.full((1, 2, 2), 4.0))


# ---- crops -------------------------------------------------------------------------------------
PADDED = np.array([[0, 0, 0, 0, 0],
                   [0, 1, 2, 3, 0],
                   [0, 4, 5, 6, 0],
                   [0, 7, 8, 9, 0],
                   [0, 0, 0, 0, 0]], dtype=np.uint8)


def test_random_crop_full_size_after_padding_is_the_padded_image():
    np.testing.assert_array_equal(T.RandomCrop(5, padding=1)(IMG), PADDED)


def test_random_crop_with_padding_fixed_seed():
    crop = T.RandomCrop(3, padding=1)
    windows = {(i, j): PADDED[i:i + 3, j:j + 3] for i in range(3) for j in range(3)}
    gn.manual_seed(11)
    first = crop(IMG)
    gn.manual_seed(11)
    assert np.array_equal(crop(IMG), first)  # same seed, same crop
    assert first.dtype == np.uint8 and first.shape == (3, 3)
    assert any(np.array_equal(first, w) for w in windows.values())
    seen = set()
    gn.manual_seed(0)
    for _ in range(200):
        out = crop(IMG)
        seen |= {k for k, w in windows.items() if np.array_equal(out, w)}
    assert seen == set(windows)  # every offset is reachable, nothing else is produced


def test_random_crop_padding_modes_and_tensor_layout():
    np.testing.assert_array_equal(T.RandomCrop(5, padding=1, padding_mode="edge")(IMG),
                                  np.pad(IMG, 1, mode="edge"))
    np.testing.assert_array_equal(T.RandomCrop(5, padding=1, padding_mode="reflect")(IMG),
                                  [[5, 4, 5, 6, 5], [2, 1, 2, 3, 2], [5, 4, 5, 6, 5], [8, 7, 8, 9, 8],
                                   [5, 4, 5, 6, 5]])
    np.testing.assert_array_equal(T.RandomCrop((3, 5), padding=(1, 0), fill=7)(IMG),
                                  [[7, 1, 2, 3, 7], [7, 4, 5, 6, 7], [7, 7, 8, 9, 7]])
    t = gn.tensor(np.stack([IMG, IMG + 10]).astype(np.float32))  # (C=2, H, W)
    out = T.RandomCrop(5, padding=1)(t)
    assert isinstance(out, Tensor) and out.shape == (2, 5, 5)
    np.testing.assert_array_equal(out.array[1, 1:4, 1:4], IMG + 10)
    with pytest.raises(ValueError, match="larger than"):
        T.RandomCrop(4)(IMG)


def test_random_crop_batch_is_per_sample():
    batch = np.stack([IMG + 10 * k for k in range(16)])  # (16, 3, 3)
    gn.manual_seed(0)
    out = T.RandomCrop(2).apply_batch(batch)
    assert out.shape == (16, 2, 2)
    offsets = set()
    for k in range(16):
        match = [(i, j) for i in range(2) for j in range(2)
                 if np.array_equal(out[k], batch[k, i:i + 2, j:j + 2])]
        assert match
        offsets.add(match[0])
    assert len(offsets) > 1  # independent draws per sample


def test_center_crop():
    np.testing.assert_array_equal(T.CenterCrop(1)(IMG), [[5]])
    np.testing.assert_array_equal(T.CenterCrop((1, 3))(IMG), [[4, 5, 6]])
    np.testing.assert_array_equal(T.CenterCrop(5)(IMG), PADDED)


# ---- flips -------------------------------------------------------------------------------------
def test_flips():
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(IMG), [[3, 2, 1], [6, 5, 4], [9, 8, 7]])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(IMG), IMG)
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(IMG), [[7, 8, 9], [4, 5, 6], [1, 2, 3]])
    t = gn.tensor(IMG[None].astype(np.float32))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(t).array[0], IMG[:, ::-1])
    batch = np.stack([IMG] * 32)
    gn.manual_seed(0)
    out = T.RandomHorizontalFlip().apply_batch(batch)
    flipped = [np.array_equal(o, IMG[:, ::-1]) for o in out]
    kept = [np.array_equal(o, IMG) for o in out]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)


# ---- affine ------------------------------------------------------------------------------------
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_random_affine_zero_is_identity(interpolation):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(7, 6), dtype=np.uint8)
    aff = T.RandomAffine(0, translate=(0.0, 0.0), interpolation=interpolation)
    np.testing.assert_array_equal(aff(img), img)
    batch = rng.integers(0, 256, size=(4, 5, 5, 3), dtype=np.uint8)  # (N, H, W, C)
    np.testing.assert_array_equal(aff.apply_batch(batch), batch)
    t = gn.tensor(rng.standard_normal((2, 5, 4)).astype(np.float32))
    np.testing.assert_array_equal(aff(t).array, t.array)


def test_random_affine_quarter_turn_is_clockwise():
    out = T.RandomAffine((90, 90))(IMG)
    np.testing.assert_array_equal(out, [[7, 4, 1], [8, 5, 2], [9, 6, 3]])
    np.testing.assert_array_equal(out, np.rot90(IMG, k=-1))


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_random_affine_translation_is_an_integer_shift(interpolation):
    img = np.arange(1, 26, dtype=np.uint8).reshape(5, 5)

    def shifted(dx, dy):
        out = np.zeros_like(img)
        src = img[max(0, -dy):5 - max(0, dy), max(0, -dx):5 - max(0, dx)]
        out[max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
        return out

    aff = T.RandomAffine(0, translate=(0.4, 0.4), interpolation=interpolation)
    gn.manual_seed(3)
    seen = set()
    for _ in range(40):
        out = aff(img)
        match = [(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3) if np.array_equal(out, shifted(dx, dy))]
        assert match, out
        seen.add(match[0])
    assert len(seen) > 5


def test_random_affine_bilinear_half_pixel_scale():
    # scale 2 about the centre of a 1x3 row: output x samples input at 1 + (x - 1) / 2 -> 0.5, 1, 1.5
    img = np.array([[0.0, 10.0, 20.0]], dtype=np.float32)
    out = T.RandomAffine(0, scale=(2.0, 2.0), interpolation="bilinear")(gn.tensor(img))
    np.testing.assert_allclose(out.array, [[5.0, 10.0, 15.0]])


def test_random_affine_fill_and_reproducibility():
    img = np.full((4, 4), 9, dtype=np.uint8)
    out = T.RandomAffine((45, 45), fill=3)(img)
    assert out[0, 0] == 3 and out[1, 1] == 9  # corners come from outside the image
    aff = T.RandomAffine(30, translate=(0.2, 0.2), scale=(0.8, 1.2), shear=10)
    batch = np.random.default_rng(1).integers(0, 256, size=(8, 6, 6), dtype=np.uint8)
    gn.manual_seed(5)
    a = aff.apply_batch(batch)
    gn.manual_seed(5)
    b = aff.apply_batch(batch)
    assert a.dtype == np.uint8 and a.shape == (8, 6, 6) and np.array_equal(a, b)
    with pytest.raises(ValueError, match="degrees"):
        T.RandomAffine(-5)
    with pytest.raises(ValueError, match="translate"):
        T.RandomAffine(0, translate=(1.5, 0))
    with pytest.raises(ValueError, match="interpolation"):
        T.RandomAffine(0, interpolation="cubic")


# ---- Compose and Lambda ------------------------------------------------------------------------
def test_compose_lambda_and_batchable():
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    out = pipeline(np.array([[0, 255]], dtype=np.uint8))
    np.testing.assert_allclose(out.array, [[[-1.0, 1.0]]])
    assert pipeline.batchable
    batch = np.stack([IMG, IMG])
    np.testing.assert_allclose(pipeline.apply_batch(batch).array[1], pipeline(IMG).array)
    with_lambda = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2)])
    assert not with_lambda.batchable
    np.testing.assert_allclose(with_lambda(IMG).array, 2 * T.ToTensor()(IMG).array)
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)
    assert "Normalize" in repr(pipeline)

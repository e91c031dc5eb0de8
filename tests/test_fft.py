"""torch.fft and complex tensors: parity with PyTorch (values, and gradients through complex values under
PyTorch's convention), float64 gradcheck through real outputs, bad inputs."""
import numpy as np
import pytest
import torch

import glassnet as gn
from parity import Case, Const, both, run_case


def fft_case(name, op, inputs, **kw):
    """op(fft_namespace, lib, *args) run with (glassnet.fft, glassnet) and (torch.fft, torch)."""
    return Case(name, lambda *a: op(gn.fft, gn, *a), inputs, torch_fn=lambda *a: op(torch.fft, torch, *a), **kw)


def parts(lib, z):
    return lib.view_as_real(z)


CASES = [
    fft_case("rfft_abs", lambda F, lib, x: F.rfft(x).abs(), [(2, 8)]),
    fft_case("rfft_parts_odd_length", lambda F, lib, x: parts(lib, F.rfft(x)), [(7,)]),
    fft_case("rfft_n_pad_ortho", lambda F, lib, x: parts(lib, F.rfft(x, n=10, norm="ortho")), [(3, 6)]),
    fft_case("rfft_n_trim_forward_dim0", lambda F, lib, x: parts(lib, F.rfft(x, n=4, dim=0, norm="forward")),
             [(6, 3)]),
    fft_case("fft_real_input", lambda F, lib, x: parts(lib, F.fft(x)), [(2, 5)]),
    fft_case("fft_complex_input_n", lambda F, lib, a, b: parts(lib, F.fft(lib.complex(a, b), n=6)), [(3, 4), (3, 4)]),
    fft_case("ifft", lambda F, lib, a, b: parts(lib, F.ifft(lib.complex(a, b), norm="ortho")), [(5,), (5,)]),
    fft_case("irfft_even", lambda F, lib, a, b: F.irfft(lib.complex(a, b)), [(2, 5), (2, 5)]),
    fft_case("irfft_odd_n", lambda F, lib, a, b: F.irfft(lib.complex(a, b), n=7), [(4,), (4,)]),
    fft_case("irfft_n_pads_bins_forward", lambda F, lib, a, b: F.irfft(lib.complex(a, b), n=12, norm="forward"),
             [(3,), (3,)]),
    fft_case("rfft_irfft_roundtrip_filter", lambda F, lib, x, h: F.irfft(F.rfft(x) * h, n=8), [(2, 8), (5,)]),
    fft_case("fft2", lambda F, lib, x: parts(lib, F.fft2(x)), [(2, 3, 4)]),
    fft_case("ifft2_s", lambda F, lib, a, b: parts(lib, F.ifft2(lib.complex(a, b), s=(4, 2))), [(3, 3), (3, 3)]),
    fft_case("rfft2", lambda F, lib, x: parts(lib, F.rfft2(x)), [(4, 6)]),
    fft_case("irfft2", lambda F, lib, a, b: F.irfft2(lib.complex(a, b)), [(4, 3), (4, 3)]),
    fft_case("fftn_dims", lambda F, lib, x: parts(lib, F.fftn(x, dim=(0, 2))), [(2, 3, 4)]),
    fft_case("rfftn_irfftn", lambda F, lib, x: F.irfftn(F.rfftn(x), s=(3, 6)), [(3, 6)]),
    fft_case("fftshift_ifftshift", lambda F, lib, x: (F.fftshift(x), F.ifftshift(x, dim=1)), [(3, 5)]),
    fft_case("fftfreq_rfftfreq", lambda F, lib, c: (F.fftfreq(5), F.rfftfreq(6, d=0.5), F.fftfreq(4, 0.1)),
             [Const(lambda r: 0)], gradcheck=False),
    # complex operations
    both("real_imag", lambda lib, a, b: (lib.real(lib.complex(a, b)), lib.imag(lib.complex(a, b))), [(3,), (3,)]),
    both("angle_abs", lambda lib, a, b: (lib.angle(lib.complex(a, b)), lib.complex(a, b).abs()), [(4,), (4,)],
         domain="nonzero"),
    both("angle_real", lambda lib, a: lib.angle(a) + a, [(5,)], domain="nonzero"),
    both("conj", lambda lib, a, b: lib.view_as_real(lib.complex(a, b).conj() * lib.complex(b, a)), [(3,), (3,)]),
    both("complex_mul_div", lambda lib, a, b, c: lib.view_as_real(lib.complex(a, b) * lib.complex(c, a) /
                                                                    lib.complex(c, b)), [(4,), (4,), (4,)],
         domain="nonzero"),
    both("complex_with_real_and_scalar", lambda lib, a, b, r: lib.view_as_real((lib.complex(a, b) + r) * r * 2j - 1),
         [(3,), (3,), (3,)]),
    both("complex_sum_mean", lambda lib, a, b: lib.view_as_real(lib.complex(a, b).sum(0) + lib.complex(a, b).mean(0)),
         [(3, 2), (3, 2)]),
    both("view_as_complex", lambda lib, x: lib.view_as_complex(x).abs(), [(3, 2)]),
    both("polar", lambda lib, r, t: lib.view_as_real(lib.polar(r, t)), [(4,), (4,)], domain="positive"),
    both("power_spectrum", lambda lib, x: lib.fft.rfft(x).abs() ** 2, [(2, 6)]),
    # stft: the spectrogram of a batch and of one signal
    both("stft_magnitude", lambda lib, x: lib.stft(x, 8, return_complex=True).abs(), [(2, 20)]),
    both("stft_parts_window_no_center", lambda lib, x, w: lib.stft(x, 8, hop_length=3, win_length=6, window=w,
                                                                  center=False, return_complex=False), [(17,), (6,)]),
    both("stft_normalized_constant_pad", lambda lib, x: lib.stft(x, 6, hop_length=2, pad_mode="constant",
                                                                 normalized=True, return_complex=True).abs(), [(12,)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    run_case(case)


def test_fft_output_dtypes_follow_input_precision():
    for dtype, complex_dtype in ((gn.float32, np.complex64), (gn.float64, np.complex128)):
        x = gn.zeros(8, dtype=dtype)
        assert gn.fft.rfft(x).dtype == complex_dtype and gn.fft.fft(x).dtype == complex_dtype
        assert gn.fft.irfft(gn.fft.rfft(x)).dtype == dtype


def test_irfft_second_order_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(8)
    results = []
    for lib in (gn, torch):
        t = lib.tensor(x, requires_grad=True)
        grad = gn.autograd.grad if lib is gn else torch.autograd.grad
        y = (lib.fft.irfft(lib.fft.rfft(t * t) * 1.5, n=8) ** 2).sum() + lib.fft.rfft(t).abs().sum()
        (g,) = grad(y, [t], create_graph=True)
        (h,) = grad((g ** 2).sum(), [t])
        results.append(np.asarray(h.tolist()))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-8, atol=1e-10)


def test_fft_jvp_matches_torch_func():
    from glassnet.autograd.forward_ad import jvp

    rng = np.random.default_rng(1)
    x, v = rng.standard_normal(6), rng.standard_normal(6)
    _, ours = jvp(lambda t: gn.fft.irfft(gn.fft.rfft(t) * 2.0, n=6), (gn.tensor(x),), (gn.tensor(v),))
    _, theirs = torch.func.jvp(lambda t: torch.fft.irfft(torch.fft.rfft(t) * 2.0, n=6), (torch.tensor(x),),
                               (torch.tensor(v),))
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-10)


@pytest.mark.parametrize("call, error, words", [
    (lambda: gn.fft.rfft(gn.tensor(1.0)), ValueError, "fft.rfft: expected a tensor with at least one dimension"),
    (lambda: gn.fft.fft(gn.ones(4), norm="half"), ValueError, "fft.fft: norm must be"),
    (lambda: gn.fft.rfft(gn.ones(4), n=0), ValueError, "fft.rfft: n must be a positive int"),
    (lambda: gn.fft.rfft(gn.fft.fft(gn.ones(4))), TypeError, "fft.rfft: expected a real input"),
    (lambda: gn.exp(gn.fft.fft(gn.ones(4))), TypeError, "exp: complex tensors are not supported"),
    (lambda: gn.fft.fft(gn.ones(4)) ** 2, TypeError, r"pow: complex tensors are not supported .*abs\(\) \*\* 2"),
    (lambda: gn.imag(gn.ones(2)), TypeError, "imag: expected a complex tensor"),
    (lambda: gn.view_as_complex(gn.ones(3)), ValueError, "view_as_complex: .*last dim has size 2"),
    (lambda: gn.stft(gn.ones(16), 8), ValueError, "stft: give return_complex"),
    (lambda: gn.fft.fftn(gn.ones(2, 2), s=(2,), dim=(0, 1)), ValueError, "must have the same length"),
])
def test_bad_inputs(call, error, words):
    with pytest.raises(error, match=words):
        call()

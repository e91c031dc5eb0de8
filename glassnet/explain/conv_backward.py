"""The backward pass of a 2-D convolution is two more convolutions.

Forward (cross-correlation, as in every deep-learning library), stride s, zero padding p:

    y[n, o, i, j] = b[o] + sum_{c, u, v} xp[n, c, s*i + u, s*j + v] * w[o, c, u, v]      (xp: x padded by p)

Each x value meets each kernel weight once per output position it feeds, so by the chain rule:

  dL/dx  = the FULL correlation of dy with the kernel flipped in space and with its in/out channels
           swapped: dx = corr(pad(dilate(dy, s), k - 1), flip(w)^T), then p cropped from each side.
           dilate puts s - 1 zeros between the dy values (the positions the stride skipped).
           This is exactly conv_transpose2d(dy, w, stride=s, padding=p): the transposed convolution.
  dL/dw  = the correlation of the input with the output gradient:
           dw[o, c, u, v] = sum_{n, i, j} xp[n, c, s*i + u, s*j + v] * dy[n, o, i, j]
  dL/db  = dy summed over batch and positions.

Below, both formulas are computed directly in NumPy and compared with autograd's gradients.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _corr(x, w):
    """Valid cross-correlation, stride 1: x (N, C, H, W), w (O, C, kh, kw) -> (N, O, H-kh+1, W-kw+1)."""
    windows = sliding_window_view(x, w.shape[2:], axis=(2, 3))  # (N, C, H', W', kh, kw)
    return np.einsum("nchwuv,ocuv->nohw", windows, w)


def input_grad_by_full_correlation(dy, w, stride, padding, input_hw):
    """dx from dy by dilating, padding by k - 1, correlating with the flipped, channel-swapped kernel."""
    n, o, ph, pw = dy.shape
    kh, kw = w.shape[2:]
    s, p = stride, padding
    dilated = np.zeros((n, o, (ph - 1) * s + 1, (pw - 1) * s + 1), dy.dtype)
    dilated[:, :, ::s, ::s] = dy
    # rows/columns of the padded input that the last window did not reach get zero gradient
    extra_h = input_hw[0] + 2 * p - kh - (ph - 1) * s
    extra_w = input_hw[1] + 2 * p - kw - (pw - 1) * s
    full = np.pad(dilated, ((0, 0), (0, 0), (kh - 1, kh - 1 + extra_h), (kw - 1, kw - 1 + extra_w)))
    flipped = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, O, kh, kw)
    dxp = _corr(full, flipped)
    return dxp[:, :, p:p + input_hw[0], p:p + input_hw[1]]


def weight_grad_by_correlation(x, dy, stride, padding, kernel_hw):
    """dw[o, c, u, v] = sum over n, i, j of xp[n, c, s*i + u, s*j + v] dy[n, o, i, j]."""
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    ph, pw = dy.shape[2:]
    span = ((ph - 1) * s + 1, (pw - 1) * s + 1)
    windows = sliding_window_view(xp, span, axis=(2, 3))[:, :, :kernel_hw[0], :kernel_hw[1], ::s, ::s]
    return np.einsum("ncuvij,noij->ocuv", windows, dy)


def check(x_shape=(2, 3, 7, 7), w_shape=(4, 3, 3, 3), stride=1, padding=0, seed=0):
    """Autograd's dx, dw, db for conv2d against the formulas; returns the max absolute differences."""
    import glassnet as gn
    import glassnet.nn.functional as F

    rng = np.random.default_rng(seed)
    x = gn.tensor(rng.standard_normal(x_shape), requires_grad=True)
    w = gn.tensor(rng.standard_normal(w_shape), requires_grad=True)
    b = gn.tensor(rng.standard_normal(w_shape[0]), requires_grad=True)
    y = F.conv2d(x, w, b, stride=stride, padding=padding)
    dy = rng.standard_normal(y.shape)
    y.backward(gn.tensor(dy))

    out_pad = tuple(x_shape[2 + k] + 2 * padding - w_shape[2 + k] - (y.shape[2 + k] - 1) * stride for k in (0, 1))
    dx_transposed = F.conv_transpose2d(gn.tensor(dy), w.detach(), stride=stride, padding=padding,
                                       output_padding=out_pad).array
    dx_full = input_grad_by_full_correlation(dy, w.array, stride, padding, x_shape[2:])
    dw_corr = weight_grad_by_correlation(x.array, dy, stride, padding, w_shape[2:])
    db_sum = dy.sum(axis=(0, 2, 3))
    return {
        "dx vs conv_transpose2d(dy, w)": float(np.abs(x.grad.array - dx_transposed).max()),
        "dx vs full corr(dy, flipped w)": float(np.abs(x.grad.array - dx_full).max()),
        "dw vs corr(x, dy)": float(np.abs(w.grad.array - dw_corr).max()),
        "db vs sum(dy)": float(np.abs(b.grad.array - db_sum).max()),
    }


def main(settings=((1, 0), (2, 1)), x_shape=(2, 3, 7, 7), w_shape=(4, 3, 3, 3), seed=0):
    """Print and check the identities for each (stride, padding); return {setting: differences}."""
    print(__doc__.strip().split("\n\n", 1)[1].rsplit("\n\n", 1)[0])
    print(f"\nx {x_shape}, w {w_shape}, float64; max |autograd - formula|:")
    results = {}
    for stride, padding in settings:
        diffs = check(x_shape, w_shape, stride, padding, seed)
        results[(stride, padding)] = diffs
        print(f"\n  stride {stride}, padding {padding}")
        for name, d in diffs.items():
            print(f"    {name:34s} {d:.2e}")
            assert d < 1e-10, f"conv backward identity failed: {name} (stride {stride}, padding {padding}): {d}"
    print("\nall identities hold to float64 rounding")
    return results

"""Convolutions: conv1d/2d/3d and their transposes, each one fused Function with a NumPy backward.

Notation for d spatial dims (shown for one dim; the others are alike), input x (N, C, L), weight
w (O, C/g, k), stride s, dilation r, padding p, groups g, xp = x zero-padded:

    y[n, o, h] = b[o] + sum_{c in group(o), i} xp[n, c, h*s + i*r] * w[o, c', i]      (a cross-correlation)

Three array routines do all the work:

* `_im2col` takes the windows of xp as a strided view (no copy) of shape (N, C, k, out) and lays
  them out once as "columns" (N, g, C/g * k, P), P = number of output positions. The forward is then
  one matrix product (batched over samples and groups): y = w (g, O/g, C/g*k) @ cols, which comes out
  directly in the (N, O, *out) layout.
* the weight gradient contracts the same columns (rebuilt in the backward: one copy, cheaper than
  keeping them alive) with dy over the batch and the output positions:
  dw[o, c', i] = sum_{n,h} dy[n, o, h] * xp[n, c, h*s + i*r]  ->  dy (N, g, O/g, P) @ cols^T, summed over n.
* the input gradient dx[n, c, a] = sum_{o,i,h: h*s + i*r = a + p} dy[n, o, h] * w[o, c', i] is a
  *transposed convolution*: spread dy out with s - 1 zeros between its entries ("stride-dilate"),
  zero-pad it by r*(k - 1) - p on the left, and run an ordinary stride-1 correlation with the kernel
  flipped in space and its in/out channels swapped, wk[c, o', k-1-i] = w[o, c', i]. This is
  `_transposed_conv`; it is conv's input gradient and conv_transpose's forward. Conversely
  conv_transpose's input gradient is an ordinary convolution, and both weight gradients are the
  columns-times-gradient contraction above. So three routines serve both operations.
"""
import builtins
import math
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.function import Function
from ..tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


# ================================================================================================
# argument helpers (also used by pooling and by the nn modules)
# ================================================================================================

def _is_int(v):
    return isinstance(v, (builtins.int, np.integer)) and not isinstance(v, (builtins.bool, np.bool_))


def _ntuple(value, n, name, op):
    """An int or a sequence of n (or 1) ints -> a tuple of n Python ints; a clear error otherwise."""
    if _is_int(value):
        return (builtins.int(value),) * n
    if isinstance(value, (tuple, list)) and builtins.all(_is_int(v) for v in value):
        if len(value) == n:
            return tuple(builtins.int(v) for v in value)
        if len(value) == 1:
            return (builtins.int(value[0]),) * n
    raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")


def _check_positive(values, name, op):
    if builtins.any(v <= 0 for v in values):
        raise ValueError(f"{op}: {name} must be positive, got {values}")


def _check_nonnegative(values, name, op):
    if builtins.any(v < 0 for v in values):
        raise ValueError(f"{op}: {name} must be non-negative, got {values}")


def _window_view(x, kernel, stride, dilation, out, writeable=False):
    """Strided view of the sliding windows over the last d dims of x (no copy; read-only unless asked,
    and only writeable when the windows do not overlap).

    x (*lead, L_1..L_d) -> (*lead, k_1..k_d, out_1..out_d) with
    view[..., i_1..i_d, h_1..h_d] = x[..., h_1*s_1 + i_1*r_1, ..., h_d*s_d + i_d*r_d].
    The caller guarantees (out - 1)*s + (k - 1)*r < L in every dim.
    """
    d = len(kernel)
    lead_strides, sp_strides = x.strides[:-d], x.strides[-d:]
    shape = x.shape[:-d] + tuple(kernel) + tuple(out)
    strides = (lead_strides + tuple(st * r for st, r in zip(sp_strides, dilation))
               + tuple(st * s for st, s in zip(sp_strides, stride)))
    return as_strided(x, shape, strides, writeable=writeable)


_scratch = threading.local()


def _workspace(slot, shape, dtype):
    """A reused scratch array (contents undefined) for a big temporary that dies within one call.

    The padded input and the im2col columns are tens to hundreds of MB; allocating them afresh on every
    call costs page faults that take longer than filling them, so each thread keeps one growing buffer
    per slot ("pad", "cols") and hands out views of it. Nothing returned to the caller aliases it.
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    buf = getattr(_scratch, slot, None)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(nbytes, np.uint8)
        setattr(_scratch, slot, buf)
    return buf[:nbytes].view(dtype).reshape(shape)


def _pad_zeros(x, pads):
    """x (N, C, *spatial) zero-padded by pads = ((left, right), ...) per spatial dim (x itself if all 0)."""
    if builtins.all(l == 0 and r == 0 for l, r in pads):
        return x
    shape = x.shape[:2] + tuple(n + l + r for n, (l, r) in zip(x.shape[2:], pads))
    xp = _workspace("pad", shape, x.dtype)
    xp.fill(0)
    xp[(Ellipsis,) + tuple(slice(l, l + n) for n, (l, _) in zip(x.shape[2:], pads))] = x
    return xp


# ================================================================================================
# the three array routines
# ================================================================================================

def _im2col(xp, kernel, stride, dilation, out, groups):
    """Columns of the windows of xp (N, C, *Lp): (N, g, C/g * prod(k), prod(out)), one copy.

    cols[n, j, (c', i_1..i_d), (h_1..h_d)] = xp[n, j*C/g + c', h_1*s_1 + i_1*r_1, ...].
    """
    N, C = xp.shape[:2]
    windows = _window_view(xp, kernel, stride, dilation, out)  # (N, C, *k, *out)
    cols = _workspace("cols", (N, groups, (C // groups) * math.prod(kernel), math.prod(out)), xp.dtype)
    np.copyto(cols.reshape(windows.shape), windows)
    return cols


def _cols_matmul(w, cols, out, bias=None):
    """y (N, O, *out) = w (O, C/g, *k) contracted with cols (N, g, C/g*prod(k), P), group by group, + bias."""
    N, g = cols.shape[:2]
    O = w.shape[0]
    y = np.matmul(w.reshape(g, O // g, -1), cols)  # (N, g, O/g, P): a batch of BLAS matrix products
    y = y.reshape((N, O) + tuple(out))
    if bias is not None:
        y += bias.reshape((-1,) + (1,) * len(out))
    return y


def _weight_grad(cols, dy, w_shape):
    """dw (O, C/g, *k) = sum_{n, positions} dy[n, o, pos] * cols[n, group(o), (c', i), pos]."""
    N, g = cols.shape[:2]
    O = dy.shape[1]
    dyr = dy.reshape(N, g, O // g, -1)  # (N, g, O/g, P)
    dw = np.matmul(dyr, cols.transpose(0, 1, 3, 2)).sum(axis=0)  # (g, O/g, C/g*prod(k))
    return dw.reshape(w_shape)


def _flip_swap(w, groups):
    """The kernel of the transposed convolution: w (O, C/g, *k) -> (C, O/g, *k), flipped in space.

    wk[j*C/g + c', o', k-1-i] = w[j*O/g + o', c', i] for group j.
    """
    O, Cg = w.shape[:2]
    k = w.shape[2:]
    d = len(k)
    wg = w.reshape((groups, O // groups, Cg) + k)
    wg = wg[(Ellipsis,) + (slice(None, None, -1),) * d]  # flip every spatial axis
    return np.ascontiguousarray(wg.swapaxes(1, 2)).reshape((groups * Cg, O // groups) + k)


def _transposed_conv(dy, w, stride, pad_left, dilation, groups, size, bias=None):
    """The adjoint of the convolution x -> y with weight w, applied to dy: dx (N, C, *size).

    dy (N, O, *out), w (O, C/g, *k). Per spatial dim:
    1. stride-dilate and pad: z[left + h*s] = dy[h], zeros elsewhere, with left = r*(k-1) - p and
       len(z) = size + r*(k-1) (entries that fall outside are cropped; a negative left crops too);
    2. dx = stride-1 correlation of z with the flipped, channel-swapped kernel (`_flip_swap`), dilation r:
       dx[a] = sum_{i'} z[a + i'*r] * w[k-1-i'] = sum_{h, i: h*s + i*r = a + p} dy[h] * w[i].
    """
    N, O = dy.shape[:2]
    kernel = w.shape[2:]
    full = tuple(n + r * (k - 1) for n, k, r in zip(size, kernel, dilation))
    z = _workspace("pad", (N, O) + full, dy.dtype)
    z.fill(0)
    dst, src = [Ellipsis], [Ellipsis]
    for n_out, length, k, s, r, p in zip(dy.shape[2:], full, kernel, stride, dilation, pad_left):
        left = r * (k - 1) - p
        h0 = builtins.max(0, -(left // s))               # first h with left + h*s >= 0
        h1 = builtins.min(n_out, -((left - length) // s))  # one past the last h with left + h*s < length
        h1 = builtins.max(h1, h0)
        dst.append(slice(left + h0 * s, left + h0 * s + (h1 - h0 - 1) * s + 1, s) if h1 > h0 else slice(0, 0))
        src.append(slice(h0, h1))
    z[tuple(dst)] = dy[tuple(src)]
    cols = _im2col(z, kernel, (1,) * len(kernel), dilation, size, groups)
    return _cols_matmul(_flip_swap(w, groups), cols, size, bias)


# ================================================================================================
# Functions
# ================================================================================================

class ConvNd(Function):
    """y = conv(x, w) + b (cross-correlation), d = 1, 2 or 3 spatial dims.

    Shapes: x (N, C, *L), w (O, C/g, *k), b (O,), y (N, O, *out),
    out = floor((L + p_left + p_right - r*(k-1) - 1) / s) + 1.
    Forward:  y[n, o, h] = b[o] + sum_{c', i} xp[n, g(o)*C/g + c', h*s + i*r] w[o, c', i] = w @ im2col(xp).
    Backward: dw = dy @ im2col(xp)^T (summed over n); db = sum of dy over n and positions;
              dx = transposed convolution of dy with w (stride-dilated dy, flipped kernel), see `_transposed_conv`.
    """

    differentiable_backward = False

    def forward(self, x, w, b=None, *, stride, padding, dilation, groups):
        kernel = w.shape[2:]
        xp = _pad_zeros(x, padding)
        out = tuple((n - r * (k - 1) - 1) // s + 1 for n, k, s, r in zip(xp.shape[2:], kernel, stride, dilation))
        y = _cols_matmul(w, _im2col(xp, kernel, stride, dilation, out, groups), out, b)
        self.out, self.stride, self.padding, self.dilation, self.groups = out, stride, padding, dilation, groups
        return y

    def backward(self, dy):
        x, w = self.inputs[0], self.inputs[1]
        dy = dy.array
        needs = self.needs_input_grad
        dx = dw = db = None
        if needs[1]:  # the columns are rebuilt (one copy) rather than kept alive from the forward
            cols = _im2col(_pad_zeros(x.array, self.padding), w.shape[2:], self.stride, self.dilation, self.out,
                           self.groups)
            dw = Tensor._make(_weight_grad(cols, dy, w.shape))
        if needs[0]:
            dx = Tensor._make(_transposed_conv(dy, w.array, self.stride, [l for l, _ in self.padding],
                                               self.dilation, self.groups, x.shape[2:]))
        if len(self.inputs) == 3:
            if needs[2]:
                db = Tensor._make(dy.sum(axis=(0,) + tuple(range(2, dy.ndim))))
            return dx, dw, db
        return dx, dw


class ConvTransposeNd(Function):
    """y = conv_transpose(x, w) + b: the adjoint (input gradient) of conv with the same w, plus a bias.

    Shapes: x (N, C_in, *L), w (C_in, C_out/g, *k), b (C_out,), y (N, C_out, *out),
    out = (L - 1)*s - 2p + r*(k-1) + output_padding + 1.
    Forward:  y[n, c, a] = b[c] + sum_{o, i, h: h*s + i*r = a + p} x[n, o, h] w[o, c', i]
              (stride-dilated x correlated with the flipped kernel, `_transposed_conv`).
    Backward: dx = conv(dy, w) with the same stride, padding, dilation, groups (output cropped to L);
              dw = x @ im2col(pad(dy))^T summed over n (conv's weight gradient with the roles of
              input and output gradient exchanged); db = sum of dy over n and positions.
    """

    differentiable_backward = False

    def forward(self, x, w, b=None, *, stride, padding, output_padding, dilation, groups):
        size = tuple((n - 1) * s - 2 * p + r * (k - 1) + op + 1
                     for n, k, s, p, op, r in zip(x.shape[2:], w.shape[2:], stride, padding, output_padding, dilation))
        y = _transposed_conv(x, w, stride, padding, dilation, groups, size, b)
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        return y

    def backward(self, dy):
        x, w = self.inputs[0], self.inputs[1]
        dy = dy.array
        needs = self.needs_input_grad
        dx = dw = db = None
        if needs[0] or needs[1]:
            dyp = _pad_zeros(dy, [(p, p) for p in self.padding])
            cols = _im2col(dyp, w.shape[2:], self.stride, self.dilation, x.shape[2:], self.groups)
            if needs[0]:
                dx = Tensor._make(_cols_matmul(w.array, cols, x.shape[2:]))
            if needs[1]:
                dw = Tensor._make(_weight_grad(cols, x.array, w.shape))
        if len(self.inputs) == 3:
            if needs[2]:
                db = Tensor._make(dy.sum(axis=(0,) + tuple(range(2, dy.ndim))))
            return dx, dw, db
        return dx, dw


# ================================================================================================
# public functions
# ================================================================================================

def _shape(t):
    return tuple(t.shape)


def _check_inputs(op, d, input, weight, bias, what_weight):
    for name, t in (("input", input), ("weight", weight)) + ((("bias", bias),) if bias is not None else ()):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be a floating point tensor, got dtype {t.dtype}")
    if input.ndim not in (d + 1, d + 2):
        raise ValueError(f"{op}: expected a {d + 1}-D (unbatched) or {d + 2}-D (batched) input, "
                         f"got shape {_shape(input)}")
    if weight.ndim != d + 2:
        raise ValueError(f"{op}: expected a {d + 2}-D weight of shape {what_weight}, got shape {_shape(weight)}")
    if weight.dtype != input.dtype or (bias is not None and bias.dtype != input.dtype):
        raise TypeError(f"{op}: input ({input.dtype}), weight ({weight.dtype})"
                        + (f" and bias ({bias.dtype})" if bias is not None else "") + " must have the same dtype")


def _batched(input, d):
    """(input with a batch dim, whether one was added): unbatched (C, *L) inputs get N = 1."""
    if input.ndim == d + 1:
        return input.unsqueeze(0), True
    return input, False


def _conv(op, d, input, weight, bias, stride, padding, dilation, groups):
    names = {1: "(out_channels, in_channels/groups, kW)", 2: "(out_channels, in_channels/groups, kH, kW)",
             3: "(out_channels, in_channels/groups, kD, kH, kW)"}
    _check_inputs(op, d, input, weight, bias, names[d])
    stride = _ntuple(stride, d, "stride", op)
    dilation = _ntuple(dilation, d, "dilation", op)
    _check_positive(stride, "stride", op)
    _check_positive(dilation, "dilation", op)
    if not _is_int(groups) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    kernel = _shape(weight)[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * d
        elif padding == "same":
            if builtins.any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride={stride})")
            pads = []
            for k, r in zip(kernel, dilation):  # the odd extra pixel of an even kernel goes to the right
                total = r * (k - 1)
                pads.append((total // 2, total - total // 2))
        else:
            raise ValueError(f"{op}: padding string must be 'same' or 'valid', got {padding!r}")
    else:
        pad = _ntuple(padding, d, "padding", op)
        _check_nonnegative(pad, "padding", op)
        pads = [(p, p) for p in pad]

    x, unbatched = _batched(input, d)
    C = x.shape[1]
    O, Cg = _shape(weight)[:2]
    if O % groups:
        raise ValueError(f"{op}: out_channels {O} (weight shape {_shape(weight)}) is not divisible by groups={groups}")
    if Cg * groups != C:
        raise ValueError(f"{op}: input of shape {_shape(input)} has {C} channels, but weight of shape "
                         f"{_shape(weight)} with groups={groups} expects {Cg * groups}")
    if bias is not None and _shape(bias) != (O,):
        raise ValueError(f"{op}: bias must have shape ({O},), got {_shape(bias)}")
    padded = tuple(n + l + r for n, (l, r) in zip(x.shape[2:], pads))
    extent = tuple(r * (k - 1) + 1 for k, r in zip(kernel, dilation))
    if builtins.any(n < e for n, e in zip(padded, extent)):
        raise ValueError(f"{op}: input of spatial size {tuple(x.shape[2:])} (padded: {padded}) is smaller than "
                         f"the dilated kernel extent {extent}")
    args = (x, weight) if bias is None else (x, weight, bias)
    y = ConvNd.apply(*args, stride=stride, padding=tuple(pads), dilation=dilation, groups=builtins.int(groups))
    return y.squeeze(0) if unbatched else y


def _conv_transpose(op, d, input, weight, bias, stride, padding, output_padding, groups, dilation):
    names = {1: "(in_channels, out_channels/groups, kW)", 2: "(in_channels, out_channels/groups, kH, kW)",
             3: "(in_channels, out_channels/groups, kD, kH, kW)"}
    _check_inputs(op, d, input, weight, bias, names[d])
    stride = _ntuple(stride, d, "stride", op)
    dilation = _ntuple(dilation, d, "dilation", op)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    padding = _ntuple(padding, d, "padding", op)
    output_padding = _ntuple(output_padding, d, "output_padding", op)
    _check_positive(stride, "stride", op)
    _check_positive(dilation, "dilation", op)
    _check_nonnegative(padding, "padding", op)
    _check_nonnegative(output_padding, "output_padding", op)
    if not _is_int(groups) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    for op_, s, r in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= r:
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either stride {stride} "
                             f"or dilation {dilation}")
    x, unbatched = _batched(input, d)
    C_in = x.shape[1]
    W_in, Cg_out = _shape(weight)[:2]
    if W_in != C_in:
        raise ValueError(f"{op}: input of shape {_shape(input)} has {C_in} channels, but weight of shape "
                         f"{_shape(weight)} expects {W_in}")
    if C_in % groups:
        raise ValueError(f"{op}: in_channels {C_in} is not divisible by groups={groups}")
    if bias is not None and _shape(bias) != (Cg_out * groups,):
        raise ValueError(f"{op}: bias must have shape ({Cg_out * groups},), got {_shape(bias)}")
    size = tuple((n - 1) * s - 2 * p + r * (k - 1) + o + 1 for n, k, s, p, o, r in
                 zip(x.shape[2:], _shape(weight)[2:], stride, padding, output_padding, dilation))
    if builtins.any(n <= 0 for n in size):
        raise ValueError(f"{op}: the output size {size} for input of shape {_shape(input)} is not positive")
    args = (x, weight) if bias is None else (x, weight, bias)
    y = ConvTransposeNd.apply(*args, stride=stride, padding=padding, output_padding=output_padding,
                              dilation=dilation, groups=builtins.int(groups))
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of input (N, C, L) or (C, L) with weight (O, C/groups, k).

    padding: int, (p,), 'same' (stride 1 only) or 'valid'.
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of input (N, C, H, W) or (C, H, W) with weight (O, C/groups, kH, kW).

    padding: int, (pH, pW), 'same' (stride 1 only; an odd total goes to the right/bottom) or 'valid'.
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation of input (N, C, D, H, W) or (C, D, H, W) with weight (O, C/groups, kD, kH, kW)."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution of input (N, C_in, L) with weight (C_in, C_out/groups, k)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution ("deconvolution") of input (N, C_in, H, W) with weight (C_in, C_out/groups, kH, kW).

    Output size per dim: (L - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1.
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution of input (N, C_in, D, H, W) with weight (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)

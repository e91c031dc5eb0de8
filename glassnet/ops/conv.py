"""Convolutions: conv1d/2d/3d and their transposes, each one fused Function with a NumPy backward
(and, under create_graph, a backward made of the same Functions, so gradients of any order work).

Notation for d spatial dims (shown for one dim; the others are alike), input x (N, C, L), weight
w (O, C/g, k), stride s, dilation r, padding p, groups g, xp = x zero-padded:

    y[n, o, h] = b[o] + sum_{c in group(o), i} xp[n, c, h*s + i*r] * w[o, c', i]      (a cross-correlation)

Everything rests on the "columns" of xp: cols[n, j, (i, c'), h] = xp[n, j*C/g + c', h*s + i*r], the
windows laid out as a matrix per sample and group, (prod(k)*C/g) rows by P = prod(out) columns, rows
ordered kernel offset first. With the weight as the matrix W[j, o', (i, c')] = w[j*O/g + o', c', i]
(g, O/g, prod(k)*C/g), the three routines are three matrix products:

* forward (`_conv_forward`): y[n] = W @ cols[n]. The product lands directly in the (N, O, *out) layout.
* weight gradient (`_conv_weight_grad`): dW = sum_n dy[n] @ cols[n]^T, i.e.
  dw[o, c', i] = sum_{n,h} dy[n, o, h] * xp[n, c, h*s + i*r].
* input gradient (`_conv_input_grad`): dcols[n] = W^T @ dy[n], then "col2im", the adjoint of the
  column copy: each column entry is added back to the input position it was copied from,
  dxp[n, c, h*s + i*r] += dcols[n, (i, c'), h]. Because the rows are ordered kernel offset first, this
  is one strided add of a contiguous (C, *out) block per kernel offset i (prod(k) adds, not one per
  pixel); then the padding is cropped off. Written out, dx[n, c, a] = sum_{o,i,h: h*s + i*r = a + p}
  dy[n, o, h] * w[o, c', i]: the *transposed convolution* of dy.

conv_transpose is that adjoint with its own weight: its forward is `_conv_input_grad` (plus a bias), its
input gradient an ordinary convolution (`_conv_forward` of dy), its weight gradient `_conv_weight_grad`
with the roles of input and output gradient exchanged. So three routines serve both operations.

Memory and speed: the columns hold about prod(k) copies of the input (42 MB for a batch of 64 in the
second layer of the MNIST example CNN). Each routine therefore runs over the batch in chunks whose
columns fit in the CPU cache (`_CHUNK_BYTES`): a few samples, or, for large images, one sample's output
cut into slabs of rows of the first spatial dim (a slab's columns come from its rows plus the (k-1)*r
halo rows below). The copy, the matrix product and the adds stay in cache, the full column matrix never
exists, and each chunk's result is written straight into its place in the output.
"""
import builtins
import functools
import math
import threading
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import grad_mode
from ..autograd.forward_ad import add_tangents
from ..autograd.function import Function, autocast_active
from ..tensor import Tensor
from ._util import matmul
from .reduction import sum as _sum

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


# ================================================================================================
# chunks and scratch buffers
# ================================================================================================

_CHUNK_BYTES = 1 << 20  # columns per chunk: about the share of a core's L2 cache they can have


def _chunks(n, out, row_bytes):
    """Pieces (a, b, h0, h1) of the work, each with about _CHUNK_BYTES of columns: samples a:b, output
    rows h0:h1 of the first spatial dim. Several whole samples per piece when they fit; otherwise one
    sample cut into slabs of rows. row_bytes: the columns of one such row of one sample."""
    rows = out[0]
    if row_bytes * rows <= _CHUNK_BYTES:
        size = builtins.max(1, _CHUNK_BYTES // builtins.max(1, row_bytes * rows))
        return [(a, builtins.min(a + size, n), 0, rows) for a in range(0, n, size)]
    count = -(-rows // builtins.max(1, _CHUNK_BYTES // row_bytes))  # slabs per sample
    slab = -(-rows // count)  # rows per slab, as even as they go
    return [(a, a + 1, h, builtins.min(h + slab, rows)) for a in range(n) for h in range(0, rows, slab)]


def _row_bytes(channels, kernel, out, dtype):
    """Bytes of the columns of one output row (first spatial dim) of one sample: C * prod(k) * prod(out[1:])."""
    return channels * math.prod(kernel) * math.prod(out[1:]) * np.dtype(dtype).itemsize


_scratch = threading.local()


def _workspace(slot, shape, dtype):
    """A reused scratch array (contents undefined) for a temporary that dies within one chunk.

    Each thread keeps one growing buffer per slot ("pad", "cols") and hands out views of it, so the
    chunk loops allocate nothing. Nothing returned to the caller aliases it.
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    buf = getattr(_scratch, slot, None)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(nbytes, np.uint8)
        setattr(_scratch, slot, buf)
    return buf[:nbytes].view(dtype).reshape(shape)


def _padded_rows(x, pads, lo, hi):
    """Rows lo:hi (first spatial dim, in padded coordinates) of x (n, C, *spatial) zero-padded by
    pads = ((left, right), ...): a view of x when they need no zeros, else a copy in the "pad" workspace."""
    (left, _), length = pads[0], x.shape[2]
    src = slice(builtins.max(lo - left, 0), builtins.min(hi - left, length))  # the rows that come from x
    if src.start == lo - left and src.stop == hi - left and builtins.all(l == 0 and r == 0 for l, r in pads[1:]):
        return x[:, :, src]
    shape = x.shape[:2] + (hi - lo,) + tuple(n + l + r for n, (l, r) in zip(x.shape[3:], pads[1:]))
    xp = _workspace("pad", shape, x.dtype)
    xp.fill(0)
    inner = tuple(slice(l, l + n) for n, (l, _) in zip(x.shape[3:], pads[1:]))
    xp[(slice(None), slice(None), slice(src.start + left - lo, src.stop + left - lo)) + inner] = x[:, :, src]
    return xp


# ================================================================================================
# the three routines
# ================================================================================================

def _weight_matrix(w, groups):
    """W (g, O/g, prod(k)*C/g) with W[j, o', (i, c')] = w[j*O/g + o', c', i] (a small copy)."""
    O, Cg = w.shape[:2]
    kk = math.prod(w.shape[2:])
    return w.reshape(groups, O // groups, Cg, kk).transpose(0, 1, 3, 2).reshape(groups, O // groups, kk * Cg)


def _columns(x, pads, kernel, stride, dilation, out, groups, h0, h1):
    """cols (n, g, prod(k)*C/g, (h1-h0)*prod(out[1:])) for output rows h0:h1 of x (n, C, *L) padded by pads,
    one copy into the "cols" workspace.

    cols[n, j, (i, c'), h] = xp[n, j*C/g + c', h*s + i*r] (i, h multi-indices over the d dims).
    """
    s, r, k = stride[0], dilation[0], kernel[0]
    xp = _padded_rows(x, pads, h0 * s, (h1 - 1) * s + r * (k - 1) + 1)
    n, C = xp.shape[:2]
    d = len(kernel)
    Cg = C // groups
    part = (h1 - h0,) + tuple(out[1:])
    windows = _window_view(xp.reshape((n, groups, Cg) + xp.shape[2:]), kernel, stride, dilation, part)
    windows = windows.transpose((0, 1) + tuple(range(3, 3 + d)) + (2,) + tuple(range(3 + d, 3 + 2 * d)))
    cols = _workspace("cols", windows.shape, xp.dtype)  # (n, g, *k, C/g, *part)
    np.copyto(cols, windows)
    return cols.reshape(n, groups, math.prod(kernel) * Cg, math.prod(part))


def _rows(a, groups, a0, a1, h0, h1):
    """Samples a0:a1, rows h0:h1 of a (N, O, *out) as (n, g, O/g, rows * prod(out[1:])): a view when a
    is contiguous."""
    part = a[a0:a1, :, h0:h1]
    return part.reshape(part.shape[0], groups, part.shape[1] // groups, -1)


def _conv_forward(x, w, stride, pads, dilation, groups, out, bias=None):
    """y (N, O, *out) = conv(x, w) + bias: chunk by chunk, y[n] = W @ cols(xp[n])."""
    N, C = x.shape[:2]
    O, kernel = w.shape[0], w.shape[2:]
    W = _weight_matrix(w, groups)
    y = np.empty((N, O) + tuple(out), x.dtype)
    for a, b, h0, h1 in _chunks(N, out, _row_bytes(C, kernel, out, x.dtype)):
        cols = _columns(x[a:b], pads, kernel, stride, dilation, out, groups, h0, h1)
        yc = _rows(y, groups, a, b, h0, h1)  # a view into y
        matmul(W, cols, out=yc)
        if bias is not None:
            yc += bias.reshape(groups, O // groups, 1)
    return y


def _conv_weight_grad(x, dy, w_shape, stride, pads, dilation, groups):
    """dw (O, C/g, *k) = sum over chunks and samples of dy[n] @ cols(xp[n])^T, reshaped.

    Computed as dW^T (g, prod(k)*C/g, O/g) += cols[n] @ dy[n]^T, the faster orientation for BLAS.
    """
    N, O = dy.shape[:2]
    C, kernel = x.shape[1], w_shape[2:]
    Cg, out = C // groups, dy.shape[2:]
    dWt = np.zeros((groups, math.prod(kernel) * Cg, O // groups), dy.dtype)
    for a, b, h0, h1 in _chunks(N, out, _row_bytes(C, kernel, out, x.dtype)):
        cols = _columns(x[a:b], pads, kernel, stride, dilation, out, groups, h0, h1)
        dWt += matmul(cols, _rows(dy, groups, a, b, h0, h1).transpose(0, 1, 3, 2)).sum(axis=0)
    dWt = dWt.reshape((groups, math.prod(kernel), Cg, O // groups))  # (g, kk, C/g, O/g)
    return dWt.transpose(0, 3, 2, 1).reshape(w_shape)


def _scatter_slices(kernel, stride, dilation, part, first_row):
    """For each kernel offset i: (where its block of dcols goes in the padded gradient, where the block
    is in dcols (n, g, *k, C/g, *part)). Output rows start at `first_row` of the first spatial dim."""
    pairs = []
    for offset in np.ndindex(*kernel):
        starts = [i * r for i, r in zip(offset, dilation)]
        starts[0] += first_row * stride[0]
        target = tuple(slice(t, t + (o - 1) * s + 1, s) for t, o, s in zip(starts, part, stride))
        pairs.append(((Ellipsis,) + target, (slice(None), slice(None)) + offset))
    return pairs


def _conv_input_grad(dy, w, stride, pad_left, dilation, groups, size, bias=None):
    """dx (N, C, *size): the adjoint of x -> conv(x, w) applied to dy (N, O, *out), plus an optional bias.

    Per chunk: dcols = W^T @ dy[n] (n, g, (i, c'), rows); then for each kernel offset i the block
    dcols[:, :, i] (n, g, C/g, *part) is added to the strided slice h*s + i*r of the padded gradient
    dxp, whose extent per dim is max((out-1)*s + r*(k-1) + 1, p + size); dx = dxp[p : p + size].
    """
    N, O = dy.shape[:2]
    Cg, kernel = w.shape[1], w.shape[2:]
    out = dy.shape[2:]
    C, d = Cg * groups, len(kernel)
    Wt = _weight_matrix(w, groups).transpose(0, 2, 1)  # (g, kk*C/g, O/g)
    extent = tuple(builtins.max((o - 1) * s + r * (k - 1) + 1, p + n)
                   for o, s, r, k, p, n in zip(out, stride, dilation, kernel, pad_left, size))
    crop = (Ellipsis,) + tuple(slice(p, p + n) for p, n in zip(pad_left, size))
    direct = extent == tuple(size)  # nothing to crop: add straight into dx
    dx = np.empty((N, C) + tuple(size), dy.dtype)
    scatters = {}  # the slices of a slab of rows (the same for every sample)
    for a, b, h0, h1 in _chunks(N, out, _row_bytes(C, kernel, out, dy.dtype)):
        n, part = b - a, (h1 - h0,) + tuple(out[1:])
        if h0 == 0:  # a new group of samples: start their padded gradient
            dxp = dx[a:b] if direct else _workspace("pad", (n, C) + extent, dy.dtype)
            dxp.fill(0)
            dxg = dxp.reshape((n, groups, Cg) + extent)
        dcols = _workspace("cols", (n, groups, math.prod(kernel) * Cg, math.prod(part)), dy.dtype)
        matmul(Wt, _rows(dy, groups, a, b, h0, h1), out=dcols)
        dcols = dcols.reshape((n, groups) + tuple(kernel) + (Cg,) + part)
        if (h0, h1) not in scatters:
            scatters[h0, h1] = _scatter_slices(kernel, stride, dilation, part, h0)
        for target, block in scatters[h0, h1]:
            view = dxg[target]
            view += dcols[block]  # in place on the strided view (no write-back copy)
        if h1 == out[0]:  # the samples are complete
            if not direct:
                dx[a:b] = dxp[crop]
            if bias is not None:
                dx[a:b] += bias.reshape((-1,) + (1,) * d)
    return dx


# ================================================================================================
# Functions
# ================================================================================================

class Geometry(NamedTuple):
    """The shape arithmetic shared by a convolution and its two adjoints: a conv maps inputs of spatial
    size `size` to outputs of spatial size `out` with these stride, pads ((left, right) per dim),
    dilation and groups. A transposed convolution is described by the conv it is the adjoint of."""

    stride: tuple
    pads: tuple
    dilation: tuple
    groups: int
    size: tuple
    out: tuple


def _bias_grad(dy):
    """db = sum of dy over the batch and every position: (N, O, *out) -> (O,)."""
    return dy.sum(axis=(0,) + tuple(range(2, dy.ndim)))


def _bias_tangent(db, ndim):
    return None if db is None else db.reshape((-1,) + (1,) * (ndim - 2))


class ConvNd(Function):
    """y = conv(x, w) + b (cross-correlation), d = 1, 2 or 3 spatial dims.

    Shapes: x (N, C, *L), w (O, C/g, *k), b (O,), y (N, O, *out),
    out = floor((L + p_left + p_right - r*(k-1) - 1) / s) + 1.
    Forward:  y[n, o, h] = b[o] + sum_{c', i} xp[n, g(o)*C/g + c', h*s + i*r] w[o, c', i] = W @ cols(xp).
    Backward: dx = col2im(W^T @ dy), cropped: the transposed convolution of dy (see the module docstring);
              dw = sum_n dy[n] @ cols(xp[n])^T (ConvWeightGrad); db = sum of dy over n and positions.
    Forward mode: dy = conv(dx, w) + conv(x, dw) + db (conv is bilinear).

    The three operations conv C(x, w), its input gradient T(dy, w) (ConvTransposeNd) and its weight
    gradient G(x, dy) (ConvWeightGrad) are the three partial derivatives of one trilinear form,
    <dy, C(x, w)>, so each one's backward is made of the other two. An ordinary backward calls the NumPy
    routines directly; under create_graph it applies those Functions instead, so the gradient is
    recorded and can be differentiated again, to any order.
    """

    def forward(self, x, w, b=None, *, geometry):
        self.geometry = g = geometry
        return _conv_forward(x, w, g.stride, g.pads, g.dilation, g.groups, g.out, b)

    def backward(self, dy):
        (x, w), g, needs = self.inputs[:2], self.geometry, self.needs_input_grad
        has_bias = len(self.inputs) == 3
        if grad_mode.is_grad_enabled():  # create_graph=True: the gradients as Functions
            dx = ConvTransposeNd.apply(dy, w, geometry=g) if needs[0] else None
            dw = ConvWeightGrad.apply(x, dy, geometry=g, w_shape=w.shape) if needs[1] else None
            if not has_bias:
                return dx, dw
            return dx, dw, (_sum(dy, (0,) + tuple(range(2, dy.ndim))) if needs[2] else None)
        dy = dy.array
        dx = dw = None
        if needs[1]:  # the columns are rebuilt chunk by chunk rather than kept alive from the forward
            dw = Tensor._make(_conv_weight_grad(x.array, dy, w.shape, g.stride, g.pads, g.dilation, g.groups))
        if needs[0]:
            dx = Tensor._make(_conv_input_grad(dy, w.array, g.stride, [l for l, _ in g.pads], g.dilation,
                                               g.groups, g.size))
        if not has_bias:
            return dx, dw
        return dx, dw, (Tensor._make(_bias_grad(dy)) if needs[2] else None)

    def jvp(self, dx, dw, db=None):
        x, w = (t.array for t in self.inputs[:2])
        g, y = self.geometry, self._outputs[0]
        conv = functools.partial(_conv_forward, stride=g.stride, pads=g.pads, dilation=g.dilation, groups=g.groups,
                                 out=g.out)
        return add_tangents(y.shape, None if dx is None else conv(dx, w), None if dw is None else conv(x, dw),
                            _bias_tangent(db, y.ndim))


class ConvTransposeNd(Function):
    """y = conv_transpose(x, w) + b: the adjoint (input gradient) of the conv of `geometry` with the
    same w, plus a bias. It is also that conv's input gradient in the differentiable backward.

    Shapes: x (N, C_in, *L), w (C_in, C_out/g, *k), b (C_out,), y (N, C_out, *out),
    out = (L - 1)*s - 2p + r*(k-1) + output_padding + 1 (the conv's geometry: size = out, out = L).
    Forward:  y[n, c, a] = b[c] + sum_{o, i, h: h*s + i*r = a + p} x[n, o, h] w[o, c', i]
              = col2im(W^T @ x), cropped (`_conv_input_grad`).
    Backward: dx = conv(dy, w) with the same stride, padding, dilation, groups (output size L);
              dw = conv's weight gradient with the roles exchanged: sum_n x[n] @ cols(pad(dy)[n])^T;
              db = sum of dy over n and positions.
    Forward mode: dy = conv_transpose(dx, w) + conv_transpose(x, dw) + db.
    """

    def forward(self, x, w, b=None, *, geometry):
        self.geometry = g = geometry
        return _conv_input_grad(x, w, g.stride, [l for l, _ in g.pads], g.dilation, g.groups, g.size, b)

    def backward(self, dy):
        (x, w), g, needs = self.inputs[:2], self.geometry, self.needs_input_grad
        has_bias = len(self.inputs) == 3
        if grad_mode.is_grad_enabled():  # create_graph=True: the gradients as Functions
            dx = ConvNd.apply(dy, w, geometry=g) if needs[0] else None
            dw = ConvWeightGrad.apply(dy, x, geometry=g, w_shape=w.shape) if needs[1] else None
            if not has_bias:
                return dx, dw
            return dx, dw, (_sum(dy, (0,) + tuple(range(2, dy.ndim))) if needs[2] else None)
        dy = dy.array
        dx = dw = None
        if needs[0]:
            dx = Tensor._make(_conv_forward(dy, w.array, g.stride, g.pads, g.dilation, g.groups, g.out))
        if needs[1]:
            dw = Tensor._make(_conv_weight_grad(dy, x.array, w.shape, g.stride, g.pads, g.dilation, g.groups))
        if not has_bias:
            return dx, dw
        return dx, dw, (Tensor._make(_bias_grad(dy)) if needs[2] else None)

    def jvp(self, dx, dw, db=None):
        x, w = (t.array for t in self.inputs[:2])
        g, y = self.geometry, self._outputs[0]
        adjoint = functools.partial(_conv_input_grad, stride=g.stride, pad_left=[l for l, _ in g.pads],
                                    dilation=g.dilation, groups=g.groups, size=g.size)
        return add_tangents(y.shape, None if dx is None else adjoint(dx, w),
                            None if dw is None else adjoint(x, dw), _bias_tangent(db, y.ndim))


class ConvWeightGrad(Function):
    """dw = G(x, dy): the weight gradient of the conv of `geometry`, as an operation of its own.

    Shapes: x (N, C, *size), dy (N, O, *out) -> dw (O, C/g, *k) (`w_shape`).
    Forward:  dw[o, c', i] = sum_{n, h} dy[n, o, h] xp[n, g(o)*C/g + c', h*s + i*r] (`_conv_weight_grad`).
    Backward (bilinear; from <ddw, G(x, dy)> = <dy, C(x, ddw)>):
              dx = conv_transpose(dy, ddw) (T),   d(dy) = conv(x, ddw) (C).
    Forward mode: d(dw) = G(dx, dy) + G(x, d(dy)).
    """

    def forward(self, x, dy, *, geometry, w_shape):
        self.geometry, self.w_shape = geometry, w_shape
        g = geometry
        return _conv_weight_grad(x, dy, w_shape, g.stride, g.pads, g.dilation, g.groups)

    def backward(self, ddw):
        x, dy = self.inputs
        needs, g = self.needs_input_grad, self.geometry
        if grad_mode.is_grad_enabled():
            return (ConvTransposeNd.apply(dy, ddw, geometry=g) if needs[0] else None,
                    ConvNd.apply(x, ddw, geometry=g) if needs[1] else None)
        ddw = ddw.array
        dx = _conv_input_grad(dy.array, ddw, g.stride, [l for l, _ in g.pads], g.dilation, g.groups, g.size)
        dout = _conv_forward(x.array, ddw, g.stride, g.pads, g.dilation, g.groups, g.out)
        return (Tensor._make(dx) if needs[0] else None, Tensor._make(dout) if needs[1] else None)

    def jvp(self, dx, ddy):
        x, dy = (t.array for t in self.inputs)
        g = self.geometry
        grad = functools.partial(_conv_weight_grad, w_shape=self.w_shape, stride=g.stride, pads=g.pads,
                                 dilation=g.dilation, groups=g.groups)
        return add_tangents(self.w_shape, None if dx is None else grad(dx, dy), None if ddy is None else grad(x, ddy))


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
    if (weight.dtype != input.dtype or (bias is not None and bias.dtype != input.dtype)) and not autocast_active():
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
    out = tuple((n - r * (k - 1) - 1) // s + 1 for n, k, s, r in zip(padded, kernel, stride, dilation))
    geometry = Geometry(stride, tuple(pads), dilation, builtins.int(groups), tuple(x.shape[2:]), out)
    args = (x, weight) if bias is None else (x, weight, bias)
    y = ConvNd.apply(*args, geometry=geometry)
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
    geometry = Geometry(stride, tuple((p, p) for p in padding), dilation, builtins.int(groups), size,
                        tuple(x.shape[2:]))
    args = (x, weight) if bias is None else (x, weight, bias)
    y = ConvTransposeNd.apply(*args, geometry=geometry)
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

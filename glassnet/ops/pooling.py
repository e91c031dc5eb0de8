"""Pooling and resampling: max/avg pools, adaptive pools and `interpolate`, each one fused Function.

Every pooling op looks at windows of the input. The last d dims are spatial, the dims before them
(batch, channels) are flattened into one "plane" axis B. For window t (a kernel offset i, per spatial
dim) of output position h, the input coordinate is

    pos[i, h] = h*s - p + i*r                                   (regular pools; -p..L+p, padding outside)
    pos[i, h] = min(floor(h*L/out) + i, ceil((h+1)*L/out) - 1)  (adaptive pools; windows of varying length)

The windows are gathered once into a contiguous "window-major" array cols (kk, B, P) (kk = window
size, P = number of output positions): for regular pools by copying a strided view of the padded
input (no per-pixel work), for adaptive ones by fancy indexing with the table above. Then

    max:  y = max_t cols[t];   dx[pos of the first t reaching the max] += dy  (torch's tie rule)
    avg:  y = sum_t cols[t] / divisor;   dx[pos[t]] += dy / divisor for every t

The backward "fold" (adding window values back to input positions) is one transposing copy when
the windows tile the input (kernel == stride, the common case); otherwise overlapping windows are
summed with a loop over the kk kernel offsets (each step a whole-tensor strided add) or, for the
max, with one `np.bincount` over the selected positions.

Max pooling over windows that tile the input exactly (kernel == stride, no padding or dilation, no
partial window; the 2x2 pool of most CNNs) needs no gathered copy at all: reshaping the input to
(B, o_1, k_1, ..., o_d, k_d) makes each kernel offset a strided view, y is the elementwise maximum of
those views, and the backward walks the offsets in window order giving dy to the first one that
equals y (`MaxPoolTiles`). Both go block by block of a few hundred KB of planes, so that the strided
passes (one per kernel offset) find their block in the cache.

Higher order and forward mode. Max pooling is y = x at the selected positions: under create_graph its
backward is a scatter-add of dy to those positions (`scatter_add`, whose backward is the gather), and its
jvp gathers the tangent there. Average pooling, adaptive average pooling and `interpolate` are linear:
each backward is the adjoint map (a Function whose own backward is the forward map again) and each
jvp is the forward map applied to the tangent. The NumPy paths stay the ordinary backward.

`interpolate` is separable: along each spatial dim, y = sum over terms of x[idx] * weight, with one
term for nearest (weight 1) and two for linear (1 - lambda, lambda). Its backward is the adjoint,
applied dim by dim in reverse: a segment sum of dy * weight over the runs of equal idx (idx is
non-decreasing, so `np.add.reduceat` does it without scatter loops).
"""
import builtins
import math

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from .conv import _check_nonnegative, _check_positive, _is_int, _ntuple, _window_view

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "adaptive_max_pool3d", "interpolate"]


# ================================================================================================
# window helpers
# ================================================================================================

def _planes(x, d):
    """x (*lead, *L) -> (B, *L) with B = prod(lead) (0 for an empty batch)."""
    return x.reshape((math.prod(x.shape[:-d]),) + x.shape[-d:])


def _pool_out_size(L, k, s, p, r, ceil_mode):
    """torch's pooling output length: floor (or ceil) of (L + 2p - r(k-1) - 1)/s + 1; with ceil_mode the
    last window must start inside the input or the left padding."""
    num = L + 2 * p - r * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= L + p:
        out -= 1
    return out


def _regular_positions(L, k, s, p, r, out):
    """pos[i, h] = h*s - p + i*r: the input coordinate of kernel offset i of window h, (k, out)."""
    return np.arange(k)[:, None] * r + (np.arange(out) * s - p)[None, :]


def _adaptive_bounds(L, out):
    """Start and end (exclusive) of torch's adaptive windows: floor(h L / out), ceil((h + 1) L / out)."""
    h = np.arange(out)
    return (h * L) // out, -((-(h + 1) * L) // out)


def _adaptive_positions(L, out):
    """pos[i, h] = min(start_h + i, end_h - 1), (kmax, out): windows padded by repeating their last element."""
    start, end = _adaptive_bounds(L, out)
    kmax = builtins.int((end - start).max())
    return np.minimum(start[None, :] + np.arange(kmax)[:, None], end[None, :] - 1)


def _gather_regular(xb, kernel, stride, padding, dilation, out, fill):
    """cols (kk, B, P) of the windows of xb (B, *L), padded with `fill` (one strided copy)."""
    d = len(kernel)
    L = xb.shape[1:]
    right = [builtins.max(0, (o - 1) * s + r * (k - 1) + 1 - n - p)
             for n, k, s, p, r, o in zip(L, kernel, stride, padding, dilation, out)]
    if builtins.any(padding) or builtins.any(right):
        xp = np.full((xb.shape[0],) + tuple(n + p + q for n, p, q in zip(L, padding, right)), fill, xb.dtype)
        xp[(slice(None),) + tuple(slice(p, p + n) for n, p in zip(L, padding))] = xb
    else:
        xp = xb
    view = _window_view(xp, kernel, stride, dilation, out)  # (B, *k, *out)
    view = view.transpose(tuple(range(1, d + 1)) + (0,) + tuple(range(d + 1, 2 * d + 1)))  # (*k, B, *out)
    return np.ascontiguousarray(view).reshape(math.prod(kernel), xb.shape[0], math.prod(out))


def _gather_table(xb, positions):
    """cols (kk, B, P) with cols[(i_1..i_d), b, (h_1..h_d)] = xb[b, pos_1[i_1, h_1], ..., pos_d[i_d, h_d]]."""
    d = len(positions)
    index = []
    for a, pos in enumerate(positions):  # broadcast pos_a over the 2d window/output axes
        shape = [1] * (2 * d)
        shape[a], shape[d + a] = pos.shape
        index.append(pos.reshape(shape))
    cols = xb[(slice(None),) + tuple(index)]  # (B, *k, *out)
    cols = np.moveaxis(cols, 0, d)
    kk = math.prod(p.shape[0] for p in positions)
    return np.ascontiguousarray(cols).reshape(kk, xb.shape[0], math.prod(p.shape[1] for p in positions))


def _flat_positions(positions, L):
    """F[t, P]: the flat index into the input plane (row-major over L) of window element t of output P,
    and valid[t, P]: whether that position lies inside the input (not in the padding)."""
    d = len(positions)
    flat, valid = 0, True
    for a, pos in enumerate(positions):
        shape = [1] * (2 * d)
        shape[a], shape[d + a] = pos.shape
        pa = pos.reshape(shape)
        flat = flat * L[a] + pa
        valid = valid & (pa >= 0) & (pa < L[a])
    kk = math.prod(p.shape[0] for p in positions)
    shape = tuple(p.shape[0] for p in positions) + tuple(p.shape[1] for p in positions)
    return np.broadcast_to(flat, shape).reshape(kk, -1), np.broadcast_to(valid, shape).reshape(kk, -1)


def _fold_tiles(g, kernel, out, padding, L, dtype, mask=None):
    """Adjoint of the tiling gather (stride == kernel, dilation 1): g (kk, B, P) -> dx (B, *L).

    Each input position is in at most one window, so the values are written (times `mask` if given)
    through a strided window-major view of the (padded) gradient: one pass, no accumulation.
    """
    B = g.shape[1]
    tiled = tuple(o * k for o, k in zip(out, kernel))
    exact = not builtins.any(padding) and tiled == tuple(L)
    shape = (B,) + tuple(builtins.max(t, p + n) for t, p, n in zip(tiled, padding, L))
    dxp = np.empty(shape, dtype) if exact else np.zeros(shape, dtype)
    view = _window_view(dxp, kernel, kernel, (1,) * len(kernel), out, writeable=True)  # (B, *k, *out) over dxp
    d = len(kernel)
    view = view.transpose(tuple(range(1, d + 1)) + (0,) + tuple(range(d + 1, 2 * d + 1)))
    g = g.reshape(view.shape)
    if mask is None:
        np.copyto(view, g)
    else:
        np.multiply(mask.reshape(view.shape), g, out=view)
    if exact:
        return dxp
    return dxp[(slice(None),) + tuple(slice(p, p + n) for p, n in zip(padding, L))]


def _fold_overlapping(g, kernel, stride, padding, dilation, out, L):
    """Adjoint of the strided gather for overlapping windows: g (kk, B, P) -> dx (B, *L).

    A loop over the kk kernel offsets (not over pixels): offset i's values go to the strided slice
    i*r, i*r + s, ... of the padded gradient, each step one vectorised add over all windows.
    """
    B = g.shape[1]
    shape = tuple((o - 1) * s + r * (k - 1) + 1 for o, k, s, r in zip(out, kernel, stride, dilation))
    dxp = np.zeros((B,) + tuple(builtins.max(m, p + n) for m, p, n in zip(shape, padding, L)), g.dtype)
    g = g.reshape((g.shape[0], B) + tuple(out))
    for t, offset in enumerate(np.ndindex(*kernel)):
        dxp[(slice(None),) + tuple(slice(i * r, i * r + (o - 1) * s + 1, s)
                                   for i, r, o, s in zip(offset, dilation, out, stride))] += g[t]
    return dxp[(slice(None),) + tuple(slice(p, p + n) for p, n in zip(padding, L))]


def _lowest(dtype):
    """The padding of max pooling, which no input element can lose to: -inf, or an integer type's minimum."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _first_max(cols, y, valid):
    """first[t, b, P]: True where window element t is the first (in window order) to reach the max.

    torch's rule: the first maximum wins; a NaN wins over numbers; padding never wins.
    """
    hit = cols == y
    nan = np.isnan(y)
    if nan.any():
        hit |= np.isnan(cols) & nan
    if valid is not None and (y == _lowest(y.dtype)).any():
        hit &= valid[:, None, :]
    seen = hit[0].copy()
    for t in range(1, hit.shape[0]):  # loop over the kernel offsets: keep only the first hit of each window
        hit[t] &= ~seen
        seen |= hit[t]
    return hit


def _selected(first):
    """The kernel offset t of the one True per window of `first`: (B, P) ints."""
    sel = np.zeros(first.shape[1:], np.intp)
    for t in range(1, first.shape[0]):
        sel[first[t]] = t
    return sel


# ================================================================================================
# Functions
# ================================================================================================

class MaxPoolNd(Function):
    """y[b, h] = max over window h of x (padding counts as -inf, or an integer type's minimum); regular
    (kernel/stride/padding/dilation) or adaptive windows, see the module docstring for pos[i, h].

    Shapes: x (*lead, *L) -> y (*lead, *out); indices: flat position in the input plane of the first max.
    Backward: dx[b, pos of the first max of window h] += dy[b, h]; every other position gets 0.
    Forward mode: dy[b, h] = dx[b, pos of the first max of window h].
    """

    def forward(self, x, *, positions, regular, want_indices):
        d = len(positions)
        self.L, lead = x.shape[-d:], x.shape[:-d]
        self.kernel = tuple(p.shape[0] for p in positions)
        self.out = tuple(p.shape[1] for p in positions)
        self.positions, self.regular = positions, regular
        xb = _planes(x, d)
        if regular is not None:
            stride, padding, dilation = regular
            cols = _gather_regular(xb, self.kernel, stride, padding, dilation, self.out, _lowest(xb.dtype))
        else:
            cols = _gather_table(xb, positions)
        self.cols, self.y, self.first = cols, cols.max(axis=0), None  # y (B, P)
        if want_indices is not None:
            want_indices.append(self._indices().reshape(lead + self.out))
        return self.y.reshape(lead + self.out)

    def _first(self):
        """The first-max mask (kk, B, P), computed once (the columns are then freed)."""
        if self.first is None:
            padded = self.regular is None or builtins.any(self.regular[1])
            valid = _flat_positions(self.positions, self.L)[1] if padded else None
            self.first = _first_max(self.cols, self.y, valid)
            self.cols = None
        return self.first

    def _indices(self):
        """(B, P): flat input-plane position of each window's first max."""
        flat = _flat_positions(self.positions, self.L)[0]  # (kk, P)
        return flat[_selected(self._first()), np.arange(flat.shape[1])]

    def backward(self, dy):
        x = self.inputs[0]
        if grad_mode.is_grad_enabled():  # create_graph=True: a scatter-add, differentiable (its backward gathers)
            return _scatter_to_planes(dy, self._indices(), x.shape, math.prod(self.L))
        dyb = dy.array.reshape(self.y.shape)
        d = len(self.kernel)
        if self.regular is not None and self.regular[0] == self.kernel and self.regular[2] == (1,) * d:
            kk = math.prod(self.kernel)
            dx = _fold_tiles(np.broadcast_to(dyb, (kk,) + dyb.shape), self.kernel, self.out, self.regular[1], self.L,
                             x.dtype, mask=self._first())
        else:  # windows overlap (or are adaptive): add dy at the selected positions with one bincount
            B, plane = dyb.shape[0], math.prod(self.L)
            target = (self._indices() + (np.arange(B) * plane)[:, None]).ravel()
            dx = np.bincount(target, weights=dyb.ravel(), minlength=B * plane).astype(x.dtype, copy=False)
        return Tensor._make(np.ascontiguousarray(dx).reshape(x.shape))

    def jvp(self, dx):
        if dx is None:
            return None
        planes = dx.reshape(self.y.shape[0], -1)
        return np.take_along_axis(planes, self._indices(), 1).reshape(self._outputs[0].shape)


def _scatter_to_planes(dy, index, shape, plane):
    """dx (shape) = zeros with dy[b, h] added at flat position index[b, h] of plane b (of `plane`
    elements), as Tensor operations (scatter_add, whose backward is a gather): the differentiable
    backward of max pooling."""
    from .indexing import scatter_add

    zeros = Tensor._make(np.zeros((index.shape[0], plane), dy.dtype))
    return scatter_add(zeros, 1, Tensor._make(index), dy.reshape(index.shape)).reshape(shape)


def _tile_view(x, kernel, out):
    """The windows that tile x (*lead, *L) as a view (B, o_1, k_1, ..., o_d, k_d) of x (of a copy if x
    cannot be reshaped in place), cropped to out*k: view[b, h_1, i_1, ...] = x[b, h_1*k_1 + i_1, ...]."""
    d = len(kernel)
    xb = _planes(x, d)
    xb = xb[(slice(None),) + tuple(slice(0, o * k) for o, k in zip(out, kernel))]
    return xb.reshape((xb.shape[0],) + tuple(v for o, k in zip(out, kernel) for v in (o, k)))


def _tile_offset(offset):
    """Index of kernel offset (i_1..i_d) in a tile view: [:, :, i_1, :, i_2, ...]."""
    return (slice(None),) + tuple(v for i in offset for v in (slice(None), i))


_BLOCK_BYTES = 1 << 18  # input planes per block of MaxPoolTiles: a few hundred KB, so that they stay in cache


def _plane_blocks(planes, plane_bytes):
    """(start, stop) ranges over the planes, about _BLOCK_BYTES of input each."""
    size = builtins.max(1, _BLOCK_BYTES // builtins.max(1, plane_bytes))
    return [(a, builtins.min(a + size, planes)) for a in range(0, planes, size)]


def _tile_max(xv, kernel):
    """y (B, *out) from a tile view (B, o_1, k_1, ..., o_d, k_d): the max over one window axis at a time,
    with elementwise maxima of strided views (np.maximum propagates NaN, as torch does)."""
    r = xv
    for a, k in enumerate(kernel):  # window axis a sits at a + 2: the earlier window axes are gone
        take = [r[(slice(None),) * (a + 2) + (i,)] for i in range(k)]
        m = take[0].copy() if k == 1 else np.maximum(take[0], take[1])
        for v in take[2:]:
            np.maximum(m, v, out=m)
        r = m
    return r


class MaxPoolTiles(Function):
    """Max pooling whose windows tile the input (kernel == stride, no padding, dilation 1, no partial
    window): the common 2x2 pool, with no gathered copy of the windows.

    Shapes: x (*lead, *L) -> y (*lead, *out), out = floor(L / k).
    Forward:  y[b, h] = max_i x[b, h*k + i] (`_tile_max`).
    Backward: dx[b, h*k + i] = dy[b, h] at the first offset i (row-major window order) where
              x == y (or x is NaN when y is), 0 elsewhere: a loop over the kernel offsets keeps a mask
              of the windows still waiting for their first maximum.
    Both run over blocks of planes of about _BLOCK_BYTES, so that the several strided passes over a
    block (one per kernel offset) find it in the cache.
    Higher order: the windows do not overlap, so dx = mask * (dy repeated over each window), with mask
    = the backward of a dy of ones (1 at each window's first maximum); under create_graph that product is
    recorded with Tensor operations. Forward mode: dy[b, h] = sum over window h of mask * dx.
    """

    def forward(self, x, *, kernel, out):
        d = len(kernel)
        xv = _tile_view(x, kernel, out)
        y = np.empty((xv.shape[0],) + out, x.dtype)
        for a, b in _plane_blocks(xv.shape[0], math.prod(x.shape[-d:]) * x.dtype.itemsize):
            y[a:b] = _tile_max(xv[a:b], kernel)
        self.kernel, self.out, self.y = kernel, out, y  # y (B, *out)
        return y.reshape(x.shape[:-d] + out)

    def backward(self, dy):
        if grad_mode.is_grad_enabled():  # create_graph=True: recorded as Tensor operations
            return self._graph_backward(dy)
        return Tensor._make(self._fold(dy.array))

    def _fold(self, dy):
        """The NumPy backward: dy (array of y's shape) -> dx (array of x's shape)."""
        x = self.inputs[0].array
        kernel, out, y = self.kernel, self.out, self.y
        d = len(kernel)
        dyb = dy.reshape(y.shape)
        exact = tuple(o * k for o, k in zip(out, kernel)) == x.shape[-d:]
        dx = np.empty(x.shape, x.dtype) if exact else np.zeros(x.shape, x.dtype)
        xv, dxv = _tile_view(x, kernel, out), _tile_view(dx, kernel, out)  # dxv: a view into dx
        nan = bool(np.isnan(y).any())
        offsets = [_tile_offset(offset) for offset in np.ndindex(*kernel)]
        for a, b in _plane_blocks(y.shape[0], math.prod(x.shape[-d:]) * x.dtype.itemsize):
            xb, dxb, yb, dyc = xv[a:b], dxv[a:b], y[a:b], dyb[a:b]
            waiting = np.ones(yb.shape, bool)  # windows whose first maximum is still to come
            hit = np.empty(yb.shape, bool)
            for offset in offsets[:-1]:
                v = xb[offset]
                np.equal(v, yb, out=hit)
                if nan:
                    hit |= np.isnan(v)
                hit &= waiting
                np.multiply(hit, dyc, out=dxb[offset])
                waiting ^= hit
            np.multiply(waiting, dyc, out=dxb[offsets[-1]])  # every window has a maximum
        return dx

    def _mask(self):
        """1 at each window's first maximum, 0 elsewhere (x's shape): the backward of a dy of ones."""
        return self._fold(np.ones(self.y.shape, self.y.dtype))

    def _graph_backward(self, dy):
        """dx = mask * (dy repeated k times along each spatial dim, zero-padded to x's size)."""
        from .indexing import pad
        from .shape import broadcast_to

        x, kernel, out = self.inputs[0], self.kernel, self.out
        d = len(kernel)
        B = self.y.shape[0]
        spread = dy.reshape((B,) + tuple(v for o in out for v in (o, 1)))
        spread = broadcast_to(spread, (B,) + tuple(v for o, k in zip(out, kernel) for v in (o, k)))
        spread = spread.reshape((B,) + tuple(o * k for o, k in zip(out, kernel)))
        short = [n - o * k for n, o, k in zip(x.shape[-d:], out, kernel)]  # the rows no window covers
        if builtins.any(short):
            spread = pad(spread, tuple(v for r in reversed(short) for v in (0, r)))
        return spread.reshape(x.shape) * Tensor._make(self._mask().reshape(x.shape))

    def jvp(self, dx):
        if dx is None:
            return None
        d = len(self.kernel)
        tiles = _tile_view(self._mask() * dx, self.kernel, self.out)  # (B, o_1, k_1, ..., o_d, k_d)
        return tiles.sum(axis=tuple(range(2, 2 * d + 1, 2))).reshape(self._outputs[0].shape)


class AvgPoolNd(Function):
    """y[b, h] = sum over window h of x (zero padding) / divisor[h].

    divisor: window size clipped to the padded input (count_include_pad), or to the input
    (count_include_pad=False), or divisor_override. Shapes: x (*lead, *L) -> y (*lead, *out).
    Backward: dx[b, pos[i, h]] += dy[b, h] / divisor[h] for every kernel offset i inside the input
    (`_avg_pool_adjoint`; under create_graph the Function AvgPoolAdjoint, whose backward is this pool).
    Forward mode: the pool of the tangent (the pool is linear).
    """

    def forward(self, x, *, kernel, stride, padding, out, divisor):
        self.window = dict(kernel=kernel, stride=stride, padding=padding, out=out, divisor=divisor)
        return _average_windows(x, **self.window)

    def backward(self, dy):
        shape = self.inputs[0].shape
        if grad_mode.is_grad_enabled():  # create_graph=True: the adjoint as a Function
            return AvgPoolAdjoint.apply(dy, shape=shape, **self.window)
        return Tensor._make(_avg_pool_adjoint(dy.array, shape, **self.window))

    def jvp(self, dx):
        return None if dx is None else _average_windows(dx, **self.window)


def _average_windows(x, kernel, stride, padding, out, divisor):
    """y (*lead, *out): the window sums of x (*lead, *L), zero padded, over divisor."""
    d = len(kernel)
    cols = _gather_regular(_planes(x, d), kernel, stride, padding, (1,) * d, out, 0)
    y = cols.sum(axis=0) / divisor.astype(x.dtype)
    return y.reshape(x.shape[:-d] + out)


def _avg_pool_adjoint(dy, shape, kernel, stride, padding, out, divisor):
    """dx (shape): dy[b, h] / divisor[h] added to every input position of window h."""
    d = len(kernel)
    L = shape[-d:]
    g = dy.reshape(math.prod(shape[:-d]), math.prod(out)) / divisor.astype(dy.dtype)
    g = np.broadcast_to(g, (math.prod(kernel),) + g.shape)
    if stride == kernel:
        dx = _fold_tiles(g, kernel, out, padding, L, dy.dtype)
    else:
        dx = _fold_overlapping(g, kernel, stride, padding, (1,) * d, out, L)
    return np.ascontiguousarray(dx).reshape(shape)


class AvgPoolAdjoint(Function):
    """dx = the adjoint of average pooling applied to g (AvgPoolNd's backward, as an operation).

    Shapes: g (*lead, *out) -> dx (`shape`). Linear, so its backward is the pool itself:
    dg = avg_pool(ddx); forward mode: the adjoint of the tangent.
    """

    saves_inputs = False

    def forward(self, g, *, shape, **window):
        self.shape, self.window = shape, window
        return _avg_pool_adjoint(g, shape, **window)

    def backward(self, ddx):
        if grad_mode.is_grad_enabled():
            return AvgPoolNd.apply(ddx, **self.window)
        return Tensor._make(_average_windows(ddx.array, **self.window))

    def jvp(self, dg):
        return None if dg is None else _avg_pool_adjoint(dg, self.shape, **self.window)


def _along(x, matrix, axis):
    """Apply `matrix` (m, n) to dim `axis` (length n) of x: y[..., i, ...] = sum_j matrix[i, j] x[..., j, ...]."""
    y = np.tensordot(matrix, np.moveaxis(x, axis, 0), axes=(1, 0))
    return np.moveaxis(y, 0, axis)


class SeparableLinear(Function):
    """y = x with matrix A_a applied along each spatial dim a (adaptive average pooling).

    y[..., i_1..i_d] = sum_{j} A_1[i_1, j_1] ... A_d[i_d, j_d] x[..., j_1..j_d].   dx = the same with A_a^T.
    Shapes: x (*lead, *L), A_a (out_a, L_a), y (*lead, *out).
    Under create_graph the backward is this operation again with the transposed matrices (so its own
    backward is the original); forward mode: the same map applied to the tangent.
    """

    def forward(self, x, *, matrices):
        self.matrices = [m.astype(x.dtype) for m in matrices]
        return _separable(x, self.matrices)

    def backward(self, dy):
        transposed = [m.T for m in self.matrices]
        if grad_mode.is_grad_enabled():
            return SeparableLinear.apply(dy, matrices=transposed)
        return Tensor._make(_separable(dy.array, transposed))

    def jvp(self, dx):
        return None if dx is None else _separable(dx, self.matrices)


def _separable(x, matrices):
    d = len(matrices)
    for a, m in enumerate(matrices):
        x = _along(x, m, x.ndim - d + a)
    return np.ascontiguousarray(x)


def _segment_sum(g, idx, length, axis):
    """Adjoint of np.take(x, idx, axis) for non-decreasing idx.

    out[..., j, ...] = sum_{i: idx[i] = j} g[..., i, ...]: one np.add.reduceat over the runs of equal idx.
    """
    starts = np.flatnonzero(np.concatenate(([True], idx[1:] != idx[:-1])))
    sums = np.add.reduceat(g, starts, axis=axis)
    shape = list(g.shape)
    shape[axis] = length
    out = np.zeros(shape, g.dtype)
    out[(slice(None),) * axis + (idx[starts],)] = sums
    return out


class Resample(Function):
    """interpolate: along each spatial dim a, y = sum_terms x[idx_term] * weight_term (separable).

    nearest: one term (idx, weight 1); linear: (i0, 1 - lambda) and (i1, lambda).
    Backward, dims in reverse order: dx = sum_terms segment_sum(dy * weight_term, idx_term)
    (idx is non-decreasing, so each input position collects a contiguous run of outputs).
    Shapes: x (N, C, *L) -> y (N, C, *out).
    Linear in x: under create_graph the backward is ResampleAdjoint (whose backward is this
    operation again); forward mode: the resampling of the tangent.
    """

    def forward(self, x, *, terms):
        self.terms = terms
        return _resample(x, terms)

    def backward(self, dy):
        shape = self.inputs[0].shape
        if grad_mode.is_grad_enabled():
            return ResampleAdjoint.apply(dy, terms=self.terms, shape=shape)
        return Tensor._make(_resample_adjoint(dy.array, self.terms, shape))

    def jvp(self, dx):
        return None if dx is None else _resample(dx, self.terms)


def _resample(x, terms):
    d = len(terms)
    y = x
    for a, axis_terms in enumerate(terms):
        axis = x.ndim - d + a
        bshape = (-1,) + (1,) * (d - a - 1)
        acc = None
        for idx, w in axis_terms:
            part = np.take(y, idx, axis=axis)
            if w is not None:
                part = part * w.astype(x.dtype).reshape(bshape)
            acc = part if acc is None else acc + part
        y = acc
    return y


def _resample_adjoint(g, terms, shape):
    d = len(terms)
    for a in reversed(range(d)):
        axis = len(shape) - d + a
        bshape = (-1,) + (1,) * (d - a - 1)
        acc = None
        for idx, w in terms[a]:
            part = g if w is None else g * w.astype(g.dtype).reshape(bshape)
            part = _segment_sum(part, idx, shape[axis], axis)
            acc = part if acc is None else acc + part
        g = acc
    return g


class ResampleAdjoint(Function):
    """dx = the adjoint of `interpolate` applied to g (Resample's backward, as an operation).

    Shapes: g (N, C, *out) -> dx (`shape`). Linear, so its backward is the resampling itself:
    dg = resample(ddx); forward mode: the adjoint of the tangent.
    """

    saves_inputs = False

    def forward(self, g, *, terms, shape):
        self.terms, self.shape = terms, shape
        return _resample_adjoint(g, terms, shape)

    def backward(self, ddx):
        if grad_mode.is_grad_enabled():
            return Resample.apply(ddx, terms=self.terms)
        return Tensor._make(_resample(ddx.array, self.terms))

    def jvp(self, dg):
        return None if dg is None else _resample_adjoint(dg, self.terms, self.shape)


# ================================================================================================
# public functions
# ================================================================================================

def _check_input(op, d, input, integers=False):
    """integers=True also takes integer (not bool) inputs, as torch's max pooling does."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (d + 1, d + 2):
        raise ValueError(f"{op}: expected a {d + 1}-D (unbatched) or {d + 2}-D (batched) input, "
                         f"got shape {tuple(input.shape)}")
    if input.dtype.kind != "f" and not (integers and input.dtype.kind in "iu"):
        kinds = "a floating point or integer" if integers else "a floating point"
        raise TypeError(f"{op}: expected {kinds} input, got dtype {input.dtype}")
    if builtins.any(n == 0 for n in input.shape[-d - 1:]):  # only a batch dim may be 0, as in torch
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} has an empty dimension")


def _pool_args(op, d, input, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = _ntuple(kernel_size, d, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else _ntuple(stride, d, "stride", op)
    padding = _ntuple(padding, d, "padding", op)
    dilation = _ntuple(dilation, d, "dilation", op)
    _check_positive(kernel, "kernel_size", op)
    _check_positive(stride, "stride", op)
    _check_positive(dilation, "dilation", op)
    _check_nonnegative(padding, "padding", op)
    for k, p in zip(kernel, padding):
        if p > k // 2:
            raise ValueError(f"{op}: padding {padding} should be at most half of kernel_size {kernel}")
    L = tuple(input.shape[-d:])
    out = tuple(_pool_out_size(n, k, s, p, r, bool(ceil_mode))
                for n, k, s, p, r in zip(L, kernel, stride, padding, dilation))
    if builtins.any(o < 1 for o in out):
        raise ValueError(f"{op}: input of spatial size {L} is too small for kernel_size {kernel}, stride {stride}, "
                         f"padding {padding}, dilation {dilation}: output size would be {out}")
    return kernel, stride, padding, dilation, out


def _max_pool(op, d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    _check_input(op, d, input, integers=True)
    kernel, stride, padding, dilation, out = _pool_args(op, d, input, kernel_size, stride, padding, dilation,
                                                        ceil_mode)
    L = tuple(input.shape[-d:])
    positions = [_regular_positions(n, k, s, p, r, o)
                 for n, k, s, p, r, o in zip(L, kernel, stride, padding, dilation, out)]
    return _apply_max(input, d, positions, (stride, padding, dilation), return_indices)


def _apply_max(input, d, positions, regular, return_indices):
    if regular is not None and not return_indices:
        stride, padding, dilation = regular
        kernel = tuple(p.shape[0] for p in positions)
        out = tuple(p.shape[1] for p in positions)
        if (stride == kernel and not builtins.any(padding) and dilation == (1,) * d
                and builtins.all(o * k <= n for o, k, n in zip(out, kernel, input.shape[-d:]))):
            return MaxPoolTiles.apply(input, kernel=kernel, out=out)
    sink = [] if return_indices else None
    y = MaxPoolNd.apply(input, positions=positions, regular=regular, want_indices=sink)
    if return_indices:
        return y, Tensor._make(sink[0].astype(np.int64))
    return y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling of (N, C, L) or (C, L); -inf padding; with return_indices also the argmax positions."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling of (N, C, H, W) or (C, H, W). stride defaults to kernel_size; ceil_mode keeps a last
    partial window if it starts inside the input or left padding; indices are flat positions h*W + w."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling of (N, C, D, H, W) or (C, D, H, W)."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_divisor(L, kernel, stride, padding, out, count_include_pad, divisor_override):
    """divisor[P] per output position (torch's rule), as a product over the spatial dims."""
    if divisor_override is not None:
        return np.full(math.prod(out), float(divisor_override))
    div = np.ones(())
    for n, k, s, p, o in zip(L, kernel, stride, padding, out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        size = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        div = np.multiply.outer(div, size.astype(np.float64))
    div = div.reshape(-1)
    return np.where(div > 0, div, 1.0)  # empty windows (only in ceil_mode) sum to 0 anyway


def _avg_pool(op, d, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    _check_input(op, d, input)
    kernel, stride, padding, _, out = _pool_args(op, d, input, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and (not _is_int(divisor_override) or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}")
    divisor = _avg_divisor(tuple(input.shape[-d:]), kernel, stride, padding, out, bool(count_include_pad),
                           divisor_override)
    return AvgPoolNd.apply(input, kernel=kernel, stride=stride, padding=padding, out=out, divisor=divisor)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling of (N, C, L) or (C, L); zero padding counted in the divisor if count_include_pad."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling of (N, C, H, W) or (C, H, W); divisor_override replaces the window size."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-D average pooling of (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _output_size(op, d, input, output_size):
    if _is_int(output_size):
        size = (builtins.int(output_size),) * d
    elif isinstance(output_size, (tuple, list)) and len(output_size) == d and \
            builtins.all(o is None or _is_int(o) for o in output_size):
        size = tuple(builtins.int(n) if o is None else builtins.int(o) for o, n in zip(output_size, input.shape[-d:]))
    else:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {d} ints (or None), got {output_size!r}")
    if builtins.any(o <= 0 for o in size):
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return size


def _adaptive_avg(op, d, input, output_size):
    _check_input(op, d, input)
    out = _output_size(op, d, input, output_size)
    L = tuple(input.shape[-d:])
    if builtins.all(n % o == 0 for n, o in zip(L, out)):  # equal windows that tile: a plain average pool
        kernel = tuple(n // o for n, o in zip(L, out))
        return AvgPoolNd.apply(input, kernel=kernel, stride=kernel, padding=(0,) * d, out=out,
                               divisor=np.full(math.prod(out), float(math.prod(kernel))))
    matrices = []
    for n, o in zip(L, out):
        start, end = _adaptive_bounds(n, o)
        j = np.arange(n)
        inside = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])
        matrices.append(inside / (end - start)[:, None])
    return SeparableLinear.apply(input, matrices=matrices)


def _adaptive_max(op, d, input, output_size, return_indices):
    _check_input(op, d, input)
    out = _output_size(op, d, input, output_size)
    L = tuple(input.shape[-d:])
    if builtins.all(n % o == 0 for n, o in zip(L, out)):
        kernel = tuple(n // o for n, o in zip(L, out))
        positions = [_regular_positions(n, k, k, 0, 1, o) for n, k, o in zip(L, kernel, out)]
        return _apply_max(input, d, positions, (kernel, (0,) * d, (1,) * d), return_indices)
    positions = [_adaptive_positions(n, o) for n, o in zip(L, out)]
    return _apply_max(input, d, positions, None, return_indices)


def adaptive_avg_pool1d(input, output_size):
    """Average over torch's adaptive windows [floor(h L/out), ceil((h+1) L/out)) of (N, C, L) or (C, L)."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average over adaptive windows, per dim [floor(h L/out), ceil((h+1) L/out)); output_size int or (H, W)
    (None keeps that dim)."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """3-D adaptive average pooling."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over adaptive windows of (N, C, L) or (C, L)."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over adaptive windows, per dim [floor(h L/out), ceil((h+1) L/out)); indices are flat h*W + w."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """3-D adaptive max pooling."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


# ------------------------------------------------------------------------------------------------
# interpolate
# ------------------------------------------------------------------------------------------------

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area")


def _nearest_index(n_in, n_out, scale, exact):
    """torch's nearest source index, computed in float32 as torch does: floor(dst * scale) (or
    floor((dst + 0.5) * scale) for nearest-exact), clamped to n_in - 1."""
    dst = np.arange(n_out)
    if not exact and n_out == n_in:
        return dst
    if not exact and n_out == 2 * n_in:
        return dst >> 1
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(n_in) / np.float32(n_out)
    pos = (dst.astype(np.float32) + np.float32(0.5)) * s if exact else dst.astype(np.float32) * s
    return np.minimum(np.floor(pos).astype(np.int64), n_in - 1)


def _linear_terms(n_in, n_out, scale, align_corners, dtype):
    """torch's linear interpolation source indices and weights: [(i0, 1 - lambda), (i1, lambda)]."""
    dst = np.arange(n_out)
    if n_out == n_in:
        return [(dst, None)]
    ft = np.dtype(dtype).type
    if align_corners:
        s = ft(n_in - 1) / ft(n_out - 1) if n_out > 1 else ft(0)
        src = dst.astype(dtype) * s
    else:
        s = ft(1.0 / scale) if scale is not None and scale > 0 else ft(n_in) / ft(n_out)
        src = np.maximum(s * (dst.astype(dtype) + ft(0.5)) - ft(0.5), ft(0))
    i0 = src.astype(np.int64)
    i1 = i0 + (i0 < n_in - 1)
    lam = np.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    return [(i0, (ft(1) - lam).astype(dtype)), (i1, lam)]


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample (N, C, *L) to `size` or L * scale_factor, as torch.nn.functional.interpolate.

    mode: 'nearest' (src = floor(dst * in/out)), 'nearest-exact' (floor((dst + 0.5) * in/out)),
    'linear' (3-D), 'bilinear' (4-D), 'trilinear' (5-D) with align_corners (default False), or 'area'
    (adaptive average pooling). With scale_factor the output is floor(L * scale_factor) and the index
    scale is 1/scale_factor (unless recompute_scale_factor=True).
    """
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(f"{op}: unknown mode {mode!r}; expected one of {', '.join(_MODES)}")
    if input.ndim not in (3, 4, 5):
        raise ValueError(f"{op}: expected a 3-D, 4-D or 5-D input (N, C, *spatial), got shape {tuple(input.shape)}")
    if input.dtype.kind != "f" and not (input.dtype == np.uint8 and mode in ("nearest", "nearest-exact")):
        raise TypeError(f"{op}: expected a floating point input (or uint8 with mode 'nearest' or 'nearest-exact'), "
                        f"got dtype {input.dtype} with mode {mode!r}")
    d = input.ndim - 2
    if mode in _LINEAR and _LINEAR[mode] != d:
        raise ValueError(f"{op}: mode {mode!r} needs a {_LINEAR[mode] + 2}-D input, got shape {tuple(input.shape)}")
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError(f"{op}: align_corners can only be set with the interpolating modes linear, bilinear and "
                         f"trilinear, got mode {mode!r}")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: exactly one of size and scale_factor must be given, got size={size!r}, "
                         f"scale_factor={scale_factor!r}")
    L = tuple(input.shape[2:])
    if size is not None:
        out = _ntuple(size, d, "size", op) if not isinstance(size, (tuple, list)) or len(size) == d else None
        if out is None:
            raise ValueError(f"{op}: size {size!r} must be an int or have {d} entries for input of shape "
                             f"{tuple(input.shape)}")
        scales = (None,) * d
    else:
        if isinstance(scale_factor, (tuple, list)):
            if len(scale_factor) != d:
                raise ValueError(f"{op}: scale_factor {scale_factor!r} must have {d} entries for input of shape "
                                 f"{tuple(input.shape)}")
            scales = tuple(float(s) for s in scale_factor)
        else:
            scales = (float(scale_factor),) * d
        if builtins.any(s <= 0 for s in scales):
            raise ValueError(f"{op}: scale_factor must be positive, got {scale_factor!r}")
        out = tuple(builtins.int(math.floor(n * s)) for n, s in zip(L, scales))
        if recompute_scale_factor:
            scales = (None,) * d
    if builtins.any(o <= 0 for o in out):
        raise ValueError(f"{op}: output size {out} must be positive (input shape {tuple(input.shape)})")
    if mode == "area":
        return _adaptive_avg(op, d, input, out)
    if mode in ("nearest", "nearest-exact"):
        terms = [[(_nearest_index(n, o, s, mode == "nearest-exact"), None)] for n, o, s in zip(L, out, scales)]
    else:
        terms = [_linear_terms(n, o, s, bool(align_corners), input.dtype) for n, o, s in zip(L, out, scales)]
    return Resample.apply(input, terms=terms)

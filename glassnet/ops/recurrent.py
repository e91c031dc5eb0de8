"""Recurrent layers as fused operations with explicit backpropagation through time (BPTT).

One Function runs one layer in one direction over a whole sequence:

    (x (T, B, I), h0 (B, H)[, c0 (B, H)], W_ih, W_hh[, b_ih, b_hh][, W_hr])
        -> (hs (T, B, H) every hidden state in time order, h_n (B, H)[, c_n (B, H)])

Forward: the input projections of all T steps are ONE matrix product (the T * B rows x_t times
W_ih^T, plus the biases); then a Python loop over time does only the recurrent product h W_hh^T and the
gates, in preallocated arrays with in-place NumPy ufuncs. Backward walks the steps in reverse with
hand-derived formulas (no per-step autograd graph), keeps the gradients dA of the gate pre-activations
for all steps, and at the end gets dW_ih = dA^T X, dx = dA W_ih, dW_hh = dA^T H_prev, db = sum dA as
ONE matrix product each over all T * B rows. The gradient flows into h0 (and c0), so truncated BPTT is
the caller's choice: pass detached states between chunks and nothing flows past them.

Higher order. When the backward itself is recorded (create_graph=True), each layer's backward takes
the route of recurrent_graph.py instead: the same BPTT formulas written with Tensor operations over a
recomputed forward, so the gradients can be differentiated again. Forward mode (jvp) walks the steps
forward, pushing the tangent of the state along with the state (each layer's `jvp`).

Layout. Everything is time-major, one row per batch element: x (T, B, I), the gates (T, B, G), the
states (T, B, H), so every step's block is contiguous and the T * B rows of an array are one matrix
without a copy (a batch_first input is copied once). Parameter shapes and gate orders are PyTorch's
(LSTM i, f, g, o; GRU r, z, n); the rows of the weights are permuted once per call so that the sigmoid
gates sit side by side, and gradients are permuted back. A sigmoid is computed as
sigma(a) = 0.5 * tanh(a / 2) + 0.5 (stable for any a), with the 1/2 folded into the (copied) weights
of the sigmoid gates, so one tanh call covers all gates of a step.

Public functions (PyTorch's torch.* names and signatures): rnn_tanh_cell, rnn_relu_cell, lstm_cell,
gru_cell (one step, batched input (B, I)) and rnn_tanh, rnn_relu, lstm, gru (multi-layer, optionally
bidirectional sequences with flat parameter lists, as the nn.RNN / nn.LSTM / nn.GRU modules call them).
"""
import builtins
import numbers

import numpy as np

from ..autograd import grad_mode
from ..autograd.forward_ad import add_tangents
from ..autograd.function import Function
from ..tensor import Tensor
from . import recurrent_graph
from .linear import _ones

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell", "rnn_tanh", "rnn_relu", "lstm", "gru"]


# ================================================================================================
# helpers on raw arrays
# ================================================================================================

def _block_rows(order, size):
    """Row indices that reorder a (len(order) * size, ...) weight's blocks of `size` rows into `order`,
    and the inverse permutation."""
    perm = np.concatenate([np.arange(b * size, (b + 1) * size) for b in order]).astype(np.intp)
    return perm, np.argsort(perm)


def _half_rows(blocks, size, dtype):
    """A column (G, 1) of 0.5 for the rows of sigmoid gates and 1 for the others; `blocks` lists per
    gate block whether it is a sigmoid."""
    return np.repeat(np.where(blocks, 0.5, 1.0), size).astype(dtype)[:, None]


def _rows(a):
    """The (T * B, F) matrix of a (T, B, F) array, one row per (step, batch element): a view of the
    time-major arrays made here, a copy of anything else (batch_first input, say)."""
    return a.reshape(-1, a.shape[-1])


def _project_inputs(self, x, w_t, bias):
    """x_t W^T + b for every step at once, as ONE matrix product: x (T, B, I), w_t (I, G) -> (T, B, G).
    Keeps x's rows (T * B, I) for the backward in self.x_rows (a view, or the one copy of a strided x)."""
    self.x_rows = _rows(x)
    out = np.dot(self.x_rows, w_t).reshape(*x.shape[:2], w_t.shape[1])
    if bias is not None:
        out += bias
    return out


def _previous(states, first, reverse):
    """The state fed into each step, in time order, from the outputs `states` (T, B, F) and the initial
    state `first` (B, F): [first, s_0, ..., s_{T-2}], or [s_1, ..., s_{T-1}, first] in reverse."""
    prev = np.empty_like(states)
    if reverse:
        prev[:-1] = states[1:]
        prev[-1] = first
    else:
        prev[1:] = states[:-1]
        prev[0] = first
    return prev


def _recurrent_weight_grad(ah, hs, h0, reverse):
    """dW = sum_t dA_t^T h_{t-1} over all steps, without building the shifted states: one GEMM pairs
    the rows of steps 1.. with the states 0.. (or the reverse), a small one the first step with h0.
    ah (T, B, G), hs (T, B, P), h0 (B, P) -> (G, P)."""
    if reverse:
        later, first, earlier_states = ah[:-1], ah[-1], hs[1:]
    else:
        later, first, earlier_states = ah[1:], ah[0], hs[:-1]
    dw = np.dot(_rows(later).T, _rows(earlier_states))
    dw += np.dot(first.T, h0)
    return dw


def _steps(t, reverse):
    return range(t - 1, -1, -1) if reverse else range(t)


def _weight_grads(self, ax, ah, x, wih, hs, h0, inv_ih, inv_hh):
    """The gradients that need no loop over time, one GEMM each over all T * B rows.

    ax (T, B, G): gradients of the input-side pre-activations (columns in the internal gate order),
    ah (T, B, G): those of the recurrent side (may be ax itself), x (T, B, I) (its rows: self.x_rows),
    hs (T, B, P) the states, h0 (B, P) the initial one. Returns dx (T, B, I), dW_ih, dW_hh, db_ih, db_hh with rows in PyTorch's
    gate order (None where not needed).
    """
    need = self.needs_input_grad
    ax2, ah2 = _rows(ax), _rows(ah)
    dx = np.dot(ax2, wih).reshape(x.shape) if need[0] else None
    dwih = np.dot(ax2.T, self.x_rows) if need[self.i_wih] else None
    dwhh = _recurrent_weight_grad(ah, hs, h0, self.reverse) if need[self.i_wih + 1] else None
    dwih = _reorder(dwih, inv_ih)
    dwhh = _reorder(dwhh, inv_hh)
    dbih = dbhh = None
    if self.has_bias:
        ones = _ones(ax2.shape[0], ax2.dtype)  # row sums as BLAS products (see ops/linear.py)
        sum_x = np.dot(ones, ax2)
        sum_h = np.dot(ones, ah2) if ah is not ax else sum_x.copy()
        dbih = _reorder(sum_x, inv_ih) if need[self.i_wih + 2] else None
        dbhh = _reorder(sum_h, inv_hh) if need[self.i_wih + 3] else None
    return dx, dwih, dwhh, dbih, dbhh


def _reorder(rows, inv):
    """Rows from the internal gate order back to PyTorch's (inv: the inverse permutation, or None)."""
    return rows if rows is None or inv is None else rows[inv]


def _wrap(*arrays):
    return tuple(None if a is None else Tensor._make(a) for a in arrays)


def _input_tangents(x, dx, w_ih, dw_ih, *dbiases):
    """Forward mode: the tangents of all steps' input projections x_t W_ih^T + b, (T, B, G), at once:
    dx_t W_ih^T + x_t dW_ih^T + db (zeros where nothing has a tangent)."""
    shape = x.shape[:2] + (w_ih.shape[0],)
    total = add_tangents(shape, None if dx is None else np.matmul(dx, w_ih.T),
                         None if dw_ih is None else np.matmul(x, dw_ih.T), *dbiases)
    return np.zeros(shape, x.dtype) if total is None else total


def _recurrent_tangent(dh, w_hh, h, dw_hh):
    """Forward mode: the tangent of h W_hh^T, dh W_hh^T + h dW_hh^T (dw_hh None: no tangent)."""
    return np.dot(dh, w_hh.T) + (0 if dw_hh is None else np.dot(h, dw_hh.T))


def _state_or_zeros(tangent, state):
    return np.zeros_like(state) if tangent is None else tangent


# ================================================================================================
# vanilla RNN
# ================================================================================================

class RNNLayer(Function):
    """Elman RNN over a sequence, one direction:  a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh,
    h_t = tanh(a_t) (or relu(a_t)).  Inputs x (T, B, I), h0 (B, H), W_ih (H, I), W_hh (H, H), b_ih, b_hh (H,);
    outputs hs (T, B, H), h_n (B, H). With reverse=True, the steps run from t = T-1 down to 0.

    BPTT, with g_t = dL/dh_t (from the output hs, plus what flows back from step t+1):
      g_t   = dhs_t + W_hh^T dA_{t+1}          (g_{T-1} also gets dh_n)
      dA_t  = g_t * (1 - h_t^2)   (tanh)  or  g_t * [h_t > 0]   (relu)
      dh0   = W_hh^T dA_0;   dW_hh = sum_t dA_t h_{t-1}^T;   dW_ih = sum_t dA_t x_t^T;   dx_t = W_ih^T dA_t
      db_ih = db_hh = sum over steps and batch of dA_t
    """

    def forward(self, x, h0, w_ih, w_hh, *biases, nonlinearity="tanh", reverse=False):
        self.has_bias = bool(biases)
        self.i_wih = 2
        self.reverse, self.nonlinearity = reverse, nonlinearity
        bias = biases[0] + biases[1] if biases else None
        hs = _project_inputs(self, x, w_ih.T, bias)  # (T, B, H): pre-activations, then states
        tmp = np.empty(h0.shape, hs.dtype)
        whh_t = np.ascontiguousarray(w_hh.T)
        h = h0
        for t in _steps(x.shape[0], reverse):
            a = hs[t]
            np.dot(h, whh_t, out=tmp)
            a += tmp
            if nonlinearity == "tanh":
                np.tanh(a, out=a)
            else:
                np.maximum(a, 0, out=a)
            h = a
        self.hs = hs
        return hs, np.array(h, copy=True)

    def backward(self, dhs, dhn):
        if grad_mode.is_grad_enabled():  # create_graph=True: the same BPTT as Tensor operations
            return recurrent_graph.rnn_backward(self, dhs, dhn)
        x, h0, w_ih, w_hh = (t.array for t in self.inputs[:4])
        hs, dhs = self.hs, dhs.array
        da = np.empty_like(hs)
        back = np.array(dhn.array, copy=True)  # dL/dh flowing back into the current step
        for t in reversed(_steps(x.shape[0], self.reverse)):
            dat = da[t]
            np.add(dhs[t], back, out=dat)
            if self.nonlinearity == "tanh":  # * (1 - h^2)
                np.multiply(hs[t], hs[t], out=back)
                np.subtract(1, back, out=back)
                dat *= back
            else:  # * [h > 0]
                dat *= hs[t] > 0
            np.dot(dat, w_hh, out=back)
        dx, dwih, dwhh, dbih, dbhh = _weight_grads(self, da, da, x, w_ih, hs, h0, None, None)
        dh0 = back if self.needs_input_grad[1] else None
        grads = _wrap(dx, dh0, dwih, dwhh)
        return grads + (_wrap(dbih, dbhh) if self.has_bias else ())

    def jvp(self, dx, dh0, dw_ih, dw_hh, *dbiases):
        """Forward mode, step by step: da_t = dP_t + dh_{t-1} W_hh^T + h_{t-1} dW_hh^T (dP: the input
        projections' tangent), dh_t = act'(a_t) da_t."""
        x, h0, w_ih, w_hh = (t.array for t in self.inputs[:4])
        hs = self.hs
        dp = _input_tangents(x, dx, w_ih, dw_ih, *dbiases)
        dhs = np.empty_like(hs)
        dh, h = _state_or_zeros(dh0, h0), h0
        for t in _steps(x.shape[0], self.reverse):
            da = dp[t] + _recurrent_tangent(dh, w_hh, h, dw_hh)
            slope = 1 - hs[t] * hs[t] if self.nonlinearity == "tanh" else hs[t] > 0
            dh = dhs[t] = da * slope
            h = hs[t]
        return dhs, dh.copy()


# ================================================================================================
# LSTM
# ================================================================================================

_LSTM_ORDER = (3, 0, 1, 2)  # PyTorch's gate blocks (i, f, g, o) -> internal (o, i, f, g): sigmoids side by side


class LSTMLayer(Function):
    """LSTM over a sequence, one direction (optionally with a projection W_hr, as PyTorch's proj_size).

    Forward, per step (PyTorch's gate order i, f, g, o; sigma = logistic sigmoid):
      [a_i, a_f, a_g, a_o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
      i = sigma(a_i), f = sigma(a_f), g = tanh(a_g), o = sigma(a_o)
      c_t = f * c_{t-1} + i * g
      m_t = o * tanh(c_t);   h_t = m_t   (or h_t = W_hr m_t with a projection)
    Shapes: x (T, B, I), h0 (B, P), c0 (B, H), W_ih (4H, I), W_hh (4H, P), b_* (4H,), W_hr (P, H);
    P = H without a projection. Outputs hs (T, B, P), h_n (B, P), c_n (B, H).

    BPTT, walking t from the last step back (dh_n, dc_n enter at the last step):
      g_t   = dhs_t + W_hh^T dA_{t+1}                     dL/dh_t
      dm_t  = g_t                      (or W_hr^T g_t;  dW_hr = sum_t g_t m_t^T)
      dc_t  = dm_t * o * (1 - tanh(c_t)^2) + dc_{t+1} * f_{t+1}
      da_o  = dm_t * tanh(c_t) * o (1 - o)
      da_i  = dc_t * g * i (1 - i)
      da_f  = dc_t * c_{t-1} * f (1 - f)
      da_g  = dc_t * i * (1 - g^2)
      dh0 = W_hh^T dA_0, dc0 = dc_0 * f_0;  then dW_ih, dx, dW_hh, db in one GEMM each (module docstring).
    Each step is about twenty ufunc calls on (B, H) blocks that stay in cache, and one (B, 4H) x (4H, P)
    product.
    """

    def forward(self, x, h0, c0, w_ih, w_hh, *rest, has_bias=True, has_proj=False, reverse=False):
        self.has_bias, self.has_proj, self.reverse = has_bias, has_proj, reverse
        self.i_wih = 3
        steps, batch, _ = x.shape
        hid, out = c0.shape[-1], h0.shape[-1]
        dt = x.dtype
        perm, self.inv = _block_rows(_LSTM_ORDER, hid)
        self.wih, self.whh = w_ih[perm], w_hh[perm]
        half = _half_rows([True, True, True, False], hid, dt)  # o, i, f are sigmoids: tanh(a/2)
        bias = (rest[0] + rest[1])[perm] * half[:, 0] if has_bias else None
        w_hr_t = rest[-1].T if has_proj else None
        gates = _project_inputs(self, x, (self.wih * half).T, bias)  # (T, B, 4H): pre-activations, then gates
        whh_t = np.ascontiguousarray((self.whh * half).T)  # (P, 4H)
        cs, tcs = np.empty((steps, batch, hid), dt), np.empty((steps, batch, hid), dt)
        ms = np.empty((steps, batch, hid), dt) if has_proj else None
        hs = np.empty((steps, batch, out), dt)
        tmp = np.empty((batch, 4 * hid), dt)
        ig = np.empty((batch, hid), dt)
        h, c = h0, c0
        for t in _steps(steps, reverse):
            gt = gates[t]
            np.dot(h, whh_t, out=tmp)
            gt += tmp
            np.tanh(gt, out=gt)  # tanh(a/2) for the sigmoid gates, tanh(a) for g
            sig = gt[:, :3 * hid]  # sigma(a) = tanh(a/2) / 2 + 1/2
            sig *= 0.5
            sig += 0.5
            o, i, f, g = gt[:, :hid], gt[:, hid:2 * hid], gt[:, 2 * hid:3 * hid], gt[:, 3 * hid:]
            ct = cs[t]
            np.multiply(f, c, out=ct)
            np.multiply(i, g, out=ig)
            ct += ig
            np.tanh(ct, out=tcs[t])
            if has_proj:
                np.multiply(o, tcs[t], out=ms[t])
                np.dot(ms[t], w_hr_t, out=hs[t])
            else:
                np.multiply(o, tcs[t], out=hs[t])
            h, c = hs[t], ct
        self.saved = (gates, cs, tcs, ms)
        self.hs = hs
        return hs, np.array(h, copy=True), np.array(c, copy=True)

    def backward(self, dhs, dhn, dcn):
        if grad_mode.is_grad_enabled():  # create_graph=True: the same BPTT as Tensor operations
            return recurrent_graph.lstm_backward(self, dhs, dhn, dcn)
        gates, cs, tcs, ms = self.saved
        x, h0, c0 = (t.array for t in self.inputs[:3])
        w_hr = self.inputs[-1].array if self.has_proj else None
        dhs = dhs.array
        steps, batch, hid = cs.shape
        dt = gates.dtype
        da = np.empty((steps, batch, 4 * hid), dt)
        da_ifg = da.reshape(steps, batch, 4, hid)[:, :, 1:]  # (T, B, 3, H): the blocks that get * dc
        back_h = np.array(dhn.array, copy=True)  # dL/dh and dL/dc flowing back into the current step
        back_c = np.array(dcn.array, copy=True)
        dm, dc = np.empty((batch, hid), dt), np.empty((batch, hid), dt)
        sd = np.empty((batch, 3 * hid), dt)
        gsum = np.empty((steps, batch, dhs.shape[2]), dt) if self.has_proj else None
        for t in reversed(_steps(steps, self.reverse)):
            gt, tc, dat = gates[t], tcs[t], da[t]
            o, i, f, g = gt[:, :hid], gt[:, hid:2 * hid], gt[:, 2 * hid:3 * hid], gt[:, 3 * hid:]
            cprev = (c0 if t == steps - 1 else cs[t + 1]) if self.reverse else (cs[t - 1] if t else c0)
            if self.has_proj:
                np.add(dhs[t], back_h, out=gsum[t])
                np.dot(gsum[t], w_hr, out=dm)
            else:
                np.add(dhs[t], back_h, out=dm)
            np.multiply(tc, tc, out=dc)  # dc = dm * o * (1 - tanh(c)^2) + dc_next * f_next
            np.subtract(1, dc, out=dc)
            dc *= o
            dc *= dm
            dc += back_c
            sig = gt[:, :3 * hid]  # s (1 - s) for o, i, f
            np.subtract(1, sig, out=sd)
            sd *= sig
            np.multiply(sd[:, :hid], tc, out=dat[:, :hid])  # da_o = dm * tanh(c) * o (1 - o)
            dat[:, :hid] *= dm
            np.multiply(sd[:, hid:2 * hid], g, out=dat[:, hid:2 * hid])  # da_i = dc * g * i (1 - i)
            np.multiply(sd[:, 2 * hid:], cprev, out=dat[:, 2 * hid:3 * hid])  # da_f = dc * c_prev * f (1 - f)
            dag = dat[:, 3 * hid:]  # da_g = dc * i * (1 - g^2)
            np.multiply(g, g, out=dag)
            np.subtract(1, dag, out=dag)
            dag *= i
            np.multiply(da_ifg[t], dc[:, None, :], out=da_ifg[t])
            np.multiply(dc, f, out=back_c)
            np.dot(dat, self.whh, out=back_h)
        dx, dwih, dwhh, dbih, dbhh = _weight_grads(self, da, da, x, self.wih, self.hs, h0, self.inv, self.inv)
        need = self.needs_input_grad
        grads = _wrap(dx, back_h if need[1] else None, back_c if need[2] else None, dwih, dwhh)
        if self.has_bias:
            grads += _wrap(dbih, dbhh)
        if self.has_proj:
            dwhr = np.dot(_rows(gsum).T, _rows(ms)) if need[-1] else None
            grads += _wrap(dwhr)
        return grads

    def jvp(self, dx, dh0, dc0, dw_ih, dw_hh, *rest):
        """Forward mode, step by step (gates in PyTorch's order, s' = s (1 - s), tanh' = 1 - tanh^2):
          da_t = dP_t + dh_{t-1} W_hh^T + h_{t-1} dW_hh^T      (dP: the input projections' tangent)
          di, df, do = s'(a) da for those blocks,  dg = (1 - g^2) da_g
          dc_t = df c_{t-1} + f dc_{t-1} + di g + i dg
          dm_t = do tanh(c_t) + o (1 - tanh(c_t)^2) dc_t,   dh_t = dm_t  (or dm_t W_hr^T + m_t dW_hr^T)."""
        x, h0, c0, w_ih, w_hh = (t.array for t in self.inputs[:5])
        w_hr = self.inputs[-1].array if self.has_proj else None
        dw_hr = rest[-1] if self.has_proj else None
        gates, cs, tcs, ms = self.saved
        hid = cs.shape[-1]
        dp = _input_tangents(x, dx, w_ih, dw_ih, *(rest[:2] if self.has_bias else ()))
        dhs = np.empty_like(self.hs)
        dh, dc, h, c = _state_or_zeros(dh0, h0), _state_or_zeros(dc0, c0), h0, c0
        for t in _steps(x.shape[0], self.reverse):
            da = dp[t] + _recurrent_tangent(dh, w_hh, h, dw_hh)  # PyTorch's blocks i, f, g, o
            o, i, f, g = (gates[t][:, k * hid:(k + 1) * hid] for k in range(4))  # internal order
            di, df = i * (1 - i) * da[:, :hid], f * (1 - f) * da[:, hid:2 * hid]
            dg, do = (1 - g * g) * da[:, 2 * hid:3 * hid], o * (1 - o) * da[:, 3 * hid:]
            dc = df * c + f * dc + di * g + i * dg
            dm = do * tcs[t] + o * (1 - tcs[t] * tcs[t]) * dc
            dh = dm if w_hr is None else np.dot(dm, w_hr.T) + (0 if dw_hr is None else np.dot(ms[t], dw_hr.T))
            dhs[t] = dh
            h, c = self.hs[t], cs[t]
        return dhs, dh.copy(), dc.copy()


# ================================================================================================
# GRU
# ================================================================================================

_GRU_IH_ORDER = (2, 0, 1)  # input-side blocks (r, z, n) -> internal (n, r, z); hidden side stays (r, z, n)


class GRULayer(Function):
    """GRU over a sequence, one direction (PyTorch's gate order r, z, n and its form of n):
      r = sigma(W_ir x + b_ir + W_hr h + b_hr)
      z = sigma(W_iz x + b_iz + W_hz h + b_hz)
      n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
      h_t = (1 - z) * n + z * h_{t-1}
    Shapes: x (T, B, I), h0 (B, H), W_ih (3H, I), W_hh (3H, H), b_* (3H,) -> hs (T, B, H), h_n (B, H).

    BPTT, with g_t = dhs_t + (what flows back from step t+1), q = W_hn h_{t-1} + b_hn:
      da_n = g_t * (1 - z) * (1 - n^2)                   (pre-activation of n)
      da_r = da_n * q * r (1 - r)
      da_z = g_t * (h_{t-1} - n) * z (1 - z)
      input side   dA^x_t = [da_r, da_z, da_n]          -> dW_ih, db_ih, dx (one GEMM each at the end)
      hidden side  dA^h_t = [da_r, da_z, da_n * r]      -> dW_hh, db_hh (one GEMM each at the end)
      g_{t-1} gets W_hh^T dA^h_t + g_t * z;  dh0 is what is left after the first step.
    All four gradients are g_t times a factor known from the forward: the factors of all steps are
    computed at once before the loop, so each step is one broadcast multiply of g_t with a (B, 4, H)
    factor array, one (B, 3H) x (3H, H) product and two small ufuncs.
    """

    def forward(self, x, h0, w_ih, w_hh, *biases, reverse=False):
        self.has_bias, self.reverse = bool(biases), reverse
        self.i_wih = 2
        steps, batch, _ = x.shape
        hid = h0.shape[-1]
        dt = x.dtype
        perm, self.inv = _block_rows(_GRU_IH_ORDER, hid)
        self.wih = w_ih[perm]
        half_ih = _half_rows([False, True, True], hid, dt)  # (n, r, z)
        half_hh = _half_rows([True, True, False], hid, dt)  # (r, z, n)
        bias = b_hn = None
        if biases:
            bias = biases[0][perm]  # (n, r, z)
            bias[hid:] += biases[1][:2 * hid]  # r and z: both biases sit outside any product
            bias *= half_ih[:, 0]
            b_hn = biases[1][2 * hid:]
        gates = _project_inputs(self, x, (self.wih * half_ih).T, bias)  # (T, B, 3H) order (n, r, z)
        whh_t = np.ascontiguousarray((w_hh * half_hh).T)  # (H, 3H)
        hw = np.empty((steps, batch, 3 * hid), dt)  # W_hh h (+ b_hn): q is its last block
        hs = np.empty((steps, batch, hid), dt)
        tmp = np.empty((batch, 3 * hid), dt)
        h = h0
        for t in _steps(steps, reverse):
            gt, ht = gates[t], hw[t]
            np.dot(h, whh_t, out=ht)
            if b_hn is not None:
                ht[:, 2 * hid:] += b_hn
            rz = gt[:, hid:]
            rz += ht[:, :2 * hid]
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            n = gt[:, :hid]
            np.multiply(gt[:, hid:2 * hid], ht[:, 2 * hid:], out=tmp[:, :hid])
            n += tmp[:, :hid]
            np.tanh(n, out=n)
            out = hs[t]
            np.subtract(h, n, out=out)
            out *= gt[:, 2 * hid:]
            out += n
            h = out
        self.saved = (gates, hw, hs)
        return hs, np.array(h, copy=True)

    def backward(self, dhs, dhn):
        if grad_mode.is_grad_enabled():  # create_graph=True: the same BPTT as Tensor operations
            return recurrent_graph.gru_backward(self, dhs, dhn)
        gates, hw, hs = self.saved
        x, h0, w_ih, w_hh = (t.array for t in self.inputs[:4])
        dhs = dhs.array
        steps, batch, hid = hs.shape
        n, r, z = gates[:, :, :hid], gates[:, :, hid:2 * hid], gates[:, :, 2 * hid:]
        q = hw[:, :, 2 * hid:]
        hprev = _previous(hs, h0, self.reverse)
        # factors (T, B, 4, H) in the order [n, r, z, n*r]: the first three are the input-side
        # pre-activation gradients over g_t (columns of the internal W_ih), the last three the hidden side
        fac = np.empty((steps, batch, 4, hid), hs.dtype)
        pn, pr, pz = fac[:, :, 0], fac[:, :, 1], fac[:, :, 2]
        np.multiply(n, n, out=pn)
        np.subtract(1, pn, out=pn)
        pn *= 1 - z
        np.multiply(r, r, out=pr)
        np.subtract(r, pr, out=pr)
        pr *= q
        pr *= pn
        np.multiply(z, z, out=pz)
        np.subtract(z, pz, out=pz)
        pz *= hprev - n
        np.multiply(pn, r, out=fac[:, :, 3])

        da = np.empty((steps, batch, 4, hid), hs.dtype)
        back = np.array(dhn.array, copy=True)
        g = np.empty((batch, hid), hs.dtype)
        tmp = np.empty((batch, hid), hs.dtype)
        for t in reversed(_steps(steps, self.reverse)):
            np.add(dhs[t], back, out=g)
            np.multiply(g[:, None, :], fac[t], out=da[t])
            np.dot(da[t, :, 1:].reshape(batch, 3 * hid), w_hh, out=back)
            np.multiply(g, z[t], out=tmp)
            back += tmp
        ax = da[:, :, :3].reshape(steps, batch, 3 * hid)
        ah = da[:, :, 1:].reshape(steps, batch, 3 * hid)
        dx, dwih, dwhh, dbih, dbhh = _weight_grads(self, ax, ah, x, self.wih, hs, h0, self.inv, None)
        grads = _wrap(dx, back if self.needs_input_grad[1] else None, dwih, dwhh)
        return grads + (_wrap(dbih, dbhh) if self.has_bias else ())

    def jvp(self, dx, dh0, dw_ih, dw_hh, *dbiases):
        """Forward mode, step by step (blocks r, z, n; dX, dH: tangents of the input-side and hidden-side
        products, q = W_hn h + b_hn):
          dr = r (1 - r) (dX_r + dH_r),  dz = z (1 - z) (dX_z + dH_z),  dn = (1 - n^2) (dX_n + dr q + r dH_n)
          dh_t = (1 - z) dn + dz (h_{t-1} - n) + z dh_{t-1}."""
        x, h0, w_ih, w_hh = (t.array for t in self.inputs[:4])
        db_ih, db_hh = dbiases if self.has_bias else (None, None)
        gates, hw, hs = self.saved
        hid = h0.shape[-1]
        dxp = _input_tangents(x, dx, w_ih, dw_ih, db_ih)  # (T, B, 3H), blocks r, z, n
        dhs = np.empty_like(hs)
        dh, h = _state_or_zeros(dh0, h0), h0
        for t in _steps(x.shape[0], self.reverse):
            dhp = _recurrent_tangent(dh, w_hh, h, dw_hh) + (0 if db_hh is None else db_hh)
            n, r, z = (gates[t][:, k * hid:(k + 1) * hid] for k in range(3))  # internal order
            q = hw[t][:, 2 * hid:]
            dr = r * (1 - r) * (dxp[t][:, :hid] + dhp[:, :hid])
            dz = z * (1 - z) * (dxp[t][:, hid:2 * hid] + dhp[:, hid:2 * hid])
            dn = (1 - n * n) * (dxp[t][:, 2 * hid:] + dr * q + r * dhp[:, 2 * hid:])
            dh = dhs[t] = (1 - z) * dn + dz * (h - n) + z * dh
            h = hs[t]
        return dhs, dh.copy()


# ================================================================================================
# argument checks and public functions
# ================================================================================================

def _check_float(op, named):
    """All tensors given (None skipped) are Tensors of one floating dtype."""
    dtype = None
    for name, t in named:
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be a floating point tensor, got dtype {t.dtype}")
        if dtype is None:
            dtype = t.dtype
        elif t.dtype != dtype:
            raise TypeError(f"{op}: all tensors must have the same dtype; {name} is {t.dtype}, expected {dtype} "
                            f"(the dtype of {named[0][0]})")


def _check_shape(op, name, t, shape):
    if tuple(t.shape) != tuple(shape):
        raise ValueError(f"{op}: {name} has shape {tuple(t.shape)}, expected {tuple(shape)}")


def _check_layer(op, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, gates):
    """Shapes of one layer's inputs: x (T, B, I), h0 (B, P), c0 (B, H), W_ih (gates*H, I), W_hh (gates*H, P)."""
    if w_ih.ndim != 2 or w_hh.ndim != 2 or w_ih.shape[0] % gates or w_ih.shape[0] != w_hh.shape[0]:
        raise ValueError(f"{op}: weight_ih {tuple(w_ih.shape)} and weight_hh {tuple(w_hh.shape)} must be 2-D with "
                         f"the same number of rows, a multiple of {gates} ({gates} * hidden_size)")
    hid = w_ih.shape[0] // gates
    out = w_hr.shape[0] if w_hr is not None else hid
    if x.ndim != 3 or x.shape[2] != w_ih.shape[1]:
        raise ValueError(f"{op}: input has shape {tuple(x.shape)}, expected (seq_len, batch, {w_ih.shape[1]}) "
                         f"to match weight_ih of shape {tuple(w_ih.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"{op}: expected a sequence length larger than 0, got input of shape {tuple(x.shape)}")
    _check_shape(op, "weight_hh", w_hh, (gates * hid, out))
    for name, b in (("bias_ih", b_ih), ("bias_hh", b_hh)):
        if b is not None:
            _check_shape(op, name, b, (gates * hid,))
    if w_hr is not None:
        _check_shape(op, "weight_hr", w_hr, (out, hid))
    _check_shape(op, "hidden state h", h0, (x.shape[1], out))
    if c0 is not None:
        _check_shape(op, "cell state c", c0, (x.shape[1], hid))


def _layer(mode, op, x, h0, c0, params, has_bias, reverse):
    """Run the fused Function for one layer and direction: returns (hs, h_n, c_n or None)."""
    if has_bias:
        w_ih, w_hh, b_ih, b_hh = params[:4]
    else:
        (w_ih, w_hh), b_ih, b_hh = params[:2], None, None
    w_hr = params[4 if has_bias else 2] if len(params) > (4 if has_bias else 2) else None
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    _check_layer(op, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, gates)
    biases = (b_ih, b_hh) if has_bias else ()
    if mode == "LSTM":
        extra = (w_hr,) if w_hr is not None else ()
        return LSTMLayer.apply(x, h0, c0, w_ih, w_hh, *biases, *extra, has_bias=has_bias,
                               has_proj=w_hr is not None, reverse=reverse)
    if mode == "GRU":
        hs, hn = GRULayer.apply(x, h0, w_ih, w_hh, *biases, reverse=reverse)
    else:
        nl = "tanh" if mode == "RNN_TANH" else "relu"
        hs, hn = RNNLayer.apply(x, h0, w_ih, w_hh, *biases, nonlinearity=nl, reverse=reverse)
    return hs, hn, None


def _cell(mode, op, input, hx, cx, w_ih, w_hh, b_ih, b_hh):
    if (b_ih is None) != (b_hh is None):
        raise ValueError(f"{op}: give both b_ih and b_hh, or neither")
    _check_float(op, [("input", input), ("hx", hx), ("cx", cx), ("w_ih", w_ih), ("w_hh", w_hh),
                      ("b_ih", b_ih), ("b_hh", b_hh)])
    if input.ndim != 2:
        raise ValueError(f"{op}: expected a 2-D input (batch, input_size), got shape {tuple(input.shape)}")
    params = [w_ih, w_hh] + ([b_ih, b_hh] if b_ih is not None else [])
    _, hn, cn = _layer(mode, op, input.unsqueeze(0), hx, cx, params, b_ih is not None, False)
    return (hn, cn) if mode == "LSTM" else hn


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step: h' = tanh(input W_ih^T + b_ih + hx W_hh^T + b_hh); input (B, I), hx (B, H)."""
    return _cell("RNN_TANH", "rnn_tanh_cell", input, hx, None, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step with relu: h' = relu(input W_ih^T + b_ih + hx W_hh^T + b_hh)."""
    return _cell("RNN_RELU", "rnn_relu_cell", input, hx, None, w_ih, w_hh, b_ih, b_hh)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (see LSTMLayer for the equations): hx = (h, c), each (B, H); returns (h', c')."""
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError("lstm_cell: hx must be a pair (h, c) of tensors")
    return _cell("LSTM", "lstm_cell", input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (see GRULayer for the equations): input (B, I), hx (B, H) -> h' (B, H)."""
    return _cell("GRU", "gru_cell", input, hx, None, w_ih, w_hh, b_ih, b_hh)


def _sequence(mode, input, hx, cx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """The multi-layer, optionally bidirectional stack of fused layers (see the public wrappers)."""
    from .dropout import dropout as dropout_fn
    from .indexing import cat, stack

    op = {"RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu"}.get(mode, mode.lower())
    if not isinstance(num_layers, numbers.Integral) or isinstance(num_layers, builtins.bool) or num_layers < 1:
        raise ValueError(f"{op}: num_layers must be a positive int, got {num_layers!r}")
    dirs = 2 if bidirectional else 1
    params = list(params)
    if len(params) % (num_layers * dirs):
        raise ValueError(f"{op}: got {len(params)} parameters, not a multiple of num_layers * directions = "
                         f"{num_layers * dirs}")
    per = len(params) // (num_layers * dirs)
    base = 4 if has_biases else 2
    if per not in ((base, base + 1) if mode == "LSTM" else (base,)):
        raise ValueError(f"{op}: expected {base} parameters per layer and direction (weight_ih, weight_hh"
                         f"{', bias_ih, bias_hh' if has_biases else ''}), got {per}")
    if hx is None or (mode == "LSTM" and cx is None):
        raise TypeError(f"{op}: the initial state hx is required (zeros of shape (num_layers * num_directions, "
                        "batch, hidden) for a fresh start)")
    _check_float(op, [("input", input), ("hx", hx), ("cx", cx)] + [(f"params[{k}]", p) for k, p in enumerate(params)])
    if input.ndim != 3:
        raise ValueError(f"{op}: expected a 3-D input, got shape {tuple(input.shape)}")
    x = input.transpose(0, 1) if batch_first else input
    if hx.ndim != 3 or hx.shape[0] != num_layers * dirs:
        raise ValueError(f"{op}: hx has shape {tuple(hx.shape)}, expected (num_layers * num_directions = "
                         f"{num_layers * dirs}, batch, hidden)")
    h_out, c_out = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            h0 = hx[k]
            c0 = cx[k] if cx is not None else None
            hs, hn, cn = _layer(mode, op, x, h0, c0, params[k * per:(k + 1) * per], has_biases, d == 1)
            outs.append(hs)
            h_out.append(hn)
            c_out.append(cn)
        x = outs[0] if dirs == 1 else cat(outs, -1)
        if dropout and train and layer < num_layers - 1:
            x = dropout_fn(x, dropout, True)
    output = x.transpose(0, 1) if batch_first else x
    h_n = stack(h_out, 0)
    return (output, h_n, stack(c_out, 0)) if mode == "LSTM" else (output, h_n)


def rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """Multi-layer Elman RNN (tanh) over a batched sequence, as torch.rnn_tanh.

    input (T, B, I) (or (B, T, I) with batch_first), hx (num_layers * D, B, H), params: the flat list
    [W_ih, W_hh(, b_ih, b_hh)] per layer and direction (D = 2 if bidirectional). `dropout` is applied
    to each layer's output but the last when `train`. Returns (output (T, B, D*H), h_n).
    """
    return _sequence("RNN_TANH", input, hx, None, params, has_biases, num_layers, dropout, train, bidirectional,
                     batch_first)


def rnn_relu(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """Multi-layer Elman RNN with relu; as rnn_tanh."""
    return _sequence("RNN_RELU", input, hx, None, params, has_biases, num_layers, dropout, train, bidirectional,
                     batch_first)


def lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """Multi-layer LSTM over a batched sequence, as torch.lstm: hx = (h0, c0); params per layer and direction
    [W_ih, W_hh(, b_ih, b_hh)(, W_hr)] (W_hr present when projecting). Returns (output, h_n, c_n)."""
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError("lstm: hx must be a pair (h0, c0) of tensors")
    return _sequence("LSTM", input, hx[0], hx[1], params, has_biases, num_layers, dropout, train, bidirectional,
                     batch_first)


def gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """Multi-layer GRU over a batched sequence, as torch.gru. Returns (output, h_n)."""
    return _sequence("GRU", input, hx, None, params, has_biases, num_layers, dropout, train, bidirectional,
                     batch_first)

"""Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional sequences) and RNNCell, LSTMCell, GRUCell.

Names, signatures, parameter names and shapes, gate orders, initialisation and return values are
PyTorch's, so state dicts load both ways. Each layer and direction of a sequence module runs as one
fused operation with hand-written backpropagation through time (see glassnet/ops/recurrent.py).
RNN, LSTM and GRU also take a PackedSequence (nn.utils.rnn) and return one (see RNNBase._run_packed).
"""
import math
import numbers
import warnings

import numpy as np

from ... import dtypes
from ...tensor import Tensor
from .. import init
from ..functional import gru, gru_cell, lstm, lstm_cell, rnn_relu, rnn_relu_cell, rnn_tanh, rnn_tanh_cell
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _positive_int(cls, name, value, allow_zero=False):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < (0 if allow_zero else 1):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{cls}: {name} must be a {kind} int, got {value!r}")
    return int(value)


def _float_dtype(cls, dtype):
    dtype = np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if dtype.kind != "f":
        raise TypeError(f"{cls}: dtype must be a floating point type, got {dtype}")
    return dtype


class RNNBase(Module):
    """The common machinery of RNN, LSTM and GRU: parameters weight_ih_l{k}[_reverse] (gates*H, in),
    weight_hh_l{k}[_reverse] (gates*H, H or proj_size), bias_ih/bias_hh (gates*H,), weight_hr (proj_size, H),
    all ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)); and the forward over (un)batched input."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        cls = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{cls}: unrecognized RNN mode {mode!r}")
        self.mode = mode
        self.input_size = _positive_int(cls, "input_size", input_size, allow_zero=True)
        self.hidden_size = _positive_int(cls, "hidden_size", hidden_size)
        self.num_layers = _positive_int(cls, "num_layers", num_layers)
        self.bias = bias
        self.batch_first = batch_first
        if (not isinstance(dropout, numbers.Real) or isinstance(dropout, bool) or not 0 <= dropout <= 1):
            raise ValueError(f"{cls}: dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got {dropout!r}")
        self.dropout = float(dropout)
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{cls}: dropout option adds dropout after all but last recurrent layer, so non-zero "
                          f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=2)
        self.bidirectional = bidirectional
        self.proj_size = _positive_int(cls, "proj_size", proj_size, allow_zero=True)
        if self.proj_size:
            if mode != "LSTM":
                raise ValueError(f"{cls}: proj_size argument is only supported for LSTM, not RNN or GRU")
            if self.proj_size >= self.hidden_size:
                raise ValueError(f"{cls}: proj_size {self.proj_size} has to be smaller than hidden_size "
                                 f"{self.hidden_size}")
        dtype = _float_dtype(cls, dtype)
        gate_size = _GATES[mode] * self.hidden_size
        real_hidden = self.proj_size or self.hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(self.num_layers):
            for d in range(dirs):
                in_size = self.input_size if layer == 0 else real_hidden * dirs
                suffix = f"_l{layer}" + ("_reverse" if d == 1 else "")
                shapes = [("weight_ih", (gate_size, in_size)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if self.proj_size:
                    shapes.append(("weight_hr", (self.proj_size, self.hidden_size)))
                for name, shape in shapes:
                    setattr(self, name + suffix, Parameter(np.empty(shape, dtype)))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters grouped per layer and direction: [[w_ih, w_hh, b_ih, b_hh(, w_hr)], ...]."""
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        flat = self._flat_weights
        return [flat[k:k + per] for k in range(0, len(flat), per)]

    def flatten_parameters(self):
        """A no-op (PyTorch uses it to pack weights for cuDNN)."""

    def reset_parameters(self):
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ---- forward ----------------------------------------------------------------------------------
    def _check_input(self, input):
        cls = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{cls}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{cls}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead "
                             f"(shape {tuple(input.shape)})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{cls}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.shape[-1]} (input shape {tuple(input.shape)})")
        dtype = self.weight_ih_l0.dtype
        if input.dtype != dtype:
            raise TypeError(f"{cls}: input dtype {input.dtype} does not match the parameters' dtype {dtype}")

    def _state(self, hx, name, size, batch, batched, dtype):
        """The initial state for every layer and direction, (num_layers * D, B, size): zeros when None."""
        cls = type(self).__name__
        layers = self.num_layers * (2 if self.bidirectional else 1)
        if hx is None:
            return Tensor._make(np.zeros((layers, batch, size), dtype))
        if not isinstance(hx, Tensor):
            raise TypeError(f"{cls}: {name} must be a Tensor, got {type(hx).__name__}")
        if batched and hx.ndim != 3:
            raise RuntimeError(f"{cls}: For batched 3-D input, {name} should also be 3-D but got {hx.ndim}-D tensor")
        if not batched and hx.ndim != 2:
            raise RuntimeError(f"{cls}: For unbatched 2-D input, {name} should also be 2-D but got {hx.ndim}-D "
                               "tensor")
        expected = (layers, batch, size) if batched else (layers, size)
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"{cls}: Expected {name} size {expected}, got {tuple(hx.shape)}")
        if hx.dtype != dtype:
            raise TypeError(f"{cls}: {name} dtype {hx.dtype} does not match the parameters' dtype {dtype}")
        return hx if batched else hx.unsqueeze(1)

    def _run(self, input, hx, cx, fn):
        if isinstance(input, PackedSequence):
            return self._run_packed(input, hx, cx, fn)
        self._check_input(input)
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(1)
        batch = input.shape[0] if self.batch_first else input.shape[1]
        dtype = self.weight_ih_l0.dtype
        real_hidden = self.proj_size or self.hidden_size
        h0 = self._state(hx, "hidden state", real_hidden, batch, batched, dtype)
        args = (self._flat_weights, self.bias, self.num_layers, self.dropout, self.training, self.bidirectional,
                self.batch_first)
        if self.mode == "LSTM":
            c0 = self._state(cx, "cell state", self.hidden_size, batch, batched, dtype)
            output, h_n, c_n = fn(input, (h0, c0), *args)
        else:
            output, h_n = fn(input, h0, *args)
            c_n = None
        if not batched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        return output, h_n, c_n


    # ---- packed sequences ----------------------------------------------------------------------
    def _run_packed(self, packed, hx, cx, fn):
        """The stack over a PackedSequence: each layer and direction runs the fused layer once per stretch
        of steps with the same batch size (the sequences still running), so each sequence's final state is
        taken at its own last step and the reverse direction starts there. Returns (PackedSequence, h_n, c_n)
        with h_n, c_n in the batch's original order."""
        from ..functional import dropout

        data, batch_sizes = packed.data, packed.batch_sizes.array
        self._check_input(data.unsqueeze(0))
        batch, dtype = int(batch_sizes[0]), self.weight_ih_l0.dtype
        order = packed.sorted_indices.array if packed.sorted_indices is not None else None
        states = [self._state(hx, "hidden state", self.proj_size or self.hidden_size, batch, True, dtype)]
        if self.mode == "LSTM":
            states.append(self._state(cx, "cell state", self.hidden_size, batch, True, dtype))
        if order is not None and hx is not None:
            states = [s[:, order] for s in states]  # the caller's order -> sorted by length
        spans = _spans(batch_sizes)
        dirs = 2 if self.bidirectional else 1
        per = len(self._flat_weights_names) // (self.num_layers * dirs)
        finals, x = [], data
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                run = _one_layer(fn, self._flat_weights[k * per:(k + 1) * per], self.bias)
                out, final = _packed_direction(run, x, spans, [s[k] for s in states], reverse=d == 1)
                outs.append(out)
                finals.append(final)
            x = outs[0] if dirs == 1 else _cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = dropout(x, self.dropout, True)
        h_n, c_n = (_stack([f[i] for f in finals]) for i in range(2)) if self.mode == "LSTM" else \
            (_stack([f[0] for f in finals]), None)
        if order is not None:
            back = packed.unsorted_indices.array
            h_n = h_n[:, back]
            c_n = c_n[:, back] if c_n is not None else None
        return PackedSequence(x, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices), h_n, c_n


def _cat(tensors, dim):
    from ...ops import cat

    return cat(tensors, dim)


def _stack(tensors):
    from ...ops import stack

    return stack(tensors, 0)


def _spans(batch_sizes):
    """[(first packed row, first step, steps, batch size)] for each stretch of equal batch sizes."""
    spans, row, t = [], 0, 0
    while t < len(batch_sizes):
        n, start = int(batch_sizes[t]), t
        while t < len(batch_sizes) and batch_sizes[t] == n:
            t += 1
        spans.append((row, start, t - start, n))
        row += (t - start) * n
    return spans


def _one_layer(fn, params, bias):
    """run(x (T, n, I), states [(n, H), ...]) -> (out (T, n, H'), new states): one fused layer, one direction."""

    def run(x, states):
        hx = tuple(s.unsqueeze(0) for s in states)
        result = fn(x, hx if len(hx) == 2 else hx[0], params, bias, 1, 0.0, False, False, False)
        return result[0], [r[0] for r in result[1:]]

    return run


def _packed_direction(run, data, spans, initial, reverse):
    """One direction of one layer over packed `data` (rows, I) -> (packed output (rows, H'), final states).

    Forward: the spans in order; the sequences that end with a span (its last rows, sorted by length) leave
    their states there. Reverse: the spans backwards, each step sequence reversed in time; sequences that
    begin (at their last step) join with their initial state.
    """
    outs, finished, states = [], [], None
    for row, _, steps, n in (reversed(spans) if reverse else spans):
        if reverse:  # rows already running come first; the rest start here
            states = [s0[:n] if s is None else _cat([s, s0[s.shape[0]:n]], 0)
                      for s, s0 in zip(states or [None] * len(initial), initial)]
        else:
            states = [s0 for s0 in initial] if states is None else states
            if states[0].shape[0] > n:  # sequences that ended with the previous span
                finished.append([s[n:] for s in states])
                states = [s[:n] for s in states]
        x = data[row:row + steps * n].reshape(steps, n, data.shape[-1])
        out, states = run(x.flip(0) if reverse else x, states)
        out = out.flip(0) if reverse else out
        outs.append(out.reshape(steps * n, out.shape[-1]))
    if reverse:
        outs.reverse()
        return _cat(outs, 0), states
    finished.append(states)
    finals = [_cat([f[i] for f in reversed(finished)], 0) for i in range(len(initial))]
    return _cat(outs, 0), finals


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked num_layers deep.

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False, dropout=0.0,
    bidirectional=False). forward(input, hx=None): input (L, N, H_in) ((N, L, H_in) with batch_first, or
    unbatched (L, H_in)), hx (num_layers * D, N, H_out) or zeros -> (output (L, N, D * H_out), h_n).
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("RNN: proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
            kwargs.pop("nonlinearity", None)
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; select from 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        fn = rnn_tanh if self.mode == "RNN_TANH" else rnn_relu
        output, h_n, _ = self._run(input, hx, None, fn)
        return output, h_n


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o; c_t = f c_{t-1} + i g; h_t = o tanh(c_t), projected by
    W_hr when proj_size > 0), stacked num_layers deep.

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False,
    proj_size=0). forward(input, hx=None): hx = (h_0, c_0) or zeros -> (output, (h_n, c_n)).
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        if hx is None:
            h0 = c0 = None
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            h0, c0 = hx
        else:
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0) of tensors or None")
        output, h_n, c_n = self._run(input, h0, c0, lstm)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit (r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h_t = (1 - z) n + z h_{t-1}), stacked num_layers deep.

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False).
    forward(input, hx=None) -> (output, h_n).
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("GRU: proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        output, h_n, _ = self._run(input, hx, None, gru)
        return output, h_n


# ================================================================================================
# cells
# ================================================================================================

class RNNCellBase(Module):
    """Parameters of a one-step cell: weight_ih (chunks*H, in), weight_hh (chunks*H, H), bias_ih, bias_hh
    (chunks*H,) (None when bias=False), all ~ U(-1/sqrt(H), 1/sqrt(H))."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        cls = type(self).__name__
        self.input_size = _positive_int(cls, "input_size", input_size, allow_zero=True)
        self.hidden_size = _positive_int(cls, "hidden_size", hidden_size, allow_zero=True)
        self.bias = bias
        dtype = _float_dtype(cls, dtype)
        rows = num_chunks * self.hidden_size
        self.weight_ih = Parameter(np.empty((rows, self.input_size), dtype))
        self.weight_hh = Parameter(np.empty((rows, self.hidden_size), dtype))
        if bias:
            self.bias_ih = Parameter(np.empty((rows,), dtype))
            self.bias_hh = Parameter(np.empty((rows,), dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, states):
        """(batched input (B, I), batched states, was_batched); zeros for missing states."""
        cls = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{cls}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{cls}: Expected input to be 1D or 2D, got {input.ndim}D instead "
                             f"(shape {tuple(input.shape)})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{cls}: input has inconsistent input_size: got {input.shape[-1]}, expected "
                               f"{self.input_size}")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        batch = input.shape[0]
        out = []
        for k, h in enumerate(states):
            name = "hx" if len(states) == 1 else ("hx", "cx")[k]
            if h is None:
                h = Tensor._make(np.zeros((batch, self.hidden_size), self.weight_ih.dtype))
            else:
                if not isinstance(h, Tensor):
                    raise TypeError(f"{cls}: {name} must be a Tensor, got {type(h).__name__}")
                dims = 2 if batched else 1
                if h.ndim != dims:
                    raise RuntimeError(f"{cls}: {name} must be {dims}-D for a {dims}-D input, got shape "
                                       f"{tuple(h.shape)}")
                if not batched:
                    h = h.unsqueeze(0)
                if tuple(h.shape) != (batch, self.hidden_size):
                    raise RuntimeError(f"{cls}: {name} has shape {tuple(h.shape)}, expected "
                                       f"{(batch, self.hidden_size)} (input batch size {batch}, hidden_size "
                                       f"{self.hidden_size})")
            out.append(h)
        return input, out, batched


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).
    forward(input (N, H_in) or (H_in,), hx=None) -> h' (N, H) or (H,)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity: {nonlinearity!r}; select from 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, [hx])
        fn = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        out = fn(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step. forward(input, hx=None) with hx = (h, c) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if hx is None:
            hx = (None, None)
        elif not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError("LSTMCell: hx must be a tuple (h, c) of tensors or None")
        x, (h, c), batched = self._prepare(input, list(hx))
        h, c = lstm_cell(x, (h, c), self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step. forward(input, hx=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, [hx])
        out = gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else out.squeeze(0)

"""The recurrent layers' backpropagation through time written with Tensor operations (create_graph=True).

recurrent.py runs each layer's BPTT on raw arrays: fast, but a gradient computed that way is a constant
for autograd. When the backward itself is being recorded (create_graph=True, for a gradient penalty, a
Hessian-vector product or a MAML step), a layer's backward comes here instead: the forward is
recomputed step by step from the layer's input Tensors, and the same BPTT formulas (see RNNLayer,
LSTMLayer and GRULayer) are evaluated with glassnet's operations. The gradients returned are then
functions of the inputs and of the incoming gradients, and can be differentiated again.

Everything is time-major and in PyTorch's gate order (LSTM i, f, g, o; GRU r, z, n): no row
permutation and no folded 1/2, since speed is not the point here.
"""
from ..tensor import Tensor
from .activation import relu, sigmoid, tanh
from .arithmetic import matmul
from .indexing import cat, stack
from .linear import linear
from .reduction import sum as _sum


def _order(layer):
    """The steps in the order the forward ran them."""
    steps = layer.inputs[0].shape[0]
    return list(range(steps - 1, -1, -1)) if layer.reverse else list(range(steps))


def _rows(a):
    return a.reshape(-1, a.shape[-1])


def _weight_grads(layer, x, w_ih, ax, ah, fed):
    """(dx, dW_ih, dW_hh) + (db_ih, db_hh) from the per-step gradients of the input-side (ax) and
    recurrent-side (ah) pre-activations and the states fed into each step (dicts keyed by step):
    dx_t = dA^x_t W_ih, dW_ih = sum_t dA^x_t^T x_t, dW_hh = sum_t dA^h_t^T h_{t-1}, db = sums of dA."""
    steps = range(x.shape[0])
    dax, dah, prev = (stack([d[t] for t in steps]) for d in (ax, ah, fed))  # (T, B, G), (T, B, G), (T, B, P)
    grads = (matmul(dax, w_ih), matmul(_rows(dax).mT, _rows(x)), matmul(_rows(dah).mT, _rows(prev)))
    return grads + ((_sum(dax, (0, 1)), _sum(dah, (0, 1))) if layer.has_bias else ())


def rnn_backward(layer, dhs, dhn):
    """RNNLayer's BPTT: g_t = dhs_t + W_hh^T dA_{t+1}, dA_t = g_t * act'(a_t), dh0 = W_hh^T dA_0."""
    x, h0, w_ih, w_hh = layer.inputs[:4]
    bias = layer.inputs[4] + layer.inputs[5] if layer.has_bias else None
    order = _order(layer)
    proj = linear(x, w_ih, bias)  # (T, B, H)
    act = tanh if layer.nonlinearity == "tanh" else relu
    h, fed, states = h0, {}, {}
    for t in order:
        fed[t] = h
        h = states[t] = act(proj[t] + linear(h, w_hh))
    back, da = dhn, {}
    for t in reversed(order):
        ht = states[t]
        slope = 1 - ht * ht if layer.nonlinearity == "tanh" else Tensor._make((ht.array > 0).astype(ht.dtype))
        da[t] = (dhs[t] + back) * slope
        back = matmul(da[t], w_hh)
    dx, dwih, dwhh, *dbs = _weight_grads(layer, x, w_ih, da, da, fed)
    return (dx, back, dwih, dwhh, *dbs)


def lstm_backward(layer, dhs, dhn, dcn):
    """LSTMLayer's BPTT (see its docstring), the gates recomputed from the inputs."""
    x, h0, c0, w_ih, w_hh = layer.inputs[:5]
    rest = layer.inputs[5:]
    bias = rest[0] + rest[1] if layer.has_bias else None
    w_hr = rest[-1] if layer.has_proj else None
    hid = c0.shape[-1]
    order = _order(layer)
    proj = linear(x, w_ih, bias)  # (T, B, 4H)
    h, c, fed, saved = h0, c0, {}, {}
    for t in order:
        a = proj[t] + linear(h, w_hh)
        i, f = sigmoid(a[:, :hid]), sigmoid(a[:, hid:2 * hid])
        g, o = tanh(a[:, 2 * hid:3 * hid]), sigmoid(a[:, 3 * hid:])
        fed[t] = h
        c_new = f * c + i * g
        tc = tanh(c_new)
        m = o * tc
        saved[t] = (i, f, g, o, c, tc, m)
        h, c = (linear(m, w_hr) if w_hr is not None else m), c_new
    back_h, back_c, da, dh_total = dhn, dcn, {}, {}
    for t in reversed(order):
        i, f, g, o, c_prev, tc, m = saved[t]
        dh_total[t] = dhs[t] + back_h
        dm = matmul(dh_total[t], w_hr) if w_hr is not None else dh_total[t]
        dc = dm * o * (1 - tc * tc) + back_c
        da[t] = cat([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g),
                     dm * tc * o * (1 - o)], -1)
        back_h, back_c = matmul(da[t], w_hh), dc * f
    dx, dwih, dwhh, *dbs = _weight_grads(layer, x, w_ih, da, da, fed)
    grads = (dx, back_h, back_c, dwih, dwhh, *dbs)
    if w_hr is not None:  # dW_hr = sum_t g_t m_t^T
        steps = range(x.shape[0])
        g_all, m_all = stack([dh_total[t] for t in steps]), stack([saved[t][6] for t in steps])
        grads += (matmul(_rows(g_all).mT, _rows(m_all)),)
    return grads


def gru_backward(layer, dhs, dhn):
    """GRULayer's BPTT (see its docstring), with q = W_hn h + b_hn recomputed from the inputs."""
    x, h0, w_ih, w_hh = layer.inputs[:4]
    b_ih, b_hh = layer.inputs[4:6] if layer.has_bias else (None, None)
    hid = h0.shape[-1]
    order = _order(layer)
    proj = linear(x, w_ih, b_ih)  # (T, B, 3H)
    h, fed, saved = h0, {}, {}
    for t in order:
        a, hp = proj[t], linear(h, w_hh, b_hh)
        r = sigmoid(a[:, :hid] + hp[:, :hid])
        z = sigmoid(a[:, hid:2 * hid] + hp[:, hid:2 * hid])
        q = hp[:, 2 * hid:]
        n = tanh(a[:, 2 * hid:] + r * q)
        fed[t], saved[t] = h, (r, z, n, q)
        h = (1 - z) * n + z * h
    back, ax, ah = dhn, {}, {}
    for t in reversed(order):
        r, z, n, q = saved[t]
        g = dhs[t] + back
        da_n = g * (1 - z) * (1 - n * n)
        da_r = da_n * q * r * (1 - r)
        da_z = g * (fed[t] - n) * z * (1 - z)
        ax[t], ah[t] = cat([da_r, da_z, da_n], -1), cat([da_r, da_z, da_n * r], -1)
        back = matmul(ah[t], w_hh) + g * z
    dx, dwih, dwhh, *dbs = _weight_grads(layer, x, w_ih, ax, ah, fed)
    return (dx, back, dwih, dwhh, *dbs)

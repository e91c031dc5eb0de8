"""The fused layers as one table, shared by tests/test_second_order.py (second derivatives) and
tests/test_ops_jvp.py (forward mode): each case written once for glassnet and PyTorch.

OPS: functional cases, fn(lib, *tensors) on float64 inputs of the given shapes (parameters are inputs).
MODULES: a module built by both libraries with the same weights (`module_pair`), called on one input.
"""
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import torch

import glassnet as gn


def F(lib):
    return lib.nn.functional


IDX = np.array([[0, 2, 2], [6, 0, 1]])


@dataclass
class Op:
    """A functional case: fn(lib, *tensors) -> tensor or tuple, on float64 inputs of `shapes`."""

    name: str
    fn: Callable
    shapes: list
    make: Optional[Callable] = None  # rng, shape -> array (default: standard normal)


def _bool_mask(lib):
    mask = np.random.default_rng(5).random((4, 6)) > 0.3
    mask[1] = False  # a query that may attend to nothing (its output row is zero)
    return lib.tensor(mask)


OPS = [
    Op("linear", lambda lib, x, w, b: F(lib).linear(x, w, b), [(2, 3, 4), (5, 4), (5,)]),
    Op("embedding", lambda lib, w: F(lib).embedding(lib.tensor(IDX), w), [(7, 3)]),
    Op("embedding_padding_freq", lambda lib, w: F(lib).embedding(lib.tensor(IDX), w, padding_idx=2,
                                                                   scale_grad_by_freq=True), [(7, 3)]),
    # convolutions (the weight and bias are inputs too)
    Op("conv1d_stride_padding", lambda lib, x, w, b: F(lib).conv1d(x, w, b, stride=2, padding=1),
       [(2, 3, 9), (4, 3, 3), (4,)]),
    Op("conv1d_same_even_kernel_dilation", lambda lib, x, w: F(lib).conv1d(x, w, padding="same", dilation=2),
       [(2, 2, 7), (3, 2, 4)]),
    Op("conv2d_groups_dilation", lambda lib, x, w, b: F(lib).conv2d(x, w, b, stride=(2, 1), padding=(1, 2),
                                                                    dilation=(1, 2), groups=2),
       [(2, 4, 6, 7), (6, 2, 3, 2), (6,)]),
    Op("conv2d_unbatched", lambda lib, x, w: F(lib).conv2d(x, w, padding=1), [(2, 5, 5), (3, 2, 3, 3)]),
    Op("conv3d", lambda lib, x, w, b: F(lib).conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 0, 1)),
       [(2, 2, 4, 5, 4), (3, 2, 2, 3, 2), (3,)]),
    Op("conv_transpose1d", lambda lib, x, w, b: F(lib).conv_transpose1d(x, w, b, stride=3, padding=1,
                                                                        output_padding=2, dilation=2),
       [(2, 3, 5), (3, 2, 3), (2,)]),
    Op("conv_transpose2d_groups", lambda lib, x, w: F(lib).conv_transpose2d(x, w, stride=2, padding=(0, 1),
                                                                            output_padding=(1, 0), groups=2),
       [(2, 4, 3, 4), (4, 3, 3, 3)]),
    Op("conv_transpose3d", lambda lib, x, w, b: F(lib).conv_transpose3d(x, w, b, stride=(2, 1, 1), padding=1),
       [(1, 2, 3, 3, 3), (2, 3, 2, 3, 3), (3,)]),
    # pooling and resampling (distinct values, so that no max has a tie)
    Op("max_pool2d_tiles", lambda lib, x: F(lib).max_pool2d(x, 2), [(2, 3, 5, 4)]),
    Op("max_pool1d_overlapping_padding", lambda lib, x: F(lib).max_pool1d(x, 3, stride=2, padding=1),
       [(2, 3, 9)]),
    Op("max_pool2d_dilation_ceil", lambda lib, x: F(lib).max_pool2d(x, 2, stride=2, dilation=2, ceil_mode=True),
       [(1, 2, 7, 6)]),
    Op("max_pool3d", lambda lib, x: F(lib).max_pool3d(x, (2, 1, 2), stride=(1, 1, 2)), [(1, 2, 3, 3, 4)]),
    Op("adaptive_max_pool2d", lambda lib, x: F(lib).adaptive_max_pool2d(x, (3, 2)), [(2, 2, 7, 5)]),
    Op("avg_pool2d_tiles", lambda lib, x: F(lib).avg_pool2d(x, 2), [(2, 3, 4, 6)]),
    Op("avg_pool1d_padding", lambda lib, x: F(lib).avg_pool1d(x, 3, stride=2, padding=1, count_include_pad=False),
       [(2, 3, 8)]),
    Op("avg_pool3d_ceil", lambda lib, x: F(lib).avg_pool3d(x, 2, stride=1, ceil_mode=True, divisor_override=3),
       [(1, 2, 3, 3, 3)]),
    Op("adaptive_avg_pool2d", lambda lib, x: F(lib).adaptive_avg_pool2d(x, (3, 4)), [(2, 2, 7, 5)]),
    Op("adaptive_avg_pool1d_tiles", lambda lib, x: F(lib).adaptive_avg_pool1d(x, 3), [(2, 2, 9)]),
    Op("interpolate_nearest", lambda lib, x: F(lib).interpolate(x, scale_factor=2), [(2, 3, 4, 3)]),
    Op("interpolate_nearest_exact", lambda lib, x: F(lib).interpolate(x, size=7, mode="nearest-exact"),
       [(2, 3, 5)]),
    Op("interpolate_bilinear", lambda lib, x: F(lib).interpolate(x, size=(5, 7), mode="bilinear"), [(2, 2, 3, 4)]),
    Op("interpolate_bilinear_align", lambda lib, x: F(lib).interpolate(x, scale_factor=1.5, mode="bilinear",
                                                                       align_corners=True), [(1, 2, 4, 4)]),
    Op("interpolate_trilinear", lambda lib, x: F(lib).interpolate(x, size=(3, 4, 2), mode="trilinear"),
       [(1, 2, 2, 3, 4)]),
    Op("interpolate_area", lambda lib, x: F(lib).interpolate(x, size=(2, 3), mode="area"), [(1, 2, 5, 7)]),
    # normalisation
    Op("layer_norm", lambda lib, x, w, b: F(lib).layer_norm(x, (5,), w, b), [(2, 3, 5), (5,), (5,)]),
    Op("layer_norm_2d", lambda lib, x, w, b: F(lib).layer_norm(x, (3, 4), w, b), [(2, 3, 4), (3, 4), (3, 4)]),
    Op("rms_norm", lambda lib, x, w: F(lib).rms_norm(x, (5,), w), [(2, 3, 5), (5,)]),
    Op("batch_norm", lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True),
       [(4, 3, 5), (3,), (3,)]),
    Op("batch_norm_2d_no_affine", lambda lib, x: F(lib).batch_norm(x, None, None, training=True), [(3, 2, 2, 3)]),
    Op("batch_norm_eval", lambda lib, x, w, b: F(lib).batch_norm(
        x, lib.tensor(np.array([0.1, -0.2, 0.3])), lib.tensor(np.array([1.5, 0.5, 2.0])), w, b),
       [(4, 3, 5), (3,), (3,)]),
    Op("group_norm", lambda lib, x, w, b: F(lib).group_norm(x, 3, w, b), [(2, 6, 4), (6,), (6,)]),
    Op("instance_norm", lambda lib, x, w, b: F(lib).instance_norm(x, weight=w, bias=b), [(2, 3, 6), (3,), (3,)]),
    # attention
    Op("sdpa", lambda lib, q, k, v: F(lib).scaled_dot_product_attention(q, k, v),
       [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)]),
    Op("sdpa_causal", lambda lib, q, k, v: F(lib).scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.7),
       [(2, 4, 5), (2, 6, 5), (2, 6, 3)]),
    Op("sdpa_bool_mask", lambda lib, q, k, v: F(lib).scaled_dot_product_attention(q, k, v, _bool_mask(lib)),
       [(2, 4, 5), (2, 6, 5), (2, 6, 3)]),
    Op("sdpa_float_mask", lambda lib, q, k, v, m: F(lib).scaled_dot_product_attention(q, k, v, m),
       [(2, 2, 4, 5), (2, 2, 6, 5), (2, 2, 6, 3), (2, 1, 4, 6)]),
    Op("sdpa_broadcast_gqa", lambda lib, q, k, v: F(lib).scaled_dot_product_attention(q, k, v, enable_gqa=True),
       [(2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 3)]),
    Op("rotary", lambda lib, x, c, s: rotary(lib, x, c, s), [(2, 3, 6), (3, 6), (3, 6)]),
]


def rotary(lib, x, cos, sin):
    """apply_rotary_emb, and its definition written out for torch."""
    if lib is gn:
        return F(gn).apply_rotary_emb(x, cos, sin)
    h = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., h:], x[..., :h]), -1) * sin


def _recurrent_ops():
    """lstm (with projection), gru and rnn_relu through F.* / torch.* with flat parameters."""
    def layer_shapes(gates, inp, hid, proj=None, bias=True, dirs=1, layers=1):
        shapes = []
        for layer in range(layers):
            size = inp if layer == 0 else (proj or hid) * dirs
            for _ in range(dirs):
                shapes += [(gates * hid, size), (gates * hid, proj or hid)] + ([(gates * hid,)] * 2 if bias else [])
                shapes += [(proj, hid)] if proj else []
        return shapes

    def call(name, mode_args, n_state):
        def fn(lib, x, *rest):
            state, ps = rest[:n_state], rest[n_state:]
            hx = state if n_state == 2 else state[0]
            f = getattr(lib, name) if lib is torch else getattr(F(lib), name)
            return f(x, hx, ps, *mode_args)[0]
        return fn

    return [
        Op("lstm_bidirectional_2_layers", call("lstm", (True, 2, 0.0, True, True, True), 2),
           [(2, 4, 3), (4, 2, 5), (4, 2, 5)] + layer_shapes(4, 3, 5, dirs=2, layers=2)),
        Op("lstm_projection", call("lstm", (True, 1, 0.0, True, False, False), 2),
           [(4, 2, 3), (1, 2, 2), (1, 2, 5)] + layer_shapes(4, 3, 5, proj=2)),
        Op("gru_bidirectional_2_layers", call("gru", (True, 2, 0.0, True, True, False), 1),
           [(4, 2, 3), (4, 2, 5)] + layer_shapes(3, 3, 5, dirs=2, layers=2)),
        Op("gru_no_bias", call("gru", (False, 1, 0.0, True, False, True), 1),
           [(2, 4, 3), (1, 2, 5)] + layer_shapes(3, 3, 5, bias=False)),
        Op("rnn_relu", call("rnn_relu", (True, 1, 0.0, True, False, False), 1),
           [(4, 2, 3), (1, 2, 5)] + layer_shapes(1, 3, 5)),
        Op("rnn_tanh_bidirectional_2_layers", call("rnn_tanh", (True, 2, 0.0, True, True, False), 1),
           [(4, 2, 3), (4, 2, 5)] + layer_shapes(1, 3, 5, dirs=2, layers=2)),
    ]


OPS += _recurrent_ops()


# activations and losses (their fused ops live in ops/activation.py and ops/loss.py)
_TARGET = np.array([1, 0, 4, 2])
_PROBS = np.random.default_rng(7).random((4, 5))
OPS += [
    Op("gelu", lambda lib, x: F(lib).gelu(x), [(3, 5)]),
    Op("gelu_tanh", lambda lib, x: F(lib).gelu(x, approximate="tanh"), [(3, 5)]),
    Op("softmax", lambda lib, x: lib.softmax(x, 1), [(3, 5)]),
    Op("log_softmax", lambda lib, x: lib.log_softmax(x, 0), [(3, 5)]),
    Op("cross_entropy", lambda lib, x: F(lib).cross_entropy(x, lib.tensor(_TARGET), label_smoothing=0.1), [(4, 5)]),
    Op("cross_entropy_probs", lambda lib, x: F(lib).cross_entropy(x, lib.tensor(_PROBS)), [(4, 5)]),
    Op("nll_loss", lambda lib, x: F(lib).nll_loss(x.log_softmax(1), lib.tensor(_TARGET)), [(4, 5)]),
    Op("mse_loss", lambda lib, x, y: F(lib).mse_loss(x, y), [(4, 5), (4, 5)]),
    Op("binary_cross_entropy", lambda lib, x: F(lib).binary_cross_entropy(x.sigmoid(), lib.tensor(_PROBS)),
       [(4, 5)]),
    Op("bce_with_logits", lambda lib, x: F(lib).binary_cross_entropy_with_logits(x, lib.tensor(_PROBS)), [(4, 5)]),
    Op("smooth_l1_loss", lambda lib, x, y: F(lib).smooth_l1_loss(x, y, beta=0.5), [(4, 5), (4, 5)]),
    Op("kl_div", lambda lib, x: F(lib).kl_div(x.log_softmax(1), lib.tensor(_PROBS), reduction="batchmean"),
       [(4, 5)]),
]


# ---- modules ------------------------------------------------------------------------------------
def module_pair(build):
    torch.manual_seed(0)
    ref = build(torch).double()
    ours = build(gn).double()
    ours.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    return ours, ref


MODULES = {
    "MultiheadAttention": (lambda lib: lib.nn.MultiheadAttention(8, 2, batch_first=True),
                           lambda m, x: m(x, x, x, need_weights=True), (2, 5, 8)),
    "MultiheadAttention_causal_mask": (
        lambda lib: lib.nn.MultiheadAttention(8, 2, kdim=6, vdim=4),
        lambda m, x: m(x, x[..., :6], x[..., :4], attn_mask=_causal(m, 5), need_weights=False)[0], (5, 2, 8)),
    "TransformerEncoderLayer": (
        lambda lib: lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True),
        lambda m, x: m(x), (2, 5, 8)),
    "TransformerEncoderLayer_norm_first_gelu": (
        lambda lib: lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, activation="gelu",
                                                   norm_first=True, batch_first=True),
        lambda m, x: m(x, is_causal=True, src_mask=_causal(m, 5)), (2, 5, 8)),
    "LSTM_bidirectional": (lambda lib: lib.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
                           lambda m, x: m(x)[0], (2, 5, 3)),
    "GRU": (lambda lib: lib.nn.GRU(3, 4, num_layers=2), lambda m, x: m(x)[1], (5, 2, 3)),
    "RNN_relu": (lambda lib: lib.nn.RNN(3, 4, nonlinearity="relu", bidirectional=True), lambda m, x: m(x)[0],
                 (5, 2, 3)),
    "LSTMCell": (lambda lib: lib.nn.LSTMCell(3, 4), lambda m, x: m(x[0])[1], (2, 2, 3)),
    "GRUCell": (lambda lib: lib.nn.GRUCell(3, 4), lambda m, x: m(x[0]), (2, 2, 3)),
}


def _causal(module, n):
    lib = torch if isinstance(module, torch.nn.Module) else gn
    return lib.tensor(np.triu(np.full((n, n), -np.inf), 1))

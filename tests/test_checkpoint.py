"""Activation checkpointing gives the same outputs and gradients as the plain forward."""
import numpy as np

import glassnet as gn
from glassnet import nn
from glassnet.utils.checkpoint import checkpoint, checkpoint_sequential


def _model():
    gn.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 2))


def _grads(model):
    return [p.grad.array.copy() for p in model.parameters()]


def test_checkpoint_equals_plain_forward_with_dropout_and_input_grads():
    x = gn.randn(5, 4)
    plain, ckpt = _model(), _model()
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    gn.manual_seed(1)
    ya = plain(xa)
    gn.manual_seed(1)
    yb = checkpoint(ckpt, xb, use_reentrant=False)
    np.testing.assert_allclose(ya.array, yb.array, rtol=1e-6)
    (ya ** 2).sum().backward()
    (yb ** 2).sum().backward()
    for a, b in zip(_grads(plain), _grads(ckpt)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(xa.grad.array, xb.grad.array, rtol=1e-5, atol=1e-7)


def test_checkpoint_reaches_parameters_when_the_input_needs_no_grad():
    x = gn.randn(5, 4)
    plain, ckpt = _model(), _model()
    plain.eval(), ckpt.eval()
    plain(x).sum().backward()
    checkpoint_sequential(ckpt, 2, x).sum().backward()
    for a, b in zip(_grads(plain), _grads(ckpt)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_checkpoint_keeps_non_tensor_arguments():
    w = gn.randn(3, requires_grad=True)
    out = checkpoint(lambda a, k, scale=1.0: (a * w * k * scale).sum(), gn.ones(3), 2, scale=0.5)
    out.backward()
    np.testing.assert_allclose(w.grad.array, [1, 1, 1])

"""glassnet.autograd.functional against torch.autograd.functional, in float64."""
import numpy as np
import pytest
import torch
import torch.autograd.functional as TAF

import glassnet as gn
from glassnet.autograd import functional as GAF

rng = np.random.default_rng(0)
X, Y, V, W = (rng.standard_normal(3) for _ in range(4))


def scalar(a, b):
    return ((a * b).sin() * a).sum() + (a * a * b).sum()


def vector(a):
    return a.exp() * a[0] + a.tanh()


def pair_out(a, b):
    return a * b, (a - b).sin()


def _both(*arrays):
    return tuple(gn.tensor(a) for a in arrays), tuple(torch.tensor(a) for a in arrays)


def _close(ours, theirs):
    if isinstance(theirs, torch.Tensor):
        np.testing.assert_allclose(ours.array, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    else:
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _close(o, t)


def test_jacobian_single_and_tuples():
    (gx,), (tx,) = _both(X)
    _close(GAF.jacobian(vector, gx), TAF.jacobian(vector, tx))
    g, t = _both(X, Y)
    _close(GAF.jacobian(pair_out, g), TAF.jacobian(pair_out, t))


def test_hessian_hvp_vhp_vjp_jvp():
    g, t = _both(X, Y)
    gv, tv = _both(V, W)
    _close(GAF.hessian(scalar, g), TAF.hessian(scalar, t))
    _close(GAF.hvp(scalar, g, gv)[1], TAF.hvp(scalar, t, tv)[1])
    _close(GAF.vhp(scalar, g, gv)[1], TAF.vhp(scalar, t, tv)[1])
    (gx,), (tx,) = _both(X)
    (gw,), (tw,) = _both(W)
    _close(GAF.vjp(vector, gx, gw)[1], TAF.vjp(vector, tx, tw)[1])
    _close(GAF.jvp(vector, gx, gw)[1], TAF.jvp(vector, tx, tw)[1])
    _close(GAF.jvp(vector, gx, gw, create_graph=True)[1], TAF.jvp(vector, tx, tw, create_graph=True)[1])


def test_inputs_are_left_alone_and_shapes_are_checked():
    x = gn.tensor(X)
    GAF.hessian(lambda a: (a ** 3).sum(), x)
    assert not x.requires_grad and x.grad is None
    with pytest.raises(ValueError, match="v 0 has shape"):
        GAF.vjp(vector, x, gn.zeros(2, dtype=gn.float64))
    with pytest.raises(RuntimeError, match="single one-element"):
        GAF.hvp(vector, x, x)

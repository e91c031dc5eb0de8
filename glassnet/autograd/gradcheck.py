"""Numerical gradient checking by central differences, in float64.

For outputs y = f(x_1, ..., x_n) and a fixed random weighting v of the outputs, the scalar
L = sum(v * y) has the analytic gradient dL/dx_i from one backward pass, and the numerical one

    dL/dx_i[j] ~ (L(x_i[j] + eps) - L(x_i[j] - eps)) / (2 eps)

from two forward passes per element. A random v checks the whole vector-Jacobian product with
probability one, without building the Jacobian.
"""
import numpy as np

from .backward import grad
from .grad_mode import no_grad


class GradcheckError(AssertionError):
    pass


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Compare autograd's gradients of `fn(*inputs)` with central differences.

    Returns True, or raises GradcheckError naming the input, the worst element and both values.
    Inputs that require grad must be float64.
    """
    from ..tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad")
    for i in wrt:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 for a meaningful check")

    def outputs_of(args):
        out = fn(*args)
        return [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if o.dtype.kind == "f"]

    outs = outputs_of(inputs)
    rng = np.random.default_rng(seed)
    weights = [Tensor._make(rng.standard_normal(o.shape)) for o in outs]
    differentiable = [(o, w) for o, w in zip(outs, weights) if o.requires_grad]
    analytic = [np.zeros(inputs[i].shape) for i in wrt]
    if differentiable:
        found = grad([o for o, _ in differentiable], [inputs[i] for i in wrt],
                     [w for _, w in differentiable], allow_unused=True)
        analytic = [np.zeros(inputs[i].shape) if g is None else g.array for i, g in zip(wrt, found)]

    def weighted_sum(args):
        with no_grad():
            return sum(float((o.array * w.array).sum()) for o, w in zip(outputs_of(args), weights))

    for k, i in enumerate(wrt):
        x = inputs[i].array
        numeric = np.zeros(x.shape)
        flat = x.reshape(-1)  # a view: perturbations below change the input in place
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            plus = weighted_sum(inputs)
            flat[j] = old - eps
            minus = weighted_sum(inputs)
            flat[j] = old
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        err = np.abs(analytic[k] - numeric) - (atol + rtol * np.abs(numeric))
        if err.size and err.max() > 0:
            j = np.unravel_index(np.argmax(err), err.shape)
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {x.shape}) differs at index {tuple(map(int, j))}: "
                f"analytic {analytic[k][j]:.8g}, numerical {numeric[j]:.8g}"
            )
    return True

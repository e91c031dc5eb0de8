"""Reverse mode versus forward mode for the gradient of a scalar loss of n parameters.

    L(w) = mean(tanh(X w)^2),   X (m, n) fixed data,  w (n,) parameters

Forward mode pushes ONE tangent direction v through the computation and gets the directional
derivative dL/dw . v. The gradient has n components, so it needs n passes, one per basis vector e_i.
Reverse mode runs the computation once, then one backward pass carries dL/dL = 1 back to every
parameter at once: about the cost of 2-3 forward passes, whatever n is. That is why training uses
reverse mode (backpropagation). Forward mode wins in the other shape: few inputs, many outputs
(a Jacobian with n inputs and k outputs takes n forward passes or k backward passes).
"""
import time

import numpy as np


def _loss(X):
    def loss(w):
        return (X @ w).tanh().pow(2).mean()

    return loss


def gradients(n, m=64, seed=0):
    """The gradient of L by reverse mode and by n forward-mode passes, with the time of each."""
    import glassnet as gn
    from glassnet.autograd import jvp

    rng = np.random.default_rng(seed)
    X = gn.tensor(rng.standard_normal((m, n)) / np.sqrt(n))
    w0 = rng.standard_normal(n)
    loss = _loss(X)

    start = time.perf_counter()
    w = gn.tensor(w0, requires_grad=True)
    loss(w).backward()
    reverse_grad = w.grad.array.copy()
    reverse_s = time.perf_counter() - start

    start = time.perf_counter()
    w = gn.tensor(w0)
    forward_grad = np.empty(n)
    basis = np.zeros(n)
    for i in range(n):  # one forward-mode pass per parameter: the directional derivative along e_i
        basis[i] = 1.0
        _, d = jvp(loss, (w,), (gn.tensor(basis.copy()),))
        forward_grad[i] = d.item()
        basis[i] = 0.0
    forward_s = time.perf_counter() - start
    return reverse_grad, forward_grad, reverse_s, forward_s


def main(sizes=(10, 100, 1000), m=64, seed=0):
    """Print a table of times for growing n and check both gradients agree; return the rows."""
    print(__doc__.strip().split("\n\n", 1)[1])
    print(f"\n{'n':>6} {'forward passes':>15} {'forward mode (s)':>17} {'reverse mode (s)':>17} "
          f"{'ratio':>8} {'max |difference|':>17}")
    rows = []
    for n in sizes:
        rg, fg, rs, fs = gradients(n, m, seed)
        diff = float(np.max(np.abs(rg - fg)))
        assert np.allclose(rg, fg, rtol=1e-10, atol=1e-12), f"forward and reverse gradients differ for n={n}"
        rows.append(dict(n=n, passes=n, forward_s=fs, reverse_s=rs, max_diff=diff))
        print(f"{n:>6} {n:>15} {fs:>17.4f} {rs:>17.4f} {fs / max(rs, 1e-9):>8.1f} {diff:>17.2e}")
    print("\nboth modes give the same gradient; forward mode's time grows with n, reverse mode's barely does")
    return rows

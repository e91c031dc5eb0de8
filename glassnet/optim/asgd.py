"""ASGD: stochastic gradient descent with a decaying step and a running average of the iterates
(Polyak & Juditsky 1992), as PyTorch implements it."""
import numpy as np

from .optimizer import Optimizer, check_nonnegative, decayed_grad, reject_differentiable

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """ASGD(params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, *, maximize=False).

    For each parameter p with gradient g, at step t = 1, 2, ... (eta starts at lr, mu at 1)::

        g = -g if maximize;  g = g + weight_decay * p  (if weight_decay != 0)
        p = p * (1 - lambd * eta) - eta * g
        ax = p                      if mu == 1
        ax = ax + mu * (p - ax)     otherwise          (the average of the iterates since step t0)
        eta = lr / (1 + lambd * lr * t)^alpha
        mu = 1 / max(1, t - t0)

    State per parameter: 'step', 'eta', 'mu' (float32 numbers) and 'ax' (the averaged parameter).
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        reject_differentiable("ASGD", differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_nonnegative("ASGD", "lr", group["lr"], "learning rate")
        check_nonnegative("ASGD", "weight_decay", group["weight_decay"], "weight_decay value")

    def _state_keys(self, group):
        return {"step": 0, "eta": float(group["lr"]), "mu": 1.0, "ax": 0.0}

    def _update(self, group, b):
        """The rule above on the bucket's arrays (flat over the group), one cache-sized chunk at a time."""
        lr, lambd, alpha, t0 = (float(group[k]) for k in ("lr", "lambd", "alpha", "t0"))
        t = b.advance_steps()
        eta, mu = float(b.scalars["eta"].flat[0]), float(b.scalars["mu"].flat[0])
        for c in b.chunks():
            p, ax = c.param, c.state["ax"]
            g = decayed_grad(c, group["maximize"], float(group["weight_decay"]))
            p *= 1 - lambd * eta
            p -= np.multiply(g, eta, out=c.scratch(1))
            if mu != 1:
                diff = np.subtract(p, ax, out=c.scratch(1))
                diff *= mu
                ax += diff
            else:
                np.copyto(ax, p)
        b.scalars["eta"][...] = lr / (1 + lambd * lr * t) ** alpha
        b.scalars["mu"][...] = 1 / max(1.0, t - t0)

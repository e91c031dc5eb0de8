"""Adamax: Adam with the infinity norm in place of the root mean square (Kingma & Ba 2015, section 7.1)."""
import numpy as np

from .optimizer import Optimizer, check_betas, check_nonnegative, decayed_grad, lerp_, reject_differentiable

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *, maximize=False).

    For each parameter p with gradient g, at step t = 1, 2, ...::

        g = -g if maximize;  g = g + weight_decay * p  (if weight_decay != 0)
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u

    State per parameter: 'step', 'exp_avg' (m), 'exp_inf' (u).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        reject_differentiable("Adamax", differentiable)
        check_betas("Adamax", betas)
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_nonnegative("Adamax", "lr", group["lr"], "learning rate")
        check_nonnegative("Adamax", "eps", group["eps"], "epsilon value")
        check_betas("Adamax", group["betas"])
        check_nonnegative("Adamax", "weight_decay", group["weight_decay"], "weight_decay value")

    def _state_keys(self, group):
        return {"step": 0, "exp_avg": 0.0, "exp_inf": 0.0}

    def _update(self, group, b):
        """The rule above on the bucket's arrays (flat over the group), one cache-sized chunk at a time."""
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        clr = lr / (1 - beta1 ** b.advance_steps())
        for c in b.chunks():
            tmp = c.scratch(1)
            g = decayed_grad(c, group["maximize"], float(group["weight_decay"]))
            m, u = c.state["exp_avg"], c.state["exp_inf"]
            lerp_(m, g, 1 - beta1, tmp)  # m = beta1 * m + (1 - beta1) * g
            u *= beta2  # u = max(beta2 * u, |g| + eps)
            np.abs(g, out=tmp)
            tmp += eps
            np.maximum(u, tmp, out=u)
            np.multiply(m, -clr, out=tmp)  # p = p - lr / (1 - beta1^t) * m / u
            tmp /= u
            c.param += tmp

"""Adadelta: step sizes from running averages of squared gradients and squared updates."""
import numpy as np

from .optimizer import Optimizer, check_nonnegative, decayed_grad, reject_differentiable

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False).

    For each parameter p with gradient g::

        g = -g if maximize
        g = g + weight_decay * p                       (if weight_decay != 0)
        v = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2
        p = p - lr * delta

    State per parameter: 'step', 'square_avg' (v) and 'acc_delta' (u). All parameters of a group are
    updated at once, on flat arrays (see _flat.py), as PyTorch's `foreach` asks for; `foreach` and
    `capturable` are accepted for compatibility.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        reject_differentiable("Adadelta", differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_nonnegative("Adadelta", "lr", group["lr"], "learning rate")
        check_nonnegative("Adadelta", "eps", group["eps"], "epsilon value")
        check_nonnegative("Adadelta", "weight_decay", group["weight_decay"], "weight_decay value")
        check_nonnegative("Adadelta", "rho", group["rho"], "rho value")
        if float(group["rho"]) > 1.0:
            raise ValueError(f"Adadelta: invalid rho value {group['rho']!r}; expected 0 <= rho <= 1")

    def _state_keys(self, group):
        return {"step": 0, "square_avg": 0.0, "acc_delta": 0.0}

    def _update(self, group, b):
        """The rule above on the bucket's arrays (flat over the group), one cache-sized chunk at a time."""
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        b.advance_steps()
        for c in b.chunks():
            g = decayed_grad(c, group["maximize"], float(group["weight_decay"]))
            v, u = c.state["square_avg"], c.state["acc_delta"]
            std, delta = c.scratch(1), c.scratch(2)
            v *= rho  # v = rho * v + (1 - rho) * g^2
            np.multiply(g, 1 - rho, out=std)
            std *= g
            v += std
            np.add(v, eps, out=std)  # delta = sqrt(u + eps) / sqrt(v + eps) * g
            np.sqrt(std, out=std)
            np.add(u, eps, out=delta)
            np.sqrt(delta, out=delta)
            delta /= std
            delta *= g
            u *= rho  # u = rho * u + (1 - rho) * delta^2
            np.multiply(delta, 1 - rho, out=std)
            std *= delta
            u += std
            delta *= lr  # p = p - lr * delta
            c.param -= delta

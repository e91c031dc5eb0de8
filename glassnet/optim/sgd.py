"""Stochastic gradient descent, optionally with momentum, Nesterov momentum and weight decay."""
import numpy as np

from .optimizer import Optimizer, check_nonnegative, decayed_grad, reject_differentiable

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False).

    For each parameter p with gradient g, at step t (PyTorch's formulation)::

        g = -g if maximize
        g = g + weight_decay * p                      (if weight_decay != 0)
        b = g                             at t = 1    (if momentum != 0)
        b = momentum * b + (1 - dampening) * g  after
        g = g + momentum * b if nesterov else b
        p = p - lr * g

    State per parameter: 'momentum_buffer' (only when momentum != 0). All parameters of a group are
    updated at once, on flat arrays (see _flat.py), which is what PyTorch's `foreach` and `fused` ask
    for; both are accepted for compatibility.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        reject_differentiable("SGD", differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_nonnegative("SGD", "lr", group["lr"], "learning rate")
        check_nonnegative("SGD", "momentum", group["momentum"], "momentum value")
        check_nonnegative("SGD", "weight_decay", group["weight_decay"], "weight_decay value")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got momentum="
                f"{group['momentum']}, dampening={group['dampening']}"
            )

    def _update(self, group, b):
        """The rule above on the bucket's arrays (flat over the group), one cache-sized chunk at a time."""
        lr, momentum, dampening = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
        first = momentum != 0 and "momentum_buffer" not in b.state
        if first:
            b.add_state("momentum_buffer", 0.0)
        for c in b.chunks():
            g = decayed_grad(c, group["maximize"], float(group["weight_decay"]))
            step = c.scratch(1)
            if momentum != 0:
                buf = c.state["momentum_buffer"]
                if first:  # t = 1: b = g
                    np.copyto(buf, g)
                else:  # b = momentum * b + (1 - dampening) * g
                    buf *= momentum
                    buf += np.multiply(g, 1 - dampening, out=step) if dampening != 0 else g
                if group["nesterov"]:  # g = g + momentum * b
                    np.multiply(buf, momentum, out=step)
                    g = np.add(step, g, out=step)
                else:
                    g = buf
            np.multiply(g, lr, out=step)  # p = p - lr * g
            c.param -= step

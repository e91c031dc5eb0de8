"""RMSprop: divide the gradient by a running root mean square of recent gradients."""
import numpy as np

from .optimizer import Optimizer, check_nonnegative, decayed_grad, lerp_, reject_differentiable

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *, maximize=False).

    For each parameter p with gradient g::

        g = -g if maximize
        g = g + weight_decay * p                    (if weight_decay != 0)
        v = alpha * v + (1 - alpha) * g^2
        avg = sqrt(v) + eps, or sqrt(v - ga^2) + eps with ga = alpha * ga + (1 - alpha) * g  (centered)
        b = momentum * b + g / avg;  p = p - lr * b (if momentum > 0)
        p = p - lr * g / avg                        (otherwise)

    State per parameter: 'step', 'square_avg' (v), 'momentum_buffer' (b, when momentum > 0) and
    'grad_avg' (ga, when centered). All parameters of a group are updated at once, on flat arrays
    (see _flat.py), as PyTorch's `foreach` asks for; `foreach` and `capturable` are accepted.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        reject_differentiable("RMSprop", differentiable)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_nonnegative("RMSprop", "lr", group["lr"], "learning rate")
        check_nonnegative("RMSprop", "eps", group["eps"], "epsilon value")
        check_nonnegative("RMSprop", "momentum", group["momentum"], "momentum value")
        check_nonnegative("RMSprop", "weight_decay", group["weight_decay"], "weight_decay value")
        check_nonnegative("RMSprop", "alpha", group["alpha"], "alpha value")

    def _state_keys(self, group):
        keys = {"step": 0, "square_avg": 0.0}
        if float(group["momentum"]) > 0:
            keys["momentum_buffer"] = 0.0
        if group["centered"]:
            keys["grad_avg"] = 0.0
        return keys

    def _update(self, group, b):
        """The rule above on the bucket's arrays (flat over the group), one cache-sized chunk at a time."""
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        momentum = float(group["momentum"])
        b.advance_steps()
        for c in b.chunks():
            g = decayed_grad(c, group["maximize"], float(group["weight_decay"]))
            avg = c.scratch(1)
            v = c.state["square_avg"]
            v *= alpha  # v = alpha * v + (1 - alpha) * g^2
            np.multiply(g, 1 - alpha, out=avg)
            avg *= g
            v += avg
            if group["centered"]:  # avg = sqrt(v - ga^2) + eps
                ga = lerp_(c.state["grad_avg"], g, 1 - alpha, avg)
                np.multiply(ga, ga, out=avg)
                np.subtract(v, avg, out=avg)
                np.sqrt(avg, out=avg)
            else:  # avg = sqrt(v) + eps
                np.sqrt(v, out=avg)
            avg += eps
            if momentum > 0:  # b = momentum * b + g / avg;  p = p - lr * b
                buf = c.state["momentum_buffer"]
                buf *= momentum
                np.divide(g, avg, out=avg)
                buf += avg
                np.multiply(buf, lr, out=avg)
                c.param -= avg
            else:  # p = p - lr * g / avg
                step = np.multiply(g, -lr, out=c.scratch(0))
                step /= avg
                c.param += step

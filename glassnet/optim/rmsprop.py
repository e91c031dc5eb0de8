"""RMSprop: divide the gradient by a running root mean square of recent gradients."""
import numpy as np

from .optimizer import Optimizer, check_nonnegative, lerp_, reject_differentiable

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
    'grad_avg' (ga, when centered). `capturable` and `foreach` are accepted and ignored.
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

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            alpha = float(group["alpha"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            momentum = float(group["momentum"])
            for p, data, g in self._grads(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._new_step()
                    state["square_avg"] = self._zeros_like(data)
                if momentum > 0 and "momentum_buffer" not in state:
                    state["momentum_buffer"] = self._zeros_like(data)
                if group["centered"] and "grad_avg" not in state:
                    state["grad_avg"] = self._zeros_like(data)
                if group["maximize"]:
                    g = -g
                state["step"].array += 1
                if weight_decay != 0:
                    g = g + weight_decay * data
                v = state["square_avg"].array
                v *= alpha
                v += (1 - alpha) * g * g
                if group["centered"]:
                    ga = lerp_(state["grad_avg"].array, g, 1 - alpha)
                    avg = np.sqrt(v + (-1.0 * ga) * ga)
                else:
                    avg = np.sqrt(v)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"].array
                    buf *= momentum
                    buf += g / avg
                    data -= lr * buf
                else:
                    data += (-lr * g) / avg
        return loss

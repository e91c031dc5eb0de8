"""Adagrad: per-coordinate learning rates scaled by the accumulated squared gradients."""
import numpy as np

from .optimizer import Optimizer, check_nonnegative, decayed_grad, reject_differentiable

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *, maximize=False).

    For each parameter p with gradient g, at step t = 1, 2, ...::

        g = -g if maximize
        g = g + weight_decay * p              (if weight_decay != 0)
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g^2                           (s starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    State per parameter (created at construction, as in PyTorch): 'step' and 'sum' (s). All parameters
    of a group are updated at once, on flat arrays (see _flat.py), which is what PyTorch's `foreach`
    and `fused` ask for; both are accepted for compatibility.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        reject_differentiable("Adagrad", differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:  # PyTorch makes Adagrad's state at construction
            for p in group["params"]:
                self._fill_state(p, self._state_keys(group))

    def _state_keys(self, group):
        return {"step": 0, "sum": float(group["initial_accumulator_value"])}

    def _check_group(self, group):
        check_nonnegative("Adagrad", "lr", group["lr"], "learning rate")
        check_nonnegative("Adagrad", "lr_decay", group["lr_decay"], "lr_decay value")
        check_nonnegative("Adagrad", "weight_decay", group["weight_decay"], "weight_decay value")
        check_nonnegative("Adagrad", "initial_accumulator_value", group["initial_accumulator_value"],
                          "initial_accumulator_value value")
        check_nonnegative("Adagrad", "eps", group["eps"], "epsilon value")

    def _update(self, group, b):
        """The rule above on the bucket's arrays (flat over the group), one cache-sized chunk at a time."""
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        t = b.advance_steps()
        clr = lr / (1 + (t - 1) * lr_decay)
        for c in b.chunks():
            g = decayed_grad(c, group["maximize"], float(group["weight_decay"]))
            std = c.scratch(1)
            s = c.state["sum"]
            np.multiply(g, g, out=std)  # s = s + g^2
            s += std
            np.sqrt(s, out=std)  # p = p - clr * g / (sqrt(s) + eps)
            std += eps
            step = np.multiply(g, -clr, out=c.scratch(0))
            step /= std
            c.param += step

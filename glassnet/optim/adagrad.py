"""Adagrad: per-coordinate learning rates scaled by the accumulated squared gradients."""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, check_nonnegative, reject_differentiable

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *, maximize=False).

    For each parameter p with gradient g, at step t = 1, 2, ...::

        g = -g if maximize
        g = g + weight_decay * p              (if weight_decay != 0)
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g^2                           (s starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    State per parameter (created at construction, as in PyTorch): 'step' and 'sum' (s). `foreach`
    and `fused` are accepted for PyTorch compatibility and ignored.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        reject_differentiable("Adagrad", differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = self._new_step()
        state["sum"] = Tensor._make(np.full_like(p.array, float(group["initial_accumulator_value"])))

    def _check_group(self, group):
        check_nonnegative("Adagrad", "lr", group["lr"], "learning rate")
        check_nonnegative("Adagrad", "lr_decay", group["lr_decay"], "lr_decay value")
        check_nonnegative("Adagrad", "weight_decay", group["weight_decay"], "weight_decay value")
        check_nonnegative("Adagrad", "initial_accumulator_value", group["initial_accumulator_value"],
                          "initial_accumulator_value value")
        check_nonnegative("Adagrad", "eps", group["eps"], "epsilon value")

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            lr_decay = float(group["lr_decay"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            for p, data, g in self._grads(group):
                state = self.state[p]
                if len(state) == 0:  # a group added after construction
                    self._init_state(p, group)
                state["step"].array += 1
                t = float(state["step"].array)
                if group["maximize"]:
                    g = -g
                if weight_decay != 0:
                    g = g + weight_decay * data
                clr = lr / (1 + (t - 1) * lr_decay)
                s = state["sum"].array
                s += g * g
                std = np.sqrt(s)
                std += eps
                data += (-clr * g) / std
        return loss

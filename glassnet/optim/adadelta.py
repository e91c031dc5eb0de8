"""Adadelta: step sizes from running averages of squared gradients and squared updates."""
import numpy as np

from .optimizer import Optimizer, check_nonnegative, reject_differentiable

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

    State per parameter: 'step', 'square_avg' (v) and 'acc_delta' (u). `foreach` and `capturable`
    are accepted for PyTorch compatibility and ignored.
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

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            rho = float(group["rho"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            for p, data, g in self._grads(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._new_step()
                    state["square_avg"] = self._zeros_like(data)
                    state["acc_delta"] = self._zeros_like(data)
                state["step"].array += 1
                if group["maximize"]:
                    g = -g
                if weight_decay != 0:
                    g = g + weight_decay * data
                v = state["square_avg"].array
                u = state["acc_delta"].array
                v *= rho
                v += (1 - rho) * g * g
                std = np.sqrt(v + eps)
                delta = np.sqrt(u + eps)
                delta /= std
                delta *= g
                u *= rho
                u += (1 - rho) * delta * delta
                data -= lr * delta
        return loss

"""Adam (adaptive moment estimation), with optional AMSGrad and decoupled weight decay."""
import numpy as np

from .optimizer import Optimizer, check_betas, check_nonnegative, lerp_, reject_differentiable

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False,
    decoupled_weight_decay=False).

    For each parameter p with gradient g, at step t = 1, 2, ...::

        g = -g if maximize
        p = p * (1 - lr * weight_decay)    if decoupled_weight_decay (AdamW)
        g = g + weight_decay * p           otherwise (L2 penalty), when weight_decay != 0
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v)              (amsgrad; v_max replaces v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    State per parameter: 'step' (float32 scalar Tensor), 'exp_avg' (m), 'exp_avg_sq' (v) and
    'max_exp_avg_sq' (with amsgrad). `foreach`, `capturable` and `fused` are accepted for PyTorch
    compatibility and ignored.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        reject_differentiable(type(self).__name__, differentiable)
        check_betas(type(self).__name__, betas)
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_group(self, group):
        name = type(self).__name__
        check_nonnegative(name, "lr", group["lr"], "learning rate")
        check_nonnegative(name, "eps", group["eps"], "epsilon value")
        check_betas(name, group["betas"])
        check_nonnegative(name, "weight_decay", group["weight_decay"], "weight_decay value")

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            for p, data, g in self._grads(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._new_step()
                    state["exp_avg"] = self._zeros_like(data)
                    state["exp_avg_sq"] = self._zeros_like(data)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = self._zeros_like(data)
                if group["amsgrad"] and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = self._zeros_like(data)
                if group["maximize"]:
                    g = -g
                state["step"].array += 1
                t = float(state["step"].array)
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        data *= 1 - lr * weight_decay
                    else:
                        g = g + weight_decay * data
                m = state["exp_avg"].array
                v = state["exp_avg_sq"].array
                lerp_(m, g, 1 - beta1)
                v *= beta2
                v += (1 - beta2) * g * g
                if group["amsgrad"]:
                    v_max = state["max_exp_avg_sq"].array
                    np.maximum(v_max, v, out=v_max)
                    v = v_max
                step_size = lr / (1 - beta1 ** t)
                denom = np.sqrt(v) / (1 - beta2 ** t) ** 0.5
                denom += eps
                data += (-step_size * m) / denom
        return loss

"""Adam (adaptive moment estimation), with optional AMSGrad and decoupled weight decay."""
import numpy as np

from .optimizer import Optimizer, check_betas, check_nonnegative, decayed_grad, lerp_, reject_differentiable

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
    'max_exp_avg_sq' (with amsgrad). All parameters of a group are updated at once, on flat arrays
    (see _flat.py), which is what PyTorch's `foreach` and `fused` ask for; both are accepted for
    compatibility, as is `capturable`.
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

    def _state_keys(self, group):
        keys = {"step": 0, "exp_avg": 0.0, "exp_avg_sq": 0.0}
        if group["amsgrad"]:
            keys["max_exp_avg_sq"] = 0.0
        return keys

    def _update(self, group, b):
        """The rule above on the bucket's arrays (flat over the group), one cache-sized chunk at a time."""
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        decoupled = weight_decay != 0 and group["decoupled_weight_decay"]
        t = b.advance_steps()
        step_size, bias_correction2_sqrt = lr / (1 - beta1 ** t), (1 - beta2 ** t) ** 0.5
        for c in b.chunks():
            p, tmp = c.param, c.scratch(1)
            if decoupled:  # p = p * (1 - lr * weight_decay)
                p *= 1 - lr * weight_decay
            g = decayed_grad(c, group["maximize"], 0.0 if decoupled else weight_decay)
            m, v = c.state["exp_avg"], c.state["exp_avg_sq"]
            lerp_(m, g, 1 - beta1, tmp)  # m = beta1 * m + (1 - beta1) * g
            v *= beta2  # v = beta2 * v + (1 - beta2) * g^2
            np.multiply(g, 1 - beta2, out=tmp)
            tmp *= g
            v += tmp
            if group["amsgrad"]:
                v = np.maximum(c.state["max_exp_avg_sq"], v, out=c.state["max_exp_avg_sq"])
            denom = np.sqrt(v, out=c.scratch(0))  # sqrt(v) / sqrt(1 - beta2^t) + eps
            denom /= bias_correction2_sqrt
            denom += eps
            np.multiply(m, -step_size, out=tmp)  # p = p - lr / (1 - beta1^t) * m / denom
            tmp /= denom
            p += tmp

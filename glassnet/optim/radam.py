"""RAdam: Adam whose adaptive step is switched on gradually, once the variance of v is tractable (Liu et al. 2019)."""
import math

import numpy as np

from .optimizer import Optimizer, check_betas, check_nonnegative, decayed_grad, lerp_, reject_differentiable

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False, *,
    maximize=False).

    For each parameter p with gradient g, at step t = 1, 2, ...::

        g = -g if maximize;  weight decay as in Adam (decoupled: p = p * (1 - lr * weight_decay))
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1,   rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        if rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                       p = p - lr * m_hat * r * sqrt(1 - beta2^t) / (sqrt(v) + eps)
        else:          p = p - lr * m_hat                                  (SGD with momentum, early on)

    State per parameter: 'step', 'exp_avg' (m), 'exp_avg_sq' (v).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        reject_differentiable("RAdam", differentiable)
        check_betas("RAdam", betas)
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_nonnegative("RAdam", "lr", group["lr"], "learning rate")
        check_nonnegative("RAdam", "eps", group["eps"], "epsilon value")
        check_betas("RAdam", group["betas"])
        check_nonnegative("RAdam", "weight_decay", group["weight_decay"], "weight_decay value")

    def _state_keys(self, group):
        return {"step": 0, "exp_avg": 0.0, "exp_avg_sq": 0.0}

    def _update(self, group, b):
        """The rule above on the bucket's arrays (flat over the group), one cache-sized chunk at a time."""
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        decoupled = weight_decay != 0 and group["decoupled_weight_decay"]
        t = b.advance_steps()
        bias_correction1, bias_correction2 = 1 - beta1 ** t, 1 - beta2 ** t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
        rect = None
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        for c in b.chunks():
            p, tmp = c.param, c.scratch(1)
            if decoupled:
                p *= 1 - lr * weight_decay
            g = decayed_grad(c, group["maximize"], 0.0 if decoupled else weight_decay)
            m, v = c.state["exp_avg"], c.state["exp_avg_sq"]
            lerp_(m, g, 1 - beta1, tmp)  # m = beta1 * m + (1 - beta1) * g
            v *= beta2  # v = beta2 * v + (1 - beta2) * g^2
            np.multiply(g, 1 - beta2, out=tmp)
            tmp *= g
            v += tmp
            step = np.divide(m, bias_correction1, out=tmp)  # m_hat
            step *= lr
            if rect is not None:  # times r sqrt(1 - beta2^t) / (sqrt(v) + eps)
                denom = np.sqrt(v, out=c.scratch(2))
                denom += eps
                np.divide(bias_correction2 ** 0.5, denom, out=denom)
                step *= denom
                step *= rect
            p -= step

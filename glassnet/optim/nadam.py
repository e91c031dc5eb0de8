"""NAdam: Adam with Nesterov momentum (Dozat 2016), as PyTorch implements it."""
import numpy as np

from .optimizer import Optimizer, check_betas, check_nonnegative, decayed_grad, lerp_, reject_differentiable

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
    decoupled_weight_decay=False, *, maximize=False).

    For each parameter p with gradient g, at step t = 1, 2, ...::

        g = -g if maximize
        p = p * (1 - lr * weight_decay)     if decoupled_weight_decay
        g = g + weight_decay * p            otherwise, when weight_decay != 0
        mu_t = beta1 * (1 - 0.96^(t * momentum_decay) / 2)       (the momentum schedule)
        prod_t = prod_{k <= t} mu_k
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr (1 - mu_t) / (1 - prod_t) * g / d - lr mu_{t+1} / (1 - prod_t mu_{t+1}) * m / d

    State per parameter: 'step', 'mu_product' (prod_t; float32 numbers), 'exp_avg' (m), 'exp_avg_sq' (v).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        reject_differentiable("NAdam", differentiable)
        check_betas("NAdam", betas)
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_nonnegative("NAdam", "lr", group["lr"], "learning rate")
        check_nonnegative("NAdam", "eps", group["eps"], "epsilon value")
        check_betas("NAdam", group["betas"])
        check_nonnegative("NAdam", "weight_decay", group["weight_decay"], "weight_decay value")
        check_nonnegative("NAdam", "momentum_decay", group["momentum_decay"], "momentum_decay value")

    def _state_keys(self, group):
        return {"step": 0, "mu_product": 1.0, "exp_avg": 0.0, "exp_avg_sq": 0.0}

    def _update(self, group, b):
        """The rule above on the bucket's arrays (flat over the group), one cache-sized chunk at a time."""
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        decay = float(group["momentum_decay"])
        decoupled = weight_decay != 0 and group["decoupled_weight_decay"]
        t = b.advance_steps()
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * decay))
        product = b.scalars["mu_product"]
        product *= np.float32(mu)  # a float32 number per parameter, as PyTorch's
        prod_t = float(product.flat[0])
        grad_coef = -lr * (1.0 - mu) / (1.0 - prod_t)
        avg_coef = -lr * mu_next / (1.0 - prod_t * mu_next)
        bias_correction2 = 1 - beta2 ** t
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
            denom = np.divide(v, bias_correction2, out=c.scratch(2))  # d = sqrt(v / (1 - beta2^t)) + eps
            np.sqrt(denom, out=denom)
            denom += eps
            np.multiply(g, grad_coef, out=tmp)
            tmp /= denom
            p += tmp
            np.multiply(m, avg_coef, out=tmp)
            tmp /= denom
            p += tmp

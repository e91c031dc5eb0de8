"""AdamW: Adam with weight decay decoupled from the gradient (Loshchilov & Hutter)."""
from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False).

    Adam's update (see `Adam`) where weight decay shrinks the parameter directly before the step,
    ``p = p * (1 - lr * weight_decay)``, instead of being added to the gradient, so it does not enter
    the moment estimates. Same state as Adam.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True

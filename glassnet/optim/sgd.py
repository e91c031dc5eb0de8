"""Stochastic gradient descent, optionally with momentum, Nesterov momentum and weight decay."""
from ..tensor import Tensor
from .optimizer import Optimizer, check_nonnegative, reject_differentiable

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False).

    For each parameter p with gradient g, at step t (PyTorch's formulation)::

        g = -g if maximize
        g = g + weight_decay * p                      (if weight_decay != 0)
        b = g                             at t = 1    (if momentum != 0)
        b = momentum * b + (1 - dampening) * g  after
        g = g + momentum * b if nesterov else b
        p = p - lr * g

    State per parameter: 'momentum_buffer' (only when momentum != 0). `foreach` and `fused` are
    accepted for PyTorch compatibility and ignored.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        reject_differentiable("SGD", differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_nonnegative("SGD", "lr", group["lr"], "learning rate")
        check_nonnegative("SGD", "momentum", group["momentum"], "momentum value")
        check_nonnegative("SGD", "weight_decay", group["weight_decay"], "weight_decay value")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got momentum="
                f"{group['momentum']}, dampening={group['dampening']}"
            )

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            for p, data, g in self._grads(group):
                if group["maximize"]:
                    g = -g
                if weight_decay != 0:
                    g = g + weight_decay * data
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = Tensor._make(g.copy())
                    else:
                        buf.array *= momentum
                        buf.array += (1 - dampening) * g
                    g = g + momentum * buf.array if group["nesterov"] else buf.array
                data -= lr * g
        return loss


"""`GradScaler`: dynamic loss scaling, so that float16 gradients do not underflow (PyTorch's API).

float16 represents magnitudes from about 6e-8 (6e-5 at full precision) to 65504. Gradients of a
mixed-precision network are often smaller than that at the layers where they are float16: they round
to zero and those weights stop learning. Multiplying the loss by a scale S multiplies every gradient by
S (the chain rule is linear), lifting them into float16's range; dividing the float32 parameter
gradients by S before the optimizer step gives back the true gradient.

    scaler = GradScaler()
    with autocast():
        loss = loss_fn(model(x), y)
    scaler.scale(loss).backward()        # gradients of S * loss
    scaler.unscale_(optimizer)           # now the true gradients (optional: for clipping them first)
    clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)               # skipped if any gradient is inf or NaN
    scaler.update()                      # S halves after an overflow, doubles after growth_interval clean steps

S is dynamic: too large and some gradient overflows to inf; then the step is skipped (the update would
be garbage) and S is multiplied by backoff_factor (0.5). After growth_interval (2000) steps without
overflow S is multiplied by growth_factor (2), probing for the largest scale that fits. With
enabled=False every method passes through unchanged, so one program serves both precisions.
"""
import math

import numpy as np

__all__ = ["GradScaler"]


class GradScaler:
    def __init__(self, device="cpu", init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        if not growth_factor > 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be in (0, 1), got {backoff_factor}")
        if not (isinstance(growth_interval, int) and growth_interval > 0):
            raise ValueError(f"GradScaler: growth_interval must be a positive int, got {growth_interval!r}")
        self._enabled = bool(enabled)
        self._scale, self._growth_factor, self._backoff_factor = float(init_scale), growth_factor, backoff_factor
        self._growth_interval, self._growth_tracker = growth_interval, 0
        self._found_inf = {}  # id(optimizer) -> whether its gradients held an inf or NaN this step
        self._unscaled = set()  # ids of the optimizers already unscaled this step

    def is_enabled(self):
        return self._enabled

    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def scale(self, outputs):
        """outputs * S (a tensor, or a list/tuple of them)."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * self._scale

    def unscale_(self, optimizer):
        """Divide the optimizer's gradients by S, in place, and note whether any is inf or NaN."""
        if not self._enabled:
            return
        if id(optimizer) in self._unscaled:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update()")
        inverse, found = 1.0 / self._scale, False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.array
                g *= g.dtype.type(inverse)
                found = found or not np.isfinite(g).all()
        self._found_inf[id(optimizer)] = found
        self._unscaled.add(id(optimizer))

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step(), unless a gradient is inf or NaN (then nothing is applied); unscales first if
        unscale_ was not called. Returns the step's return value, or None when skipped."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if id(optimizer) not in self._unscaled:
            self.unscale_(optimizer)
        if self._found_inf[id(optimizer)]:
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        """Adjust S for the next step: backoff after an overflow, growth after growth_interval clean steps."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if hasattr(new_scale, "item") else new_scale)
        elif any(self._found_inf.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                self._scale *= self._growth_factor
                self._growth_tracker = 0
        if not math.isfinite(self._scale) or self._scale <= 0:
            raise RuntimeError(f"GradScaler: the scale became {self._scale}")
        self._found_inf.clear()
        self._unscaled.clear()

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state):
        if not self._enabled:
            return
        if not state:
            raise RuntimeError("GradScaler.load_state_dict: the state is empty (saved from a disabled scaler?)")
        self._scale, self._growth_factor = float(state["scale"]), state["growth_factor"]
        self._backoff_factor, self._growth_interval = state["backoff_factor"], state["growth_interval"]
        self._growth_tracker = state["_growth_tracker"]

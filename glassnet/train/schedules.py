"""The warmup + cosine learning-rate schedule of the sequence recipes, as an `optim.lr_scheduler`
scheduler (step it once after each optimizer step, like every other one).

    lr(t) = base_lr * (t + 1) / warmup                                            t < warmup
    lr(t) = min_lr + (base_lr - min_lr) * (1 + cos(pi * (t - warmup) / (total - warmup))) / 2
                                                                                  warmup <= t < total
    lr(t) = min_lr                                                                t >= total
"""
import math

from ..optim.lr_scheduler import LRScheduler

__all__ = ["WarmupCosineLR"]


class WarmupCosineLR(LRScheduler):
    """Linear warmup over `warmup` steps to each group's lr, then a half cosine down to `min_lr` at step
    `total` (and `min_lr` after it)."""

    def __init__(self, optimizer, total, warmup=0, min_lr=0.0, last_epoch=-1):
        if isinstance(total, bool) or not isinstance(total, int) or total < 1:
            raise ValueError(f"WarmupCosineLR: total must be a positive int, got {total!r}")
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ValueError(f"WarmupCosineLR: warmup must be a non-negative int, got {warmup!r}")
        if not min_lr >= 0:
            raise ValueError(f"WarmupCosineLR: min_lr must be >= 0, got {min_lr!r}")
        self.total, self.warmup, self.min_lr = total, warmup, min_lr
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self._at(self.last_epoch, base_lr) for base_lr in self.base_lrs]

    def _at(self, step, lr):
        if step < self.warmup:
            return lr * (step + 1) / self.warmup
        if step >= self.total:
            return self.min_lr
        progress = (step - self.warmup) / max(1, self.total - self.warmup)
        return self.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - self.min_lr)

"""Dropout layers: `Dropout` (single elements), `Dropout1d/2d/3d` (whole channels) and the alpha dropouts for
SELU networks; active only in training."""
from ..functional import alpha_dropout, dropout, dropout1d, dropout2d, dropout3d, feature_alpha_dropout
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p!r}")
        self.p = p
        self.inplace = inplace  # accepted for compatibility; glassnet never works in place

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training, zero each element with probability p and scale the rest by 1/(1-p); identity in eval."""

    def forward(self, input):
        return dropout(input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """In training, zero whole channels of (N, C, L) or (C, L) input with probability p; scale by 1/(1-p)."""

    def forward(self, input):
        return dropout1d(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """In training, zero whole channels of (N, C, H, W) or (C, H, W) input with probability p; scale by 1/(1-p)."""

    def forward(self, input):
        return dropout2d(input, self.p, self.training)


class Dropout3d(_DropoutNd):
    """In training, zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p; scale the
    others by 1/(1-p)."""

    def forward(self, input):
        return dropout3d(input, self.p, self.training)


class AlphaDropout(_DropoutNd):
    """In training, alpha dropout (keeps a SELU network's activations at mean 0, variance 1); identity in eval."""

    def forward(self, input):
        return alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """In training, alpha dropout of whole channels; identity in eval."""

    def forward(self, input):
        return feature_alpha_dropout(input, self.p, self.training)

"""Distance modules and the losses of metric and contrastive learning: thin wrappers that store the options and
call glassnet.nn.functional (whose fused forms and backwards live in glassnet/ops/distance.py).

PairwiseDistance is PyTorch's; ContrastiveLoss, InfoNCELoss and NTXentLoss have no PyTorch counterpart and
follow the same pattern (options at construction, `reduction` 'mean', 'sum' or 'none').
"""
from .. import functional as F
from ...ops.loss import _reduction
from .module import Module

__all__ = ["PairwiseDistance", "ContrastiveLoss", "InfoNCELoss", "NTXentLoss"]


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p over the last dim; see pairwise_distance."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim  # PyTorch's attribute names

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

    def extra_repr(self):
        return f"p={self.norm}, eps={self.eps}, keepdim={self.keepdim}"


class _Reduced(Module):
    def __init__(self, reduction):
        super().__init__()
        self.reduction = _reduction(type(self).__name__, None, None, reduction)


class ContrastiveLoss(_Reduced):
    """1/2 y d^2 + 1/2 (1 - y) max(0, margin - d)^2 for pairs (x1, x2) labelled y = 1 (similar) or 0;
    see contrastive_loss."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, reduction="mean"):
        super().__init__(reduction)
        if margin <= 0:
            raise ValueError(f"ContrastiveLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps = margin, p, eps

    def forward(self, x1, x2, target):
        return F.contrastive_loss(x1, x2, target, self.margin, self.p, self.eps, self.reduction)

    def extra_repr(self):
        return f"margin={self.margin}, p={self.p}, eps={self.eps}, reduction={self.reduction!r}"


class InfoNCELoss(_Reduced):
    """Query i must pick key i by cosine similarity / temperature; symmetric: CLIP's two-way loss.
    See info_nce_loss (a learned temperature is passed to the function instead)."""

    def __init__(self, temperature=0.1, symmetric=False, reduction="mean"):
        super().__init__(reduction)
        if not temperature > 0:
            raise ValueError(f"InfoNCELoss: temperature must be positive, got {temperature}")
        self.temperature, self.symmetric = temperature, symmetric

    def forward(self, query, key):
        return F.info_nce_loss(query, key, self.temperature, self.symmetric, self.reduction)

    def extra_repr(self):
        return f"temperature={self.temperature}, symmetric={self.symmetric}, reduction={self.reduction!r}"


class NTXentLoss(_Reduced):
    """SimCLR's loss over two batches of views z1, z2 (N, D); see nt_xent_loss."""

    def __init__(self, temperature=0.5, reduction="mean"):
        super().__init__(reduction)
        if not temperature > 0:
            raise ValueError(f"NTXentLoss: temperature must be positive, got {temperature}")
        self.temperature = temperature

    def forward(self, z1, z2):
        return F.nt_xent_loss(z1, z2, self.temperature, self.reduction)

    def extra_repr(self):
        return f"temperature={self.temperature}, reduction={self.reduction!r}"

"""A single-stage object detector in the style of CenterNet (Zhou, Wang and Krähenbühl 2019, "Objects as
Points"): every object is found at the cell of a coarse grid that holds its centre.

    images (N, C, H, W)
      backbone: residual stages that halve the resolution (H/2, H/4, H/8)
      neck: the H/8 features upsampled (nearest) and added to a 1x1 projection of the H/4 ones, then a
            3x3 conv-BN-ReLU (a small feature pyramid: what the deep map recognises, where the finer one says)
      heads on the (H/4, W/4) grid, one 1x1 convolution each:
        heatmap  (N, num_classes, H/4, W/4)  logits: "an object of class c is centred in this cell"
        offset   (N, 2, H/4, W/4)            where in the cell the centre lies (0-1, x then y)
        size     (N, 2, H/4, W/4)            the box's width and height, in cells

Training targets (`encode_targets`): at each object's centre cell a 1 in its class's heatmap, spread
around it by a Gaussian whose width grows with the box, so that near misses are punished less; the
offset and size are learned only at the centre cells. The heatmap loss is CenterNet's focal loss:

    L_heat = -1/n_objects * sum over cells and classes of
               (1 - p)^2 log p                  where the target is 1 (a centre)
               (1 - y)^4 p^2 log(1 - p)         elsewhere (y: the Gaussian target there)

so that the thousands of easy background cells do not drown the few centres; L1 losses for offset
and size (weighted 1 and 0.1).

Detection (`detect`): every cell and class whose probability exceeds a threshold proposes a box
(centre = cell + offset, size = size); non-maximum suppression (NumPy, per class) removes the
neighbours of each peak that propose nearly the same box.
"""
import numpy as np

from .. import nn
from ..nn import functional as F
from ..nn.utils import evaluating
from ..tensor import Tensor
from .boxes import batched_nms
from .resnet import BasicBlock, conv1x1, conv3x3

__all__ = ["ResidualStages", "CenterNet", "encode_targets", "centernet_loss", "focal_loss"]


def _down_block(inplanes, planes):
    downsample = nn.Sequential(conv1x1(inplanes, planes, 2), nn.BatchNorm2d(planes))
    return BasicBlock(inplanes, planes, 2, downsample)


class ResidualStages(nn.Module):
    """images (N, in_channels, H, W) -> (features at H/4 (N, widths[1], H/4, W/4), features at H/8
    (N, widths[2], H/8, W/8)).

    stem: conv 3x3 stride 2 -> BN -> ReLU, then a BasicBlock (H/2, widths[0]); layer2: a BasicBlock at
    stride 2 (H/4, widths[1]); layer3: one at stride 2 (H/8, widths[2]).
    """

    def __init__(self, in_channels=1, widths=(16, 32, 64)):
        super().__init__()
        w0, w1, w2 = widths
        self.stem = nn.Sequential(conv3x3(in_channels, w0, 2), nn.BatchNorm2d(w0), nn.ReLU(), BasicBlock(w0, w0))
        self.layer2 = _down_block(w0, w1)
        self.layer3 = _down_block(w1, w2)
        self.widths = tuple(widths)

    def forward(self, x):
        c2 = self.layer2(self.stem(x))  # (N, w1, H/4, W/4)
        return c2, self.layer3(c2)  # (N, w2, H/8, W/8)


class CenterNet(nn.Module):
    """forward(images (N, in_channels, H, W)) -> {"heatmap", "offset", "size"} on the (H/4, W/4) grid
    (see the module docstring); detect(images) -> one {"boxes", "scores", "labels"} dict per image.
    H and W must be multiples of 8. Modules: backbone (ResidualStages), lateral, smooth, and the heads
    heatmap, offset, size."""

    stride = 4

    def __init__(self, num_classes, in_channels=1, widths=(16, 32, 64)):
        super().__init__()
        self.num_classes, self.in_channels = num_classes, in_channels
        self.backbone = ResidualStages(in_channels, widths)
        c = widths[2]
        self.lateral = conv1x1(widths[1], c)
        self.smooth = nn.Sequential(conv3x3(c, c), nn.BatchNorm2d(c), nn.ReLU())
        self.heatmap = nn.Conv2d(c, num_classes, 1)
        self.offset = nn.Conv2d(c, 2, 1)
        self.size = nn.Conv2d(c, 2, 1)
        nn.init.constant_(self.heatmap.bias, -2.19)  # start every cell at p = 0.1, as CenterNet does

    def forward(self, images):
        if not isinstance(images, Tensor) or images.ndim != 4 or images.shape[1] != self.in_channels or \
                images.shape[2] % 8 or images.shape[3] % 8:
            raise ValueError(f"CenterNet: expected images (N, {self.in_channels}, H, W) with H and W multiples "
                             f"of 8, got {getattr(images, 'shape', type(images).__name__)}")
        c2, c3 = self.backbone(images)
        features = self.smooth(F.interpolate(c3, scale_factor=2, mode="nearest") + self.lateral(c2))  # (N, c, H/4, W/4)
        return {"heatmap": self.heatmap(features), "offset": self.offset(features), "size": self.size(features)}

    def loss(self, outputs, boxes, labels):
        """The training loss for target `boxes` (N, K, 4) and `labels` (N, K) (-1: no object)."""
        return centernet_loss(outputs, boxes, labels, self.stride)

    def detect(self, images, score_threshold=0.05, iou_threshold=0.5, max_detections=20):
        """Boxes (x1, y1, x2, y2 in pixels), scores and labels per image, in eval mode without a graph."""
        with evaluating(self):
            out = self(images)
        return decode(out, self.stride, score_threshold, iou_threshold, max_detections)


def _gaussian_sigma(w_cells, h_cells):
    """Spread of a centre's target, in cells: a sixth of the box's geometric mean side, at least 1/2."""
    return np.maximum(np.sqrt(w_cells * h_cells) / 6.0, 0.5)


def encode_targets(boxes, labels, num_classes, grid, stride):
    """NumPy targets on a (gh, gw) grid from boxes (N, K, 4) in pixels and labels (N, K) (-1: none).

    Returns heatmap (N, num_classes, gh, gw) in [0, 1], and for the n objects: flat indices
    (image, row, column) into (N, gh, gw) (n,), offsets (n, 2) and sizes (n, 2) in cells.
    """
    b, lab = np.asarray(getattr(boxes, "array", boxes)), np.asarray(getattr(labels, "array", labels))
    gh, gw = grid
    heatmap = np.zeros((len(b), num_classes, gh, gw), np.float32)
    n, k = np.nonzero(lab >= 0)
    obj = b[n, k].astype(np.float64) / stride  # (n, 4) in cells
    centre = (obj[:, :2] + obj[:, 2:]) / 2
    cell = np.clip(np.floor(centre).astype(np.int64), 0, [gw - 1, gh - 1])  # (n, 2) x, y
    size = obj[:, 2:] - obj[:, :2]
    sigma = _gaussian_sigma(size[:, 0], size[:, 1])
    ys, xs = np.arange(gh)[:, None], np.arange(gw)[None, :]
    for i in range(len(n)):
        blob = np.exp(-((xs - cell[i, 0]) ** 2 + (ys - cell[i, 1]) ** 2) / (2 * sigma[i] ** 2))
        np.maximum(heatmap[n[i], lab[n[i], k[i]]], blob, out=heatmap[n[i], lab[n[i], k[i]]])
    index = (n * gh + cell[:, 1]) * gw + cell[:, 0]
    return heatmap, index, (centre - cell).astype(np.float32), size.astype(np.float32)


def focal_loss(logits, target, alpha=2.0, beta=4.0):
    """CenterNet's penalty-reduced focal loss, summed (divide by the number of objects)."""
    p = logits.sigmoid()
    centre = Tensor._make((target.array == 1).astype(logits.dtype))
    weight = centre * (1 - p) ** alpha + (1 - centre) * (1 - target) ** beta * p ** alpha
    return (weight * F.binary_cross_entropy_with_logits(logits, centre, reduction="none")).sum()


def _at_centres(maps, index):
    """(N, 2, gh, gw) -> (n, 2): the values at the flat (image, row, column) indices."""
    return maps.permute(0, 2, 3, 1).reshape(-1, 2)[index]


def centernet_loss(outputs, boxes, labels, stride, size_weight=0.1):
    heat = outputs["heatmap"]
    target, index, offset, size = encode_targets(boxes, labels, heat.shape[1], heat.shape[2:], stride)
    n_objects = max(len(index), 1)
    loss = focal_loss(heat, Tensor._make(target)) / n_objects
    if len(index):
        offset_error = F.l1_loss(_at_centres(outputs["offset"], index), Tensor._make(offset), reduction="sum")
        size_error = F.l1_loss(_at_centres(outputs["size"], index), Tensor._make(size), reduction="sum")
        loss = loss + (offset_error + size_weight * size_error) / n_objects
    return loss


def decode(outputs, stride, score_threshold=0.05, iou_threshold=0.5, max_detections=20, candidates=100):
    """Network outputs -> one {"boxes" (k, 4), "scores" (k,), "labels" (k,)} dict of NumPy arrays per
    image: the (at most `candidates`) best cells above the threshold, their boxes, then per-class NMS,
    the best max_detections kept."""
    scores = 1 / (1 + np.exp(-outputs["heatmap"].array.astype(np.float64)))  # (N, C, gh, gw)
    offset, size = outputs["offset"].array, outputs["size"].array  # (N, 2, gh, gw)
    results = []
    for i in range(len(scores)):
        flat = scores[i].ravel()
        best = np.argsort(-flat, kind="stable")[:candidates]
        c, y, x = np.unravel_index(best[flat[best] > score_threshold], scores[i].shape)
        centre = np.stack([x + offset[i, 0, y, x], y + offset[i, 1, y, x]], 1)  # (k, 2) in cells
        half = np.abs(size[i][:, y, x].T) / 2
        boxes = np.concatenate([centre - half, centre + half], 1) * stride
        s = scores[i, c, y, x]
        keep = batched_nms(boxes, s, c, iou_threshold)[:max_detections]
        results.append({"boxes": boxes[keep].astype(np.float32), "scores": s[keep].astype(np.float32),
                        "labels": c[keep].astype(np.int64)})
    return results

"""DETR (Carion et al. 2020, "End-to-End Object Detection with Transformers"): detection as set prediction.

    images (N, C, H, W)
      CNN backbone -> features (N, c, H/8, W/8) -> 1x1 conv to d_model -> H/8 * W/8 tokens, plus a learned
      position embedding (a row part and a column part, concatenated)
      Transformer encoder over the tokens; Transformer decoder whose inputs are `num_queries` learned
      object queries, attending to the encoded tokens
      each query's output -> class logits over num_classes + 1 ("no object") and a box (cx, cy, w, h)
      as fractions of the image size (a sigmoid)

There are no anchors, no grid and no NMS: each query proposes at most one object. Training pairs the
queries with the ground-truth objects by the assignment that costs least (the Hungarian algorithm,
scipy.optimize.linear_sum_assignment), with, for query q and object j,

    cost(q, j) = -p_q(class_j) + 5 |box_q - box_j|_1 - 2 GIoU(box_q, box_j)

and then the set loss: cross-entropy of every query against its object's class or "no object"
(weighted 0.1, since most queries have none), and for the matched queries an L1 loss (x 5) and a
generalised-IoU loss (x 2) on the boxes, each divided by the number of objects. GIoU = IoU - (area of
the smallest enclosing box not covered by the union) / (area of that box): unlike IoU it still has a
gradient when the boxes do not overlap.
"""
import numpy as np

from .. import nn
from ..nn import functional as F
from ..nn.utils import evaluating
from ..ops.indexing import cat
from ..ops.elementwise import maximum, minimum
from ..tensor import Tensor
from .boxes import box_cxcywh_to_xyxy, box_iou, box_xyxy_to_cxcywh
from .detection import ResidualStages

__all__ = ["DETR", "hungarian_match", "detr_loss", "generalized_box_iou"]


class DETR(nn.Module):
    """forward(images (N, in_channels, H, W)) -> {"logits" (N, Q, num_classes + 1), "boxes" (N, Q, 4)
    as (cx, cy, w, h) fractions of the image}; detect(images) -> one {"boxes", "scores", "labels"} per image.
    """

    def __init__(self, num_classes, in_channels=1, widths=(16, 32, 64), d_model=64, nhead=4, num_encoder_layers=2,
                 num_decoder_layers=2, dim_feedforward=256, num_queries=10, dropout=0.0, max_grid=32):
        super().__init__()
        self.num_classes, self.in_channels, self.max_grid = num_classes, in_channels, max_grid
        self.backbone = ResidualStages(in_channels, widths)
        self.input_proj = nn.Conv2d(widths[2], d_model, 1)
        self.row_embed = nn.Parameter(np.zeros((max_grid, d_model // 2), np.float32))
        self.col_embed = nn.Parameter(np.zeros((max_grid, d_model - d_model // 2), np.float32))
        self.query_pos = nn.Parameter(np.zeros((num_queries, d_model), np.float32))
        for p in (self.row_embed, self.col_embed, self.query_pos):
            nn.init.uniform_(p)  # U(0, 1), as the paper's minimal DETR
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward,
                                          dropout, batch_first=True)
        self.class_head = nn.Linear(d_model, num_classes + 1)
        self.box_head = nn.Sequential(nn.Linear(d_model, d_model), nn.ReLU(), nn.Linear(d_model, d_model), nn.ReLU(),
                                      nn.Linear(d_model, 4))

    def _positions(self, gh, gw):
        """(1, gh * gw, d_model): row embedding of each token's row beside the column embedding of its column."""
        d_row, d_col = self.row_embed.shape[1], self.col_embed.shape[1]
        rows = self.row_embed[:gh].reshape(gh, 1, d_row).expand(gh, gw, d_row)
        cols = self.col_embed[:gw].reshape(1, gw, d_col).expand(gh, gw, d_col)
        return cat([rows, cols], -1).reshape(1, gh * gw, d_row + d_col)

    def forward(self, images):
        if not isinstance(images, Tensor) or images.ndim != 4 or images.shape[1] != self.in_channels or \
                images.shape[2] % 8 or images.shape[3] % 8 or max(images.shape[2:]) > 8 * self.max_grid:
            raise ValueError(f"DETR: expected images (N, {self.in_channels}, H, W) with H and W multiples of 8 and at "
                             f"most {8 * self.max_grid}, got {getattr(images, 'shape', type(images).__name__)}")
        _, c3 = self.backbone(images)
        x = self.input_proj(c3)  # (N, d, H/8, W/8)
        N, d, gh, gw = x.shape
        tokens = x.flatten(2).transpose(1, 2) + self._positions(gh, gw)  # (N, T, d)
        queries = self.query_pos.reshape(1, *self.query_pos.shape).expand(N, *self.query_pos.shape)  # (N, Q, d)
        h = self.transformer(tokens, queries)  # (N, Q, d)
        return {"logits": self.class_head(h), "boxes": self.box_head(h).sigmoid()}

    def loss(self, outputs, boxes, labels, image_size):
        """The set loss for target `boxes` (N, K, 4) in pixels and `labels` (N, K) (-1: no object);
        image_size: (H, W) of the images."""
        return detr_loss(outputs, boxes, labels, image_size, self.num_classes)

    def detect(self, images, score_threshold=0.05):
        """Per image, the queries whose best real class has probability above the threshold: boxes in
        pixels (x1, y1, x2, y2), scores, labels. No NMS: the set loss taught the queries not to repeat."""
        with evaluating(self):
            out = self(images)
        probs = F.softmax(out["logits"], -1).array[..., :-1]  # (N, Q, C) without "no object"
        scale = np.array([images.shape[3], images.shape[2]] * 2, np.float32)
        results = []
        for p, b in zip(probs, box_cxcywh_to_xyxy(out["boxes"].array) * scale):
            score, label = p.max(1), p.argmax(1)
            keep = np.nonzero(score > score_threshold)[0]
            results.append({"boxes": b[keep], "scores": score[keep], "labels": label[keep].astype(np.int64)})
        return results


def generalized_box_iou(a, b):
    """GIoU of matched pairs of (x1, y1, x2, y2) boxes, Tensors (n, 4) -> (n,), with gradients."""
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    top_left, bottom_right = maximum(a[:, :2], b[:, :2]), minimum(a[:, 2:], b[:, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[:, 0] * wh[:, 1]
    union = area(a) + area(b) - inter
    outer = (maximum(a[:, 2:], b[:, 2:]) - minimum(a[:, :2], b[:, :2])).clamp(min=0)
    enclosing = outer[:, 0] * outer[:, 1]
    return inter / union - (enclosing - union) / enclosing


def _pairwise_giou(a, b):
    """NumPy (K, 4), (M, 4) -> (K, M) GIoU of every pair, for the matching cost."""
    iou = box_iou(a, b)
    inter_union = _areas(a)[:, None] + _areas(b)[None, :]
    union = inter_union / (1 + iou)  # area_a + area_b = union + inter = union (1 + iou)
    outer = np.clip(np.maximum(a[:, None, 2:], b[None, :, 2:]) - np.minimum(a[:, None, :2], b[None, :, :2]), 0, None)
    enclosing = outer[..., 0] * outer[..., 1]
    return iou - (enclosing - union) / np.maximum(enclosing, 1e-12)


def _areas(x):
    return (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])


def hungarian_match(probs, pred_boxes, labels, boxes, class_weight=1.0, l1_weight=5.0, giou_weight=2.0):
    """The least-cost pairing of Q predictions with M objects of one image (NumPy).

    probs (Q, C + 1) softmax; pred_boxes (Q, 4) and boxes (M, 4) as (cx, cy, w, h) fractions; labels (M,).
    Returns (query indices, object indices), both (M,) when Q >= M."""
    from scipy.optimize import linear_sum_assignment

    if len(labels) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cost = (-class_weight * probs[:, labels]
            + l1_weight * np.abs(pred_boxes[:, None, :] - boxes[None, :, :]).sum(-1)
            - giou_weight * _pairwise_giou(box_cxcywh_to_xyxy(pred_boxes), box_cxcywh_to_xyxy(boxes)))
    queries, objects = linear_sum_assignment(cost)
    return queries.astype(np.int64), objects.astype(np.int64)


def _match_batch(outputs, boxes, labels, image_size):
    """Flat indices of the matched queries in (N * Q), their objects' classes and boxes (fractions)."""
    probs = F.softmax(outputs["logits"].detach(), -1).array
    pred = outputs["boxes"].array
    N, Q = pred.shape[:2]
    h, w = image_size
    scale = np.array([w, h, w, h], np.float64)
    flat, classes, targets = [], [], []
    for i in range(N):
        real = labels[i] >= 0
        truth = box_xyxy_to_cxcywh(boxes[i][real] / scale)
        q, j = hungarian_match(probs[i], pred[i], labels[i][real], truth)
        flat.append(i * Q + q)
        classes.append(labels[i][real][j])
        targets.append(truth[j])
    return np.concatenate(flat), np.concatenate(classes), np.concatenate(targets).astype(np.float32)


def detr_loss(outputs, boxes, labels, image_size, num_classes, no_object_weight=0.1, l1_weight=5.0,
              giou_weight=2.0):
    b, lab = np.asarray(getattr(boxes, "array", boxes)), np.asarray(getattr(labels, "array", labels))
    logits, pred = outputs["logits"], outputs["boxes"]
    N, Q = pred.shape[:2]
    matched, classes, truth = _match_batch(outputs, b, lab, image_size)
    target_class = np.full(N * Q, num_classes, np.int64)  # "no object" unless matched
    target_class[matched] = classes
    weight = np.ones(num_classes + 1, np.float32)
    weight[num_classes] = no_object_weight
    loss = F.cross_entropy(logits.reshape(N * Q, num_classes + 1), Tensor._make(target_class),
                           weight=Tensor._make(weight))
    if len(matched):
        n_objects = len(matched)
        mine, truth = pred.reshape(N * Q, 4)[matched], Tensor._make(truth)
        loss = loss + l1_weight * F.l1_loss(mine, truth, reduction="sum") / n_objects
        giou = generalized_box_iou(box_cxcywh_to_xyxy(mine), box_cxcywh_to_xyxy(truth))
        loss = loss + giou_weight * (1 - giou).sum() / n_objects
    return loss

"""Detectors: CenterNet-style targets, focal loss and decoding worked by hand; DETR's Hungarian matching against
brute force, its GIoU by hand and by numerical gradient, its set loss blind to the order of the objects."""
import itertools

import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd.gradcheck import gradcheck
from glassnet.models import DETR, CenterNet, encode_targets, focal_loss, generalized_box_iou, hungarian_match
from glassnet.models.detection import decode
from glassnet.models.detr import _pairwise_giou


def _every_parameter_learns(model, loss):
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.abs(p.grad.array).max() > 0, name


# ---- CenterNet ---------------------------------------------------------------------------------------
def test_centernet_shapes_and_gradients():
    gn.manual_seed(0)
    model = CenterNet(10, 1, (4, 8, 8))
    out = model(gn.randn(2, 1, 32, 32))
    assert out["heatmap"].shape == (2, 10, 8, 8) and out["offset"].shape == out["size"].shape == (2, 2, 8, 8)
    boxes = np.array([[[4, 4, 20, 24], [0, 0, 0, 0]], [[10, 2, 18, 12], [20, 20, 30, 31]]], np.float32)
    labels = np.array([[3, -1], [0, 9]])
    _every_parameter_learns(model, model.loss(out, boxes, labels))
    with pytest.raises(ValueError, match="CenterNet: expected images"):
        model(gn.randn(1, 1, 30, 32))


def test_encode_targets_by_hand():
    boxes = np.array([[[8, 4, 24, 20], [0, 0, 0, 0]]], np.float32)  # centre (16, 12) px -> cell (4, 3) at stride 4
    heatmap, index, offset, size = encode_targets(boxes, np.array([[7, -1]]), 10, (8, 8), 4)
    assert heatmap.shape == (1, 10, 8, 8) and heatmap[0, 7, 3, 4] == 1 and heatmap[0, 7].sum() > 1
    assert heatmap[0, np.arange(10) != 7].max() == 0
    assert np.argmax(heatmap[0, 7]) == 3 * 8 + 4
    sigma = 4 / 6  # sqrt(4 * 4 cells) / 6
    assert heatmap[0, 7, 3, 5] == pytest.approx(np.exp(-1 / (2 * sigma ** 2)), rel=1e-6)
    assert index.tolist() == [3 * 8 + 4]
    np.testing.assert_allclose(offset, [[0.0, 0.0]])
    np.testing.assert_allclose(size, [[4.0, 4.0]])
    _, _, offset, _ = encode_targets(np.array([[[9, 5, 24, 20]]], np.float32), np.array([[0]]), 10, (8, 8), 4)
    np.testing.assert_allclose(offset, [[(16.5 / 4) % 1, (12.5 / 4) % 1]])


def test_focal_loss_matches_its_formula():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 3, 4, 4))
    target = rng.random((2, 3, 4, 4)) * 0.9
    target[0, 1, 2, 2] = target[1, 0, 0, 3] = 1.0
    p = 1 / (1 + np.exp(-logits))
    expected = -np.where(target == 1, (1 - p) ** 2 * np.log(p), (1 - target) ** 4 * p ** 2 * np.log(1 - p)).sum()
    got = focal_loss(gn.tensor(logits, requires_grad=True), gn.tensor(target))
    assert got.item() == pytest.approx(expected, rel=1e-10)
    assert gradcheck(lambda x: focal_loss(x, gn.tensor(target)), (gn.tensor(logits, requires_grad=True),))


def test_decode_reads_boxes_and_nms_keeps_one_per_object():
    heat = np.full((1, 10, 8, 8), -9.0)
    heat[0, 2, 3, 4] = 3.0  # a digit 2 centred in cell (x 4, y 3)
    heat[0, 2, 3, 5] = 1.0  # its neighbour proposes nearly the same box: suppressed
    heat[0, 6, 6, 1] = 0.0  # a 6, score 0.5
    offset = np.full((1, 2, 8, 8), 0.5)
    size = np.full((1, 2, 8, 8), 4.0)
    out = {k: gn.tensor(v) for k, v in (("heatmap", heat), ("offset", offset), ("size", size))}
    (found,) = decode(out, 4, score_threshold=0.1)
    assert found["labels"].tolist() == [2, 6]
    np.testing.assert_allclose(found["scores"], [1 / (1 + np.exp(-3.0)), 0.5], rtol=1e-6)
    np.testing.assert_allclose(found["boxes"][0], [10, 6, 26, 22])  # centre (4.5, 3.5) cells, 4 cells wide
    (kept_both,) = decode(out, 4, score_threshold=0.1, iou_threshold=0.9)
    assert kept_both["labels"].tolist() == [2, 2, 6]


# ---- DETR --------------------------------------------------------------------------------------------
def test_hungarian_match_is_the_cheapest_assignment():
    rng = np.random.default_rng(1)
    for _ in range(20):
        q, m = 5, int(rng.integers(1, 5))
        probs = rng.dirichlet(np.ones(11), q)
        pred = rng.random((q, 4)) * 0.5 + 0.25
        truth = rng.random((m, 4)) * 0.5 + 0.25
        labels = rng.integers(0, 10, m)
        queries, objects = hungarian_match(probs, pred, labels, truth)
        pair = [[-probs[r, labels[j]] + 5 * np.abs(pred[r] - truth[j]).sum()
                 - 2 * _pairwise_giou(_xyxy(pred[r:r + 1]), _xyxy(truth[j:j + 1]))[0, 0] for j in range(m)]
                for r in range(q)]

        def cost(rows):  # rows[j]: the query given object j
            return sum(pair[r][j] for j, r in enumerate(rows))

        best = min(itertools.permutations(range(q), m), key=cost)
        assert cost(queries[np.argsort(objects)]) == pytest.approx(cost(best))
    assert hungarian_match(probs, pred, np.zeros(0, int), np.zeros((0, 4)))[0].shape == (0,)


def _xyxy(cxcywh):
    c, wh = cxcywh[:, :2], cxcywh[:, 2:]
    return np.concatenate([c - wh / 2, c + wh / 2], 1)


def test_giou_by_hand_and_by_numerical_gradient():
    a = gn.tensor([[0.0, 0, 2, 2], [0, 0, 1, 1]], dtype=gn.float64)
    b = gn.tensor([[1.0, 1, 3, 3], [2, 0, 3, 1]], dtype=gn.float64)
    np.testing.assert_allclose(generalized_box_iou(a, b).array, [1 / 7 - 2 / 9, -1 / 3])
    np.testing.assert_allclose(np.diag(_pairwise_giou(a.array, b.array)), [1 / 7 - 2 / 9, -1 / 3])
    rng = np.random.default_rng(2)
    lo = rng.random((4, 2))
    x = gn.tensor(np.concatenate([lo, lo + 0.5 + rng.random((4, 2))], 1), requires_grad=True)
    y = gn.tensor(np.concatenate([lo + 0.3, lo + 1.2], 1))
    assert gradcheck(lambda t: generalized_box_iou(t, y), (x,))


def test_detr_shapes_gradients_and_a_loss_blind_to_object_order():
    gn.manual_seed(0)
    model = DETR(10, 1, (4, 8, 8), d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                 dim_feedforward=32, num_queries=5)
    out = model(gn.randn(2, 1, 32, 32))
    assert out["logits"].shape == (2, 5, 11) and out["boxes"].shape == (2, 5, 4)
    assert 0 < out["boxes"].array.min() and out["boxes"].array.max() < 1
    boxes = np.array([[[4, 4, 20, 24], [10, 2, 18, 12], [0, 0, 0, 0]], [[20, 20, 30, 31], [0, 0, 0, 0],
                                                                         [0, 0, 0, 0]]], np.float32)
    labels = np.array([[3, 5, -1], [9, -1, -1]])
    loss = model.loss(out, boxes, labels, (32, 32))
    swapped = model.loss(out, boxes[:, [1, 0, 2]], labels[:, [1, 0, 2]], (32, 32))
    assert loss.item() == pytest.approx(swapped.item(), rel=1e-6)
    _every_parameter_learns(model, loss)
    found = model.detect(gn.randn(3, 1, 32, 32), score_threshold=0.0)
    assert len(found) == 3 and found[0]["boxes"].shape == (5, 4)
    with pytest.raises(ValueError, match="DETR: expected images"):
        model(gn.randn(1, 1, 30, 32))

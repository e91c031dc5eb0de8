"""Box overlap, NMS, mean average precision (hand-computed cases and the per-true-positive form of the
same area) and mean IoU of segmentations."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.metrics import (ConfusionMeter, average_precision, average_precision_per_class, iou_per_class,
                              mean_average_precision, mean_iou)
from glassnet.models.boxes import batched_nms, box_cxcywh_to_xyxy, box_iou, box_xyxy_to_cxcywh, nms


def _pred(boxes, scores, labels):
    return {"boxes": np.array(boxes, float).reshape(-1, 4), "scores": np.array(scores, float),
            "labels": np.array(labels, int)}


def _truth(boxes, labels):
    return {"boxes": np.array(boxes, float).reshape(-1, 4), "labels": np.array(labels, int)}


# ---- boxes -------------------------------------------------------------------------------------------
def test_box_iou_by_hand():
    a = [[0, 0, 2, 2], [0, 0, 1, 1]]
    b = [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]]
    np.testing.assert_allclose(box_iou(a, b), [[1 / 7, 1, 0], [0, 1 / 4, 0]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 3)


def test_box_format_round_trip_on_arrays_and_tensors():
    xyxy = np.array([[1.0, 2.0, 5.0, 8.0]])
    np.testing.assert_allclose(box_xyxy_to_cxcywh(xyxy), [[3, 5, 4, 6]])
    np.testing.assert_allclose(box_cxcywh_to_xyxy(box_xyxy_to_cxcywh(xyxy)), xyxy)
    t = box_cxcywh_to_xyxy(gn.tensor([[3.0, 5.0, 4.0, 6.0]], requires_grad=True))
    t.sum().backward()
    np.testing.assert_allclose(t.array, xyxy)


def test_nms_by_hand():
    boxes = [[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30], [0, 0, 10, 9.5]]
    scores = [0.9, 0.8, 0.7, 0.95]
    # box 3 (0.95) wins; box 0 (IoU 0.95) and box 1 (IoU 0.78) go; box 2 overlaps nothing
    assert nms(boxes, scores, 0.5).tolist() == [3, 2]
    assert nms(boxes, scores, 0.9).tolist() == [3, 1, 2]  # box 1: IoU 0.78 with box 3, 0.82 with box 0 (gone)
    assert nms(np.zeros((0, 4)), [], 0.5).tolist() == []
    assert batched_nms(boxes, scores, [0, 1, 0, 0], 0.5).tolist() == [3, 1, 2]  # another class is not suppressed


def test_nms_rejects_mismatched_scores():
    with pytest.raises(ValueError, match=r"nms: scores must have shape \(2,\)"):
        nms([[0, 0, 1, 1], [0, 0, 2, 2]], [0.5], 0.5)
    with pytest.raises(ValueError, match=r"box_iou: boxes1 must have shape \(K, 4\)"):
        box_iou([[0, 0, 1]], [[0, 0, 1, 1]])


# ---- average precision -------------------------------------------------------------------------------
def test_ap_by_hand_a_false_positive_between_two_hits():
    truth = [_truth([[0, 0, 10, 10], [20, 20, 30, 30]], [4, 4])]
    pred = [_pred([[0, 0, 10, 10], [50, 50, 60, 60], [20, 20, 30, 29]], [0.9, 0.8, 0.7], [4, 4, 4])]
    # precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1: AP = 1/2 * 1 + 1/2 * 2/3
    assert mean_average_precision(pred, truth) == pytest.approx(0.5 + 1 / 3)


def test_ap_by_hand_duplicates_misses_and_ranking():
    truth = [_truth([[0, 0, 10, 10]], [1])]
    dup = [_pred([[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8], [1, 1])]
    assert mean_average_precision(dup, truth) == 1.0  # the duplicate comes after full recall
    dup_first = [_pred([[40, 40, 50, 50], [0, 0, 10, 10]], [0.9, 0.8], [1, 1])]
    assert mean_average_precision(dup_first, truth) == pytest.approx(0.5)  # precision 1/2 at recall 1
    two = [_truth([[0, 0, 10, 10], [20, 0, 30, 10]], [1, 1])]
    assert mean_average_precision([_pred([[0, 0, 10, 10]], [0.5], [1])], two) == pytest.approx(0.5)
    assert mean_average_precision([_pred(np.zeros((0, 4)), [], [])], two) == 0.0


def test_ap_threshold_is_inclusive_and_matches_within_class_and_image():
    truth = [_truth([[0, 0, 2, 1]], [0])]
    half = [_pred([[0, 0, 1, 1]], [1.0], [0])]  # IoU exactly 1/2
    assert mean_average_precision(half, truth, 0.5) == 1.0
    assert mean_average_precision(half, truth, 0.51) == 0.0
    assert mean_average_precision([_pred([[0, 0, 2, 1]], [1.0], [3])], truth) == 0.0  # wrong class
    images = [_truth([[0, 0, 2, 1]], [0]), _truth(np.zeros((0, 4)), [])]
    wrong_image = [_pred(np.zeros((0, 4)), [], []), _pred([[0, 0, 2, 1]], [1.0], [0])]
    assert mean_average_precision(wrong_image, images) == 0.0


def test_map_is_the_mean_over_classes_with_ground_truth():
    truth = [_truth([[0, 0, 10, 10], [20, 20, 30, 30]], [0, 1])]
    pred = [_pred([[0, 0, 10, 10], [60, 60, 70, 70], [20, 20, 30, 30], [80, 80, 90, 90]], [0.9, 0.8, 0.5, 0.99],
                  [0, 1, 1, 7])]  # class 1: a false positive ranked first; class 7 has no ground truth
    assert average_precision_per_class(pred, truth) == {0: 1.0, 1: 0.5}
    assert mean_average_precision(pred, truth) == pytest.approx(0.75)


def _ap_from_true_positives(hits, n_truths):
    """The same area, written as: mean over the ground truths found of the best precision at or after
    the rank where each was found (missed ground truths add 0)."""
    hits = np.asarray(hits, float)
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return sum(precision[k:].max() for k in np.nonzero(hits)[0]) / n_truths


def test_ap_agrees_with_the_true_positive_form_on_random_rankings():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n_truths = int(rng.integers(1, 8))
        hits = (rng.random(int(rng.integers(0, 12))) < 0.5).astype(float)
        hits[np.cumsum(hits) > n_truths] = 0  # no more hits than objects
        tp = np.cumsum(hits)
        recall, precision = tp / n_truths, tp / np.arange(1, len(hits) + 1)
        assert average_precision(recall, precision) == pytest.approx(_ap_from_true_positives(hits, n_truths))


def test_map_accepts_tensors_and_names_missing_fields():
    truth = [{"boxes": gn.tensor([[0.0, 0, 4, 4]]), "labels": gn.tensor([2])}]
    pred = [{"boxes": gn.tensor([[0.0, 0, 4, 4]]), "scores": gn.tensor([0.3]), "labels": gn.tensor([2])}]
    assert mean_average_precision(pred, truth) == 1.0
    with pytest.raises(KeyError, match="prediction 0 has no 'scores'"):
        mean_average_precision([{"boxes": np.zeros((0, 4)), "labels": np.zeros(0)}], truth)
    with pytest.raises(ValueError, match="1 predictions but 2 targets"):
        mean_average_precision(pred, truth * 2)


# ---- segmentation IoU --------------------------------------------------------------------------------
def test_iou_by_hand():
    pred = np.array([[0, 1], [1, 1]])
    target = np.array([[0, 1], [0, 1]])
    # class 0: 1 / (1 + 0 + 1); class 1: 2 / (2 + 1 + 0); class 2 occurs nowhere: left out
    np.testing.assert_allclose(iou_per_class(np.array([[1, 1, 0], [0, 2, 0], [0, 0, 0]])), [0.5, 2 / 3, np.nan])
    assert mean_iou(pred, target, 3) == pytest.approx((0.5 + 2 / 3) / 2)
    meter = ConfusionMeter(3)
    meter.update(gn.tensor(pred[:1]), gn.tensor(target[:1]))
    meter.update(pred[1:], target[1:])  # accumulated over batches = computed at once
    assert meter.mean_iou() == pytest.approx(mean_iou(pred, target, 3))
    assert meter.pixel_accuracy() == 0.75


def test_iou_rejects_classes_out_of_range():
    with pytest.raises(ValueError, match=r"predictions must be integer classes in \[0, 3\)"):
        mean_iou(np.array([0, 3]), np.array([0, 1]), 3)
    with pytest.raises(ValueError, match="differ in shape"):
        mean_iou(np.array([0, 1]), np.array([0]), 3)

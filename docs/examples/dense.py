"""Segmentation and detection on canvases of MNIST digits: a U-Net labels every pixel; a CenterNet-style detector
finds each digit as a peak in a heatmap, proposes boxes, and non-maximum suppression keeps one per digit.

Run: python docs/examples/dense.py   (writes docs/images/dense_*.png)
"""
import os

import numpy as np

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import optim, transforms as T
from glassnet.datasets import NUM_CANVAS_CLASSES, MultiDigitCanvas
from glassnet.metrics import ConfusionMeter, average_precision, mean_average_precision, precision_recall
from glassnet.models import CenterNet, UNet, encode_targets
from glassnet.models.detection import decode
from glassnet.nn.utils import evaluating
from glassnet.viz.dense import plot_detections, plot_segmentation

from _common import IMAGES, run  # docs/examples/_common.py


def fit(model, data, loss_fn, steps, batch=16, lr=3e-3):
    """AdamW on random batches of canvases; prints the loss now and then."""
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    rng = np.random.default_rng(0)
    for step in range(1, steps + 1):
        images, target = data.__getbatch__(rng.integers(0, len(data), batch))
        loss = loss_fn(model, images, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % max(1, steps // 5) == 0:
            print(f"{type(model).__name__} step {step}: loss {loss.item():.3f}")
    return model


def segmentation(train, test, steps, out_dir):
    """A U-Net trained with per-pixel cross-entropy; its mean IoU on the test canvases and a picture."""
    gn.manual_seed(0)
    unet = fit(UNet(1, NUM_CANVAS_CLASSES, (8, 16, 32, 64)), train,
               lambda m, x, t: F.cross_entropy(m(x), t["mask"]), steps)
    images, target = test.__getbatch__(np.arange(len(test)))
    with evaluating(unet):
        predicted = unet(images).array.argmax(1)  # (N, 64, 64) classes
    meter = ConfusionMeter(NUM_CANVAS_CLASSES)
    meter.update(predicted, target["mask"])
    plot_segmentation(images.array[:6], predicted[:6], target["mask"].array[:6],
                      os.path.join(out_dir, "dense_unet.png"), MultiDigitCanvas.classes, title="U-Net on test canvases")
    return meter.mean_iou(), meter.iou()


def heatmap_picture(images, target_heat, predicted_heat, path):
    """Canvases, the target heatmaps (max over the 10 classes) and the predicted ones, side by side."""
    from glassnet.viz._figure import finish, new_figure

    fig = new_figure((2 * len(images), 6))
    axes = fig.subplots(3, len(images), squeeze=False)
    rows = (("canvas", images[:, 0], "gray"), ("target heatmap", target_heat.max(1), "magma"),
            ("predicted heatmap", predicted_heat.max(1), "magma"))
    for r, (name, pictures, cmap) in enumerate(rows):
        for j, picture in enumerate(pictures):
            axes[r, j].imshow(picture, cmap=cmap, vmin=0, vmax=1 if r else None)
            axes[r, j].set_xticks([]), axes[r, j].set_yticks([])
        axes[r, 0].set_ylabel(name)
    return finish(fig, path)


def pr_picture(detections, test, digit, path):
    """Precision against recall for one digit class, with the interpolated curve whose area is the AP."""
    from glassnet.viz._figure import finish, new_figure

    truth = [dict(zip(("boxes", "labels"), test.targets_of(i))) for i in range(len(test))]
    recall, precision = precision_recall(detections, truth, digit)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]  # the best precision at this recall or beyond
    fig = new_figure((5, 4))
    ax = fig.subplots()
    ax.plot(recall, precision, ".", ms=3, color="#4c72b0", label="precision after each detection")
    ax.fill_between(np.r_[0, recall], np.r_[envelope[:1], envelope], step="pre", alpha=0.3, color="#dd8452",
                    label=f"interpolated: area = AP = {average_precision(recall, precision):.3f}")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.05),
           title=f"digit {digit}: detections ranked by score")
    ax.legend(loc="lower left")
    return finish(fig, path)


def detection(train, test, steps, out_dir):
    """CenterNet: targets and predicted heatmaps, boxes before and after NMS, the mAP, one PR curve."""
    gn.manual_seed(0)
    net = fit(CenterNet(10, 1, (16, 32, 64)), train, lambda m, x, t: m.loss(m(x), t["boxes"], t["labels"]), steps)
    images, target = test.__getbatch__(np.arange(len(test)))
    with evaluating(net):
        out = net(images)
    heat, *_ = encode_targets(target["boxes"], target["labels"], 10, out["heatmap"].shape[2:], net.stride)
    predicted_heat = 1 / (1 + np.exp(-out["heatmap"].array))
    heatmap_picture(images.array[:5], heat[:5], predicted_heat[:5], os.path.join(out_dir, "dense_heatmaps.png"))
    truth = [dict(zip(("boxes", "labels"), test.targets_of(i))) for i in range(len(test))]
    raw = decode(out, net.stride, score_threshold=0.3, iou_threshold=1.0)  # every cell above 0.3, no suppression
    kept = decode(out, net.stride, score_threshold=0.05, iou_threshold=0.5)
    plot_detections(images.array[:4], raw[:4], truth[:4], os.path.join(out_dir, "dense_before_nms.png"), cols=4,
                    title="every cell above 0.3")
    plot_detections(images.array[:4], kept[:4], truth[:4], os.path.join(out_dir, "dense_after_nms.png"), cols=4,
                    title="after non-maximum suppression")
    pr_picture(kept, test, 3, os.path.join(out_dir, "dense_pr_curve.png"))
    return mean_average_precision(kept, truth), np.mean([len(d["boxes"]) for d in raw[:4]]), \
        np.mean([np.sum(d["scores"] >= 0.3) for d in kept[:4]])


def main(out_dir=IMAGES, small=False):
    """Canvases from the MNIST sample shipped with glassnet; a U-Net and a detector trained for a few minutes."""
    n_train, n_test, steps = (64, 16, 6) if small else (3000, 300, 400)
    train = MultiDigitCanvas(train=True, num_canvases=n_train, sample=True, transform=T.ToTensor())
    test = MultiDigitCanvas(train=False, num_canvases=n_test, sample=True, transform=T.ToTensor())
    miou, iou = segmentation(train, test, steps, out_dir)
    map50, raw_per_image, kept_per_image = detection(train, test, steps, out_dir)
    print(f"U-Net mean IoU {miou:.3f}; CenterNet mAP@0.5 {map50:.3f}")
    return dict(mean_iou=miou, iou=iou, map50=map50, boxes_before_nms=raw_per_image, boxes_after_nms=kept_per_image)


if __name__ == "__main__":
    run(main)

"""A small CNN on the MNIST sample: its learned filters and the feature maps it makes of a digit.

Run: python docs/examples/cnn.py   (writes docs/images/cnn_*.png)
"""
import os

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import nn, optim, viz
from glassnet.utils.data import DataLoader, TensorDataset

from _common import IMAGES, mnist_sample, run  # docs/examples/_common.py


def build():
    """28x28 -> conv 3x3 (8) -> pool -> 14x14 -> conv 3x3 (16) -> pool -> 7x7 -> linear 10."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10),
    )


def main(out_dir=IMAGES, small=False):
    """Train the CNN with Adam, then draw its filters and the feature maps of one test digit."""
    gn.manual_seed(0)
    x, y = mnist_sample(train=True, limit=256 if small else None)
    x_test, y_test = mnist_sample(train=False, limit=100 if small else None)
    model = build()
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, generator=gn.Generator(0))
    records, step = [], 0
    for epoch in range(1 if small else 3):
        for xb, yb in loader:
            optimizer.zero_grad()
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            optimizer.step()
            records.append(dict(split="train", step=step, loss=loss.item(),
                                accuracy=float((logits.array.argmax(1) == yb.array).mean())))
            step += 1
        model.eval()
        with gn.no_grad():
            test_logits = model(x_test)
        model.train()
        test_accuracy = float((test_logits.array.argmax(1) == y_test.array).mean())
        records.append(dict(split="test", step=step, loss=F.cross_entropy(test_logits, y_test).item(),
                            accuracy=test_accuracy))
        print(f"epoch {epoch + 1}: train loss {loss.item():.3f}, test accuracy {100 * test_accuracy:.1f}%")

    viz.plot_curves(records, os.path.join(out_dir, "cnn_curves.png"))
    viz.plot_conv_filters(model[0], os.path.join(out_dir, "cnn_filters.png"), title="first conv layer: 8 kernels 3x3")
    digit = x_test[:1]
    viz.plot_feature_maps(model, digit, model[1], os.path.join(out_dir, "cnn_feature_maps_1.png"))  # after ReLU 1
    viz.plot_feature_maps(model, digit, model[4], os.path.join(out_dir, "cnn_feature_maps_2.png"))  # after ReLU 2
    maps = viz.feature_maps(model, digit, model[1])
    return dict(test_accuracy=test_accuracy, steps=step, final_loss=loss.item(), maps_shape=maps.shape,
                maps_nonnegative=bool((maps >= 0).all()))


if __name__ == "__main__":
    run(main)

"""An MLP on the MNIST sample, watched from inside: curves, gradient flow, activations, first-layer weights.

Run: python docs/examples/mlp.py   (writes docs/images/mlp_*.png)
"""
import os

import numpy as np

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import nn, optim, viz
from glassnet.utils.data import DataLoader, TensorDataset

from _common import IMAGES, mnist_sample, run  # docs/examples/_common.py


def main(out_dir=IMAGES, small=False):
    """Train 784-128-64-10 with Adam; record gradient flow each step and activations on the test set."""
    gn.manual_seed(0)
    x, y = mnist_sample(train=True, limit=600 if small else None, flat=True)
    x_test, y_test = mnist_sample(train=False, limit=200 if small else None, flat=True)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, generator=gn.Generator(0))
    grads = viz.GradientMonitor(model)
    records, step = [], 0
    for epoch in range(1 if small else 4):
        for xb, yb in loader:
            optimizer.zero_grad()
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            optimizer.step()
            grads.record(step)  # gradient norms and update/weight ratios of every parameter
            accuracy = float((logits.array.argmax(1) == yb.array).mean())
            records.append(dict(split="train", step=step, loss=loss.item(), accuracy=accuracy))
            step += 1
        with gn.no_grad():
            test_logits = model(x_test)
        test_accuracy = float((test_logits.array.argmax(1) == y_test.array).mean())
        records.append(dict(split="test", step=step, loss=F.cross_entropy(test_logits, y_test).item(),
                            accuracy=test_accuracy))
        print(f"epoch {epoch + 1}: train loss {loss.item():.3f}, test accuracy {100 * test_accuracy:.1f}%")

    with viz.ActivationMonitor(model) as acts, gn.no_grad():
        model(x_test)  # one forward over the test set: statistics of every layer's output
    print(acts.table())
    viz.plot_curves(records, os.path.join(out_dir, "mlp_curves.png"))
    viz.plot_gradient_flow(grads, os.path.join(out_dir, "mlp_gradient_flow.png"))
    viz.plot_activations(acts, os.path.join(out_dir, "mlp_activations.png"))
    viz.plot_filters(model[0].weight, os.path.join(out_dir, "mlp_weights.png"), title="first-layer weights (28x28)")
    latest = grads.history[-1]["grad_norm"]
    assert np.isclose(latest["0.weight"], np.linalg.norm(model[0].weight.grad.array), rtol=1e-6)
    return dict(test_accuracy=test_accuracy, steps=step, final_loss=loss.item(),
                dead_fraction=acts.latest()["1"]["dead_fraction"])


if __name__ == "__main__":
    run(main)

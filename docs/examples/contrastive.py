"""Contrastive learning on the MNIST sample: two random views of every digit, an encoder, NT-Xent, and what the
similarities of a batch look like before and after training.

Run: python docs/examples/contrastive.py   (writes docs/images/contrastive_*.png)
"""
import os

import numpy as np

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import optim, viz
from glassnet.datasets import MNIST
from glassnet.models.contrastive import SimCLR
from glassnet.recipes.contrastive import embed, linear_probe
from glassnet.recipes.simclr_mnist import views
from glassnet.viz.contrastive import plot_view_similarities
from glassnet.viz.embeddings import plot_embeddings

from _common import IMAGES, run  # docs/examples/_common.py


def digits(train, limit):
    ds = MNIST(train=train, sample=True)
    return gn.tensor(ds.data.array[:limit].astype(np.float32)[:, None] / 255), ds.targets.array[:limit]


def view_similarities(model, x, augment):
    """The cosine similarities (2N, 2N) of the projections of two views of each image of x, and the fraction of
    views whose most similar other view is their partner."""
    with gn.nn.utils.evaluating(model):
        z = F.normalize(model(gn.cat([augment.apply_batch(x), augment.apply_batch(x)])), dim=1).array
    s = z @ z.T
    n = len(x)
    others = s - 2 * np.eye(2 * n)  # a view is not its own candidate
    partner = np.concatenate([np.arange(n, 2 * n), np.arange(n)])
    return s, float((others.argmax(1) == partner).mean())


def main(out_dir=IMAGES, small=False):
    """Train a small SimCLR encoder on the MNIST sample; draw the views, the similarity matrices, the curves and
    the t-SNE map of its features."""
    gn.manual_seed(0)
    x, _ = digits(True, 512 if small else None)
    x_test, y_test = digits(False, 200 if small else 1000)
    augment, model = views(), SimCLR(widths=(16, 32, 64), proj_hidden=128, proj_dim=32)
    optimizer = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    probe_batch = x_test[:32]
    before, partner_before = view_similarities(model, probe_batch, augment)
    loader = gn.utils.data.DataLoader(gn.utils.data.TensorDataset(x), batch_size=128, shuffle=True, drop_last=True,
                                      generator=gn.Generator(0))
    records, step = [], 0
    for epoch in range(1 if small else 6):
        for (xb,) in loader:
            z1, z2 = model(augment.apply_batch(xb)), model(augment.apply_batch(xb))  # two views of each digit
            loss = F.nt_xent_loss(z1, z2, temperature=0.5)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            records.append(dict(split="train", step=step, loss=loss.item()))
            step += 1
        _, partner = view_similarities(model, probe_batch, augment)
        records.append(dict(split="test", step=step, partner_accuracy=partner))
        print(f"epoch {epoch + 1}: NT-Xent {loss.item():.3f}, partner found for {100 * partner:.0f}% of test views")

    after, partner_after = view_similarities(model, probe_batch, augment)
    grid = np.concatenate([probe_batch.array[:8, 0], augment.apply_batch(probe_batch[:8]).array[:, 0],
                           augment.apply_batch(probe_batch[:8]).array[:, 0]])
    viz.plot_image_grid(grid, ["digit"] * 8 + ["view 1"] * 8 + ["view 2"] * 8,
                        os.path.join(out_dir, "contrastive_views.png"), title="test digits and two random views")
    plot_view_similarities([before, after], [f"untrained: partner found for {100 * partner_before:.0f}%",
                                             f"after {step} steps: {100 * partner_after:.0f}%"],
                           os.path.join(out_dir, "contrastive_similarity.png"))
    viz.plot_curves(records, os.path.join(out_dir, "contrastive_curves.png"))
    features = embed(lambda m, b: m.features(b), model, x_test)
    plot_embeddings(features, y_test, os.path.join(out_dir, "contrastive_tsne.png"), method="tsne",
                    class_names=[f"digit {d}" for d in range(10)],
                    title=f"t-SNE of the encoder's features of {len(x_test)} test digits (labels never used)")
    n_train = len(x_test) // 2
    probe = linear_probe(features[:n_train], y_test[:n_train], features[n_train:], y_test[n_train:],
                         epochs=20 if small else 50)
    return dict(steps=step, first_loss=records[0]["loss"], final_loss=loss.item(), partner_before=partner_before,
                partner_after=partner_after, probe_accuracy=probe["test_accuracy"])


if __name__ == "__main__":
    run(main)

"""siamese-mnist: metric learning, an embedding in which digits of one class lie close together.

    glassnet train siamese-mnist                       semi-hard triplet loss
    glassnet train siamese-mnist --loss contrastive    the contrastive loss of pairs

One convolutional network (glassnet.models.EmbeddingNet, "siamese": every input goes through the same
weights) maps each digit to a unit vector. The loss shapes their distances:

    triplet      every same-digit pair (a, p) of a batch, with the closest other digit n that is farther from a
                 than p is (semi-hard, Schroff et al. 2015): max(0, margin + d(a, p) - d(a, n))
    contrastive  every pair of same-digit images of a batch, and as many random pairs of different digits
                 (Hadsell et al. 2006): 1/2 d^2 for a same-digit pair, 1/2 max(0, margin - d)^2 for the others

Measured by retrieval: each test digit is a query, the training digits are the gallery; recall@1 is the
fraction of queries whose nearest training digit shows the same number (after each epoch against the first
--eval-gallery training digits, at the end against all 60,000; with the untrained network beside it).
Pictures: the t-SNE map of test embeddings and a few queries with their nearest training digits.
"""
from dataclasses import dataclass

import numpy as np

from ..metrics.retrieval import nearest_neighbours, recall_at_k
from ..models.contrastive import EmbeddingNet
from ..nn import functional as F
from ..random import rng
from ..tensor import Tensor
from ..transforms import RandomAffine
from . import Recipe, register
from .config import flag, one_of, positive
from .contrastive import (DIGITS, DigitsConfig, built_with_seed, embed, load_digits, one_cycle_experiment,
                          plot_path, shuffled_batches)


@dataclass
class SiameseConfig(DigitsConfig):
    epochs: int = flag(4, "passes over the training set", positive)
    batch_size: int = flag(128, "images per step (the triplets or pairs are formed within a batch)", positive)
    lr: float = flag(3e-3, "peak learning rate of the one-cycle schedule", positive)
    weight_decay: float = flag(1e-4, "AdamW weight decay")
    loss: str = flag("triplet", "triplet (semi-hard triplets) or contrastive (pairs)",
                     one_of("triplet", "contrastive"))
    margin: float = flag(0.0, "margin of the loss (0: 0.5 for triplet, 1.2 for contrastive; unit vectors are at "
                              "most 2 apart, orthogonal ones 1.41)")
    width: int = flag(16, "channels of the first convolution stage (each later stage doubles them)", positive)
    stages: int = flag(3, "convolution stages (2x2 max pooling between them)", positive)
    dim: int = flag(32, "embedding dimensions", positive)
    augment: bool = flag(True, "random shifts, small rotations and zooms of the training digits")
    eval_gallery: int = flag(10000, "training digits in the gallery of the evaluation after each epoch", positive)
    tsne_points: int = flag(2000, "test digits in the t-SNE picture", positive)


def _model(config):
    return EmbeddingNet(1, tuple(config.width * 2 ** i for i in range(config.stages)), config.dim)


def _distances(e):
    """Euclidean distances (N, N) between the rows of e (an array of unit vectors)."""
    return np.sqrt(np.maximum(2 - 2 * (e @ e.T), 0))


def semi_hard_triplets(e, labels):
    """(anchors, positives, negatives) index arrays into the batch: every same-digit pair (a, p), with the
    closest other digit n that is still farther from a than p (semi-hard, Schroff et al. 2015), or, when none
    is, the closest other digit. Chosen on the current distances (no gradient flows through the choice)."""
    d = _distances(e)
    same, other = labels[:, None] == labels[None, :], labels[:, None] != labels[None, :]
    np.fill_diagonal(same, False)
    anchors, positives = np.nonzero(same & other.any(1)[:, None])
    to_others = np.where(other[anchors], d[anchors], np.inf)  # (pairs, N)
    beyond = np.where(to_others > d[anchors, positives][:, None], to_others, np.inf)
    negatives = np.where(np.isfinite(beyond.min(1)), beyond.argmin(1), to_others.argmin(1))
    return anchors, positives, negatives


def balanced_pairs(labels, g):
    """(first, second, same) index arrays of pairs within a batch: every same-digit pair, and as many pairs of
    different digits drawn at random (with the NumPy generator g) among all such pairs."""
    first, second = np.triu_indices(len(labels), 1)
    same = labels[first] == labels[second]
    positive, negative = np.flatnonzero(same), np.flatnonzero(~same)
    chosen = np.concatenate([positive, g.choice(negative, min(len(positive), len(negative)), replace=False)])
    return first[chosen], second[chosen], same[chosen].astype(np.int64)


class _SiameseTask:
    def __init__(self, config):
        self.config = config
        self.train_x, self.train_y = load_digits(config, True)
        self.test_x, self.test_y = load_digits(config, False)
        self.augment = RandomAffine(10, translate=(0.08, 0.08), scale=(0.9, 1.1)).apply_batch \
            if config.augment else None

    def loss(self, model, batch):
        x, y = batch
        e = model(self.augment(x) if self.augment is not None else x)
        labels = y.array
        if len(np.unique(labels)) == len(labels):
            raise ValueError(f"siamese-mnist: a batch of {len(labels)} digits holds no two of one digit, so no pair "
                             f"or triplet: use a larger --batch-size")
        if self.config.loss == "triplet":
            a, p, n = semi_hard_triplets(e.array, labels)
            return F.triplet_margin_loss(e[a], e[p], e[n], margin=self.config.margin or 0.5)
        first, second, same = balanced_pairs(labels, rng())
        return F.contrastive_loss(e[first], e[second], Tensor._make(same), margin=self.config.margin or 1.2)

    def recall(self, model, gallery_size):
        n = min(gallery_size, len(self.train_x))
        gallery = embed(_embedding, model, self.train_x[:n], desc="gallery")
        queries = embed(_embedding, model, self.test_x, desc="queries")
        nearest = nearest_neighbours(queries, gallery, k=5)
        hits = self.train_y[:n][nearest] == self.test_y[:, None]
        return {"recall_at_1": recall_at_k(hits[:, :1]), "recall_at_5": recall_at_k(hits)}

    def evaluate(self, model):
        return {"test_recall_at_1": self.recall(model, self.config.eval_gallery)["recall_at_1"]}

    def untrained(self):
        return built_with_seed(lambda: _model(self.config), self.config.seed + 100)

    def test(self, model):
        learned, untrained = self.recall(model, len(self.train_x)), self.recall(self.untrained(), len(self.train_x))
        return {"test_recall_at_1": learned["recall_at_1"], "test_recall_at_5": learned["recall_at_5"],
                "untrained_test_recall_at_1": untrained["recall_at_1"], "gallery_images": len(self.train_x),
                "query_images": len(self.test_x)}

    def pictures(self, model, run_dir):
        from ..viz.embeddings import plot_embeddings
        from ..viz.plots import plot_image_grid

        paths = [plot_path(run_dir, "tsne_embeddings.png"), plot_path(run_dir, "retrieval.png")]
        n = min(self.config.tsne_points, len(self.test_x))
        plot_embeddings(embed(_embedding, model, self.test_x[:n]), self.test_y[:n], paths[0], method="tsne",
                        class_names=DIGITS,
                        title=f"t-SNE of the embeddings of {n} test digits")
        queries = self.test_x[:8]
        gallery = embed(_embedding, model, self.train_x, desc="gallery")
        nearest = nearest_neighbours(embed(_embedding, model, queries), gallery, k=5)  # (8, 5)
        rows = [np.concatenate([queries.array[i:i + 1, 0], self.train_x.array[nearest[i], 0]]) for i in range(8)]
        captions = [c for i in range(8) for c in
                    ["query"] + [f"{self.train_y[j]}" + ("" if self.train_y[j] == self.test_y[i] else " (wrong)")
                                 for j in nearest[i]]]
        plot_image_grid(np.concatenate(rows), captions, paths[1], cols=6,
                        title="test queries (left) and their 5 nearest training digits")
        return {"plots": paths}


def _embedding(model, images):
    return model(images)


def build(config):
    task = _SiameseTask(config)
    return one_cycle_experiment(config, _model(config), shuffled_batches(config, task.train_x, task.train_y),
                                loss=task.loss, evaluate=task.evaluate, test=task.test, monitor="test_recall_at_1",
                                mode="max", report=task.pictures if config.pictures else None)


register(Recipe("siamese-mnist", "siamese network on MNIST with a triplet (or contrastive) loss: nearest-neighbour "
                "recall@1 of test digits among the training digits", SiameseConfig, build))

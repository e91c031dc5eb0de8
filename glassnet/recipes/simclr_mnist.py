"""simclr-mnist: self-supervised features of digits, learned without a single label (Chen et al. 2020, SimCLR).

    glassnet train simclr-mnist          a linear probe on the frozen features: >= 97% test accuracy

Every image of a batch is turned into two random views (random affine map: rotation, shift, zoom, shear;
an elastic distortion; Gaussian noise: glassnet.augment); a convolutional encoder gives each view a feature
vector h, a projection head maps h to z, and NT-Xent asks each view's z to pick out its partner among the
2N - 1 other views of the batch (glassnet.nn.functional.nt_xent_loss). Labels are used only to measure:

    linear probe   a softmax-regression classifier trained on the frozen features h of the training digits,
                   tested on the test digits (after every epoch on --eval-probe-images training digits; at the
                   end on all of them, for the trained encoder and for the same encoder freshly initialised)
    pictures       the t-SNE map of test features coloured by digit, the same for the untrained encoder, and
                   a few digits with their two views
"""
from dataclasses import dataclass

import numpy as np

from ..augment import ElasticTransform, GaussianNoise
from ..models.contrastive import SimCLR
from ..nn import functional as F
from ..transforms import Compose, RandomAffine
from . import Recipe, register
from .config import flag, positive
from .contrastive import (DIGITS, DigitsConfig, built_with_seed, embed, linear_probe, load_digits,
                          one_cycle_experiment, plot_path, shuffled_batches)


@dataclass
class SimCLRConfig(DigitsConfig):
    epochs: int = flag(4, "passes over the training set", positive)
    batch_size: int = flag(256, "images per step (2 views each: the other 2N - 2 views are the negatives)", positive)
    lr: float = flag(3e-3, "peak learning rate of the one-cycle schedule", positive)
    weight_decay: float = flag(1e-4, "AdamW weight decay")
    temperature: float = flag(0.5, "NT-Xent temperature", positive)
    width: int = flag(16, "channels of the first convolution stage (each later stage doubles them)", positive)
    stages: int = flag(3, "convolution stages (2x2 max pooling between them)", positive)
    proj_dim: int = flag(64, "size of the projection z on which the loss is taken", positive)
    probe_epochs: int = flag(30, "epochs of the linear probe", positive)
    eval_probe_images: int = flag(10000, "training digits of the linear probe after each epoch", positive)
    tsne_points: int = flag(2000, "test digits in the t-SNE pictures", positive)


def views():
    """The random view of a batch of digits in [0, 1]: affine, elastic, noise."""
    return Compose([RandomAffine(15, translate=(0.1, 0.1), scale=(0.7, 1.15), shear=10, interpolation="bilinear"),
                    ElasticTransform(alpha=30.0, sigma=4.0), GaussianNoise(sigma=0.1)])


def _model(config):
    widths = tuple(config.width * 2 ** i for i in range(config.stages))
    return SimCLR(1, widths, proj_hidden=2 * widths[-1], proj_dim=config.proj_dim)


def _features(model, images):
    return model.features(images)


class _SimCLRTask:
    def __init__(self, config):
        self.config, self.views = config, views()
        self.train_x, self.train_y = load_digits(config, True)
        self.test_x, self.test_y = load_digits(config, False)

    def loss(self, model, batch):
        x = batch[0]
        z1, z2 = model(self.views.apply_batch(x)), model(self.views.apply_batch(x))
        return F.nt_xent_loss(z1, z2, self.config.temperature)

    def probe(self, model, train_images):
        n = min(train_images, len(self.train_x))
        train = embed(_features, model, self.train_x[:n], desc="features (train)")
        test = embed(_features, model, self.test_x, desc="features (test)")
        return linear_probe(train, self.train_y[:n], test, self.test_y, self.config.probe_epochs, seed=self.config.seed)

    def evaluate(self, model):
        return {"probe_accuracy": self.probe(model, self.config.eval_probe_images)["test_accuracy"]}

    def untrained(self):
        return built_with_seed(lambda: _model(self.config), self.config.seed + 100)

    def test(self, model):
        learned = self.probe(model, len(self.train_x))
        random = self.probe(self.untrained(), len(self.train_x))
        return {"test_probe_accuracy": learned["test_accuracy"], "train_probe_accuracy": learned["train_accuracy"],
                "random_encoder_test_probe_accuracy": random["test_accuracy"],
                "probe_train_images": len(self.train_x), "test_images": len(self.test_x)}

    def pictures(self, model, run_dir):
        from ..viz.embeddings import plot_embeddings
        from ..viz.plots import plot_image_grid

        n = min(self.config.tsne_points, len(self.test_x))
        paths = [plot_path(run_dir, name) for name in ("tsne_features.png", "tsne_random_encoder.png", "views.png")]
        for path, net, who in ((paths[0], model, "SimCLR encoder"), (paths[1], self.untrained(), "untrained encoder")):
            features = embed(_features, net, self.test_x[:n], desc="t-SNE features")
            plot_embeddings(features, self.test_y[:n], path, method="tsne", class_names=DIGITS,
                            title=f"t-SNE of {who} features h of {n} test digits (colour: the label, never seen)")
        x = self.test_x[:8]
        grid = np.concatenate([x.array[:, 0], self.views.apply_batch(x).array[:, 0],
                               self.views.apply_batch(x).array[:, 0]])
        plot_image_grid(grid, ["digit"] * 8 + ["view 1"] * 8 + ["view 2"] * 8, paths[2],
                        title="test digits and two random views of each")
        return {"plots": paths}


def build(config):
    task = _SimCLRTask(config)
    return one_cycle_experiment(config, _model(config), shuffled_batches(config, task.train_x), loss=task.loss,
                                evaluate=task.evaluate, test=task.test, monitor="probe_accuracy", mode="max",
                                report=task.pictures if config.pictures else None, items=lambda b: 2 * len(b[0]))


register(Recipe("simclr-mnist", "SimCLR on MNIST (two augmented views, NT-Xent): linear probe on frozen features "
                ">= 97% test accuracy", SimCLRConfig, build))

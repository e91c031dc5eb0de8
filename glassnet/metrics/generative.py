"""How good are generated digits? Two numbers computed in the eyes of a fixed MNIST classifier.

Pictures cannot be compared by pixels (a digit shifted by one pixel is as good as the original), so
both measures look at generated images through a classifier trained once on MNIST and shipped with
glassnet (`MNISTFeatureNet`, trained by the recipe `mnist-feature-net`, 99.43% test accuracy, its
weights in mnist_feature_net.safetensors, about 0.9 MB, verified against the SHA-256 below on load).

Fréchet distance (the idea of Heusel et al. 2017's FID, with this classifier in place of Inception):
the classifier's last hidden layer (128 ReLU features) of the generated images and of the 60,000
training images are each summarised by a Gaussian, mean mu and covariance C, and

    d^2 = |mu_1 - mu_2|^2 + tr(C_1 + C_2 - 2 (C_1 C_2)^(1/2))

the squared Wasserstein-2 distance between the two Gaussians. It sees both quality (features in the
wrong place move the mean) and variety (too little spread shrinks C). 0 for identical statistics.
It falls with the number of samples (noisier estimates of C are farther apart): compare figures
computed from the same number of images (10,000 here).

Classifier score (the idea of Salimans et al. 2016's Inception score): with p(y|x) the classifier's
class probabilities of image x and p(y) their mean over all images,

    score = exp( mean_x KL(p(y|x) || p(y)) ),   between 1 and the number of classes (10)

high when each image is confidently one digit (sharp p(y|x)) and all digits occur equally (flat
p(y)). It ignores everything within a class (a model drawing the same "3" a thousand times, the same
"7" a thousand times ... scores 10) and does not compare with real data at all.

On the real MNIST test set (10,000 digits) against the training statistics, the floor: Fréchet
distance 2.30, classifier score 9.77; on 10,000 images of uniform noise, the ceiling: 6623 and 1.00
(tests/test_generative_metrics.py::test_floor_and_ceiling_on_real_data). 10,000 training digits
give 1.48, 1,000 test digits 24.7: the distance depends on the number of images.

    from glassnet.metrics import mnist_scores
    mnist_scores(images)          # images (N, 28, 28) or (N, 1, 28, 28) in [0, 1]
    -> {"frechet_distance": ..., "classifier_score": ...}
"""
import functools
import hashlib
import os

import numpy as np

from .. import nn
from ..nn.utils import evaluating
from ..serialization import load, save
from ..tensor import Tensor

__all__ = ["frechet_distance", "gaussian_statistics", "classifier_score", "MNISTFeatureNet", "feature_net",
           "mnist_features", "mnist_scores", "export_feature_net", "FEATURE_NET_FILE"]

FEATURE_NET_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist_feature_net.safetensors")
FEATURE_NET_SHA256 = "3c76a41d31677aaf34ea2e2a4476b950d10a5eedeefe98530ba0d7a4fd8c08d8"  # of the shipped file
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081  # the normalisation of the MNIST recipes (glassnet.recipes.mnist)


# ---- the two measures, on any features and probabilities ---------------------------------------------
def gaussian_statistics(features):
    """(mean (D,), covariance (D, D)) of features (N, D), in float64; the covariance with N - 1."""
    f = np.asarray(getattr(features, "array", features), dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"gaussian_statistics: expected features (N, D) with N >= 2, got shape {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False)


def _sqrt_psd(matrix):
    """The symmetric square root of a symmetric positive semi-definite matrix, by eigendecomposition:
    M = V diag(l) V^T  ->  M^(1/2) = V diag(sqrt(l)) V^T (rounding's tiny negative l set to 0)."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1, cov1, mu2, cov2):
    """The Fréchet (Wasserstein-2) distance, squared, between N(mu1, cov1) and N(mu2, cov2):

        |mu1 - mu2|^2 + tr(cov1) + tr(cov2) - 2 tr((cov1 cov2)^(1/2))

    The last trace without a general matrix square root: cov1 cov2 is similar to the symmetric
    S = cov1^(1/2) cov2 cov1^(1/2) (conjugate by cov1^(1/2)), so both have the same eigenvalues, all
    >= 0, and tr((cov1 cov2)^(1/2)) = sum_i sqrt(eig_i(S)). Two symmetric eigendecompositions."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
    d = mu1.shape[0] if mu1.ndim == 1 else -1
    for name, shape in (("mu1", mu1.shape), ("mu2", mu2.shape), ("cov1", cov1.shape), ("cov2", cov2.shape)):
        if shape != ((d,) if name.startswith("mu") else (d, d)):
            raise ValueError(f"frechet_distance: expected means (D,) and covariances (D, D) of one D, got mu1 "
                             f"{mu1.shape}, cov1 {cov1.shape}, mu2 {mu2.shape}, cov2 {cov2.shape}")
    root1 = _sqrt_psd(cov1)
    cross = np.linalg.eigvalsh(root1 @ cov2 @ root1)
    trace_root = np.sqrt(np.clip(cross, 0, None)).sum()
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * trace_root)


def classifier_score(probs):
    """exp(mean_x KL(p(y|x) || p(y))) for class probabilities probs (N, C) (rows sum to 1): 1 when every
    row is the same, C when every row is one-hot and the classes are equally frequent."""
    p = np.asarray(getattr(probs, "array", probs), dtype=np.float64)
    if p.ndim != 2 or not len(p) or p.min() < 0 or not np.allclose(p.sum(1), 1, atol=1e-4):
        raise ValueError(f"classifier_score: expected probabilities (N, C), rows >= 0 summing to 1, got shape "
                         f"{p.shape}" + (f", row sums in [{p.sum(1).min():.4g}, {p.sum(1).max():.4g}], "
                                         f"min {p.min():.4g}" if p.ndim == 2 and len(p) else ""))
    marginal = p.mean(0)  # p(y)
    ratio = np.divide(p, marginal, out=np.ones_like(p), where=p > 0)  # 0 log 0 = 0
    kl = (p * np.log(ratio)).sum(1)  # KL(p(y|x) || p(y)) per image
    return float(np.exp(kl.mean()))


# ---- the fixed classifier -------------------------------------------------------------------------------
class MNISTFeatureNet(nn.Module):
    """The classifier whose eyes the measures use: two conv-BN-ReLU-maxpool stages (28 -> 14 -> 7),
    a hidden layer of `hidden` ReLU units (the features), dropout, 10 logits. Takes normalised images
    ((x - PIXEL_MEAN) / PIXEL_STD, as the MNIST recipes feed them)."""

    def __init__(self, channels=16, hidden=128, dropout=0.2):
        super().__init__()
        c = channels
        self.body = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * c * 7 * 7, hidden), nn.ReLU())
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, 10)

    def features(self, x):
        return self.body(x)  # (N, hidden)

    def forward(self, x):
        return self.head(self.dropout(self.body(x)))  # (N, 10)


def _file_sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _net_from(weights):
    """An MNISTFeatureNet of the size of `weights` (its state dict), holding them."""
    net = MNISTFeatureNet(channels=weights["body.0.weight"].shape[0], hidden=weights["body.9.weight"].shape[0])
    net.load_state_dict(weights)
    return net


@functools.lru_cache(maxsize=None)
def _shipped():
    """(network in eval mode, {"train_mean", "train_cov"}) from the shipped file, checked twice: its
    SHA-256 against the one pinned here, and (glassnet.load) its content against the one stored in it."""
    found = _file_sha256(FEATURE_NET_FILE) if os.path.isfile(FEATURE_NET_FILE) else None
    if found is None or found != FEATURE_NET_SHA256:
        raise RuntimeError(f"mnist feature net: {FEATURE_NET_FILE} " + (
            "is missing" if found is None else f"has SHA-256 {found}, expected {FEATURE_NET_SHA256}") +
            ": reinstall glassnet, or rebuild it with export_feature_net (glassnet.metrics.generative)")
    state = {k: v.array for k, v in load(FEATURE_NET_FILE).items()}
    weights = {k[len("net."):]: v for k, v in state.items() if k.startswith("net.")}
    return _net_from(weights).eval(), {"train_mean": state["train_mean"], "train_cov": state["train_cov"]}


def feature_net():
    """The shipped MNISTFeatureNet, in eval mode (loaded and verified once)."""
    return _shipped()[0]


def _as_images(images, fn):
    """images (N, 28, 28) or (N, 1, 28, 28) with values in [0, 1] -> float32 (N, 1, 28, 28)."""
    x = np.asarray(getattr(images, "array", images), dtype=np.float32)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1:] != (1, 28, 28) or not len(x):
        raise ValueError(f"{fn}: expected MNIST-sized images (N, 28, 28) or (N, 1, 28, 28), got shape "
                         f"{np.shape(getattr(images, 'array', images))}")
    if not np.isfinite(x).all() or x.min() < -1e-4 or x.max() > 1 + 1e-4:
        raise ValueError(f"{fn}: expected pixel values in [0, 1] (MNIST / 255), got values in "
                         f"[{np.nanmin(x):.4g}, {np.nanmax(x):.4g}]" + ("" if np.isfinite(x).all() else " and NaN/inf"))
    return x


def mnist_features(images, batch_size=1000):
    """(features (N, 128) float64, class probabilities (N, 10) float64) of images in [0, 1] by the
    shipped classifier."""
    x = (_as_images(images, "mnist_features") - PIXEL_MEAN) / PIXEL_STD
    net = feature_net()
    features, probs = [], []
    with evaluating(net):
        for i in range(0, len(x), batch_size):
            f = net.features(Tensor._make(x[i:i + batch_size]))
            features.append(f.array.astype(np.float64))
            probs.append(nn.functional.softmax(net.head(f), 1).array.astype(np.float64))
    return np.concatenate(features), np.concatenate(probs)


def mnist_scores(images, batch_size=1000):
    """{"frechet_distance": to the MNIST training set's features, "classifier_score": ...} of images
    (N, 28, 28) or (N, 1, 28, 28) in [0, 1]. Use N = 10,000 to compare with the figures above."""
    features, probs = mnist_features(images, batch_size)
    reference = _shipped()[1]
    mu, cov = gaussian_statistics(features)
    return {"frechet_distance": frechet_distance(mu, cov, reference["train_mean"], reference["train_cov"]),
            "classifier_score": classifier_score(probs)}


# ---- building the shipped file (once, by the maintainers) ---------------------------------------------
def export_feature_net(checkpoint, out=FEATURE_NET_FILE, train_images=None):
    """Write the shipped file from a run of `glassnet train mnist-feature-net` (a checkpoint path or a
    run folder): the network's weights ("net.*", float32) and the mean and covariance of its features
    on the 60,000 training digits (float64). Returns the file's SHA-256, to pin as FEATURE_NET_SHA256.

    train_images: uint8 (60000, 28, 28); by default MNIST's training set, found as the recipes find it."""
    from ..train.checkpoint import checkpoint_file, load_checkpoint

    weights = load_checkpoint(checkpoint_file(checkpoint, prefer=("last",)))["model"]
    net = _net_from(weights)
    if train_images is None:
        from ..datasets import MNIST

        train_images = MNIST(train=True).data.array
    x = (np.asarray(train_images, np.float32)[:, None] / 255 - PIXEL_MEAN) / PIXEL_STD
    with evaluating(net):
        features = np.concatenate([net.features(Tensor._make(x[i:i + 1000])).array for i in range(0, len(x), 1000)])
    mean, cov = gaussian_statistics(features)
    save({**{f"net.{k}": v.array.astype(np.float32) if v.array.dtype.kind == "f" else v.array
             for k, v in net.state_dict().items()},
          "train_mean": mean, "train_cov": cov}, out)
    _shipped.cache_clear()
    return _file_sha256(out)

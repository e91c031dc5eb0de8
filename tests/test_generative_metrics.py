"""The measures of generated digits (glassnet.metrics.generative): the Fréchet distance and the classifier
score against hand-computed cases, the shipped classifier (verified on load, accurate on the embedded
sample), and the floor (real test digits) and ceiling (noise) on the real data."""
import hashlib
import os
import shutil

import numpy as np
import pytest

from glassnet.datasets import MNIST
from glassnet.metrics import generative as G
from glassnet.metrics import classifier_score, frechet_distance, gaussian_statistics, mnist_scores

from real_data import real_data_dir


# ---- the Fréchet distance --------------------------------------------------------------------------------
def test_frechet_distance_of_one_dimensional_gaussians():
    # W2^2 between N(m1, s1^2) and N(m2, s2^2) is (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9 + 1)
    assert frechet_distance([0.5], [[0.25]], [0.5], [[0.25]]) == pytest.approx(0, abs=1e-12)


def test_frechet_distance_of_gaussians_with_commuting_covariances():
    # the same eigenvectors Q: (C1 C2)^(1/2) = Q diag(sqrt(a b)) Q^T, so d^2 = |mu1 - mu2|^2 + sum (sqrt a - sqrt b)^2
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    a, b = np.array([1.0, 4.0, 9.0, 0.25, 2.0]), np.array([4.0, 1.0, 9.0, 1.0, 0.5])
    mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_of_general_gaussians_matches_scipy_sqrtm():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((6, 6)), rng.standard_normal((6, 9))
    cov1, cov2 = a @ a.T, b @ b.T  # do not commute; cov1 is rank 6, cov2 full rank
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    root = scipy_linalg.sqrtm(cov1 @ cov2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(cov1 + cov2 - 2 * root)
    assert frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(mu2, cov2, mu1, cov1) == pytest.approx(expected, rel=1e-8)  # symmetric


def test_frechet_distance_of_singular_covariances():
    # two point masses: the distance of their means, squared
    zero = np.zeros((3, 3))
    assert frechet_distance([0, 0, 0], zero, [1, 2, 2], zero) == pytest.approx(9)


def test_gaussian_statistics_of_features():
    f = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0]])
    mean, cov = gaussian_statistics(f)
    np.testing.assert_allclose(mean, [3, 4])
    np.testing.assert_allclose(cov, [[4, 2], [2, 4]])  # divided by N - 1


def test_bad_statistics_are_refused():
    with pytest.raises(ValueError, match=r"frechet_distance: expected means \(D,\) and covariances \(D, D\)"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match=r"gaussian_statistics: expected features \(N, D\) with N >= 2"):
        gaussian_statistics(np.zeros((1, 4)))


# ---- the classifier score ----------------------------------------------------------------------------------
def test_classifier_score_of_uniform_and_one_hot_outputs():
    assert classifier_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)  # every p(y|x) = p(y)
    one_hot = np.eye(10)[np.arange(100) % 10]
    assert classifier_score(one_hot) == pytest.approx(10.0)  # certain, every class as often
    assert classifier_score(np.eye(10)[np.zeros(30, int)]) == pytest.approx(1.0)  # certain, always the same class


def test_classifier_score_of_a_hand_computed_case():
    # p(y) = (0.75, 0.25); KL of row 1 = log(1 / 0.75); of row 2 = 0.5 log(0.5 / 0.75) + 0.5 log(0.5 / 0.25)
    probs = np.array([[1.0, 0.0], [0.5, 0.5]])
    kl = [np.log(1 / 0.75), 0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(2)]
    assert classifier_score(probs) == pytest.approx(np.exp(np.mean(kl)), rel=1e-12)


def test_classifier_score_refuses_what_are_not_probabilities():
    with pytest.raises(ValueError, match=r"classifier_score: expected probabilities \(N, C\), rows >= 0 summing to 1"):
        classifier_score(np.array([[0.5, 0.6]]))
    with pytest.raises(ValueError, match="classifier_score"):
        classifier_score(np.zeros(10))


# ---- the shipped classifier ---------------------------------------------------------------------------------
def test_the_shipped_file_is_small_and_pinned():
    assert os.path.getsize(G.FEATURE_NET_FILE) < 1_000_000
    with open(G.FEATURE_NET_FILE, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == G.FEATURE_NET_SHA256


def test_the_pixel_normalisation_is_the_mnist_recipes_one():
    from glassnet.recipes import mnist

    assert (G.PIXEL_MEAN, G.PIXEL_STD) == (mnist.MEAN, mnist.STD)


def test_the_classifier_reads_the_embedded_sample():
    test = MNIST(train=False, sample=True)
    _, probs = G.mnist_features(test.data.array / 255)
    assert (probs.argmax(1) == test.targets.array).mean() > 0.98


def test_a_changed_or_damaged_file_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "mnist_feature_net.safetensors"
    shutil.copy(G.FEATURE_NET_FILE, copy)
    data = bytearray(copy.read_bytes())
    data[-100] ^= 0xFF  # a flipped byte in the weights
    copy.write_bytes(bytes(data))
    monkeypatch.setattr(G, "FEATURE_NET_FILE", str(copy))
    G._shipped.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="mnist feature net: .* has SHA-256 .*, expected 3c76a4"):
            G.feature_net()
        monkeypatch.setattr(G, "FEATURE_NET_SHA256", hashlib.sha256(bytes(data)).hexdigest())  # pinned, yet damaged
        with pytest.raises(ValueError, match="content does not match the SHA-256 stored in it"):
            G.feature_net()
    finally:
        G._shipped.cache_clear()


def test_images_must_be_mnist_sized_and_in_the_unit_interval():
    with pytest.raises(ValueError, match=r"mnist_features: expected MNIST-sized images \(N, 28, 28\)"):
        mnist_scores(np.zeros((4, 32, 32)))
    with pytest.raises(ValueError, match=r"pixel values in \[0, 1\] \(MNIST / 255\), got values in \[0, 255\]"):
        mnist_scores(np.full((4, 28, 28), 255.0) * (np.arange(4) > 0)[:, None, None])


def test_the_sample_scores_better_than_noise():
    digits = MNIST(train=False, sample=True).data.array / 255  # 1,000 real digits
    real, noise = mnist_scores(digits), mnist_scores(np.random.default_rng(0).random((1000, 28, 28)))
    assert real["frechet_distance"] < 40 < 1000 < noise["frechet_distance"]
    assert real["classifier_score"] > 9 and noise["classifier_score"] < 1.5


def test_floor_and_ceiling_on_real_data():
    """The figures of the module's docstring: the real test set against the training statistics (the
    floor) and 10,000 images of uniform noise (the ceiling)."""
    root = real_data_dir("mnist")
    floor = mnist_scores(MNIST(root=root / "mnist", train=False, download=False).data.array / 255)
    ceiling = mnist_scores(np.random.default_rng(0).random((10000, 28, 28)))
    assert floor["frechet_distance"] == pytest.approx(2.30, abs=0.01)
    assert floor["classifier_score"] == pytest.approx(9.77, abs=0.01)
    assert ceiling["frechet_distance"] == pytest.approx(6623, abs=1)
    assert ceiling["classifier_score"] == pytest.approx(1.00, abs=0.01)

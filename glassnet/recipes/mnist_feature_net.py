"""mnist-feature-net: the fixed classifier through whose eyes glassnet.metrics.generative measures
generated digits (the Fréchet distance and the classifier score of the generative recipes).

    glassnet train mnist-feature-net --out runs/mnist-feature-net
    python -c "from glassnet.metrics.generative import export_feature_net as e; print(e('runs/mnist-feature-net'))"

An image classifier of the MNIST recipes' kind (glassnet.recipes.mnist.image_classifier): AdamW, a
one-cycle learning rate, random shifts and small rotations (so that its features do not hang on
exact pixel positions), the test set after every epoch. The export writes the weights and the
training set's feature statistics into the package; the SHA-256 it prints is pinned in
glassnet/metrics/generative.py.
"""
from dataclasses import dataclass

from ..metrics.generative import MNISTFeatureNet
from .config import flag, positive
from .mnist import MNISTConfig, image_classifier


@dataclass
class FeatureNetConfig(MNISTConfig):
    epochs: int = flag(5, "passes over the training set", positive)
    lr: float = flag(3e-3, "peak learning rate of the one-cycle schedule", positive)
    channels: int = flag(16, "channels of the first convolution (the second has twice as many)", positive)
    hidden: int = flag(128, "units of the hidden layer: the features of the Fréchet distance", positive)


image_classifier("mnist-feature-net", "the classifier of the generative metrics (16-32 channels, 128 features): "
                 ">= 99.3% test accuracy", FeatureNetConfig,
                 lambda c: MNISTFeatureNet(c.channels, c.hidden, c.dropout))

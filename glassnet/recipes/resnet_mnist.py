"""resnet-mnist: a CIFAR-style ResNet of He et al. (2015) on MNIST, >= 99.5% test accuracy.

    glassnet train resnet-mnist                 ResNet-8 (16-32-64 channels), 10 epochs
    glassnet train resnet-mnist --depth 20      the paper's ResNet-20 (about 3x the time)

An image classifier of the MNIST recipes' kind (glassnet.recipes.mnist.image_classifier): AdamW, a
one-cycle learning rate, random shifts and small rotations, the test set after every epoch, then the
confusion matrix, the misclassified digits and the first-layer filters.
"""
from dataclasses import dataclass

from .. import nn
from ..models import CifarResNet
from .config import flag, positive, probability
from .mnist import MNISTConfig, image_classifier


def depth_6n_plus_2(value):
    return None if value >= 8 and (value - 2) % 6 == 0 else "must be 6n + 2 for n >= 1 (8, 14, 20, 32, 44, 56, ...)"


@dataclass
class ResNetMNISTConfig(MNISTConfig):
    epochs: int = flag(10, "passes over the training set", positive)
    batch_size: int = flag(128, "images per optimizer step", positive)
    lr: float = flag(4e-3, "peak learning rate of the one-cycle schedule", positive)
    weight_decay: float = flag(5e-4, "AdamW weight decay")
    dropout: float = flag(0.0, "dropout before the final linear layer", probability)
    depth: int = flag(8, "weighted layers, 6n + 2: n BasicBlocks in each of the three stages", depth_6n_plus_2)
    width: int = flag(16, "channels of the first stage (the next two have 2x and 4x)", positive)


def resnet(config):
    """CifarResNet with n = (depth - 2) / 6 blocks a stage at 28, 14 and 7 pixels; dropout before fc."""
    w = config.width
    model = CifarResNet((config.depth - 2) // 6, num_classes=10, in_channels=1, widths=(w, 2 * w, 4 * w))
    if config.dropout:
        model.fc = nn.Sequential(nn.Dropout(config.dropout), model.fc)
    return model


image_classifier("resnet-mnist", "ResNet-8 (He et al.'s CIFAR design) on MNIST: >= 99.5% test accuracy",
                 ResNetMNISTConfig, resnet)

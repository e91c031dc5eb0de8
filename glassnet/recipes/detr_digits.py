"""detr-digits: DETR (glassnet.models.DETR: a CNN backbone, a Transformer encoder-decoder with 10 object
queries, Hungarian matching for the set loss) on the canvases of detect-digits, with the same mAP test.

    glassnet train detr-digits

DETR needs no anchors and no NMS, but it learns slowly: the matching must first settle which query
answers for which object. What it reaches in the budget of its defaults is stated in the README.
"""
from dataclasses import dataclass

from ..models import DETR
from . import Recipe, register
from .config import flag, positive, unit_interval
from .detect_digits import detection_experiment
from .unet_segment import CanvasConfig


@dataclass
class DETRConfig(CanvasConfig):
    epochs: int = flag(12, "passes over the training canvases", positive)
    batch_size: int = flag(32, "canvases per optimizer step", positive)
    lr: float = flag(1e-3, "peak learning rate of the one-cycle schedule", positive)
    weight_decay: float = flag(1e-4, "AdamW weight decay")
    clip_grad_norm: float = flag(0.1, "clip the gradient norm to this value (0: off), as DETR does")
    width: int = flag(16, "channels of the first backbone stage (the next two have 2x and 4x)", positive)
    d_model: int = flag(64, "Transformer width", positive)
    layers: int = flag(2, "Transformer encoder layers, and as many decoder layers", positive)
    queries: int = flag(10, "object queries: the most objects one canvas can hold", positive)
    score_threshold: float = flag(0.05, "lowest score of a detection kept for the mAP", unit_interval)


def detr_loss(model, batch):
    images, target = batch
    return model.loss(model(images), target["boxes"], target["labels"], images.shape[2:])


def build(config):
    w = config.width
    model = DETR(10, 1, (w, 2 * w, 4 * w), config.d_model, 4, config.layers, config.layers, 4 * config.d_model,
                 config.queries)

    def detect(model, images):
        return model.detect(images, config.score_threshold)

    return detection_experiment(config, model, detr_loss, detect)


register(Recipe("detr-digits", "DETR (Transformer set prediction, Hungarian matching) detecting MNIST digits on "
                "canvases", DETRConfig, build))

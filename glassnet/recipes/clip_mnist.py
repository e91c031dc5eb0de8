"""clip-mnist: a CLIP-style model of digits and their captions (Radford et al. 2021).

    glassnet train clip-mnist        zero-shot classification with held-out prompts: >= 95% test accuracy

A ViT encodes each digit, a small causal text Transformer encodes its caption ("a thin 7", "a handwritten
seven", "the digit 7", ...: glassnet.recipes.digit_captions), and the symmetric InfoNCE loss with a learned
temperature pulls each image and its caption together against the other pairs of the batch
(glassnet.models.CLIP). The model never sees a class label, only captions.

    zero-shot accuracy   each test digit gets the class whose prompts are closest: the prompts come from the
                         held-out templates ("a picture of a seven", "this is the digit seven", "7",
                         "a drawing of the number 7"), never used in training; their embeddings are averaged
                         per class (prompt ensembling). After every epoch, and at the end beside the same with
                         the training templates.
    recall@1             --retrieval-pairs test digits, each with a caption from a held-out template: image to
                         text, the caption most similar to an image must fit it; text to image, the image most
                         similar to a caption must fit it ("fit": the same digit, and every style word the
                         caption states true of the image, as several captions and images are alike).
    pictures             the similarity matrix of a batch of test images and their captions, and the zero-shot
                         confusion matrix.
"""
from dataclasses import dataclass

import numpy as np

from ..models.clip import CLIP, eot_positions
from ..nn import functional as F
from ..random import Generator, rng
from ..tensor import Tensor
from ..train.metrics import confusion_matrix
from ..transforms import RandomAffine
from . import Recipe, register
from .config import flag, positive, probability
from .contrastive import DigitsConfig, embed, load_digits, one_cycle_experiment, plot_path, shuffled_batches
from .digit_captions import EOT, HELD_OUT_TEMPLATES, TRAIN_TEMPLATES, Captions, DigitStyle


@dataclass
class CLIPConfig(DigitsConfig):
    epochs: int = flag(8, "passes over the training set", positive)
    batch_size: int = flag(256, "image-caption pairs per step (each pair's negatives: the other pairs)", positive)
    lr: float = flag(2e-3, "peak learning rate of the one-cycle schedule", positive)
    weight_decay: float = flag(0.05, "AdamW weight decay (matrices only)")
    embed_dim: int = flag(64, "size of the shared embedding space", positive)
    patch_size: int = flag(7, "patch side of the ViT in pixels (28 must be a multiple)", positive)
    vision_width: int = flag(64, "ViT width", positive)
    vision_layers: int = flag(4, "ViT encoder layers", positive)
    text_width: int = flag(64, "text Transformer width", positive)
    text_layers: int = flag(2, "text Transformer layers", positive)
    heads: int = flag(4, "attention heads of both encoders", positive)
    word_dropout: float = flag(0.1, "probability that a non-digit word of a training caption becomes <unk>",
                               probability)
    augment: bool = flag(True, "random shifts of the training digits (no rotation or shear: they would change "
                               "the slant that captions describe)")
    retrieval_pairs: int = flag(1000, "test image-caption pairs of the retrieval test", positive)


def _plain(templates):
    """The templates that name only the digit (the zero-shot prompts)."""
    return tuple(t for t in templates if "{thickness}" not in t and "{slant}" not in t)


class _CLIPTask:
    def __init__(self, config):
        self.config, self.captions = config, Captions(config.word_dropout)
        self.train_x, self.train_y = load_digits(config, True)
        self.test_x, self.test_y = load_digits(config, False)
        self.style = DigitStyle(self.train_x.array, self.train_y)
        self.train_style = self.style.describe(self.train_x.array, self.train_y)
        self.test_style = self.style.describe(self.test_x.array, self.test_y)
        self.augment = RandomAffine(0, translate=(0.1, 0.1)).apply_batch if config.augment else None
        self.last_predictions = None

    def batches(self):
        columns = [Tensor._make(a) for a in (self.train_y, *self.train_style)]
        return shuffled_batches(self.config, self.train_x, *columns)

    def loss(self, model, batch):
        x, y, thickness, slant = batch
        ids, _, _ = self.captions.sample(TRAIN_TEMPLATES, y.array, thickness.array, slant.array, rng(), dropout=True)
        loss = model.loss(self.augment(x) if self.augment is not None else x, Tensor._make(ids),
                          eot_positions(ids, EOT))
        return loss, {"logit_scale": float(np.exp(model.logit_scale.item()))}

    def _texts(self, model, ids):
        return embed(lambda m, t: F.normalize(m.encode_text(t, eot_positions(t, EOT)), dim=1), model,
                     Tensor._make(ids), desc="captions")

    def _images(self, model, images):
        return embed(lambda m, x: F.normalize(m.encode_image(x), dim=1), model, images, desc="images")

    def class_embeddings(self, model, templates):
        """(10, E): per class, the mean of its prompts' unit embeddings, renormalised."""
        words = [self.captions.words(t, d) for d in range(10) for t in templates]
        e = self._texts(model, self.captions.encode(words)).reshape(10, len(templates), -1).mean(1)
        return e / np.linalg.norm(e, axis=1, keepdims=True)

    def zero_shot(self, model, templates):
        predictions = (self._images(model, self.test_x) @ self.class_embeddings(model, templates).T).argmax(1)
        self.last_predictions = predictions
        return float((predictions == self.test_y).mean())

    def evaluate(self, model):
        return {"zero_shot_accuracy": self.zero_shot(model, _plain(HELD_OUT_TEMPLATES))}

    def retrieval_pairs(self):
        """The first --retrieval-pairs test digits, each with a held-out caption (a fixed draw)."""
        n = min(self.config.retrieval_pairs, len(self.test_x))
        thickness, slant = (s[:n] for s in self.test_style)
        ids, texts, stated = self.captions.sample(HELD_OUT_TEMPLATES, self.test_y[:n], thickness, slant,
                                                  Generator(self.config.seed + 5).np)
        return n, ids, texts, stated

    def recall(self, model):
        n, ids, _, stated = self.retrieval_pairs()
        similarity = self._images(model, self.test_x[:n]) @ self._texts(model, ids).T  # (images, captions)
        style = np.stack([s[:n] for s in self.test_style], 1)  # (n, 2)
        digits = self.test_y[:n]

        def fits(caption, image):  # index arrays of equal shape -> whether each caption describes its image
            ok = digits[caption] == digits[image]
            for k in range(2):
                said = stated[caption, k]
                ok &= (said < 0) | (said == style[image, k])
            return ok

        best_text, best_image = similarity.argmax(1), similarity.argmax(0)
        return {"image_to_text_recall_at_1": float(fits(best_text, np.arange(n)).mean()),
                "text_to_image_recall_at_1": float(fits(np.arange(n), best_image).mean()),
                "retrieval_pairs": n}

    def test(self, model):
        seen = self.zero_shot(model, _plain(TRAIN_TEMPLATES))
        held_out = self.zero_shot(model, _plain(HELD_OUT_TEMPLATES))  # last: its predictions are kept
        return {"zero_shot_accuracy": held_out, "zero_shot_accuracy_training_prompts": seen, **self.recall(model),
                "temperature": float(model.temperature().item()), "test_images": len(self.test_x)}

    def pictures(self, model, run_dir):
        from ..viz.contrastive import plot_similarity_matrix
        from ..viz.plots import plot_confusion_matrix

        paths = [plot_path(run_dir, "similarity_matrix.png"), plot_path(run_dir, "zero_shot_confusion.png")]
        _, ids, texts, _ = self.retrieval_pairs()
        k = 12
        similarity = self._images(model, self.test_x[:k]) @ self._texts(model, ids[:k]).T
        plot_similarity_matrix(similarity, self.test_x.array[:k, 0], texts[:k], paths[0],
                               title="cosine similarity of test digits (rows) and held-out captions (columns)")
        if self.last_predictions is None:
            self.zero_shot(model, _plain(HELD_OUT_TEMPLATES))
        plot_confusion_matrix(confusion_matrix(self.last_predictions, self.test_y, 10), paths[1])
        return {"plots": paths}


def build(config):
    task = _CLIPTask(config)
    model = CLIP(28, config.patch_size, 1, task.captions.vocab_size, task.captions.context, config.embed_dim,
                 config.vision_width, config.vision_layers, config.heads, config.text_width, config.text_layers,
                 config.heads)
    return one_cycle_experiment(config, model, task.batches(), loss=task.loss, evaluate=task.evaluate,
                                test=task.test, monitor="zero_shot_accuracy", mode="max",
                                report=task.pictures if config.pictures else None)


register(Recipe("clip-mnist", "CLIP-style ViT + text Transformer on MNIST digits and template captions: zero-shot "
                ">= 95% test accuracy with held-out prompts", CLIPConfig, build))

"""The CLIP-style model of digits and captions: the captions and their vocabulary, the style measurements, the
model (every parameter learns, the temperature is clamped as CLIP's), and the clip-mnist recipe trained for
seconds on the embedded MNIST sample, whose zero-shot accuracy must beat chance clearly."""
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet.models.clip import CLIP, eot_positions
from glassnet.recipes import get
from glassnet.recipes.clip_mnist import CLIPConfig
from glassnet.recipes.digit_captions import EOT, HELD_OUT_TEMPLATES, PAD, TRAIN_TEMPLATES, UNK, Captions, DigitStyle


def test_captions_vocabulary_and_tokens():
    c = Captions(word_dropout=0.0)
    assert "picture" not in c.vocab and "drawing" not in c.vocab and "this" not in c.vocab  # held-out words
    assert {"seven", "7", "thin", "bold", "left-leaning"} <= set(c.vocab)
    assert c.words("a handwritten {word}", 8) == ["a", "handwritten", "eight"]
    assert c.words("a picture of a {word}", 8) == ["a", "picture", "of", "an", "eight"]
    ids = c.encode([["a", "picture", "of", "a", "seven"], ["7"]])
    assert ids.shape == (2, c.context)
    assert ids[0, 1] == UNK and ids[0, 5] == EOT and ids[0, 6:].tolist() == [PAD] * (c.context - 6)
    assert eot_positions(ids, EOT).tolist() == [5, 1]


def test_training_captions_use_only_what_an_image_has():
    c = Captions(word_dropout=0.5)
    digits, thickness, slant = np.array([3, 3, 7]), np.array([-1, 0, 1]), np.array([-1, -1, 0])
    assert all("{" not in t or "{word}" in t or "{numeral}" in t for t in c.usable(TRAIN_TEMPLATES, -1, -1))
    ids, texts, stated = c.sample(TRAIN_TEMPLATES, digits, thickness, slant, np.random.default_rng(0), dropout=True)
    assert "thin" not in texts[0] and "bold" not in texts[0] and "leaning" not in texts[0]
    assert stated[0].tolist() == [-1, -1] and stated[1, 1] == -1
    digit_ids = {c.ids[w] for w in c.digit_words}
    for row, d in zip(ids, digits):  # word dropout never hides the digit
        assert digit_ids & set(row.tolist())
    assert UNK in ids  # p = 0.5: some word was dropped


def test_digit_style_splits_each_digit_in_thirds():
    rng = np.random.default_rng(0)
    images = (rng.random((300, 1, 28, 28)) < rng.uniform(0.05, 0.4, (300, 1, 1, 1))).astype(np.float32)
    labels = rng.integers(0, 10, 300)
    thickness, slant = DigitStyle(images, labels).describe(images, labels)
    for values in (thickness, slant):
        shares = [(values == v).mean() for v in (0, -1, 1)]
        assert all(0.25 < s < 0.42 for s in shares), shares
    ink, _ = DigitStyle.measure(images)
    assert (ink[thickness == 1].mean() > ink[thickness == 0].mean())
    leaning = np.zeros((1, 1, 28, 28), np.float32)
    for r in range(4, 24):  # a stroke drifting right as it goes down: "\" leans left
        leaning[0, 0, r, 4 + r // 2] = 1
    assert DigitStyle.measure(leaning)[1][0] < 0


def _tiny_clip():
    gn.manual_seed(0)
    return CLIP(28, 7, 1, vocab_size=20, context=6, embed_dim=8, vision_width=16, vision_layers=1, vision_heads=2,
                text_width=16, text_layers=1, text_heads=2)


def test_every_parameter_learns_and_the_temperature_is_clamped():
    model = _tiny_clip()
    images = gn.tensor(np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32))
    tokens = np.array([[3, 4, 2, 0, 0, 0], [5, 2, 0, 0, 0, 0], [6, 7, 8, 2, 0, 0], [9, 2, 0, 0, 0, 0]])
    loss = model.loss(images, gn.tensor(tokens), eot_positions(tokens, 2))
    loss.backward()
    for name, p in model.named_parameters():
        if name != "text.transformer.transformer.wpe.weight":  # positions after the last <eot> get no gradient
            assert p.grad is not None and np.abs(p.grad.array).sum() > 0, name
    assert model.temperature().item() == pytest.approx(0.07, rel=1e-5)
    model.logit_scale.array[...] = 6.0  # beyond log 100
    model.zero_grad()
    model.loss(images, gn.tensor(tokens), eot_positions(tokens, 2)).backward()
    assert model.temperature().item() == pytest.approx(0.01, rel=1e-5) and model.logit_scale.grad.item() == 0
    similarity = model.similarity(images, gn.tensor(tokens), eot_positions(tokens, 2))
    assert similarity.shape == (4, 4) and np.abs(similarity).max() <= 1 + 1e-5
    with pytest.raises(ValueError, match="no end-of-text"):
        eot_positions(np.zeros((2, 3), np.int64), 2)


def test_clip_mnist_learns_zero_shot(tmp_path):
    config = CLIPConfig(sample=True, limit=2560, test_limit=500, epochs=3, batch_size=32, vision_width=32,
                        vision_layers=1, text_width=32, text_layers=1, retrieval_pairs=200)
    summary = get("clip-mnist").run(config, tmp_path / "run")
    # chance is 0.1 (an untrained model's), and so is a model that ignores the digit words (this run: 0.28)
    assert summary["zero_shot_accuracy"] >= 0.2, summary
    assert 0 < summary["image_to_text_recall_at_1"] <= 1 and 0 < summary["text_to_image_recall_at_1"] <= 1
    assert 0.01 <= summary["temperature"] <= 1
    names = sorted(p.rsplit("/", 1)[1] for p in summary["plots"])
    assert names == ["curves.png", "similarity_matrix.png", "zero_shot_confusion.png"]
    assert len(HELD_OUT_TEMPLATES) >= 4 and not set(HELD_OUT_TEMPLATES) & set(TRAIN_TEMPLATES)
    assert math.isfinite(summary["train_loss"])

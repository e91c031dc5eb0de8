"""Transformer recipes: a character GPT on tiny Shakespeare, GPTs on toy tasks (sorting, addition), an
encoder-decoder Transformer writing numbers in words, and a Vision Transformer on MNIST.

    glassnet train gpt-shakespeare        val loss <= 1.90 (nanoGPT's small CPU settings)
    glassnet train sort-toy               >= 99% exact match on held-out sequences
    glassnet train add-toy                >= 99% exact match on held-out sums
    glassnet train translate-toy          >= 99% exact match on held-out numbers, greedy decoding
    glassnet train vit-mnist              >= 98.5% MNIST test accuracy

The sequence recipes train with AdamW (weight decay on matrices only), warmup + cosine learning rate,
optional gradient clipping and an evaluation every N steps; vit-mnist is an image classifier of the
MNIST recipes' kind (glassnet.recipes.mnist.image_classifier).

Measured with the defaults on a shared 2-core machine, OMP_NUM_THREADS=1 (these models are small:
a second BLAS thread costs more than it brings there):
    gpt-shakespeare  val loss 1.8965 (200 batches), 218 s   (seeds 1 / 2: 1.882 / 1.887)
    sort-toy         100.00% of 2000 held-out sequences, 73 s
    add-toy          100.00% of 2000 held-out sums, 87 s
    translate-toy    100.00% of 2000 held-out numbers, 50 s
    vit-mnist        99.06% test accuracy, 10 epochs, about 20 min
"""
import os
from dataclasses import dataclass

import numpy as np

from ..models import GPT, Seq2SeqTransformer, ViT
from ..nn.utils import evaluating
from ..random import Generator
from ..tasks import BOS, EOS, AdditionTask, NumberWordsTask, SortTask
from ..tensor import Tensor
from ..text import CharTokenizer
from ..train import DrawnBatches
from ..train.evaluation import lm_loss, mean_loss, seq2seq_loss
from ..utils.data.language import random_windows
from . import Recipe, register
from .common import HeldOut, adamw, in_chunks, steps_experiment, text_sample
from .config import AdamWConfig, ProblemsConfig, data_dir_flag, flag, positive, probability
from .mnist import MNISTConfig, image_classifier
from .sequence import shakespeare_chars


# =================================================================================================
# gpt-shakespeare
# =================================================================================================
@dataclass
class GPTConfig(AdamWConfig):
    """The shape of a GPT (glassnet.models.GPT)."""
    n_layer: int = flag(2, "Transformer blocks", positive)
    n_head: int = flag(4, "attention heads", positive)
    n_embd: int = flag(64, "model width", positive)
    dropout: float = flag(0.0, "dropout probability", probability)


@dataclass
class ShakespeareConfig(GPTConfig):
    iters: int = flag(2000, "optimizer steps", positive)
    batch_size: int = flag(12, "sequences per step", positive)
    block_size: int = flag(64, "context length in characters", positive)
    n_layer: int = flag(4, "Transformer blocks", positive)
    n_embd: int = flag(128, "model width", positive)
    bias: bool = flag(False, "biases in the Linear and LayerNorm layers (nanoGPT's setting here: none)")
    weight_decay: float = flag(0.1, "AdamW weight decay (matrices only)")
    clip_grad_norm: float = flag(0.0, "clip the gradient norm to this value (0: off; 1.0 costs ~0.015 val loss here)")
    eval_every: int = flag(500, "steps between evaluations", positive)
    eval_iters: int = flag(20, "batches of the validation split at the intermediate evaluations", positive)
    final_eval_iters: int = flag(200, "batches per split at the final evaluation", positive)
    sample_chars: int = flag(500, "characters of generated text written to samples.txt at the end")
    seed: int = flag(1337, "seed of initialisation and batch sampling")
    data_dir: str = data_dir_flag("tinyshakespeare/input.txt")


def _shakespeare_model(config, vocab_size):
    return GPT(vocab_size, config.block_size, config.n_layer, config.n_head, config.n_embd, config.dropout,
               config.bias)


def _window_loss(model, data, config, iters, seed, desc):
    """Mean loss over `iters` random windows of data, the same windows for the same seed."""
    g = Generator(seed)
    return mean_loss(model, lambda: random_windows(data, config.block_size, config.batch_size, g), iters, desc=desc)


def build_shakespeare(config):
    tok, train_ids, val_ids = shakespeare_chars(config.data_dir)
    model = _shakespeare_model(config, tok.vocab_size)

    def evaluate(m):
        return {"val_loss": _window_loss(m, val_ids, config, config.eval_iters, config.seed + 1, "validation")}

    def test(m):
        n = config.final_eval_iters
        return {"val_loss": _window_loss(m, val_ids, config, n, config.seed + 2, "validation"),
                "final_train_loss": _window_loss(m, train_ids, config, n, config.seed + 3, "training split"),
                "eval_batches": n}

    def report(m, run_dir):
        return text_sample(m, tok, run_dir, config.sample_chars, 1.0, config.seed)

    return steps_experiment(config, model, adamw(model, config),
                            DrawnBatches(lambda: random_windows(train_ids, config.block_size, config.batch_size)),
                            loss=lm_loss, evaluate=evaluate, test=test, report=report, monitor="val_loss",
                            items=lambda b: b[0].numel(), unit="char", extra={"vocab": tok.chars})


def _shakespeare_sampler(config, extra):
    return _shakespeare_model(config, len(extra["vocab"])), CharTokenizer.from_vocab(extra["vocab"])


register(Recipe("gpt-shakespeare", "character GPT (4x128) on tiny Shakespeare: val loss <= 1.90", ShakespeareConfig,
                build_shakespeare, _shakespeare_sampler))


# =================================================================================================
# GPT on toy tasks: sort-toy, add-toy
# =================================================================================================
@dataclass
class ToyGPTConfig(GPTConfig, ProblemsConfig):
    batch_size: int = flag(128, "problems per step", positive)
    lr: float = flag(3e-3, "peak learning rate", positive)


@dataclass
class SortConfig(ToyGPTConfig):
    length: int = flag(8, "numbers per sequence", positive)
    base: int = flag(10, "the numbers are 0 ... base-1", positive)


@dataclass
class AddConfig(ToyGPTConfig):
    iters: int = flag(2000, "optimizer steps", positive)
    digits: int = flag(3, "digits of each summand", positive)
    reverse_answer: bool = flag(True, "write the sum least significant digit first")


def gpt_answers(model, task, problems, batch_size=1000):
    """Greedy (temperature 0) answers of a GPT to problems: (N, answer_len + 1) token ids."""
    out = []
    with evaluating(model):
        for chunk in in_chunks(problems, batch_size, "answering"):
            prompt = task.lm_prompt(chunk)
            out.append(model.generate(prompt, task.answer_len + 1, temperature=0.0).array[:, prompt.shape[1]:])
    return np.concatenate(out)


def _toy_gpt(make_task):
    def build(config):
        task = make_task(config)
        model = GPT(task.vocab_size, task.lm_block_size, config.n_layer, config.n_head, config.n_embd, config.dropout)
        held_out = HeldOut(task, config, lambda m, p: gpt_answers(m, task, p), lm_loss, task.lm_batch)
        return steps_experiment(config, model, adamw(model, config),
                                DrawnBatches(lambda: task.lm_batch(task.sample(config.batch_size))),
                                loss=lm_loss, evaluate=held_out.evaluate, test=held_out.test,
                                report=lambda m, run_dir: held_out.examples(run_dir), monitor="test_exact_match",
                                mode="max")

    return build


register(Recipe("sort-toy", "small GPT sorting 8 digits: >= 99% exact match on held-out sequences", SortConfig,
                _toy_gpt(lambda c: SortTask(length=c.length, base=c.base))))
register(Recipe("add-toy", "small GPT adding 3-digit numbers: >= 99% exact match on held-out sums", AddConfig,
                _toy_gpt(lambda c: AdditionTask(digits=c.digits, reverse_answer=c.reverse_answer))))


# =================================================================================================
# translate-toy: numbers to English words with an encoder-decoder Transformer
# =================================================================================================
@dataclass
class TranslateConfig(AdamWConfig, ProblemsConfig):
    iters: int = flag(1500, "optimizer steps", positive)
    max_number: int = flag(1000000, "numbers are drawn from [0, max_number)", positive)
    d_model: int = flag(64, "model width", positive)
    nhead: int = flag(4, "attention heads", positive)
    layers: int = flag(2, "encoder layers (and as many decoder layers)", positive)
    dim_feedforward: int = flag(128, "feed-forward width", positive)
    dropout: float = flag(0.0, "dropout probability", probability)
    lr: float = flag(2e-3, "peak learning rate", positive)
    beta2: float = flag(0.98, "AdamW beta2", probability)
    eval_every: int = flag(500, "steps between evaluations", positive)
    pictures: int = flag(4, "examples whose cross-attention maps are drawn")


def translate(model, task, problems, batch_size=1000):
    """Greedy translations (N, answer_len + 1) of problems by a Seq2SeqTransformer, in eval mode."""
    out = []
    with evaluating(model):
        for chunk in in_chunks(problems, batch_size, "translating"):
            tokens = model.greedy_decode(Tensor._make(task.source(chunk)), BOS, EOS, max_len=task.answer_len + 1)
            out.append(np.pad(tokens, ((0, 0), (0, task.answer_len + 1 - tokens.shape[1]))))
    return np.concatenate(out)


def _attention_pictures(model, task, problems, run_dir):
    """Cross-attention maps of a few held-out problems, one PNG each, drawn with glassnet.viz.plot_attention:
    one map per decoder layer (mean of its heads), rows = the word being written, columns = source digits.
    Returns the paths."""
    from ..viz import plot_attention

    src, tgt_in, _ = task.seq2seq_batch(problems)
    with evaluating(model):
        weights = np.stack(model.cross_attention(src, tgt_in, average_heads=True), 1)  # (N, layers, T, S)
    paths = []
    for i, problem in enumerate(problems):
        source = list(task.decode(src.array[i], ""))
        rows = task.decode(task.answer(problem[None])[0]).split(" ") + ["<eos>"]
        path = os.path.join(run_dir, "plots", f"cross_attention_{i}.png")
        plot_attention(weights[i, :, None, : len(rows), : len(source)], source, rows, path=path,
                       title=f"cross-attention: {''.join(source)} -> {' '.join(rows[:-1])}")
        paths.append(path)
    return paths


def build_translate(config):
    task = NumberWordsTask(max_number=config.max_number)
    model = Seq2SeqTransformer(task.vocab_size, task.vocab_size, config.d_model, config.nhead, config.layers,
                               config.layers, config.dim_feedforward, config.dropout,
                               max_len=max(task.source_len, task.answer_len + 1) + 1)
    held_out = HeldOut(task, config, lambda m, p: translate(m, task, p), seq2seq_loss, task.seq2seq_batch)

    def report(m, run_dir):
        out = held_out.examples(run_dir)
        if config.pictures:
            chosen = held_out.test_set[held_out.longest(config.pictures)]
            out["plots"] = _attention_pictures(m, task, chosen, run_dir)
        return out

    return steps_experiment(config, model, adamw(model, config),
                            DrawnBatches(lambda: task.seq2seq_batch(task.sample(config.batch_size))),
                            loss=seq2seq_loss, evaluate=held_out.evaluate, test=held_out.test, report=report,
                            monitor="test_exact_match", mode="max")


register(Recipe("translate-toy", "encoder-decoder Transformer writing numbers in words: >= 99% exact match on "
                "held-out numbers", TranslateConfig, build_translate))


# =================================================================================================
# vit-mnist: the MNIST recipes' loaders, augmentation and loop, with a ViT
# =================================================================================================
@dataclass
class ViTConfig(MNISTConfig):
    epochs: int = flag(10, "passes over the training set", positive)
    batch_size: int = flag(128, "images per optimizer step", positive)
    lr: float = flag(2e-3, "peak learning rate of the one-cycle schedule", positive)
    weight_decay: float = flag(0.05, "AdamW weight decay")
    dropout: float = flag(0.0, "dropout in the encoder layers", probability)
    patch_size: int = flag(7, "patch side in pixels (28 must be a multiple)", positive)
    dim: int = flag(64, "model width", positive)
    depth: int = flag(6, "encoder layers", positive)
    heads: int = flag(4, "attention heads", positive)
    mlp_dim: int = flag(128, "feed-forward width", positive)


def vit(config):
    return ViT(28, config.patch_size, 1, 10, config.dim, config.depth, config.heads, config.mlp_dim, config.dropout)


image_classifier("vit-mnist", "Vision Transformer (patches 7x7, 6 layers) on MNIST: >= 98.5% test accuracy",
                 ViTConfig, vit)

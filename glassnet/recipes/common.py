"""Pieces that several recipes share: the optimizers and schedule of the step-counting recipes, held-out
evaluation on toy tasks, and text samples of language models."""
import numpy as np

from .. import optim
from ..generate import sample
from ..nn.utils import evaluating
from ..random import Generator
from ..train import Experiment, WarmupCosineLR
from ..train.progress import progress_bar
from .scaffold import examples_text, write_file

__all__ = ["adamw", "steps_experiment", "HeldOut", "in_chunks", "text_sample"]


def adamw(model, config):
    """AdamW with weight decay on matrices only (not on biases and LayerNorm parameters), as nanoGPT."""
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": config.weight_decay},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    return optim.AdamW(groups, lr=config.lr, betas=(config.beta1, config.beta2))


def steps_experiment(config, model, optimizer, batches, **settings):
    """An Experiment of a StepsConfig recipe: config.iters steps, warmup + cosine learning rate, evaluation
    every config.eval_every steps, gradient accumulation and clipping as configured."""
    scheduler = WarmupCosineLR(optimizer, total=config.iters, warmup=config.warmup, min_lr=config.min_lr)
    return Experiment(model, optimizer, batches, steps=config.iters, eval_every=config.eval_every,
                      scheduler=scheduler, grad_accum=config.grad_accum, clip_grad_norm=config.clip_grad_norm,
                      **settings)


def in_chunks(problems, size, desc):
    """Slices of at most `size` problems, with a progress bar."""
    starts = range(0, len(problems), size)
    return (problems[i:i + size] for i in progress_bar(starts, desc, total=len(starts)))


class HeldOut:
    """Evaluation on held-out problems of a toy task (never drawn for training).

    answer(model, problems) -> answer token ids (N, L); loss(model, batch) with batch = make_batch(problems).
    `evaluate` (during training, config.eval_problems problems) gives the loss and the exact-match
    rate; `test` (at the end, config.test_problems) the exact-match rate; `examples` writes
    examples.txt from the last test.
    """

    def __init__(self, task, config, answer, loss, make_batch):
        self.task, self.answer, self.loss, self.make_batch = task, answer, loss, make_batch
        self.eval_set = task.test_set(config.eval_problems, seed=config.seed + 1)
        self.test_set = task.test_set(config.test_problems, seed=config.seed + 2)
        self.answers = self.ok = None

    def evaluate(self, model):
        with evaluating(model):
            loss = self.loss(model, self.make_batch(self.eval_set)).item()
        exact = self.task.exact_match(self.answer(model, self.eval_set), self.eval_set)
        return {"test_loss": loss, "test_exact_match": float(exact.mean())}

    def test(self, model):
        self.answers = self.answer(model, self.test_set)
        self.ok = self.task.exact_match(self.answers, self.test_set)
        return {"test_exact_match": float(self.ok.mean()), "test_problems": len(self.test_set)}

    def examples(self, run_dir):
        """examples.txt from the last test; returns the summary entries."""
        text, wrong = examples_text(self.task, self.test_set, self.answers, self.ok)
        write_file(run_dir, "examples.txt", text)
        return {"wrong_examples": wrong}

    def longest(self, n):
        """Indices of the n test problems with the longest sources (the richest attention pictures)."""
        lengths = (self.task.source(self.test_set) != 0).sum(1)
        return np.argsort(-lengths, kind="stable")[:n]


def text_sample(model, tokenizer, run_dir, length, temperature, seed):
    """samples.txt: `length` characters generated after a newline; returns the summary entries."""
    text = sample(model, tokenizer, "\n", length, temperature, None, Generator(seed))
    write_file(run_dir, "samples.txt", text)
    return {"sample": text[:200]}

"""Transformer recipes: a character GPT on tiny Shakespeare, GPTs on toy tasks (sorting, addition), an
encoder-decoder Transformer writing numbers in words, and a Vision Transformer on MNIST.

    glassnet train gpt-shakespeare        val loss <= 1.90 (nanoGPT's small CPU settings)
    glassnet train sort-toy               >= 99% exact match on held-out sequences
    glassnet train add-toy                >= 99% exact match on held-out sums
    glassnet train translate-toy          >= 99% exact match on held-out numbers, greedy decoding
    glassnet train vit-mnist              >= 98.5% MNIST test accuracy

The sequence recipes train with glassnet.train.lm.train_loop (AdamW, warmup + cosine learning rate,
optional gradient clipping, evaluation every N steps, checkpoints, exact --resume); vit-mnist uses the
image-classification loop of the MNIST recipes.

Measured with the defaults on a shared 2-core machine, OMP_NUM_THREADS=1 (these models are small:
a second BLAS thread costs more than it brings there):
    gpt-shakespeare  val loss 1.8965 (200 batches), 218 s   (seeds 1 / 2: 1.882 / 1.887)
    sort-toy         100.00% of 2000 held-out sequences, 73 s
    add-toy          100.00% of 2000 held-out sums, 87 s
    translate-toy    100.00% of 2000 held-out numbers, 50 s
    vit-mnist        99.06% test accuracy, 10 epochs, about 20 min
"""
import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from ..autograd import no_grad
from ..models import GPT, Seq2SeqTransformer, ViT
from ..nn import functional as F
from ..random import Generator, manual_seed
from ..tasks import EOS, AdditionTask, NumberWordsTask, SortTask
from ..tensor import Tensor
from ..train.lm import cosine_lr, estimate_loss, plot_lm_curves, train_loop
from ..train.log import read_metrics
from . import Recipe, register
from . import mnist


def _flag(default, help):
    return field(default=default, metadata={"help": help})


def _finish(run_dir, summary, result, started):
    """Add the loop's outcome to the summary, write summary.json and the curves."""
    summary.update({"steps": result.step, "train_loss": result.train_loss, "seconds": time.perf_counter() - started,
                    "interrupted": result.interrupted, "run_dir": run_dir})
    records = read_metrics(os.path.join(run_dir, "metrics.jsonl"))
    if records:
        plot_lm_curves(records, os.path.join(run_dir, "plots", "curves.png"), title=summary["recipe"])
    with open(os.path.join(run_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return summary


def _adamw(model, config):
    """AdamW with weight decay on matrices only (not on biases and LayerNorm parameters), as nanoGPT."""
    from .. import optim

    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": config.weight_decay},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    return optim.AdamW(groups, lr=config.lr, betas=(config.beta1, config.beta2))


def _schedule(config):
    return partial(cosine_lr, lr=config.lr, min_lr=config.min_lr, warmup=config.warmup, total=config.iters)


# =================================================================================================
# gpt-shakespeare
# =================================================================================================
@dataclass
class ShakespeareConfig:
    iters: int = _flag(2000, "optimizer steps")
    batch_size: int = _flag(12, "sequences per step")
    block_size: int = _flag(64, "context length in characters")
    n_layer: int = _flag(4, "Transformer blocks")
    n_head: int = _flag(4, "attention heads")
    n_embd: int = _flag(128, "model width")
    dropout: float = _flag(0.0, "dropout probability")
    bias: bool = _flag(False, "biases in the Linear and LayerNorm layers (nanoGPT's setting here: none)")
    lr: float = _flag(1e-3, "peak learning rate")
    min_lr: float = _flag(1e-4, "learning rate at the end of the cosine decay")
    warmup: int = _flag(100, "linear warmup steps")
    weight_decay: float = _flag(0.1, "AdamW weight decay (matrices only)")
    beta1: float = _flag(0.9, "AdamW beta1")
    beta2: float = _flag(0.99, "AdamW beta2")
    clip_grad_norm: float = _flag(0.0, "clip the gradient norm to this value (0: off; 1.0 costs ~0.015 val loss here)")
    eval_every: int = _flag(500, "steps between evaluations")
    eval_iters: int = _flag(20, "batches of the validation split at the intermediate evaluations")
    final_eval_iters: int = _flag(200, "batches per split at the final evaluation")
    sample_chars: int = _flag(500, "characters of generated text written to samples.txt at the end")
    seed: int = _flag(1337, "seed of initialisation and batch sampling")
    data_dir: str = _flag("", "folder with tinyshakespeare/input.txt (default: GLASSNET_DATA, cache, download)")


def _shakespeare_data(config):
    from ..datasets import TinyShakespeare

    train = TinyShakespeare(root=config.data_dir or None, split="train")
    val = TinyShakespeare(root=config.data_dir or None, split="val")
    tok = train.char_tokenizer()
    return tok, train.encode(tok), val.encode(tok)


def _shakespeare_model(config, vocab_size):
    return GPT(vocab_size, config.block_size, config.n_layer, config.n_head, config.n_embd, config.dropout,
               config.bias)


def _window_loss(model, data, config, iters, seed):
    """Mean loss over `iters` random windows of data, the same windows for the same seed."""
    from ..utils.data.language import random_windows

    g = Generator(seed)
    return estimate_loss(model, lambda: random_windows(data, config.block_size, config.batch_size, g), iters)


def run_shakespeare(config, run_dir, resume=None, stop_after_steps=None):
    from ..utils.data.language import random_windows

    started = time.perf_counter()
    manual_seed(config.seed)
    tok, train_ids, val_ids = _shakespeare_data(config)
    model = _shakespeare_model(config, tok.vocab_size)
    optimizer = _adamw(model, config)
    saved = {"recipe": "gpt-shakespeare", **dataclasses.asdict(config)}

    def evaluate(m):
        return {"val_loss": _window_loss(m, val_ids, config, config.eval_iters, config.seed + 1)}

    result = train_loop(model, optimizer, batch_fn=lambda: random_windows(train_ids, config.block_size,
                                                                          config.batch_size),
                        iters=config.iters, run_dir=run_dir, evaluate=evaluate, eval_every=config.eval_every,
                        lr_at=_schedule(config), clip_grad_norm=config.clip_grad_norm or None, config=saved,
                        resume=resume, stop_after_steps=stop_after_steps, desc="gpt-shakespeare")
    summary = {"recipe": "gpt-shakespeare", "parameters": model.get_num_params(False)}
    if not result.interrupted:
        n = config.final_eval_iters
        summary["val_loss"] = _window_loss(model, val_ids, config, n, config.seed + 2)
        summary["final_train_loss"] = _window_loss(model, train_ids, config, n, config.seed + 3)
        summary["eval_batches"] = n
        model.eval()
        text = tok.decode(model.generate(Tensor._make(np.zeros((1, 1), np.int64)), config.sample_chars,
                                         generator=Generator(config.seed)).array[0].tolist())
        with open(os.path.join(run_dir, "samples.txt"), "w") as f:
            f.write(text)
        summary["sample"] = text[:200]
    return _finish(run_dir, summary, result, started)


def evaluate_shakespeare(config, state):
    tok, train_ids, val_ids = _shakespeare_data(config)
    model = _shakespeare_model(config, tok.vocab_size)
    model.load_state_dict(state["model"])
    return {"recipe": "gpt-shakespeare", "val_loss": _window_loss(model, val_ids, config, config.final_eval_iters,
                                                                  config.seed + 2),
            "step": state["step"], "eval_batches": config.final_eval_iters}


register(Recipe("gpt-shakespeare", "character GPT (4x128) on tiny Shakespeare: val loss <= 1.90", ShakespeareConfig,
                run_shakespeare, evaluate_shakespeare))


# =================================================================================================
# GPT on toy tasks: sort-toy, add-toy
# =================================================================================================
@dataclass
class ToyGPTConfig:
    iters: int = _flag(1000, "optimizer steps")
    batch_size: int = _flag(128, "problems per step")
    n_layer: int = _flag(2, "Transformer blocks")
    n_head: int = _flag(4, "attention heads")
    n_embd: int = _flag(64, "model width")
    dropout: float = _flag(0.0, "dropout probability")
    lr: float = _flag(3e-3, "peak learning rate")
    min_lr: float = _flag(1e-4, "learning rate at the end of the cosine decay")
    warmup: int = _flag(100, "linear warmup steps")
    weight_decay: float = _flag(0.01, "AdamW weight decay (matrices only)")
    beta1: float = _flag(0.9, "AdamW beta1")
    beta2: float = _flag(0.99, "AdamW beta2")
    clip_grad_norm: float = _flag(1.0, "clip the gradient norm to this value (0: off)")
    eval_every: int = _flag(250, "steps between evaluations")
    eval_problems: int = _flag(500, "held-out problems at the intermediate evaluations")
    test_problems: int = _flag(2000, "held-out problems of the final test")
    seed: int = _flag(0, "seed of initialisation and problem sampling")


@dataclass
class SortConfig(ToyGPTConfig):
    length: int = _flag(8, "numbers per sequence")
    base: int = _flag(10, "the numbers are 0 ... base-1")


@dataclass
class AddConfig(ToyGPTConfig):
    iters: int = _flag(2000, "optimizer steps")
    digits: int = _flag(3, "digits of each summand")
    reverse_answer: bool = _flag(True, "write the sum least significant digit first")


def _sort_task(config):
    return SortTask(length=config.length, base=config.base)


def _add_task(config):
    return AdditionTask(digits=config.digits, reverse_answer=config.reverse_answer)


def _toy_gpt(config, task):
    return GPT(task.vocab_size, task.lm_block_size, config.n_layer, config.n_head, config.n_embd, config.dropout)


def gpt_answers(model, task, problems, batch_size=1000):
    """Greedy (temperature 0) answers of a GPT to problems: (N, answer_len + 1) token ids."""
    was_training = model.training
    model.eval()
    out = []
    for i in range(0, len(problems), batch_size):
        prompt = task.lm_prompt(problems[i:i + batch_size])
        full = model.generate(prompt, task.answer_len + 1, temperature=0.0)
        out.append(full.array[:, prompt.shape[1]:])
    model.train(was_training)
    return np.concatenate(out)


def gpt_exact_match(model, task, problems):
    return float(task.exact_match(gpt_answers(model, task, problems), problems).mean())


def _toy_gpt_recipe(name, make_task):
    def run(config, run_dir, resume=None, stop_after_steps=None):
        started = time.perf_counter()
        manual_seed(config.seed)
        task = make_task(config)
        model = _toy_gpt(config, task)
        optimizer = _adamw(model, config)
        eval_set = task.test_set(config.eval_problems, seed=config.seed + 1)

        def evaluate(m):
            x, y = task.lm_batch(eval_set)
            with no_grad():
                m.eval()
                loss = m(x, y)[1].item()
                m.train()
            return {"test_loss": loss, "test_exact_match": gpt_exact_match(m, task, eval_set)}

        result = train_loop(model, optimizer, batch_fn=lambda: task.lm_batch(task.sample(config.batch_size)),
                            iters=config.iters, run_dir=run_dir, evaluate=evaluate, eval_every=config.eval_every,
                            lr_at=_schedule(config), clip_grad_norm=config.clip_grad_norm or None,
                            monitor="test_exact_match", mode="max",
                            config={"recipe": name, **dataclasses.asdict(config)}, resume=resume,
                            stop_after_steps=stop_after_steps, desc=name)
        summary = {"recipe": name, "parameters": model.get_num_params(False)}
        if not result.interrupted:
            test = task.test_set(config.test_problems, seed=config.seed + 2)
            answers = gpt_answers(model, task, test)
            ok = task.exact_match(answers, test)
            summary.update({"test_exact_match": float(ok.mean()), "test_problems": len(test)})
            with open(os.path.join(run_dir, "examples.txt"), "w") as f:
                for problem, answer, good in list(zip(test, answers, ok))[:40]:
                    f.write(f"{task.describe(problem)}   model: {task.decode(answer)}   "
                            f"{'ok' if good else 'WRONG'}\n")
        return _finish(run_dir, summary, result, started)

    def evaluate(config, state):
        task = make_task(config)
        model = _toy_gpt(config, task)
        model.load_state_dict(state["model"])
        test = task.test_set(config.test_problems, seed=config.seed + 2)
        return {"recipe": name, "test_exact_match": gpt_exact_match(model, task, test), "test_problems": len(test),
                "step": state["step"]}

    return run, evaluate


register(Recipe("sort-toy", "small GPT sorting 8 digits: >= 99% exact match on held-out sequences", SortConfig,
                *_toy_gpt_recipe("sort-toy", _sort_task)))
register(Recipe("add-toy", "small GPT adding 3-digit numbers: >= 99% exact match on held-out sums", AddConfig,
                *_toy_gpt_recipe("add-toy", _add_task)))


# =================================================================================================
# translate-toy: numbers to English words with an encoder-decoder Transformer
# =================================================================================================
@dataclass
class TranslateConfig:
    iters: int = _flag(1500, "optimizer steps")
    batch_size: int = _flag(64, "problems per step")
    max_number: int = _flag(1000000, "numbers are drawn from [0, max_number)")
    d_model: int = _flag(64, "model width")
    nhead: int = _flag(4, "attention heads")
    layers: int = _flag(2, "encoder layers (and as many decoder layers)")
    dim_feedforward: int = _flag(128, "feed-forward width")
    dropout: float = _flag(0.0, "dropout probability")
    lr: float = _flag(2e-3, "peak learning rate")
    min_lr: float = _flag(1e-4, "learning rate at the end of the cosine decay")
    warmup: int = _flag(100, "linear warmup steps")
    weight_decay: float = _flag(0.01, "AdamW weight decay (matrices only)")
    beta1: float = _flag(0.9, "AdamW beta1")
    beta2: float = _flag(0.98, "AdamW beta2")
    clip_grad_norm: float = _flag(1.0, "clip the gradient norm to this value (0: off)")
    eval_every: int = _flag(500, "steps between evaluations")
    eval_problems: int = _flag(500, "held-out numbers at the intermediate evaluations")
    test_problems: int = _flag(2000, "held-out numbers of the final test")
    pictures: int = _flag(4, "examples whose cross-attention maps are drawn")
    seed: int = _flag(0, "seed of initialisation and problem sampling")


def _translate_task(config):
    return NumberWordsTask(max_number=config.max_number)


def _translate_model(config, task):
    return Seq2SeqTransformer(task.vocab_size, task.vocab_size, config.d_model, config.nhead, config.layers,
                              config.layers, config.dim_feedforward, config.dropout,
                              max_len=max(task.source_len, task.answer_len + 1) + 1)


def translate(model, task, problems, batch_size=1000):
    """Greedy translations (N, answer_len + 1) of problems by a Seq2SeqTransformer, in eval mode."""
    from ..tasks import BOS

    was_training = model.training
    model.eval()
    out = []
    for i in range(0, len(problems), batch_size):
        src = Tensor._make(task.source(problems[i:i + batch_size]))
        tokens = model.greedy_decode(src, BOS, EOS, max_len=task.answer_len + 1)
        out.append(np.pad(tokens, ((0, 0), (0, task.answer_len + 1 - tokens.shape[1]))))
    model.train(was_training)
    return np.concatenate(out)


def _seq2seq_step(model, batch):
    src, tgt_in, tgt_out = batch
    logits = model(src, tgt_in)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))


def run_translate(config, run_dir, resume=None, stop_after_steps=None):
    started = time.perf_counter()
    manual_seed(config.seed)
    task = _translate_task(config)
    model = _translate_model(config, task)
    optimizer = _adamw(model, config)
    eval_set = task.test_set(config.eval_problems, seed=config.seed + 1)

    def evaluate(m):
        with no_grad():
            m.eval()
            loss = _seq2seq_step(m, task.seq2seq_batch(eval_set)).item()
            m.train()
        return {"test_loss": loss, "test_exact_match": float(task.exact_match(translate(m, task, eval_set),
                                                                                eval_set).mean())}

    result = train_loop(model, optimizer, batch_fn=lambda: task.seq2seq_batch(task.sample(config.batch_size)),
                        step_fn=_seq2seq_step, iters=config.iters, run_dir=run_dir, evaluate=evaluate,
                        eval_every=config.eval_every, lr_at=_schedule(config),
                        clip_grad_norm=config.clip_grad_norm or None, monitor="test_exact_match", mode="max",
                        config={"recipe": "translate-toy", **dataclasses.asdict(config)}, resume=resume,
                        stop_after_steps=stop_after_steps, desc="translate-toy")
    summary = {"recipe": "translate-toy", "parameters": sum(p.numel() for p in model.parameters())}
    if not result.interrupted:
        test = task.test_set(config.test_problems, seed=config.seed + 2)
        answers = translate(model, task, test)
        ok = task.exact_match(answers, test)
        summary.update({"test_exact_match": float(ok.mean()), "test_problems": len(test)})
        with open(os.path.join(run_dir, "examples.txt"), "w") as f:
            for problem, answer, good in list(zip(test, answers, ok))[:40]:
                f.write(f"{task.describe(problem)}   model: {task.decode(answer)}   {'ok' if good else 'WRONG'}\n")
        wrong = [task.describe(p) + "   model: " + task.decode(a) for p, a, g in zip(test, answers, ok) if not g]
        summary["wrong_examples"] = wrong[:10]
        # the longest numbers make the richer pictures (test problems are in random order)
        longest = test[np.argsort(-np.floor(np.log10(test[:, 0] + 1)), kind="stable")]
        summary["attention_plots"] = _attention_pictures(model, task, longest[: config.pictures], run_dir)
    return _finish(run_dir, summary, result, started)


def _attention_pictures(model, task, problems, run_dir):
    """Cross-attention maps of a few held-out problems, one PNG each, drawn with glassnet.viz.plot_attention:
    one map per decoder layer (mean of its heads), rows = the word being written, columns = source digits.
    Returns the paths."""
    from ..viz import plot_attention

    src, tgt_in, _ = task.seq2seq_batch(problems)
    model.eval()
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


def evaluate_translate(config, state):
    task = _translate_task(config)
    model = _translate_model(config, task)
    model.load_state_dict(state["model"])
    test = task.test_set(config.test_problems, seed=config.seed + 2)
    return {"recipe": "translate-toy", "test_exact_match": float(task.exact_match(translate(model, task, test),
                                                                                  test).mean()),
            "test_problems": len(test), "step": state["step"]}


register(Recipe("translate-toy", "encoder-decoder Transformer writing numbers in words: >= 99% exact match on "
                "held-out numbers", TranslateConfig, run_translate, evaluate_translate))


# =================================================================================================
# vit-mnist: the MNIST recipes' loaders, augmentation and classifier loop, with a ViT
# =================================================================================================
@dataclass
class ViTConfig(mnist.MNISTConfig):
    epochs: int = _flag(10, "passes over the training set")
    batch_size: int = _flag(128, "images per optimizer step")
    lr: float = _flag(2e-3, "peak learning rate of the one-cycle schedule")
    weight_decay: float = _flag(0.05, "AdamW weight decay")
    dropout: float = _flag(0.0, "dropout in the encoder layers")
    patch_size: int = _flag(7, "patch side in pixels (28 must be a multiple)")
    dim: int = _flag(64, "model width")
    depth: int = _flag(6, "encoder layers")
    heads: int = _flag(4, "attention heads")
    mlp_dim: int = _flag(128, "feed-forward width")


def vit(config):
    return ViT(28, config.patch_size, 1, 10, config.dim, config.depth, config.heads, config.mlp_dim, config.dropout)


register(Recipe("vit-mnist", "Vision Transformer (patches 7x7, 6 layers) on MNIST: >= 98.5% test accuracy",
                ViTConfig, mnist._run("vit-mnist", vit), mnist._evaluate("vit-mnist", vit)))

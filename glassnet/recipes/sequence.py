"""Recurrent recipes: character language models on tiny Shakespeare, and an encoder-decoder RNN with
additive attention on a toy translation task.

    glassnet train char-lstm            2-layer LSTM: validation loss <= 1.55 nats/char in < 20 min (2 cores)
    glassnet train char-gru             the same with GRU layers
    glassnet train char-rnn             the same with vanilla tanh RNN layers (no stated target)
    glassnet train seq2seq-attention    bidirectional GRU encoder, GRU decoder with Bahdanau attention, writing
                                        numbers in words (1234 -> one thousand two hundred thirty four):
                                        >= 99% exact match on held-out numbers, greedy decoding
                                        (--task reverse: reversing 10 digits, the same)
    glassnet sample runs/char-lstm-... --prompt "ROMEO:" --temperature 0.8 --top-k 20

Measured with the defaults (2-core machine shared with other jobs, one BLAS thread, seed 0):
char-lstm 1.471 nats/char in 10.4 min, char-gru 1.456 in 11.5 min, char-rnn 1.550 in 3.5 min (each 3000
steps of 32 x 64 characters, hidden 256, about 6 passes over the text); seq2seq-attention 100% exact
match on 2000 held-out numbers in 48 s.

Character models train with truncated backpropagation through time: the training text (the first 90%
of the characters) is cut into `batch_size` contiguous streams (glassnet.utils.data.StreamBatcher);
each step reads the next `seq_len` characters of every stream, starting from the state the previous
step ended with (detached, so gradients stop at the chunk boundary; with probability `reset_prob` a
stream starts the chunk from zeros instead, so that the model also learns to read text from scratch,
as when it is given a prompt). Adam, warmup + cosine learning
rate and gradient clipping; the loop is glassnet.train.lm.train_loop. The validation loss is the mean
cross-entropy in nats per character over ALL validation characters (the last 10%), read the same way
as 16 streams carrying their state, in chunks of `seq_len` (about 100 batches).

Each run writes, besides metrics.jsonl, checkpoints and summary.json: samples.txt (generated text),
plots/curves.png, plots/hidden_states.png (the top layer's hidden state while generating) and
plots/vanishing_gradients.png (the gradient of the last step's loss with respect to each earlier
state, for the trained model and for freshly initialised RNN, LSTM and GRU on the same text; see
glassnet.viz.rnn_gradients). Resuming (--resume) restores the model, optimizer, step, stream position
and random state; the carried hidden state restarts from zeros at the resume point.
"""
import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from .. import optim
from ..autograd import no_grad
from ..generate import register_sampler, sample
from ..models.char_rnn import CharRNN
from ..models.seq2seq_rnn import Seq2SeqRNN
from ..nn import functional as F
from ..random import Generator, manual_seed, rng
from ..tasks import BOS, EOS, make_task
from ..tensor import Tensor
from ..text import CharTokenizer
from ..train.checkpoint import load_checkpoint
from ..train.lm import cosine_lr, plot_lm_curves, train_loop
from ..train.log import read_metrics
from ..utils.data import StreamBatcher
from . import Recipe, register


def _flag(default, help):
    return field(default=default, metadata={"help": help})


# =================================================================================================
# character language models: char-rnn, char-lstm, char-gru
# =================================================================================================
@dataclass
class CharConfig:
    iters: int = _flag(3000, "optimizer steps (3000 x 32 x 64 characters: about 6 passes over the text)")
    batch_size: int = _flag(32, "parallel text streams per step")
    seq_len: int = _flag(64, "characters per stream per step (truncated BPTT length)")
    embed_dim: int = _flag(64, "character embedding size")
    hidden_size: int = _flag(256, "units of each recurrent layer")
    num_layers: int = _flag(2, "recurrent layers")
    dropout: float = _flag(0.0, "dropout between the recurrent layers and before the output layer")
    reset_prob: float = _flag(0.05, "chance that a stream's carried state is reset to zeros before a chunk")
    lr: float = _flag(3e-3, "peak learning rate (Adam)")
    min_lr: float = _flag(3e-4, "learning rate at the end of the cosine decay")
    warmup: int = _flag(50, "linear warmup steps")
    weight_decay: float = _flag(0.0, "Adam weight decay (L2)")
    clip_grad_norm: float = _flag(1.0, "clip the gradient norm to this value (0: off)")
    eval_every: int = _flag(500, "steps between validation evaluations")
    eval_streams: int = _flag(16, "parallel streams when reading the validation text")
    train_chars: int = _flag(0, "train on only the first N training characters (0: all)")
    val_chars: int = _flag(0, "validate on only the first N validation characters (0: all)")
    sample_chars: int = _flag(500, "characters of generated text written to samples.txt at the end")
    temperature: float = _flag(0.8, "sampling temperature of samples.txt")
    pictures: bool = _flag(True, "draw the hidden-state and vanishing-gradient pictures at the end")
    seed: int = _flag(0, "seed of initialisation, dropout and sampling")
    data_dir: str = _flag("", "folder with tinyshakespeare/input.txt (default: GLASSNET_DATA, cache, download)")


@dataclass
class CharLSTMConfig(CharConfig):
    pass


@dataclass
class CharGRUConfig(CharConfig):
    pass


@dataclass
class CharRNNConfig(CharConfig):
    lr: float = _flag(2e-3, "peak learning rate (Adam)")


CHAR_RECIPES = {"char-rnn": "rnn", "char-lstm": "lstm", "char-gru": "gru"}


def _shakespeare(config):
    """(tokenizer over the whole text, training ids, validation ids), limited by train_chars / val_chars."""
    from ..datasets import TinyShakespeare

    train = TinyShakespeare(root=config.data_dir or None, split="train")
    val = TinyShakespeare(root=config.data_dir or None, split="val")
    tok = train.char_tokenizer()
    train_ids, val_ids = train.encode(tok), val.encode(tok)
    if config.train_chars:
        train_ids = train_ids[: config.train_chars]
    if config.val_chars:
        val_ids = val_ids[: config.val_chars]
    return tok, train_ids, val_ids


def _char_model(config, cell, vocab_size):
    return CharRNN(vocab_size, config.embed_dim, config.hidden_size, config.num_layers, cell=cell,
                   dropout=config.dropout)


def stream_loss(model, ids, streams, seq_len):
    """Mean cross-entropy in nats per character of the next-character predictions over ids, read as
    `streams` parallel streams carrying their state from chunk to chunk (eval mode, no graph).
    Returns (loss, number of batches, number of characters predicted)."""
    batcher = StreamBatcher(ids, min(streams, len(ids) - 1), seq_len)
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    with no_grad():
        for x, y in batcher:
            logits, state = model(x, state)
            n = y.numel()
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item() * n
            count += n
    model.train(was_training)
    return total / count, len(batcher), count


class TBPTT:
    """The batches and the step of truncated BPTT for train_loop: `next_batch()` gives the next chunk
    of the streams (from the start again after the last one), `step(model, batch)` runs the model from
    the state the previous chunk ended with and returns the loss; the new state is kept, detached.

    reset_prob: the chance that a stream's carried state is set back to zeros before a chunk (drawn
    from glassnet's default generator). Without resets the model only ever meets the zero state at
    the very start of the text, and then fails to read a prompt from scratch when sampling.
    """

    def __init__(self, batcher, start=0, reset_prob=0.0):
        if not 0 <= reset_prob <= 1:
            raise ValueError(f"TBPTT: reset_prob must be in [0, 1], got {reset_prob!r}")
        self.batcher, self.position, self.state, self.reset_prob = batcher, start, None, reset_prob

    def next_batch(self):
        i = self.position % len(self.batcher)
        if i == 0:
            self.state = None  # a new pass over the text: the streams start again from zeros
        self.position += 1
        return self.batcher[i]

    def _reset_some(self, state):
        """The state with the rows of randomly chosen streams set to zeros."""
        if state is None or not self.reset_prob:
            return state
        keep = (rng(None).random(self.batcher.batch_size) >= self.reset_prob).astype(np.float32)[None, :, None]
        if isinstance(state, tuple):
            return tuple(Tensor._make(s.array * keep) for s in state)
        return Tensor._make(state.array * keep)

    def step(self, model, batch):
        x, y = batch
        loss, state = model.loss(x, y, self._reset_some(self.state))
        self.state = model.detach_state(state)
        return loss


def _char_recipe(name, cell):
    def run(config, run_dir, resume=None, stop_after_steps=None):
        started = time.perf_counter()
        manual_seed(config.seed)
        tok, train_ids, val_ids = _shakespeare(config)
        model = _char_model(config, cell, tok.vocab_size)
        optimizer = optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        batcher = StreamBatcher(train_ids, config.batch_size, config.seq_len, drop_last=True)
        tbptt = TBPTT(batcher, load_checkpoint(resume)["step"] if resume else 0, config.reset_prob)
        saved = {"recipe": name, **dataclasses.asdict(config), "vocab": tok.chars}

        def evaluate(m):
            return {"val_loss": stream_loss(m, val_ids, config.eval_streams, config.seq_len)[0]}

        schedule = partial(cosine_lr, lr=config.lr, min_lr=config.min_lr, warmup=config.warmup, total=config.iters)
        result = train_loop(model, optimizer, batch_fn=tbptt.next_batch, step_fn=tbptt.step, iters=config.iters,
                            run_dir=run_dir, evaluate=evaluate, eval_every=config.eval_every, lr_at=schedule,
                            clip_grad_norm=config.clip_grad_norm or None, config=saved, resume=resume,
                            stop_after_steps=stop_after_steps, batch_items=lambda b: b[0].numel(), desc=name)
        summary = {"recipe": name, "parameters": sum(p.numel() for p in model.parameters())}
        if not result.interrupted:
            loss, batches, chars = stream_loss(model, val_ids, config.eval_streams, config.seq_len)
            summary.update({"val_loss": loss, "best_val_loss": result.best, "val_batches": batches,
                            "val_chars": chars, "epochs": result.step * batcher.batch_size * batcher.seq_len
                            / len(train_ids)})
            text = sample(model, tok, "\n", config.sample_chars, config.temperature, None, Generator(config.seed))
            with open(os.path.join(run_dir, "samples.txt"), "w") as f:
                f.write(text)
            summary["sample"] = text[:200]
            if config.pictures:
                summary.update(_char_pictures(model, config, cell, tok, val_ids, run_dir))
        summary.update({"steps": result.step, "train_loss": result.train_loss,
                        "seconds": time.perf_counter() - started, "interrupted": result.interrupted,
                        "run_dir": run_dir})
        records = read_metrics(os.path.join(run_dir, "metrics.jsonl"))
        if records:
            plot_lm_curves(records, os.path.join(run_dir, "plots", "curves.png"), title=name)
        with open(os.path.join(run_dir, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        return summary

    def evaluate(config, state):
        tok, _, val_ids = _shakespeare(config)
        model = _char_model(config, cell, tok.vocab_size)
        model.load_state_dict(state["model"])
        loss, batches, chars = stream_loss(model, val_ids, config.eval_streams, config.seq_len)
        return {"recipe": name, "val_loss": loss, "val_batches": batches, "val_chars": chars, "step": state["step"]}

    def load(config, state):
        names = {f.name for f in dataclasses.fields(CharConfig)}
        cfg = CharConfig(**{k: v for k, v in config.items() if k in names})
        tok = CharTokenizer.from_vocab(config["vocab"])
        model = _char_model(cfg, cell, tok.vocab_size)
        model.load_state_dict(state["model"])
        return model, tok

    register_sampler(name, load)
    return run, evaluate


def _char_pictures(model, config, cell, tok, val_ids, run_dir, steps=100):
    """plots/hidden_states.png and plots/vanishing_gradients.png; returns summary entries."""
    from ..viz.rnn_gradients import plot_generated_hidden_states, plot_state_gradients, relative, \
        state_gradient_norms_by_cell

    out = os.path.join(run_dir, "plots")
    _, text = plot_generated_hidden_states(model, tok, "ROMEO:", 80, os.path.join(out, "hidden_states.png"),
                                           generator=Generator(config.seed))
    tokens = val_ids[: min(steps + 1, len(val_ids))]
    profiles = state_gradient_norms_by_cell(tokens, tok.vocab_size, config.embed_dim, config.hidden_size,
                                            config.num_layers, config.seed, models={f"{cell} (trained)": model})
    plot_state_gradients(profiles, os.path.join(out, "vanishing_gradients.png"),
                         title=f"gradient of the last step's loss w.r.t. earlier states ({len(tokens) - 1} "
                               f"validation characters)")
    back = min(50, len(tokens) - 2)
    return {"hidden_states_text": text,
            f"grad_ratio_{back}_steps_back": {k: float(relative(v)[-1 - back]) for k, v in profiles.items()},
            "plots": [os.path.join(out, p) for p in ("curves.png", "hidden_states.png", "vanishing_gradients.png")]}


for _name, _cell in CHAR_RECIPES.items():
    _config = {"rnn": CharRNNConfig, "lstm": CharLSTMConfig, "gru": CharGRUConfig}[_cell]
    _goal = {"lstm": ": validation loss <= 1.55 nats/char", "gru": "", "rnn": ""}[_cell]
    register(Recipe(_name, f"character-level {_cell.upper()} (2 layers) on tiny Shakespeare{_goal}", _config,
                    *_char_recipe(_name, _cell)))


# =================================================================================================
# seq2seq-attention: encoder-decoder RNN with additive attention on a toy task
# =================================================================================================
@dataclass
class Seq2SeqConfig:
    task: str = _flag("number-words", "toy task of glassnet.tasks: number-words, reverse, sort or copy")
    length: int = _flag(10, "digits per sequence (reverse, sort, copy)")
    iters: int = _flag(1000, "optimizer steps")
    batch_size: int = _flag(64, "problems per step")
    embed_dim: int = _flag(32, "token embedding size")
    hidden_size: int = _flag(128, "units of the encoder (each direction) and the decoder")
    cell: str = _flag("gru", "decoder cell: gru or lstm")
    lr: float = _flag(3e-3, "peak learning rate (Adam)")
    min_lr: float = _flag(1e-4, "learning rate at the end of the cosine decay")
    warmup: int = _flag(50, "linear warmup steps")
    clip_grad_norm: float = _flag(1.0, "clip the gradient norm to this value (0: off)")
    eval_every: int = _flag(250, "steps between evaluations")
    eval_problems: int = _flag(500, "held-out problems at the intermediate evaluations")
    test_problems: int = _flag(2000, "held-out problems of the final test")
    pictures: int = _flag(4, "held-out examples whose attention maps are drawn")
    seed: int = _flag(0, "seed of initialisation and problem sampling")


def _seq2seq_task(config):
    if config.task in ("reverse", "sort", "copy"):
        return make_task(config.task, length=config.length)
    if config.task == "number-words":
        return make_task("number-words")
    raise ValueError(f"seq2seq-attention: task must be reverse, sort, copy or number-words, got {config.task!r}")


def _seq2seq_model(config, task):
    return Seq2SeqRNN(task.vocab_size, task.vocab_size, config.embed_dim, config.hidden_size, cell=config.cell)


def _seq2seq_step(model, batch):
    src, tgt_in, tgt_out = batch
    logits = model(src, tgt_in)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))


def greedy_answers(model, task, problems, batch_size=1000):
    """Greedy decodings (N, L) and attention weights (list of (L, S) arrays) of problems."""
    tokens, weights = [], []
    for i in range(0, len(problems), batch_size):
        src = Tensor._make(task.source(problems[i:i + batch_size]))
        t, w = model.greedy_decode(src, BOS, EOS, max_len=task.answer_len + 1)
        tokens.append(np.pad(t, ((0, 0), (0, task.answer_len + 1 - t.shape[1])), constant_values=EOS))
        weights.extend(w)
    return np.concatenate(tokens), weights


def _exact(model, task, problems):
    return float(task.exact_match(greedy_answers(model, task, problems)[0], problems).mean())


def run_seq2seq(config, run_dir, resume=None, stop_after_steps=None):
    started = time.perf_counter()
    manual_seed(config.seed)
    task = _seq2seq_task(config)
    model = _seq2seq_model(config, task)
    optimizer = optim.Adam(model.parameters(), lr=config.lr)
    eval_set = task.test_set(config.eval_problems, seed=config.seed + 1)

    def evaluate(m):
        with no_grad():
            m.eval()
            loss = _seq2seq_step(m, task.seq2seq_batch(eval_set)).item()
            m.train()
        return {"test_loss": loss, "test_exact_match": _exact(m, task, eval_set)}

    schedule = partial(cosine_lr, lr=config.lr, min_lr=config.min_lr, warmup=config.warmup, total=config.iters)
    result = train_loop(model, optimizer, batch_fn=lambda: task.seq2seq_batch(task.sample(config.batch_size)),
                        step_fn=_seq2seq_step, iters=config.iters, run_dir=run_dir, evaluate=evaluate,
                        eval_every=config.eval_every, lr_at=schedule, clip_grad_norm=config.clip_grad_norm or None,
                        monitor="test_exact_match", mode="max",
                        config={"recipe": "seq2seq-attention", **dataclasses.asdict(config)}, resume=resume,
                        stop_after_steps=stop_after_steps, desc="seq2seq-attention")
    summary = {"recipe": "seq2seq-attention", "task": config.task,
               "parameters": sum(p.numel() for p in model.parameters())}
    if not result.interrupted:
        test = task.test_set(config.test_problems, seed=config.seed + 2)
        answers, weights = greedy_answers(model, task, test)
        ok = task.exact_match(answers, test)
        summary.update({"test_exact_match": float(ok.mean()), "test_problems": len(test)})
        with open(os.path.join(run_dir, "examples.txt"), "w") as f:
            for problem, answer, good in list(zip(test, answers, ok))[:40]:
                f.write(f"{task.describe(problem)}   model: {task.decode(answer)}   {'ok' if good else 'WRONG'}\n")
        summary["wrong_examples"] = [f"{task.describe(p)}   model: {task.decode(a)}"
                                     for p, a, g in zip(test, answers, ok) if not g][:10]
        # the longest sources make the richest pictures (all are equally long for reverse)
        longest = np.argsort(-(task.source(test) != 0).sum(1), kind="stable")[: config.pictures]
        summary["attention_plots"] = attention_pictures(task, test[longest], answers[longest],
                                                        [weights[i] for i in longest], run_dir)
    summary.update({"steps": result.step, "train_loss": result.train_loss, "seconds": time.perf_counter() - started,
                    "interrupted": result.interrupted, "run_dir": run_dir})
    records = read_metrics(os.path.join(run_dir, "metrics.jsonl"))
    if records:
        plot_lm_curves(records, os.path.join(run_dir, "plots", "curves.png"), title="seq2seq-attention")
    with open(os.path.join(run_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return summary


def attention_pictures(task, problems, answers, weights, run_dir):
    """plots/attention_{i}.png for each problem: the decoder's attention weights while decoding greedily,
    rows = output tokens (up to <eos>), columns = source tokens. Returns the paths."""
    from ..tasks.toy import PAD, SPECIALS
    from ..viz import plot_attention

    def symbol(i):
        return task.itos[i] if i >= len(SPECIALS) else SPECIALS[i]

    paths = []
    for i, problem in enumerate(problems):
        src = task.source(problem[None])[0]
        src = src[src != PAD]
        out = answers[i].tolist()
        rows = out[: out.index(EOS) + 1] if EOS in out else out
        w = weights[i][: len(rows), : len(src)]
        path = os.path.join(run_dir, "plots", f"attention_{i}.png")
        plot_attention(w, [symbol(t) for t in src], [symbol(t) for t in rows], path=path,
                       title=f"additive attention: {task.describe(problem)}")
        paths.append(path)
    return paths


def evaluate_seq2seq(config, state):
    task = _seq2seq_task(config)
    model = _seq2seq_model(config, task)
    model.load_state_dict(state["model"])
    test = task.test_set(config.test_problems, seed=config.seed + 2)
    return {"recipe": "seq2seq-attention", "test_exact_match": _exact(model, task, test),
            "test_problems": len(test), "step": state["step"]}


register(Recipe("seq2seq-attention", "encoder-decoder GRU with additive attention writing numbers in words: >= 99% "
                "exact match on held-out numbers", Seq2SeqConfig, run_seq2seq, evaluate_seq2seq))

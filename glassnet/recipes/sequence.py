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
as when it is given a prompt). Adam, warmup + cosine learning rate and gradient clipping. The
validation loss is the mean cross-entropy in nats per character over ALL validation characters (the
last 10%), read the same way as 16 streams carrying their state, in chunks of `seq_len` (about 100
batches).

Each run writes samples.txt (generated text), plots/hidden_states.png (the top layer's hidden state
while generating) and plots/vanishing_gradients.png (the gradient of the last step's loss with respect
to each earlier state, for the trained model and for freshly initialised RNN, LSTM and GRU on the same
text; see glassnet.viz.rnn_gradients). A checkpoint holds the stream position and the carried hidden
state, so --resume continues bit for bit.
"""
import os
from dataclasses import dataclass

import numpy as np

from .. import optim
from ..models.char_rnn import CharRNN
from ..models.seq2seq_rnn import Seq2SeqRNN
from ..nn import functional as F
from ..nn.utils import evaluating
from ..random import Generator, rng
from ..tasks import BOS, EOS, make_task
from ..tensor import Tensor
from ..text import CharTokenizer
from ..train import DrawnBatches
from ..train.evaluation import seq2seq_loss
from ..train.progress import progress_bar
from ..utils.data import StreamBatcher
from . import Recipe, register
from .common import HeldOut, in_chunks, steps_experiment, text_sample
from .config import ProblemsConfig, StepsConfig, data_dir_flag, data_from, flag, one_of, positive, probability, \
    unit_interval


# =================================================================================================
# character language models: char-rnn, char-lstm, char-gru
# =================================================================================================
@dataclass
class CharConfig(StepsConfig):
    iters: int = flag(3000, "optimizer steps (3000 x 32 x 64 characters: about 6 passes over the text)", positive)
    batch_size: int = flag(32, "parallel text streams per step", positive)
    seq_len: int = flag(64, "characters per stream per step (truncated BPTT length)", positive)
    embed_dim: int = flag(64, "character embedding size", positive)
    hidden_size: int = flag(256, "units of each recurrent layer", positive)
    num_layers: int = flag(2, "recurrent layers", positive)
    dropout: float = flag(0.0, "dropout between the recurrent layers and before the output layer", probability)
    reset_prob: float = flag(0.05, "chance that a stream's carried state is reset to zeros before a chunk",
                             unit_interval)
    lr: float = flag(3e-3, "peak learning rate (Adam)", positive)
    min_lr: float = flag(3e-4, "learning rate at the end of the cosine decay")
    warmup: int = flag(50, "linear warmup steps")
    weight_decay: float = flag(0.0, "Adam weight decay (L2)")
    eval_every: int = flag(500, "steps between validation evaluations", positive)
    eval_streams: int = flag(16, "parallel streams when reading the validation text", positive)
    train_chars: int = flag(0, "train on only the first N training characters (0: all)")
    val_chars: int = flag(0, "validate on only the first N validation characters (0: all)")
    sample_chars: int = flag(500, "characters of generated text written to samples.txt at the end")
    temperature: float = flag(0.8, "sampling temperature of samples.txt")
    pictures: bool = flag(True, "draw the hidden-state and vanishing-gradient pictures at the end")
    data_dir: str = data_dir_flag("tinyshakespeare/input.txt")


@dataclass
class CharRNNConfig(CharConfig):
    lr: float = flag(2e-3, "peak learning rate (Adam)", positive)


def shakespeare_chars(data_dir, train_chars=0, val_chars=0):
    """(tokenizer over the whole text, training ids, validation ids), limited to the first train_chars /
    val_chars characters when those are not 0."""
    from ..datasets import TinyShakespeare

    with data_from(data_dir) as (root, download):
        train = TinyShakespeare(root=root, split="train", download=download)
        val = TinyShakespeare(root=root, split="val", download=download)
    tok = train.char_tokenizer()
    train_ids, val_ids = train.encode(tok), val.encode(tok)
    return tok, train_ids[: train_chars or None], val_ids[: val_chars or None]


def stream_loss(model, ids, streams, seq_len):
    """Mean cross-entropy in nats per character of the next-character predictions over ids, read as
    `streams` parallel streams carrying their state from chunk to chunk (eval mode, no graph).
    Returns (loss, number of batches, number of characters predicted)."""
    batcher = StreamBatcher(ids, min(streams, len(ids) - 1), seq_len)
    total, count, state = 0.0, 0, None
    with evaluating(model):
        for x, y in progress_bar(batcher, "validation", total=len(batcher)):
            logits, state = model(x, state)
            n = y.numel()
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item() * n
            count += n
    return total / count, len(batcher), count


class TBPTT:
    """Truncated BPTT as a batch source of the training loop: `next()` gives the next chunk of the
    streams (from the start again after the last one), `loss(model, batch)` runs the model from the
    state the previous chunk ended with; the new state is kept, detached. A checkpoint holds the
    position and that carried state.

    reset_prob: the chance that a stream's carried state is set back to zeros before a chunk (drawn
    from glassnet's default generator). Without resets the model only ever meets the zero state at
    the very start of the text, and then fails to read a prompt from scratch when sampling.
    """

    epoch_end = False  # a new pass over the text only resets the state; it does not cut a step

    def __init__(self, batcher, reset_prob=0.0):
        if not 0 <= reset_prob <= 1:
            raise ValueError(f"TBPTT: reset_prob must be in [0, 1], got {reset_prob!r}")
        self.batcher, self.position, self.state, self.reset_prob = batcher, 0, None, reset_prob

    @property
    def epochs(self):
        return self.position / len(self.batcher)

    def next(self):
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

    def loss(self, model, batch):
        x, y = batch
        loss, state = model.loss(x, y, self._reset_some(self.state))
        self.state = model.detach_state(state)
        return loss

    def state_dict(self):
        return {"position": self.position, "state": self.state}

    def load_state_dict(self, state):
        self.position, self.state = state["position"], state["state"]


def _char_model(config, cell, vocab_size):
    return CharRNN(vocab_size, config.embed_dim, config.hidden_size, config.num_layers, cell=cell,
                   dropout=config.dropout)


def _char_pictures(model, config, cell, tok, val_ids, run_dir, steps=100):
    """plots/hidden_states.png and plots/vanishing_gradients.png; returns summary entries."""
    from ..viz.rnn_gradients import plot_generated_hidden_states, plot_state_gradients, relative, \
        state_gradient_norms_by_cell

    out = os.path.join(run_dir, "plots")
    paths = [os.path.join(out, name) for name in ("hidden_states.png", "vanishing_gradients.png")]
    _, text = plot_generated_hidden_states(model, tok, "ROMEO:", 80, paths[0], generator=Generator(config.seed))
    tokens = val_ids[: min(steps + 1, len(val_ids))]
    profiles = state_gradient_norms_by_cell(tokens, tok.vocab_size, config.embed_dim, config.hidden_size,
                                            config.num_layers, config.seed, models={f"{cell} (trained)": model})
    plot_state_gradients(profiles, paths[1], title=f"gradient of the last step's loss w.r.t. earlier states "
                                                   f"({len(tokens) - 1} validation characters)")
    back = min(50, len(tokens) - 2)
    return {"hidden_states_text": text, "plots": paths,
            f"grad_ratio_{back}_steps_back": {k: float(relative(v)[-1 - back]) for k, v in profiles.items()}}


def _char_build(cell):
    def build(config):
        tok, train_ids, val_ids = shakespeare_chars(config.data_dir, config.train_chars, config.val_chars)
        model = _char_model(config, cell, tok.vocab_size)
        optimizer = optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        tbptt = TBPTT(StreamBatcher(train_ids, config.batch_size, config.seq_len, drop_last=True), config.reset_prob)

        def evaluate(m):
            return {"val_loss": stream_loss(m, val_ids, config.eval_streams, config.seq_len)[0]}

        def report(m, run_dir):
            out = text_sample(m, tok, run_dir, config.sample_chars, config.temperature, config.seed)
            if config.pictures:
                out.update(_char_pictures(m, config, cell, tok, val_ids, run_dir))
            return out

        return steps_experiment(config, model, optimizer, tbptt, loss=tbptt.loss, evaluate=evaluate, report=report,
                                monitor="val_loss", items=lambda b: b[0].numel(), unit="char",
                                extra={"vocab": tok.chars})

    def sampler(config, extra):
        return _char_model(config, cell, len(extra["vocab"])), CharTokenizer.from_vocab(extra["vocab"])

    return build, sampler


for _name, _cell, _config, _goal in (("char-rnn", "rnn", CharRNNConfig, ""),
                                     ("char-lstm", "lstm", CharConfig, ": validation loss <= 1.55 nats/char"),
                                     ("char-gru", "gru", CharConfig, "")):
    register(Recipe(_name, f"character-level {_cell.upper()} (2 layers) on tiny Shakespeare{_goal}", _config,
                    *_char_build(_cell)))


# =================================================================================================
# seq2seq-attention: encoder-decoder RNN with additive attention on a toy task
# =================================================================================================
@dataclass
class Seq2SeqConfig(StepsConfig, ProblemsConfig):
    task: str = flag("number-words", "toy task of glassnet.tasks", one_of("number-words", "reverse", "sort", "copy"))
    length: int = flag(10, "digits per sequence (reverse, sort, copy)", positive)
    batch_size: int = flag(64, "problems per step", positive)
    embed_dim: int = flag(32, "token embedding size", positive)
    hidden_size: int = flag(128, "units of the encoder (each direction) and the decoder", positive)
    cell: str = flag("gru", "decoder cell", one_of("gru", "lstm"))
    lr: float = flag(3e-3, "peak learning rate (Adam)", positive)
    warmup: int = flag(50, "linear warmup steps")
    pictures: int = flag(4, "held-out examples whose attention maps are drawn")


def _seq2seq_task(config):
    return make_task("number-words") if config.task == "number-words" else make_task(config.task, length=config.length)


def greedy_answers(model, task, problems, batch_size=1000):
    """Greedy decodings (N, L) and attention weights (list of (L, S) arrays) of problems."""
    tokens, weights = [], []
    for chunk in in_chunks(problems, batch_size, "decoding"):
        t, w = model.greedy_decode(Tensor._make(task.source(chunk)), BOS, EOS, max_len=task.answer_len + 1)
        tokens.append(np.pad(t, ((0, 0), (0, task.answer_len + 1 - t.shape[1])), constant_values=EOS))
        weights.extend(w)
    return np.concatenate(tokens), weights


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
        path = os.path.join(run_dir, "plots", f"attention_{i}.png")
        plot_attention(weights[i][: len(rows), : len(src)], [symbol(t) for t in src], [symbol(t) for t in rows],
                       path=path, title=f"additive attention: {task.describe(problem)}")
        paths.append(path)
    return paths


def build_seq2seq(config):
    task = _seq2seq_task(config)
    model = Seq2SeqRNN(task.vocab_size, task.vocab_size, config.embed_dim, config.hidden_size, cell=config.cell)
    optimizer = optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    held_out = HeldOut(task, config, lambda m, p: greedy_answers(m, task, p)[0], seq2seq_loss, task.seq2seq_batch)

    def report(m, run_dir):
        out = held_out.examples(run_dir)
        if config.pictures:
            chosen = held_out.test_set[held_out.longest(config.pictures)]
            out["plots"] = attention_pictures(task, chosen, *greedy_answers(m, task, chosen), run_dir)
        return out

    return steps_experiment(config, model, optimizer,
                            DrawnBatches(lambda: task.seq2seq_batch(task.sample(config.batch_size))),
                            loss=seq2seq_loss, evaluate=held_out.evaluate, test=held_out.test, report=report,
                            monitor="test_exact_match", mode="max")


register(Recipe("seq2seq-attention", "encoder-decoder GRU with additive attention writing numbers in words: >= 99% "
                "exact match on held-out numbers", Seq2SeqConfig, build_seq2seq))

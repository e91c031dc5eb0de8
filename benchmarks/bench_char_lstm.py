"""The char-lstm recipe's model and training step, glassnet against the same model in PyTorch.

    GLASSNET_DATA=... python benchmarks/bench_char_lstm.py [--steps 40] [--threads N]

1. Time per training step (benchmarks/common.py): one truncated-BPTT chunk of the recipe's default
   shape (batch_size streams x seq_len characters) -> embedding -> 2-layer LSTM -> linear ->
   cross-entropy -> backward -> gradient clipping -> Adam step, the state carried and detached between
   steps. Also the forward alone without a graph (the validation pass).
2. The same model and steps in both: both start from the same weights and train on the same tiny
   Shakespeare chunks for --steps steps with the recipe's learning-rate schedule (compressed to those
   steps); the training losses of the last steps and the validation loss on the same characters are
   printed side by side. They should agree within float32 noise (larger with dropout, whose masks
   differ between the libraries).
"""
import common  # noqa: F401  (first: pins the thread counts before NumPy loads)
import numpy as np
import torch

import glassnet as gn
from glassnet.recipes.sequence import CharConfig, _char_model, shakespeare_chars, stream_loss
from glassnet.train import WarmupCosineLR
from glassnet.utils.data import StreamBatcher


class TorchCharLSTM(torch.nn.Module):
    """The same modules and parameter names as glassnet.models.CharRNN(cell='lstm')."""

    def __init__(self, config, vocab):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, config.embed_dim)
        self.rnn = torch.nn.LSTM(config.embed_dim, config.hidden_size, config.num_layers, batch_first=True,
                                 dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.drop = torch.nn.Dropout(config.dropout)
        self.head = torch.nn.Linear(config.hidden_size, vocab)

    def forward(self, idx, state=None):
        out, state = self.rnn(self.embed(idx), state)
        return self.head(self.drop(out)), state


def make_steps(config, gm, tm):
    """A training step closure for each library, each carrying its own state."""
    g_opt = gn.optim.Adam(gm.parameters(), lr=config.lr)
    t_opt = torch.optim.Adam(tm.parameters(), lr=config.lr)
    carry = {"g": None, "t": None}

    def g_step(x, y, lr):
        for group in g_opt.param_groups:
            group["lr"] = lr
        loss, state = gm.loss(x, y, carry["g"])
        carry["g"] = gm.detach_state(state)
        g_opt.zero_grad()
        loss.backward()
        gn.nn.utils.clip_grad_norm_(gm.parameters(), config.clip_grad_norm)
        g_opt.step()
        return loss.item()

    def t_step(x, y, lr):
        for group in t_opt.param_groups:
            group["lr"] = lr
        logits, state = tm(x, carry["t"])
        carry["t"] = tuple(s.detach() for s in state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        t_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(tm.parameters(), config.clip_grad_norm)
        t_opt.step()
        return loss.item()

    return g_step, t_step


def torch_stream_loss(model, ids, streams, seq_len):
    batcher = StreamBatcher(ids, streams, seq_len)
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for x, y in batcher:
            logits, state = model(torch.from_numpy(x.array), state)
            n = y.numel()
            total += torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                       torch.from_numpy(y.array).reshape(-1)).item() * n
            count += n
    model.train()
    return total / count


def run(args):
    config = CharConfig(val_chars=args.val_chars)  # the data: $GLASSNET_DATA, else the cache
    tok, train_ids, val_ids = shakespeare_chars(config.data_dir, config.train_chars, config.val_chars)
    gn.manual_seed(config.seed)
    gm = _char_model(config, "lstm", tok.vocab_size)
    tm = TorchCharLSTM(config, tok.vocab_size)
    tm.load_state_dict({k: torch.from_numpy(v.array.copy()) for k, v in gm.state_dict().items()})
    batcher = StreamBatcher(train_ids, config.batch_size, config.seq_len, drop_last=True)

    # 1. timing (the weights move during the timing; that does not change the cost)
    g_step, t_step = make_steps(config, gm, tm)
    gx, gy = batcher[0]
    tx, ty = torch.from_numpy(gx.array), torch.from_numpy(gy.array)
    rows = [common.compare(f"train step (B={config.batch_size}, T={config.seq_len}, H={config.hidden_size}, "
                           f"{config.num_layers} layers, clip + Adam)", lambda: g_step(gx, gy, config.lr),
                           lambda: t_step(tx, ty, config.lr), args)]

    def g_forward():
        with gn.no_grad():
            gm(gx)

    def t_forward():
        with torch.no_grad():
            tm(tx)

    gm.eval(), tm.eval()
    rows.append(common.compare("forward only, no grad", g_forward, t_forward, args))
    gm.train(), tm.train()
    common.report("char-lstm recipe step, glassnet vs PyTorch", rows)
    compare_training(args, config, tok, train_ids, val_ids, tm, batcher)


def schedule(config, steps):
    """The recipe's warmup + cosine learning rates (glassnet.train.WarmupCosineLR), compressed to `steps` steps."""
    opt = gn.optim.SGD([gn.nn.Parameter(gn.zeros(1))], lr=config.lr)
    sched = WarmupCosineLR(opt, total=steps, warmup=min(config.warmup, steps // 4), min_lr=config.min_lr)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def compare_training(args, config, tok, train_ids, val_ids, tm, batcher):
    """2. the same model and steps from the same weights: the losses side by side."""
    gn.manual_seed(config.seed)
    gm = _char_model(config, "lstm", tok.vocab_size)
    tm.load_state_dict({k: torch.from_numpy(v.array.copy()) for k, v in gm.state_dict().items()})
    g_step, t_step = make_steps(config, gm, tm)
    lrs = schedule(config, args.steps)
    g_losses, t_losses = [], []
    for step in range(args.steps):
        x, y = batcher[step % len(batcher)]
        g_losses.append(g_step(x, y, lrs[step]))
        t_losses.append(t_step(torch.from_numpy(x.array), torch.from_numpy(y.array), lrs[step]))
    tail = max(1, args.steps // 10)
    g_val = stream_loss(gm, val_ids, config.eval_streams, config.seq_len)[0]
    t_val = torch_stream_loss(tm, val_ids, config.eval_streams, config.seq_len)
    print(f"\nsame model, same {args.steps} steps from the same weights (dropout {config.dropout}):")
    print("| | glassnet | torch | difference |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| first training loss | {g_losses[0]:.4f} | {t_losses[0]:.4f} | {g_losses[0] - t_losses[0]:+.2e} |")
    g_tail, t_tail = np.mean(g_losses[-tail:]), np.mean(t_losses[-tail:])
    print(f"| mean training loss, last {tail} steps | {g_tail:.4f} | {t_tail:.4f} | {g_tail - t_tail:+.2e} |")
    print(f"| validation loss ({len(val_ids)} chars) | {g_val:.4f} | {t_val:.4f} | {g_val - t_val:+.2e} |")


if __name__ == "__main__":
    parser = common.parser(__doc__)
    parser.add_argument("--steps", type=int, default=40, help="training steps of the same-steps comparison")
    parser.add_argument("--val-chars", type=int, default=20000, help="validation characters for the final loss")
    common.main(parser, run)

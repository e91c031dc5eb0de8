"""PyTorch counterpart of `glassnet train gpt-shakespeare`, for whole-process timing: nanoGPT's small CPU
settings, as the recipe's defaults (glassnet/recipes/transformers.py, ShakespeareConfig).

    GLASSNET_DATA=... OMP_NUM_THREADS=1 python benchmarks/e2e/torch_gpt_shakespeare.py
    GLASSNET_DATA=... python benchmarks/e2e/torch_gpt_shakespeare.py --iters 20 --eval-every 10   # smoke run

  data       tiny Shakespeare ($GLASSNET_DATA/tinyshakespeare/input.txt), characters -> ids by their rank in
             the sorted set of the whole text's characters (65); the first 90% trains, the rest validates
  model      benchmarks/models.py gpt(torch): glassnet.models.GPT's layout and initialisation, 4 layers x
             4 heads x 128, context 64, no biases, no dropout, tanh GELU (as glassnet's GPT), weight tying
  training   2000 iterations of 12 random windows of 64 characters; AdamW lr 1e-3, betas (0.9, 0.99),
             weight decay 0.1 on the matrices only; linear warmup over 100 steps, then a cosine to 1e-4
             at step 2000; no gradient clipping; the loss read every step
  evaluation every 500 steps (and at the end): the mean loss of 20 random validation windows batches,
             then a checkpoint of the model and optimizer (torch.save; 'best' when it improved);
             at the end: 200 batches of validation and of training windows, and 500 sampled
             characters (with a key/value cache), as the recipe

Prints the evaluations and, at the end, the validation loss and the wall time since the process started.
glassnet's run also draws its loss curves at the end; this script does not.
"""
import time

START = time.perf_counter()  # the process's wall time includes importing PyTorch

import argparse  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import models  # noqa: E402  (benchmarks/models.py)


def cosine_lr(step, lr, min_lr, warmup, total):
    """glassnet.train.lm.cosine_lr: linear warmup, then a half cosine from lr to min_lr at `total`."""
    if step < warmup:
        return lr * (step + 1) / warmup
    if step >= total:
        return min_lr
    progress = (step - warmup) / max(1, total - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - min_lr)


def windows(data, block, batch, generator=None):
    starts = torch.randint(len(data) - block, (batch,), generator=generator)
    x = torch.stack([data[s:s + block] for s in starts.tolist()])
    y = torch.stack([data[s + 1:s + 1 + block] for s in starts.tolist()])
    return x, y


def window_loss(model, data, args, batches, seed):
    """Mean loss over `batches` random windows batches, the same windows for the same seed."""
    g = torch.Generator().manual_seed(seed)
    model.eval()
    with torch.no_grad():
        total = sum(model(*windows(data, args.block_size, args.batch_size, g))[1].item() for _ in range(batches))
    model.train()
    return total / batches


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--eval-iters", type=int, default=20)
    p.add_argument("--final-eval-iters", type=int, default=200)
    p.add_argument("--sample-chars", type=int, default=500)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--data-dir", default=None, help="folder with tinyshakespeare/ (default: $GLASSNET_DATA)")
    p.add_argument("--out", default="runs/torch-gpt-shakespeare", help="folder for the checkpoints")
    args = p.parse_args()
    with open(os.path.join(args.data_dir or os.environ["GLASSNET_DATA"], "tinyshakespeare", "input.txt")) as f:
        text = f.read()
    chars = sorted(set(text))
    rank = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([rank[c] for c in text], dtype=torch.int64)
    n_train = int(len(text) * 0.9)
    train, val = ids[:n_train], ids[n_train:]

    torch.manual_seed(args.seed)
    model = models.gpt(torch, vocab_size=len(chars), block_size=args.block_size, gelu="tanh")
    optimizer = torch.optim.AdamW(models.decay_groups(model, 0.1), lr=args.lr, betas=(0.9, 0.99))
    os.makedirs(args.out, exist_ok=True)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{sum(q.numel() for q in model.parameters()):,} parameters")
    best = math.inf
    for step in range(1, args.iters + 1):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step - 1, args.lr, args.min_lr, args.warmup, args.iters)
        _, loss = model(*windows(train, args.block_size, args.batch_size))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()
        if step % args.eval_every == 0 or step == args.iters:
            val_loss = window_loss(model, val, args, args.eval_iters, args.seed + 1)
            print(f"step {step}: val_loss {val_loss:.4f} ({time.perf_counter() - START:.1f} s)", flush=True)
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}
            if val_loss < best:
                best = val_loss
                torch.save(state, os.path.join(args.out, "best.pt"))
            torch.save(state, os.path.join(args.out, "last.pt"))
    val_loss = window_loss(model, val, args, args.final_eval_iters, args.seed + 2)
    train_loss = window_loss(model, train, args, args.final_eval_iters, args.seed + 3)
    model.eval()
    sample = torch.cat(list(models.torch_stream(model, torch.zeros((1, 1), dtype=torch.int64), args.sample_chars,
                                                generator=torch.Generator().manual_seed(args.seed))), 1)
    with open(os.path.join(args.out, "samples.txt"), "w") as f:
        f.write("".join(chars[i] for i in [0] + sample[0].tolist()))
    print(f"val loss {val_loss:.4f}, train loss {train_loss:.4f} ({args.final_eval_iters} batches each)")
    print(f"wall time {time.perf_counter() - START:.1f} s (whole process, PyTorch import included)")


if __name__ == "__main__":
    main()

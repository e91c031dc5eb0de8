"""Efficient attention: Linformer and Performer against full attention, as the sequence grows, and what they
cost in quality.

    python benchmarks/bench_efficient_attention.py [--threads 1] [--blocks 3] [--lengths 256 ... 8192]
        [--plot docs/images/efficient_attention_scaling.png]
    GLASSNET_DATA=... python benchmarks/bench_efficient_attention.py --quality --threads 1 [--quality-steps 600]

1. Speed and memory (benchmarks/common.py): forward + backward of one attention layer's core, 1 sequence x
   4 heads x 32 dimensions per head, for each sequence length L:
       full              softmax(q k^T / sqrt(d)) v: the fused scaled_dot_product_attention, (L, L) weights
       linformer         keys and values projected onto 64 rows (E, F (64, L) learned)
       performer         FAVOR+ with m = d log d = 111 random features, not causal
       performer-causal  the same, causal (running sums over chunks of 64 positions)
   each timed against the same computation in PyTorch (its scaled_dot_product_attention; the projections
   then SDPA; FAVOR+ written in PyTorch), and glassnet's peak memory measured in a child process per case.
   Full attention's time and memory grow as L^2, the others' as L: the plot shows both on log-log axes.
2. Quality (--quality, needs tiny Shakespeare), CPU-sized: the validation loss after --quality-steps steps of
       a causal character model (GPT, 2 layers x 64, context 256): full and Performer attention
       a masked character model (an encoder, 2 layers x 64, context 256; 15% of the characters hidden, the
       loss on those): full, Linformer and Performer attention
   trained on the same batches (the two GPTs from the same initial weights, the encoders from the same seed).
"""
import common  # noqa: F401  (first: pins the thread counts before NumPy loads)
import math
import time

import numpy as np
import torch

import glassnet as gn
from glassnet.ops.efficient_attention import default_num_features
from glassnet.train import WarmupCosineLR

HEADS, HEAD_DIM, PROJ_DIM, CHUNK = 4, 32, 64, 64
NUM_FEATURES = default_num_features(HEAD_DIM)
VARIANTS = ("full", "linformer", "performer", "performer-causal")


# ---- the attention cores, in both libraries ----------------------------------------------------------
def torch_favor(q, k, v, w, causal):
    """FAVOR+ in PyTorch, linear in L (autograd for the backward): the same features and chunked running
    sums as glassnet's performer_attention."""
    c = q.shape[-1] ** -0.25

    def phi(x, per_row):
        x = x * c
        u = x @ w.T - 0.5 * (x * x).sum(-1, keepdim=True)
        u = u - (u.amax(-1, keepdim=True) if per_row else u.amax((-2, -1), keepdim=True)).detach()
        return torch.exp(u) / math.sqrt(w.shape[0])

    A, B = phi(q, True), phi(k, False)
    V1 = torch.cat([v, torch.ones_like(v[..., :1])], -1)
    if not causal:
        N = A @ (B.transpose(-1, -2) @ V1)
    else:
        state, parts = torch.zeros(*A.shape[:-2], A.shape[-1], V1.shape[-1]), []
        for s in range(0, A.shape[-2], CHUNK):
            a, b, x = A[..., s:s + CHUNK, :], B[..., s:s + CHUNK, :], V1[..., s:s + CHUNK, :]
            parts.append(a @ state + ((a @ b.transpose(-1, -2)).tril()) @ x)
            state = state + b.transpose(-1, -2) @ x
        N = torch.cat(parts, -2)
    return N[..., :-1] / N[..., -1:]


def attention(lib, variant, q, k, v, extra):
    F = lib.nn.functional
    if variant == "full":
        return F.scaled_dot_product_attention(q, k, v)
    if variant == "linformer":
        e, f = extra
        return F.linformer_attention(q, k, v, e, f) if lib is gn else F.scaled_dot_product_attention(q, e @ k, f @ v)
    causal = variant == "performer-causal"
    if lib is gn:
        return F.performer_attention(q, k, v, extra, causal=causal, chunk_size=CHUNK)
    return torch_favor(q, k, v, extra, causal)


def build_step(lib_name, case):
    """A zero-argument training step of `case` ("variant@L") in "glassnet" or "torch": forward on fresh
    gradients, backward with a fixed upstream gradient."""
    variant, L = case.split("@")
    L = int(L)
    lib = gn if lib_name == "glassnet" else torch
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((1, HEADS, L, HEAD_DIM)).astype(np.float32) for _ in range(4)]
    leaves = [lib.tensor(a, requires_grad=True) for a in arrays[:3]]
    grad = lib.tensor(arrays[3])
    extra = None
    if variant == "linformer":
        extra = [lib.tensor(rng.standard_normal((PROJ_DIM, L)).astype(np.float32) / math.sqrt(PROJ_DIM),
                            requires_grad=True) for _ in range(2)]
        leaves += extra
    elif variant.startswith("performer"):
        extra = lib.tensor(gn.nn.functional.orthogonal_random_features(NUM_FEATURES, HEAD_DIM, gn.Generator(0)).array)

    def step():
        for t in leaves:
            t.grad = None
        attention(lib, variant, *leaves[:3], extra).backward(grad)

    return step


def full_fits(L):
    """Whether full attention at L (about four (heads, L, L) float32 arrays at once) fits in half the memory
    available now."""
    with open("/proc/meminfo") as f:
        available = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable")) * 1024
    return 4 * HEADS * L * L * 4 < available / 2


# ---- 1. speed and memory -------------------------------------------------------------------------------
def speed(args):
    rows, results = [], {}
    for L in args.lengths:
        for variant in VARIANTS:
            if variant == "full" and not full_fits(L):
                print(f"  full attention at L={L} skipped: not enough memory", flush=True)
                continue
            case = f"{variant}@{L}"
            row = common.compare(f"{variant} L={L}", build_step("glassnet", case), build_step("torch", case), args)
            memory = common.peak_memory_mib("glassnet", case, args.threads) if not args.no_memory else math.nan
            rows.append(row)
            results[(variant, L)] = (row.ours_alone.median, memory)
    common.report(f"attention core fwd+bwd, 1 x {HEADS} heads x {HEAD_DIM} dims, Linformer k={PROJ_DIM}, "
                  f"Performer m={NUM_FEATURES}", rows)
    print("\nglassnet, alone: milliseconds per fwd+bwd and peak memory (MiB) above the set-up")
    print("\n| L | " + " | ".join(f"{v} ms | {v} MiB" for v in VARIANTS) + " |")
    print("| ---: |" + " ---: | ---: |" * len(VARIANTS))
    for L in args.lengths:
        cells = [f"{results[(v, L)][0] * 1e3:.1f} | {results[(v, L)][1]:.0f}" if (v, L) in results else "- | -"
                 for v in VARIANTS]
        print(f"| {L} | " + " | ".join(cells) + " |")
    if args.plot:
        plot(results, args.lengths, args.plot)
        print(f"\nplot: {args.plot}")


def plot(results, lengths, path):
    from glassnet.viz._figure import finish, new_figure

    fig = new_figure((11, 4.2))
    for i, (what, unit) in enumerate((("time per forward + backward", "ms"), ("peak memory", "MiB"))):
        ax = fig.add_subplot(1, 2, i + 1)
        for v in VARIANTS:
            pts = [(L, results[(v, L)][i] * (1e3 if i == 0 else 1)) for L in lengths if (v, L) in results]
            if pts:
                ax.plot(*zip(*pts), marker="o", label=v)
        L0 = lengths[0]
        for power, style in ((1, ":"), (2, "--")):  # reference slopes through the first Performer point
            ref = results.get(("performer", L0))
            if ref:
                y0 = ref[i] * (1e3 if i == 0 else 1)
                ax.plot(lengths, [y0 * (L / L0) ** power for L in lengths], "k" + style, linewidth=0.8,
                        label=f"~ L^{power}")
        ax.set(xscale="log", yscale="log", xlabel="sequence length L", ylabel=unit, title=what)
        ax.minorticks_off()
        ax.set_xticks(lengths)
        ax.set_xticklabels([str(L) for L in lengths])
        ax.legend(fontsize=8)
    finish(fig, path)


# ---- 2. quality -------------------------------------------------------------------------------------
class MaskedCharModel(gn.nn.Module):
    """Characters (+ a mask id) -> embedding + learned positions -> pre-norm encoder layers with the given
    self-attention modules -> logits over the characters."""

    def __init__(self, vocab, context, width, attentions):
        super().__init__()
        self.embed = gn.nn.Embedding(vocab + 1, width)
        self.pos = gn.nn.Parameter(np.random.default_rng(0).normal(0, 0.02, (1, context, width)).astype(np.float32))
        self.layers = gn.nn.ModuleList([
            gn.nn.TransformerEncoderLayer(width, HEADS, 4 * width, dropout=0.0, batch_first=True, norm_first=True,
                                          attention=a) for a in attentions])
        self.norm = gn.nn.LayerNorm(width)
        self.head = gn.nn.Linear(width, vocab)

    def forward(self, idx):
        x = self.embed(idx) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm(x))


def _self_attention(variant, width, context):
    nn = gn.nn
    if variant == "full":
        return None
    if variant == "linformer":
        return nn.LinformerSelfAttention(width, HEADS, context, PROJ_DIM, batch_first=True)
    return nn.PerformerSelfAttention(width, HEADS, batch_first=True)


def _masked(x, vocab, g):
    """15% of the positions replaced by the mask id; targets -100 (ignored) elsewhere."""
    hidden = g.random(x.shape) < 0.15
    return np.where(hidden, vocab, x), np.where(hidden, x, -100)


def _train(model, batch, steps, lr, loss_of):
    opt = gn.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = WarmupCosineLR(opt, total=steps, warmup=steps // 10, min_lr=lr / 10)
    began = time.process_time()
    for i in range(steps):
        loss = loss_of(model, batch(i))
        opt.zero_grad()
        loss.backward()
        gn.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    return time.process_time() - began


def quality(args):
    from glassnet.recipes.sequence import shakespeare_chars
    from glassnet.utils.data.language import random_windows

    tok, train_ids, val_ids = shakespeare_chars("")
    V, T, W, B, steps = tok.vocab_size, 256, 64, 8, args.quality_steps
    windows = [random_windows(train_ids, T, B, gn.Generator(1000 + i)) for i in range(steps)]
    val = [random_windows(val_ids, T, B, gn.Generator(5000 + i)) for i in range(args.quality_eval_batches)]

    def lm_loss(model, batch):
        return model(*batch)[1]

    print(f"\n## quality: {steps} steps, batch {B} x {T} characters, width {W}, 2 layers, {HEADS} heads\n")
    print("| task | attention | validation loss (nats/char) | training CPU s |")
    print("| --- | --- | ---: | ---: |")
    gn.manual_seed(0)
    start = gn.models.GPT(V, T, 2, HEADS, W).state_dict()
    for variant in ("full", "performer"):
        model = gn.models.GPT(V, T, 2, HEADS, W, attention=variant)
        model.load_state_dict(start, strict=False)  # the same initial weights (the Performer keeps its features)
        seconds = _train(model, lambda i: windows[i], steps, 2e-3, lm_loss)
        with gn.no_grad():
            loss = np.mean([lm_loss(model.eval(), b).item() for b in val])
        print(f"| causal LM, context {T} | {variant} | {loss:.3f} | {seconds:.1f} |", flush=True)
    masked_train = [_masked(x.array, V, np.random.default_rng(i)) for i, (x, _) in enumerate(windows)]
    masked_val = [_masked(x.array, V, np.random.default_rng(10 ** 6 + i)) for i, (x, _) in enumerate(val)]

    def masked_loss(model, batch):
        logits = model(gn.tensor(batch[0]))
        return gn.nn.functional.cross_entropy(logits.reshape(-1, V), gn.tensor(batch[1]).reshape(-1))

    for variant in ("full", "linformer", "performer"):
        gn.manual_seed(0)
        model = MaskedCharModel(V, T, W, [_self_attention(variant, W, T) for _ in range(2)])
        seconds = _train(model, lambda i: masked_train[i], steps, 2e-3, masked_loss)
        with gn.no_grad():
            loss = np.mean([masked_loss(model.eval(), b).item() for b in masked_val])
        print(f"| masked chars (15%), context {T} | {variant} | {loss:.3f} | {seconds:.1f} |", flush=True)


def run(args):
    if args.quality:
        quality(args)
    else:
        speed(args)


if __name__ == "__main__":
    p = common.parser(__doc__)
    p.add_argument("--lengths", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096, 8192])
    p.add_argument("--plot", default=None, help="write the scaling plot here (.png)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory children")
    p.add_argument("--quality", action="store_true", help="the quality comparison instead of the timings")
    p.add_argument("--quality-steps", type=int, default=600, help="training steps per model (default 600)")
    p.add_argument("--quality-eval-batches", type=int, default=20, help="validation batches (default 20)")
    common.main(p, run, build_step)

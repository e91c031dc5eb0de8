"""Generation speed: tokens per second of glassnet's GPT (the gpt-shakespeare size: 4 layers x 4 heads
x 128, context 64, vocabulary 65, no biases) with its key/value cache, against the same model in
PyTorch with a key/value cache of its own (benchmarks/models.py), same weights, batch 1, sampling
at temperature 1.

    python benchmarks/bench_generate.py [--threads N]

Rows (times per generated token):
  - filling the context: from a 1-token prompt, 63 new tokens, each one cached forward of one token;
  - sliding window: from a 64-token prompt, 32 new tokens; the context is full, every position shifts
    at each step, so each token costs a forward of the whole 64-token window (in both frameworks);
  - one generate(context, 1) call per token (how glassnet/generate.py asks today): glassnet rebuilds
    its cache for every token; PyTorch as in the first row.
"""
import common  # noqa: F401  (first: pins the thread counts before NumPy loads)
import models
import numpy as np
import torch

import glassnet
from glassnet.models import GPT

BLOCK = 64


def _models():
    glassnet.manual_seed(0)
    ours = GPT(models.VOCAB, BLOCK, 4, 4, 128, bias=False).eval()
    theirs = models.gpt(torch, block_size=BLOCK, gelu="tanh").eval()  # glassnet's GPT uses the tanh GELU
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in models.numpy_state(ours).items()})
    prompt = np.random.default_rng(0).integers(0, models.VOCAB, (1, BLOCK))
    with glassnet.no_grad(), torch.no_grad():
        a = ours(glassnet.tensor(prompt))[0].array[:, -1]
        b = theirs(torch.from_numpy(prompt))[0][:, -1].numpy()
    if np.abs(a - b).max() > 1e-4:
        raise SystemExit(f"the two models' logits differ by {np.abs(a - b).max():.2e}")
    return ours, theirs, prompt


def _one_call_per_token(model, prompt, n, generator):
    """glassnet/generate.py's loop before GPT.stream: generate(window, 1) for every new token."""
    context = prompt.array[0]
    for _ in range(n):
        out = model.generate(glassnet.tensor(context[-BLOCK:][None]), 1, generator=generator)
        context = np.append(context, out.array[0, -1])


def run(args):
    ours, theirs, prompt = _models()
    g, t = glassnet.Generator(0), torch.Generator().manual_seed(0)
    rows = []
    for label, n, length in (("filling the context: 1-token prompt, 63 tokens", 63, 1),
                             ("sliding window: 64-token prompt, 32 tokens", 32, BLOCK)):
        ours_prompt, theirs_prompt = glassnet.tensor(prompt[:, :length]), torch.from_numpy(prompt[:, :length])
        rows.append(common.compare(label, lambda: list(ours.stream(ours_prompt, n, generator=g)),
                                   lambda: list(models.torch_stream(theirs, theirs_prompt, n, generator=t)),
                                   args, per=n))
    one, one_t = glassnet.tensor(prompt[:, :1]), torch.from_numpy(prompt[:, :1])
    rows.append(common.compare("glassnet one generate(context, 1) per token vs PyTorch cached, 63 tokens",
                               lambda: _one_call_per_token(ours, one, 63, g),
                               lambda: list(models.torch_stream(theirs, one_t, 63, generator=t)), args, per=63))
    common.report("GPT generation, batch 1, gpt-shakespeare size", rows, per_label="token")
    print()
    common.print_rate(rows)


if __name__ == "__main__":
    common.main(common.parser(__doc__), run)

"""Sampling text from a trained language model, one character (token) at a time, as it is produced.

    from glassnet.generate import sample
    text = sample(model, tokenizer, "ROMEO:", length=300, temperature=0.8, top_k=20,
                  generator=gn.Generator(0), out=sys.stdout)      # printed while it is generated

Each step turns the model's logits for the next token into a choice:

    temperature T:  p_i = softmax(logits / T)_i   (T < 1 sharper, T > 1 flatter, T = 0 always the argmax)
    top_k k:        keep the k largest logits, the others get probability 0, then renormalise

and draws from `generator` (default: glassnet's default generator), so the same seed gives the same
text. A recurrent model (one with a `step(ids, state)` method, like glassnet.models.CharRNN) reads the
prompt once and then carries its state, one step per new token; any other model with a
`generate(idx, max_new_tokens, temperature, top_k, generator=...)` method (glassnet.models.GPT) is asked
for one token at a time on the (cropped) context.

`glassnet sample <run-or-checkpoint> --prompt "ROMEO:"` runs `sample_command`.
"""
import os
import sys

import numpy as np

from .autograd import no_grad
from .tensor import Tensor

__all__ = ["sample", "stream", "sample_next", "sample_with_states", "sample_command", "register_sampler",
           "load_for_sampling"]


def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    """One token id per row of logits (B, V) (NumPy array or Tensor), drawn with temperature and top-k;
    returns (B,) int64."""
    from .models.gpt import sample_next_token

    logits = np.asarray(logits.array if isinstance(logits, Tensor) else logits)
    if logits.ndim != 2:
        raise ValueError(f"sample: expected logits (batch, vocab), got shape {logits.shape}")
    return sample_next_token(logits, temperature, top_k, None, generator)


def _check(prompt, length, temperature, top_k):
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"sample: prompt must be a non-empty str (the text to continue), got {prompt!r}")
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"sample: length must be a non-negative int, got {length!r}")
    if not (isinstance(temperature, (int, float)) and temperature >= 0):
        raise ValueError(f"sample: temperature must be a number >= 0, got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1):
        raise ValueError(f"sample: top_k must be a positive int or None, got {top_k!r}")


def _token_stream(model, ids, length, temperature, top_k, generator, states=None):
    """Yield `length` new token ids continuing `ids` (1-D int64 array). With `states` (a list), the
    recurrent model's state after each new token is appended to it."""
    if hasattr(model, "step"):
        logits, state = model(Tensor._make(ids[None]))  # read the prompt in one go
        logits = logits[:, -1]
        for _ in range(length):
            nxt = sample_next(logits, temperature, top_k, generator)
            yield int(nxt[0])
            logits, state = model.step(Tensor._make(nxt), state)
            if states is not None:
                states.append(state)
    elif hasattr(model, "generate"):
        block = getattr(model, "block_size", None)
        context = ids
        for _ in range(length):
            window = context[-block:] if block else context
            out = model.generate(Tensor._make(window[None]), 1, temperature=temperature, top_k=top_k,
                                 generator=generator)
            nxt = int(out.array[0, -1])
            context = np.append(context, nxt)
            yield nxt
    else:
        raise TypeError(f"sample: {type(model).__name__} has neither step(ids, state) (a recurrent model) nor "
                        "generate(idx, n, ...) (a context model)")


def stream(model, tokenizer, prompt, length, temperature=1.0, top_k=None, generator=None):
    """Yield the generated text piece by piece (one token's text each), continuing `prompt`.

    The model runs in eval mode (no dropout) without a graph; its mode is restored afterwards."""
    _check(prompt, length, temperature, top_k)
    ids = np.asarray(tokenizer.encode(prompt), dtype=np.int64)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for token in _token_stream(model, ids, length, temperature, top_k, generator):
                yield tokenizer.decode([token])
    finally:
        model.train(was_training)


def sample(model, tokenizer, prompt, length, temperature=1.0, top_k=None, generator=None, out=None):
    """`length` tokens continuing `prompt`: returns the prompt followed by the generated text.

    temperature: divides the logits (0: greedy); top_k: sample only among the k most likely tokens;
    generator: a glassnet Generator (the same seed, the same text); out: a text stream (e.g.
    sys.stdout) that receives the prompt and then each piece as soon as it is generated.
    """
    pieces = [prompt]
    if out is not None:
        out.write(prompt)
        out.flush()
    for piece in stream(model, tokenizer, prompt, length, temperature, top_k, generator):
        pieces.append(piece)
        if out is not None:
            out.write(piece)
            out.flush()
    return "".join(pieces)


def sample_with_states(model, tokenizer, prompt, length, temperature=1.0, top_k=None, generator=None):
    """Generated text of a recurrent model, and its top layer's hidden state after every character of the
    prompt and of the generated text: returns (generated text, token strings of the prompt and the
    generated text, states (len(prompt tokens) + length, hidden_size) array)."""
    _check(prompt, length, temperature, top_k)
    if not hasattr(model, "step"):
        raise TypeError(f"sample_with_states: needs a recurrent model with step(ids, state), got "
                        f"{type(model).__name__}")
    ids = np.asarray(tokenizer.encode(prompt), dtype=np.int64)
    states = []
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            prompt_h = model.features(Tensor._make(ids[None]))[0].array[0]  # (len(prompt), H)
            tokens = list(_token_stream(model, ids, length, temperature, top_k, generator, states))
    finally:
        model.train(was_training)
    pieces = [tokenizer.decode([t]) for t in tokens]
    h = np.concatenate([prompt_h] + [model.top_hidden(s).array for s in states])
    return "".join(pieces), [tokenizer.decode([t]) for t in ids.tolist()] + pieces, h


# ---- the command line -----------------------------------------------------------------------------
_SAMPLERS = {}


def register_sampler(recipe_name, loader):
    """Declare how to rebuild a recipe's model and tokenizer from a checkpoint:
    loader(config dict, checkpoint state) -> (model with loaded weights, tokenizer)."""
    _SAMPLERS[recipe_name] = loader


def _load_gpt_shakespeare(config, state):
    import dataclasses

    from .recipes import transformers

    names = {f.name for f in dataclasses.fields(transformers.ShakespeareConfig)}
    cfg = transformers.ShakespeareConfig(**{k: v for k, v in config.items() if k in names})
    tok, _, _ = transformers._shakespeare_data(cfg)
    model = transformers._shakespeare_model(cfg, tok.vocab_size)
    model.load_state_dict(state["model"])
    return model, tok


def _checkpoint_file(path):
    """A run folder's best checkpoint (else its last one), or the checkpoint file itself."""
    if os.path.isdir(path):
        for name in ("best.safetensors", "last.safetensors"):
            candidate = os.path.join(path, "checkpoints", name)
            if os.path.exists(candidate):
                return candidate
        raise FileNotFoundError(f"sample: {path} has no checkpoints/best.safetensors or checkpoints/last.safetensors")
    if not os.path.exists(path):
        raise FileNotFoundError(f"sample: no such run folder or checkpoint file: {path}")
    return path


def load_for_sampling(path):
    """(model in eval mode, tokenizer, config) from a run folder or a checkpoint file."""
    from . import recipes
    from .train.checkpoint import load_checkpoint

    recipes.all_recipes()  # import the recipe modules
    from .recipes import sequence  # noqa: F401  (registers the char-* samplers)
    state = load_checkpoint(_checkpoint_file(path))
    config = state.get("config") or {}
    name = config.get("recipe")
    loader = _SAMPLERS.get(name) or ({"gpt-shakespeare": _load_gpt_shakespeare}.get(name))
    if loader is None:
        known = sorted(set(_SAMPLERS) | {"gpt-shakespeare"})
        raise ValueError(f"sample: the checkpoint's recipe {name!r} is not a language model that can be sampled; "
                         f"known: {', '.join(known)}")
    model, tokenizer = loader(config, state)
    model.eval()
    return model, tokenizer, config


def sample_command(args):
    """`glassnet sample PATH --prompt P --length N --temperature T --top-k K --seed S`: stream a sample
    to stdout. Returns the exit status."""
    from .random import Generator

    model, tokenizer, _ = load_for_sampling(args.path)
    top_k = getattr(args, "top_k", None)
    top_k = top_k if top_k and top_k > 0 else None
    prompt = getattr(args, "prompt", None) or "\n"
    prompt = prompt.replace("\\n", "\n")  # a typed \n is a newline
    seed = getattr(args, "seed", None)
    generator = Generator(seed) if seed is not None else None
    sample(model, tokenizer, prompt, getattr(args, "length", 500), getattr(args, "temperature", 0.8), top_k,
           generator, out=sys.stdout)
    sys.stdout.write("\n")
    return 0

"""Sampling text from a trained language model, one character (token) at a time, as it is produced.

    from glassnet.generate import sample
    text = sample(model, tokenizer, "ROMEO:", length=300, temperature=0.8, top_k=20,
                  generator=gn.Generator(0), out=sys.stdout)      # printed while it is generated

Each step turns the model's logits for the next token into a choice:

    temperature T:  p_i = softmax(logits / T)_i   (T < 1 sharper, T > 1 flatter, T = 0 always the argmax)
    top_k k:        keep the k largest logits, the others get probability 0, then renormalise

and draws from `generator` (default: glassnet's default generator), so the same seed gives the same
text. A recurrent model (one with a `step(ids, state)` method, like glassnet.models.CharRNN) reads the
prompt once and then carries its state, one step per new token; a model with a key/value cache and a
`stream(idx, n, temperature, top_k, ...)` generator (glassnet.models.GPT) runs one forward of one new
token per step.

`glassnet sample <run-or-checkpoint>` (glassnet.cli) rebuilds the model as its recipe declares and
calls `sample`.
"""
import numpy as np

from .nn.utils import evaluating
from .tensor import Tensor

__all__ = ["sample", "stream", "sample_next", "sample_with_states"]


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
    elif hasattr(model, "stream"):
        for nxt in model.stream(Tensor._make(ids[None]), length, temperature=temperature, top_k=top_k,
                                generator=generator):
            yield int(nxt[0])
    else:
        raise TypeError(f"sample: {type(model).__name__} has neither step(ids, state) (a recurrent model) nor "
                        "stream(idx, n, ...) (a model with a key/value cache)")


def stream(model, tokenizer, prompt, length, temperature=1.0, top_k=None, generator=None):
    """Yield the generated text piece by piece (one token's text each), continuing `prompt`.

    Each token is computed in eval mode (no dropout) without a graph; between the pieces the model's
    mode and the grad mode are the caller's."""
    _check(prompt, length, temperature, top_k)
    ids = np.asarray(tokenizer.encode(prompt), dtype=np.int64)
    tokens = _token_stream(model, ids, length, temperature, top_k, generator)
    while True:
        with evaluating(model):
            token = next(tokens, None)
        if token is None:
            return
        yield tokenizer.decode([token])


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
    with evaluating(model):
        prompt_h = model.features(Tensor._make(ids[None]))[0].array[0]  # (len(prompt), H)
        tokens = list(_token_stream(model, ids, length, temperature, top_k, generator, states))
    pieces = [tokenizer.decode([t]) for t in tokens]
    h = np.concatenate([prompt_h] + [model.top_hidden(s).array for s in states])
    return "".join(pieces), [tokenizer.decode([t]) for t in ids.tolist()] + pieces, h

"""Vanishing gradients through time in a vanilla RNN, an LSTM and a GRU, and hidden-state heatmaps.

The experiment. Take a character model (glassnet.models.CharRNN: embedding -> recurrent stack ->
linear) and one sequence x_0 ... x_{T-1}. Let L be the loss of the LAST step only: the cross-entropy
of the prediction made after x_{T-1} against the true next character. For every earlier step t we
measure ||dL/ds_t||, the gradient norm with respect to the recurrent state s_t right after step t
(all layers together; for the LSTM the state is the pair (h_t, c_t), for the RNN and the GRU it is h_t).

How: the fused layers (nn.LSTM etc.) run all steps in one operation and keep no per-step tensors, so
the stack is unrolled here with the one-step functions (F.rnn_tanh_cell, F.lstm_cell, F.gru_cell) on
the layer's own weights; each step's state is a graph tensor on which we call retain_grad(), and ONE
backward of L fills all the dL/ds_t. (The unrolled outputs equal the fused layer's, and each dL/ds_t
equals the gradient with respect to the initial state of the fused layer run from s_t on the rest of
the sequence, found with autograd.grad; the tests check both.)

What it shows. dL/ds_t = dL/ds_{T-1} * ds_{T-1}/ds_{T-2} * ... * ds_{t+1}/ds_t: a product of T-1-t
Jacobians. A vanilla RNN's Jacobian is diag(tanh') W_hh, whose norm is below 1 for a typical W_hh,
so the product shrinks geometrically: the gradient from the loss barely reaches states 20 steps back,
and the RNN cannot learn what depends on them. The LSTM's memory c_t = f_t * c_{t-1} + i_t * g_t has
the Jacobian dc_t/dc_{t-1} = diag(f_t), with no weight matrix and no squashing: where the forget gate
stays near 1 the gradient passes unchanged. The GRU's h_t = (1 - z_t) n_t + z_t h_{t-1} has the same
kind of direct path, scaled by the update gate z_t. At initialisation (gates near 1/2) the gated
cells already lose the gradient more slowly than the RNN; after training on text, the gates learn
to keep information and the difference grows by many orders of magnitude.

    profiles = state_gradient_norms_by_cell(tokens, vocab_size=65)   # {'rnn': (T,), 'lstm': ..., 'gru': ...}
    plot_state_gradients(profiles, "vanishing.png")
"""
import numpy as np

from ..nn import functional as F
from ..nn.utils import evaluating
from ..ops.indexing import stack
from ..tensor import Tensor
from ._figure import finish, new_figure
from .sequence import plot_hidden_states

__all__ = ["unroll", "state_gradient_norms", "relative", "state_gradient_norms_by_cell", "plot_state_gradients",
           "plot_generated_hidden_states", "token_label"]


def _layer_weights(rnn, layer):
    names = [f"weight_ih_l{layer}", f"weight_hh_l{layer}"]
    if rnn.bias:
        names += [f"bias_ih_l{layer}", f"bias_hh_l{layer}"]
    return [getattr(rnn, n) for n in names]


def unroll(rnn, x, retain=True):
    """Run a unidirectional nn.RNN / nn.LSTM / nn.GRU step by step with its one-step functions.

    x: (T, B, input_size) (batch_first is ignored: pass time first). Returns (outputs (T, B, H) of the top
    layer, states): states[t] is the list over layers of the state after step t (h, or (h, c) for the
    LSTM). These state tensors are a cut through the graph: they are clones that feed only the next
    step of their own layer (and, for the top layer, the output), while the layer above reads the
    original. So after a backward, their .grad (kept when `retain`) is the partial derivative with
    respect to the state s_t, everything else at step t held fixed: the gradient that flows back
    THROUGH TIME. No dropout (as in eval mode).
    """
    if rnn.bidirectional or getattr(rnn, "proj_size", 0):
        raise ValueError("unroll: only unidirectional layers without projection are supported")
    mode = rnn.mode
    step = {"RNN_TANH": F.rnn_tanh_cell, "RNN_RELU": F.rnn_relu_cell, "GRU": F.gru_cell, "LSTM": F.lstm_cell}[mode]
    T, B = x.shape[0], x.shape[1]
    H = rnn.hidden_size
    zeros = np.zeros((B, H), rnn.weight_ih_l0.dtype)
    state = [(Tensor._make(zeros), Tensor._make(zeros)) if mode == "LSTM" else Tensor._make(zeros)
             for _ in range(rnn.num_layers)]
    weights = [_layer_weights(rnn, layer) for layer in range(rnn.num_layers)]
    outputs, states = [], []
    for t in range(T):
        inp = x[t]
        new = []
        for layer in range(rnn.num_layers):
            s = step(inp, state[layer], *weights[layer])
            inp = s[0] if isinstance(s, tuple) else s  # what the layer above reads
            cut = tuple(part.clone() for part in s) if isinstance(s, tuple) else s.clone()
            if retain:
                for part in (cut if isinstance(cut, tuple) else (cut,)):
                    part.retain_grad()
            new.append(cut)
        state = new
        top = new[-1]
        outputs.append(top[0] if isinstance(top, tuple) else top)
        states.append(new)
    return stack(outputs, 0), states


def state_gradient_norms(model, tokens):
    """||dL/ds_t|| for t = 0 .. T-1 of a CharRNN-like model (embed, rnn, head) on one sequence.

    tokens: 1-D int array of length T + 1 >= 2; the model reads tokens[:-1] and L is the cross-entropy
    of its last prediction against tokens[-1]. Returns a float64 array of length T: entry t is the
    norm over all layers (h and, for an LSTM, c) of the gradient at the state after step t (a partial
    derivative: see `unroll`), so the last entry is the state that makes the prediction and entry 0 is
    T-1 steps before it. It equals the gradient of L with respect to the initial state of the fused
    layer run on the rest of the sequence from s_t (the tests check this).
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    if tokens.ndim != 1 or len(tokens) < 2:
        raise ValueError(f"state_gradient_norms: tokens must be a 1-D sequence of at least 2 ids, got shape "
                         f"{tokens.shape}")
    x = model.embed(Tensor._make(tokens[:-1, None]))  # (T, 1, E): time first
    out, states = unroll(model.rnn, x)
    logits = model.head(out[-1])  # (1, V)
    loss = F.cross_entropy(logits, Tensor._make(tokens[-1:]))
    loss.backward()
    norms = []
    for per_layer in states:
        total = 0.0
        for s in per_layer:
            for part in (s if isinstance(s, tuple) else (s,)):
                g = part.grad.array if part.grad is not None else 0.0
                total += float(np.sum(np.square(np.asarray(g, dtype=np.float64))))
        norms.append(np.sqrt(total))
    model.zero_grad()
    return np.array(norms)


def state_gradient_norms_by_cell(tokens, vocab_size, embed_dim=32, hidden_size=128, num_layers=1, seed=0,
                                 cells=("rnn", "lstm", "gru"), models=None):
    """The experiment on one sequence for freshly initialised models of each cell type (PyTorch's
    default init, the same seed for each) plus any trained `models` ({name: CharRNN}).
    Returns {name: norms (T,)} (see state_gradient_norms)."""
    from ..models.char_rnn import CharRNN
    from ..random import manual_seed

    profiles = {}
    for cell in cells:
        manual_seed(seed)
        model = CharRNN(vocab_size, embed_dim, hidden_size, num_layers, cell=cell)
        profiles[f"{cell} (init)"] = state_gradient_norms(model, tokens)
    for name, model in (models or {}).items():
        with evaluating(model, grad=True):
            profiles[name] = state_gradient_norms(model, tokens)
    return profiles


def relative(norms):
    """Norms divided by the last one (the state that makes the prediction), so curves can be compared."""
    norms = np.asarray(norms, dtype=np.float64)
    return norms / max(norms[-1], 1e-300)


def plot_state_gradients(profiles, path=None, title="gradient of the last step's loss w.r.t. earlier states"):
    """One curve per model: ||dL/ds_t|| / ||dL/ds_last|| against the number of steps between s_t and
    the loss (log scale). Returns the figure."""
    fig = new_figure((7.5, 4.2))
    ax = fig.add_subplot()
    for name, norms in profiles.items():
        rel = relative(norms)
        back = np.arange(len(rel))[::-1]  # steps between state t and the prediction
        ax.plot(back, np.maximum(rel, 1e-300), label=name, lw=1.6, ls="--" if "init" in name else "-")
    ax.set_yscale("log")
    ax.set(xlabel="steps back from the predicting state", ylabel="||dL/ds_t|| / ||dL/ds_last||", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return finish(fig, path)


def token_label(piece):
    """A printable one-glyph label for a generated character: newline, space and tab made visible."""
    return {"\n": "\u21b5", " ": "\u2423", "\t": "\u21e5"}.get(piece, piece)


def plot_generated_hidden_states(model, tokenizer, prompt, length, path=None, temperature=0.8, top_k=None,
                                 generator=None, max_units=64):
    """Read `prompt`, generate `length` characters, and draw the top layer's hidden state after each
    character (glassnet.viz.plot_hidden_states; a line marks where generation begins).
    Returns (figure, generated text)."""
    from ..generate import sample_with_states

    text, pieces, h = sample_with_states(model, tokenizer, prompt, length, temperature, top_k, generator)
    units = min(max_units, h.shape[1])
    fig = plot_hidden_states(h, [token_label(p) for p in pieces], path=path, max_units=max_units,
                             boundary=len(pieces) - length,
                             title=f"{model.cell.upper()} top-layer hidden state (first {units} units) reading "
                                   f"{prompt!r}, then generating after the line; \u21b5 newline, \u2423 space")
    return fig, text

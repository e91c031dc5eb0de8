"""A character-level recurrent language model: embedding -> stacked RNN / LSTM / GRU -> linear.

    model = CharRNN(vocab_size=65, cell="lstm", hidden_size=512, num_layers=2)
    logits, state = model(idx)                 # idx (B, T) ids -> logits (B, T, vocab_size)
    logits, state = model(idx2, state)         # continue where idx stopped (truncated BPTT: detach it)
    logits, state = model.step(last_ids, state)  # one step: (B,) ids -> (B, vocab_size)

The recurrent stack is one of glassnet's fused layers (nn.LSTM, nn.GRU, nn.RNN with batch_first=True),
so the state is what they take and return: h (num_layers, B, H) for RNN and GRU, the pair (h, c) for
the LSTM. Dropout (if any) acts between the recurrent layers (inside the layer module) and on the top
layer's output before the linear head.
"""
import numpy as np

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor

__all__ = ["CharRNN", "CELLS"]

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class CharRNN(nn.Module):
    """Embedding (vocab_size, embed_dim) -> `cell` stack (num_layers x hidden_size) -> dropout -> Linear
    (hidden_size, vocab_size).

    cell: 'lstm', 'gru' or 'rnn' (tanh Elman RNN). forward(idx (B, T) int64, state=None) ->
    (logits (B, T, vocab_size), state); state None starts from zeros.
    """

    def __init__(self, vocab_size, embed_dim=64, hidden_size=256, num_layers=2, cell="lstm", dropout=0.0):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"CharRNN: cell must be one of {sorted(CELLS)}, got {cell!r}")
        for name, value in (("vocab_size", vocab_size), ("embed_dim", embed_dim), ("hidden_size", hidden_size),
                            ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"CharRNN: {name} must be a positive int, got {value!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"CharRNN: dropout must be in [0, 1), got {dropout!r}")
        self.vocab_size, self.cell, self.hidden_size, self.num_layers = vocab_size, cell, hidden_size, num_layers
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = CELLS[cell](embed_dim, hidden_size, num_layers=num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def _check_idx(self, idx, what):
        if not isinstance(idx, Tensor) or idx.dtype.kind not in "iu":
            raise TypeError(f"CharRNN.{what}: expected an integer Tensor of token ids, got "
                            f"{getattr(idx, 'dtype', type(idx).__name__)}")

    def features(self, idx, state=None):
        """The top layer's hidden states (B, T, hidden_size) and the final state."""
        self._check_idx(idx, "forward")
        if idx.ndim != 2:
            raise ValueError(f"CharRNN.forward: idx must be (batch, time), got shape {tuple(idx.shape)}")
        return self.rnn(self.embed(idx), state)

    def forward(self, idx, state=None):
        out, state = self.features(idx, state)  # (B, T, H)
        return self.head(self.drop(out)), state  # (B, T, V)

    def step(self, idx, state=None):
        """One time step: idx (B,) token ids -> (logits (B, vocab_size), new state)."""
        self._check_idx(idx, "step")
        if idx.ndim != 1:
            raise ValueError(f"CharRNN.step: idx must be (batch,), got shape {tuple(idx.shape)}")
        logits, state = self(idx.reshape(-1, 1), state)
        return logits[:, 0], state

    def loss(self, idx, targets, state=None):
        """Mean cross-entropy (nats per character) of the next-character predictions, and the final state."""
        logits, state = self(idx, state)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), targets.reshape(-1)), state

    @staticmethod
    def detach_state(state):
        """The state cut from the graph (for truncated backpropagation through time)."""
        if state is None:
            return None
        if isinstance(state, tuple):
            return tuple(s.detach() for s in state)
        return state.detach()

    @staticmethod
    def top_hidden(state):
        """The top layer's hidden state h (B, hidden_size) of a state."""
        h = state[0] if isinstance(state, tuple) else state
        return h[-1]

"""An encoder-decoder RNN with additive (Bahdanau) attention, for sequence-to-sequence tasks.

    model = Seq2SeqRNN(src_vocab=14, tgt_vocab=14, embed_dim=32, hidden_size=128)
    logits = model(src, tgt_in)                          # teacher forcing: (B, T, tgt_vocab)
    logits, weights = model(src, tgt_in, return_attention=True)   # weights (B, T, S), rows sum to 1
    tokens, weights = model.greedy_decode(src, bos=1, eos=2, max_len=12)

Encoder: embedding, then a bidirectional GRU (fused nn.GRU) over the source; its outputs
k_j = [forward h_j ; backward h_j] (B, S, 2H) are the keys (and values) of the attention.

Decoder, one step t (a Python loop over the target positions, each step a few tensor operations):

    c_t, a_t = attention(s_{t-1}, k)          a_t = softmax_j(v^T tanh(W_q s_{t-1} + W_k k_j + b))
                                               c_t = sum_j a_tj k_j          (source padding masked out)
    s_t = cell([emb(y_{t-1}) ; c_t], s_{t-1})  a GRUCell or LSTMCell
    logits_t = W_o [s_t ; c_t ; emb(y_{t-1})] + b_o

with s_0 = tanh(W_init [last forward state ; last backward state]). W_k k_j is computed once per
source. During training y_{t-1} is the true previous token (teacher forcing); greedy decoding feeds
back the argmax.
"""
import numpy as np

from .. import nn
from ..autograd import no_grad
from ..ops.indexing import cat, stack
from ..tensor import Tensor

__all__ = ["AdditiveAttention", "Seq2SeqRNN"]


class AdditiveAttention(nn.Module):
    """Bahdanau attention: score(q, k_j) = v^T tanh(W_q q + W_k k_j + b), weights = softmax over j.

    AdditiveAttention(query_size, key_size, attn_size). forward(query (B, Q), keys (B, S, K),
    projected_keys=None, mask=None) -> (context (B, K), weights (B, S)). projected_keys: W_k k + b
    (B, S, attn_size) if already computed (`project_keys`); mask: (B, S) bool, False = ignore that key.
    """

    def __init__(self, query_size, key_size, attn_size):
        super().__init__()
        self.query_proj = nn.Linear(query_size, attn_size, bias=False)  # W_q
        self.key_proj = nn.Linear(key_size, attn_size)  # W_k and b
        self.v = nn.Linear(attn_size, 1, bias=False)

    def project_keys(self, keys):
        """W_k k_j + b for every key: (B, S, K) -> (B, S, attn_size)."""
        return self.key_proj(keys)

    def forward(self, query, keys, projected_keys=None, mask=None):
        if keys.ndim != 3 or query.ndim != 2 or query.shape[0] != keys.shape[0]:
            raise ValueError(f"AdditiveAttention: expected query (B, Q) and keys (B, S, K), got "
                             f"{tuple(query.shape)} and {tuple(keys.shape)}")
        if projected_keys is None:
            projected_keys = self.project_keys(keys)
        energy = (projected_keys + self.query_proj(query).unsqueeze(1)).tanh()  # (B, S, A)
        scores = self.v(energy).squeeze(-1)  # (B, S)
        if mask is not None:
            if tuple(mask.shape) != tuple(scores.shape):
                raise ValueError(f"AdditiveAttention: mask has shape {tuple(mask.shape)}, expected "
                                 f"{tuple(scores.shape)}")
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = scores.softmax(-1)  # (B, S)
        context = (weights.unsqueeze(1) @ keys).squeeze(1)  # (B, K)
        return context, weights


class Seq2SeqRNN(nn.Module):
    """Encoder-decoder RNN with additive attention (see the module docstring).

    Seq2SeqRNN(src_vocab, tgt_vocab, embed_dim=32, hidden_size=128, attn_size=None (= hidden_size),
    cell='gru' or 'lstm' (the decoder cell; the encoder is a bidirectional GRU), src_pad=0 (source id
    masked out of the attention; None: no masking)).
    """

    def __init__(self, src_vocab, tgt_vocab, embed_dim=32, hidden_size=128, attn_size=None, cell="gru",
                 src_pad=0):
        super().__init__()
        if cell not in ("gru", "lstm"):
            raise ValueError(f"Seq2SeqRNN: cell must be 'gru' or 'lstm', got {cell!r}")
        H = hidden_size
        self.cell_type, self.hidden_size, self.src_pad, self.tgt_vocab = cell, H, src_pad, tgt_vocab
        self.src_embed = nn.Embedding(src_vocab, embed_dim)
        self.encoder = nn.GRU(embed_dim, H, batch_first=True, bidirectional=True)
        self.init_state = nn.Linear(2 * H, H)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed_dim)
        self.attention = AdditiveAttention(H, 2 * H, attn_size or H)
        self.cell = (nn.GRUCell if cell == "gru" else nn.LSTMCell)(embed_dim + 2 * H, H)
        self.out = nn.Linear(H + 2 * H + embed_dim, tgt_vocab)

    # ---- the pieces -------------------------------------------------------------------------------
    def encode(self, src):
        """src (B, S) ids -> (keys (B, S, 2H), projected keys (B, S, A), mask (B, S) or None, s_0)."""
        if not isinstance(src, Tensor) or src.ndim != 2 or src.dtype.kind not in "iu":
            raise ValueError(f"Seq2SeqRNN: src must be an integer Tensor (B, S), got "
                             f"{getattr(src, 'dtype', type(src).__name__)} {getattr(src, 'shape', '')}")
        keys, h_n = self.encoder(self.src_embed(src))  # (B, S, 2H), (2, B, H)
        s0 = self.init_state(cat([h_n[0], h_n[1]], -1)).tanh()  # (B, H)
        state = s0 if self.cell_type == "gru" else (s0, Tensor._make(np.zeros_like(s0.array)))
        mask = None
        if self.src_pad is not None:
            mask = Tensor._make(src.array != self.src_pad)
        return keys, self.attention.project_keys(keys), mask, state

    def _query(self, state):
        return state[0] if isinstance(state, tuple) else state

    def decode_step(self, emb, state, keys, projected, mask):
        """One decoder step: emb (B, E) of the previous token -> (features (B, 3H + E), state, weights (B, S))."""
        context, weights = self.attention(self._query(state), keys, projected, mask)
        state = self.cell(cat([emb, context], -1), state)
        return cat([self._query(state), context, emb], -1), state, weights

    # ---- training and decoding ---------------------------------------------------------------------
    def forward(self, src, tgt_in, return_attention=False):
        """Teacher forcing: src (B, S), tgt_in (B, T) (<bos> then the answer) -> logits (B, T, tgt_vocab)
        (and the attention weights (B, T, S) with return_attention)."""
        keys, projected, mask, state = self.encode(src)
        emb = self.tgt_embed(tgt_in)  # (B, T, E)
        features, weights = [], []
        for t in range(tgt_in.shape[1]):
            f, state, w = self.decode_step(emb[:, t], state, keys, projected, mask)
            features.append(f)
            weights.append(w)
        logits = self.out(stack(features, 1))  # one matrix product for all steps
        return (logits, stack(weights, 1)) if return_attention else logits

    def greedy_decode(self, src, bos, eos, max_len):
        """Greedy decoding without a graph: returns (tokens (B, L) int64 array, weights (B, L, S) array),
        L <= max_len; rows that produced <eos> are padded with eos."""
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                keys, projected, mask, state = self.encode(src)
                B = src.shape[0]
                prev = np.full(B, bos, np.int64)
                done = np.zeros(B, bool)
                tokens, weights = [], []
                for _ in range(max_len):
                    emb = self.tgt_embed(Tensor._make(prev))
                    f, state, w = self.decode_step(emb, state, keys, projected, mask)
                    nxt = self.out(f).array.argmax(-1)
                    nxt = np.where(done, eos, nxt)
                    tokens.append(nxt)
                    weights.append(w.array)
                    done |= nxt == eos
                    prev = nxt
                    if done.all():
                        break
        finally:
            self.train(was_training)
        return np.stack(tokens, 1), np.stack(weights, 1)

"""An encoder-decoder Transformer for sequence-to-sequence tasks (translation-like toy tasks).

    src (N, S) ids -> embedding * sqrt(d_model) + sinusoidal positions -> nn.Transformer encoder -> memory
    tgt (N, T) ids -> embedding * sqrt(d_model) + sinusoidal positions -> nn.Transformer decoder
        (causal self-attention, cross-attention over memory) -> Linear -> logits (N, T, tgt_vocab_size)

Padding (token id `pad_idx`) is masked out of every attention through key-padding masks. Decoding is
greedy: start from <bos>, append the most likely next token until every row has produced <eos>.
`cross_attention` returns the decoder's attention weights over the source tokens, per layer and head,
for pictures of what the model looks at.
"""
import math

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..tensor import Tensor

__all__ = ["Seq2SeqTransformer"]


class Seq2SeqTransformer(nn.Module):
    """Token embeddings, sinusoidal positions, nn.Transformer (batch_first) and an output Linear.

    forward(src (N, S), tgt (N, T)) -> logits (N, T, tgt_vocab_size), position t predicting the token
    after tgt[:, t]. norm_first=True (pre-norm, the default here) trains more easily than the
    original post-norm; the encoder and decoder then end with a LayerNorm each (as nn.Transformer).
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, d_model=128, nhead=4, num_encoder_layers=2,
                 num_decoder_layers=2, dim_feedforward=512, dropout=0.1, max_len=128, pad_idx=0,
                 activation="relu", norm_first=True):
        super().__init__()
        self.d_model, self.pad_idx, self.max_len = d_model, pad_idx, max_len
        self.src_embed = nn.Embedding(src_vocab_size, d_model, padding_idx=pad_idx)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, d_model, padding_idx=pad_idx)
        for emb in (self.src_embed, self.tgt_embed):  # N(0, 1/d_model): times sqrt(d_model) gives N(0, 1)
            nn.init.normal_(emb.weight, 0.0, d_model ** -0.5)
            emb.weight.array[pad_idx] = 0
        self.pos = nn.SinusoidalPositionalEncoding(d_model, max_len, dropout, batch_first=True)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward,
                                          dropout, activation, batch_first=True, norm_first=norm_first)
        self.generator = nn.Linear(d_model, tgt_vocab_size)

    def _embed(self, embedding, ids):
        if not isinstance(ids, Tensor) or ids.ndim != 2 or ids.dtype.kind not in "iu":
            raise ValueError(f"Seq2SeqTransformer: token ids must be an integer Tensor (N, L), got "
                             f"{getattr(ids, 'dtype', type(ids).__name__)} {getattr(ids, 'shape', '')}")
        return self.pos(embedding(ids) * math.sqrt(self.d_model))

    def _padding(self, ids):
        return Tensor._make(ids.array == self.pad_idx)  # (N, L) bool, True = padding (masked out)

    def encode(self, src):
        """memory (N, S, d_model) of the source ids (N, S)."""
        return self.transformer.encoder(self._embed(self.src_embed, src), src_key_padding_mask=self._padding(src))

    def decode(self, tgt, memory, src):
        """Decoder output (N, T, d_model) for target ids tgt (N, T), given the encoder memory of src."""
        T = tgt.shape[1]
        causal = Tensor._make(np.triu(np.ones((T, T), bool), 1))  # True above the diagonal: the future is hidden
        return self.transformer.decoder(self._embed(self.tgt_embed, tgt), memory, tgt_mask=causal,
                                        tgt_key_padding_mask=self._padding(tgt),
                                        memory_key_padding_mask=self._padding(src), tgt_is_causal=True)

    def forward(self, src, tgt):
        if src.ndim != 2 or tgt.ndim != 2 or src.shape[0] != tgt.shape[0]:
            raise ValueError(f"Seq2SeqTransformer: expected src (N, S) and tgt (N, T) with the same N, got "
                             f"{src.shape} and {tgt.shape}")
        return self.generator(self.decode(tgt, self.encode(src), src))

    def greedy_decode(self, src, bos, eos, max_len=None):
        """(N, L) int64 array of generated tokens (without the <bos>), each row ending with <eos> then
        `pad_idx`, or cut at max_len (default: self.max_len - 1). Runs without a graph."""
        max_len = self.max_len - 1 if max_len is None else max_len
        N = src.shape[0]
        with no_grad():
            memory = self.encode(src)
            tokens = np.full((N, 1), bos, np.int64)
            done = np.zeros(N, bool)
            for _ in range(max_len):
                out = self.decode(Tensor._make(tokens), memory, src)  # (N, t, d_model)
                logits = self.generator(out[:, -1]).array  # (N, V)
                nxt = np.where(done, self.pad_idx, logits.argmax(-1))
                tokens = np.concatenate([tokens, nxt[:, None]], 1)
                done |= nxt == eos
                if done.all():
                    break
        return tokens[:, 1:]

    def cross_attention(self, src, tgt, average_heads=False):
        """The decoder's attention weights over the source when reading tgt (N, T) (usually <bos> + the
        answer): a list, one array per decoder layer, of shape (N, nhead, T, S) (or (N, T, S) averaged
        over heads). Runs without a graph, in the current train/eval mode."""
        weights, handles = [], []

        def want_weights(module, args, kwargs):
            return args, {**kwargs, "need_weights": True, "average_attn_weights": average_heads}

        def keep_weights(module, args, kwargs, output):
            weights.append(output[1].array)

        for layer in self.transformer.decoder.layers:
            handles.append(layer.multihead_attn.register_forward_pre_hook(want_weights, with_kwargs=True))
            handles.append(layer.multihead_attn.register_forward_hook(keep_weights, with_kwargs=True))
        try:
            with no_grad():
                self(src, tgt)
        finally:
            for h in handles:
                h.remove()
        return weights

"""A BERT-style encoder (Devlin et al. 2019) with its masked-language-model head and masking rule.

    ids (N, L) -> token embedding + learned position embedding -> LayerNorm -> dropout
               -> `depth` post-norm Transformer encoder layers (GELU feed-forward)  -> hidden (N, L, dim)
    MLM head:  hidden -> Linear(dim, dim) -> GELU -> LayerNorm -> Linear(dim, vocab) (weight tied to the
               token embedding, own bias) -> logits (N, L, vocab_size)

Masking (`mask_tokens`): 15% of the non-special tokens are chosen; of those 80% become <mask>, 10% a
random token, 10% stay; the loss is computed on the chosen positions only (labels -100 elsewhere).
"""
import numpy as np

from .. import nn
from ..nn import functional as F
from ..random import rng
from ..tensor import Tensor

__all__ = ["BertEncoder", "BertForMaskedLM", "mask_tokens"]


class BertEncoder(nn.Module):
    """forward(ids (N, L), padding_mask=None (N, L) bool, True = padding) -> hidden states (N, L, dim)."""

    def __init__(self, vocab_size, max_len=128, dim=128, depth=2, heads=4, mlp_dim=512, dropout=0.1, pad_idx=0):
        super().__init__()
        self.pad_idx, self.max_len = pad_idx, max_len
        self.tok_embed = nn.Embedding(vocab_size, dim, padding_idx=pad_idx)
        self.pos_embed = nn.Embedding(max_len, dim)
        self.norm = nn.LayerNorm(dim, eps=1e-12)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(dim, heads, mlp_dim, dropout, activation="gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        for m in self.modules():  # BERT's initialisation: N(0, 0.02) weights, zero biases
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if isinstance(m, nn.Linear) and m.bias is not None:
                    nn.init.zeros_(m.bias)
        for layer in self.encoder.layers:
            nn.init.normal_(layer.self_attn.in_proj_weight, 0.0, 0.02)
        self.tok_embed.weight.array[pad_idx] = 0

    def forward(self, ids, padding_mask=None):
        if not isinstance(ids, Tensor) or ids.ndim != 2 or ids.dtype.kind not in "iu":
            raise ValueError(f"BertEncoder: ids must be an integer Tensor (N, L), got "
                             f"{getattr(ids, 'dtype', type(ids).__name__)} {getattr(ids, 'shape', '')}")
        L = ids.shape[1]
        if L > self.max_len:
            raise ValueError(f"BertEncoder: sequence length {L} exceeds max_len={self.max_len}")
        if padding_mask is None:
            padding_mask = Tensor._make(ids.array == self.pad_idx)
        pos = Tensor._make(np.arange(L, dtype=np.int64))
        x = self.dropout(self.norm(self.tok_embed(ids) + self.pos_embed(pos)))  # (N, L, dim)
        return self.encoder(x, src_key_padding_mask=padding_mask)


class BertForMaskedLM(nn.Module):
    """BertEncoder plus the MLM head. forward(ids, labels=None) -> (logits (N, L, V), loss or None),
    loss = mean cross-entropy over the positions whose label is not -100."""

    def __init__(self, vocab_size, max_len=128, dim=128, depth=2, heads=4, mlp_dim=512, dropout=0.1, pad_idx=0):
        super().__init__()
        self.bert = BertEncoder(vocab_size, max_len, dim, depth, heads, mlp_dim, dropout, pad_idx)
        self.transform = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.LayerNorm(dim, eps=1e-12))
        nn.init.normal_(self.transform[0].weight, 0.0, 0.02)
        nn.init.zeros_(self.transform[0].bias)
        self.decoder = nn.Linear(dim, vocab_size)
        self.decoder.weight = self.bert.tok_embed.weight  # tied with the input embedding
        nn.init.zeros_(self.decoder.bias)

    def forward(self, ids, labels=None):
        logits = self.decoder(self.transform(self.bert(ids)))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        return logits, loss


def mask_tokens(ids, mask_id, vocab_size, special_ids=(0,), prob=0.15, generator=None, random_low=0):
    """BERT's masking of a batch of token ids (N, L) (Tensor or array) -> (inputs, labels) int64 Tensors.

    Each token that is not in special_ids is chosen with probability `prob`. labels = the original id at
    chosen positions, -100 elsewhere. Chosen inputs become mask_id with probability 0.8, a uniform random
    id in [random_low, vocab_size) with probability 0.1, and stay unchanged otherwise.
    """
    ids = np.asarray(ids, dtype=np.int64)
    g = rng(generator)
    maskable = ~np.isin(ids, np.asarray(special_ids, dtype=np.int64))
    chosen = maskable & (g.random(ids.shape) < prob)
    labels = np.where(chosen, ids, -100)
    roll = g.random(ids.shape)
    inputs = ids.copy()
    inputs[chosen & (roll < 0.8)] = mask_id
    swap = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[swap] = g.integers(random_low, vocab_size, size=int(swap.sum()))
    return Tensor._make(inputs), Tensor._make(labels)

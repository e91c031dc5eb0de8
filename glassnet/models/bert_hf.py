"""BERT with Hugging Face's module names, so that its checkpoints load as they are (strict).

    embeddings:  h = LayerNorm(word_embeddings[ids] + position_embeddings[0..L) + token_type_embeddings[types])
    each of encoder.layer.{0..n-1} (post-norm, as in the BERT paper):
        a  = attention.self(h, mask)                                 multi-head scaled dot-product attention
        h1 = attention.output.LayerNorm(h + attention.output.dense(a))
        h2 = output.LayerNorm(h1 + output.dense(GELU(intermediate.dense(h1))))
    pooler:      tanh(pooler.dense(h[:, 0]))                          the [CLS] summary (BertModel only)

The state-dict keys are Hugging Face's own: `embeddings.word_embeddings.weight`,
`encoder.layer.0.attention.self.query.weight`, `encoder.layer.0.output.LayerNorm.bias`, ...,
`pooler.dense.weight`, and the `embeddings.position_ids` buffer. A checkpoint saved from
`BertForSomething` carries them under "bert."; `load_hf_state_dict` strips that prefix. Padding
positions (attention_mask 0) are never attended to.
"""
import numpy as np

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor

__all__ = ["BertConfig", "BertModel", "load_hf_state_dict"]


class BertConfig:
    """The fields of a Hugging Face BERT config.json that the model uses."""

    def __init__(self, vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=3072, hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                 max_position_embeddings=512, type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0, **unused):
        if hidden_act not in ("gelu", "gelu_new", "relu"):
            raise ValueError(f"BertConfig: hidden_act {hidden_act!r} is not supported (gelu, gelu_new, relu)")
        if hidden_size % num_attention_heads:
            raise ValueError(f"BertConfig: hidden_size {hidden_size} is not divisible by {num_attention_heads} heads")
        self.vocab_size, self.hidden_size, self.num_hidden_layers = vocab_size, hidden_size, num_hidden_layers
        self.num_attention_heads, self.intermediate_size, self.hidden_act = num_attention_heads, intermediate_size, hidden_act
        self.hidden_dropout_prob, self.attention_probs_dropout_prob = hidden_dropout_prob, attention_probs_dropout_prob
        self.max_position_embeddings, self.type_vocab_size = max_position_embeddings, type_vocab_size
        self.layer_norm_eps, self.pad_token_id = layer_norm_eps, pad_token_id


class _Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)
        self.register_buffer("position_ids", Tensor._make(np.arange(c.max_position_embeddings)[None]))

    def forward(self, ids, token_type_ids):
        positions = self.position_ids[:, :ids.shape[1]]
        x = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))  # (N, L, hidden)


class _SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.p = c.num_attention_heads, c.attention_probs_dropout_prob
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, h, attend):
        N, L, C = h.shape
        q, k, v = (lin(h).view(N, L, self.heads, C // self.heads).transpose(1, 2)
                   for lin in (self.query, self.key, self.value))  # (N, H, L, d)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=attend, dropout_p=self.p if self.training else 0.0)
        return a.transpose(1, 2).reshape(N, L, C)


class _SelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, a, h):
        return self.LayerNorm(h + self.dropout(self.dense(a)))


class _Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _SelfOutput(c)

    def forward(self, h, attend):
        return self.output(self.self(h, attend), h)


class _Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)
        self.act = {"gelu": nn.GELU(), "gelu_new": nn.GELU(approximate="tanh"), "relu": nn.ReLU()}[c.hidden_act]

    def forward(self, h):
        return self.act(self.dense(h))


class _Output(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.intermediate_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, i, h):
        return self.LayerNorm(h + self.dropout(self.dense(i)))


class _Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _Output(c)

    def forward(self, h, attend):
        h1 = self.attention(h, attend)
        return self.output(self.intermediate(h1), h1)


class _Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([_Layer(c) for _ in range(c.num_hidden_layers)])

    def forward(self, h, attend):
        for layer in self.layer:
            h = layer(h, attend)
        return h


class _Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, h):
        return self.dense(h[:, 0]).tanh()


class BertModel(nn.Module):
    """forward(input_ids (N, L), attention_mask=None (N, L) 1/0, token_type_ids=None) ->
    (last_hidden_state (N, L, hidden), pooler_output (N, hidden))."""

    def __init__(self, config, add_pooling_layer=True):
        super().__init__()
        self.config = config
        self.embeddings = _Embeddings(config)
        self.encoder = _Encoder(config)
        self.pooler = _Pooler(config) if add_pooling_layer else None

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        if input_ids.ndim != 2 or input_ids.dtype.kind not in "iu":
            raise ValueError(f"BertModel: input_ids must be an integer tensor (N, L), got {input_ids.dtype} "
                             f"{tuple(input_ids.shape)}")
        N, L = input_ids.shape
        if L > self.config.max_position_embeddings:
            raise ValueError(f"BertModel: {L} tokens, more than max_position_embeddings="
                             f"{self.config.max_position_embeddings}")
        if token_type_ids is None:
            token_type_ids = Tensor._make(np.zeros((N, L), np.int64))
        mask = np.ones((N, L), bool) if attention_mask is None else np.asarray(attention_mask.array, bool)
        attend = Tensor._make(mask[:, None, None, :])  # (N, 1, 1, L): True = may be attended to
        h = self.encoder(self.embeddings(input_ids, token_type_ids), attend)
        return h, (self.pooler(h) if self.pooler is not None else None)


def load_hf_state_dict(model, tensors):
    """Load a Hugging Face BERT state dict (name -> Tensor) into `model`, strictly: a checkpoint of a
    task model carries the encoder under "bert."; that prefix is removed, task heads are refused.
    float16 weights are widened to the model's float32 (bfloat16 ones already are, by glassnet.load)."""
    own = set(model.state_dict())
    renamed = {k[len("bert."):] if k.startswith("bert.") and k[len("bert."):] in own else k:
               (v.float() if v.dtype == np.float16 else v) for k, v in tensors.items()}
    if model.pooler is None:
        renamed = {k: v for k, v in renamed.items() if not k.startswith("pooler.")}
    model.load_state_dict(renamed)
    return model

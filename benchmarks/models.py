"""The benchmark models, each written once with the API that glassnet shares with PyTorch: `lib` is the
glassnet or the torch module, and the same code builds either framework's model, with the same
parameter names (so one's state_dict loads into the other).

    mlp(lib)         784-512-512-10 with ReLU
    char_rnn(lib)    embedding 65 -> 64, 2-layer LSTM (or GRU, RNN) 128, batch first, linear 128 -> 65
    example_cnn(lib) the PyTorch MNIST example's network (log-probabilities out)
    gpt(lib, ...)    a GPT-2 layout language model with glassnet.models.GPT's parameter names, an exact or
                     tanh GELU, and a key/value cache for generation
"""
import math

VOCAB = 65  # tiny Shakespeare's characters


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def char_rnn(lib, cell="LSTM", embed=64, hidden=128, layers=2):
    """A character model: embedding, a recurrent stack (nn.LSTM, nn.GRU or nn.RNN, batch first), linear."""
    nn = lib.nn

    class CharRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, embed)
            self.rnn = getattr(nn, cell)(embed, hidden, num_layers=layers, batch_first=True)
            self.head = nn.Linear(hidden, VOCAB)

        def forward(self, idx):  # (B, T) -> logits (B, T, VOCAB)
            out, _ = self.rnn(self.embed(idx))
            return self.head(out)

    return CharRNN()


def example_cnn(lib):
    nn, F = lib.nn, lib.nn.functional

    class ExampleNet(nn.Module):
        """conv 32 3x3, ReLU, conv 64 3x3, ReLU, max-pool 2, dropout .25, fc 9216-128, ReLU, dropout .5, fc 10,
        log_softmax (github.com/pytorch/examples, mnist/main.py)."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):  # (B, 1, 28, 28) -> log-probabilities (B, 10)
            x = F.relu(self.conv2(F.relu(self.conv1(x))))
            x = self.dropout1(F.max_pool2d(x, 2)).flatten(1)
            x = self.dropout2(F.relu(self.fc1(x)))
            return F.log_softmax(self.fc2(x), dim=1)

    return ExampleNet()


def gpt(lib, vocab_size=VOCAB, block_size=64, n_layer=4, n_head=4, n_embd=128, bias=False, gelu="none"):
    """A GPT with glassnet.models.GPT's layout and parameter names (weight tying, GPT-2 initialisation).
    gelu: "none" (exact, F.gelu's default) or "tanh" (glassnet.models.GPT's choice).

    forward(idx, targets=None, cache=None) -> (logits, loss); without targets (generation) only the last
    position's logits (B, 1, vocab_size), as nanoGPT. With `cache` (a list, one entry per layer,
    initially empty), keys and values are stored there; a call after the first must bring one token."""
    nn, F = lib.nn, lib.nn.functional
    C, H = n_embd, n_head

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(C, 3 * C, bias=bias)
            self.c_proj = nn.Linear(C, C, bias=bias)

        def forward(self, x, cache, layer):
            B, T, _ = x.shape
            q, k, v = self.c_attn(x).split(C, dim=2)
            q, k, v = (z.reshape(B, T, H, C // H).transpose(1, 2) for z in (q, k, v))  # (B, H, T, hs)
            if cache is not None and len(cache) > layer:  # one new token: it sees every stored position
                k, v = lib.cat([cache[layer][0], k], 2), lib.cat([cache[layer][1], v], 2)
                cache[layer] = (k, v)
                y = F.scaled_dot_product_attention(q, k, v)
            else:
                if cache is not None:
                    cache.append((k, v))
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).reshape(B, T, C))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(C, bias=bias)
            self.attn = SelfAttention()
            self.ln_2 = nn.LayerNorm(C, bias=bias)
            self.mlp = nn.Module()
            self.mlp.c_fc = nn.Linear(C, 4 * C, bias=bias)
            self.mlp.c_proj = nn.Linear(4 * C, C, bias=bias)

        def forward(self, x, cache=None, layer=0):
            x = x + self.attn(self.ln_1(x), cache, layer)
            return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x)), approximate=gelu))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.block_size = block_size
            self.transformer = nn.ModuleDict(dict(wte=nn.Embedding(vocab_size, C), wpe=nn.Embedding(block_size, C),
                                                  h=nn.ModuleList([Block() for _ in range(n_layer)]),
                                                  ln_f=nn.LayerNorm(C, bias=bias)))
            self.lm_head = nn.Linear(C, vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight  # weight tying
            for name, p in self.named_parameters():  # GPT-2's initialisation
                if name.endswith("bias"):
                    nn.init.zeros_(p)
                elif p.ndim == 2:
                    std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("c_proj.weight") else 0.02
                    nn.init.normal_(p, 0.0, std)

        def forward(self, idx, targets=None, cache=None):
            past = cache[0][0].shape[2] if cache else 0
            pos = lib.arange(past, past + idx.shape[1])
            x = self.transformer.wte(idx) + self.transformer.wpe(pos)
            for i, block in enumerate(self.transformer.h):
                x = block(x, cache, i)
            if targets is None:
                return self.lm_head(self.transformer.ln_f(x[:, -1:, :])), None
            logits = self.lm_head(self.transformer.ln_f(x))
            return logits, F.cross_entropy(logits.reshape(-1, vocab_size), targets.reshape(-1))

    return GPT()


def decay_groups(model, weight_decay):
    """nanoGPT's AdamW groups: weight decay on the matrices, none on biases and LayerNorm weights."""
    params = list(model.parameters())
    return [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]


def numpy_state(model):
    """A model's state_dict as NumPy arrays (from either framework), to load into the other."""
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def torch_stream(model, idx, max_new_tokens, temperature=1.0, generator=None):
    """PyTorch's counterpart of glassnet's GPT.stream for a `gpt(torch)` model: yield each new token
    (B, 1), drawn with torch.multinomial; one cached forward of one token per step until the context
    fills block_size, then (the positions shifting) a forward of the whole cropped context per step."""
    import torch

    context, cache = idx[:, -model.block_size:], []
    for _ in range(max_new_tokens):
        with torch.no_grad():
            if cache and cache[0][0].shape[2] == context.shape[1] - 1:
                logits, _ = model(context[:, -1:], cache=cache)
            else:
                cache = []
                logits, _ = model(context, cache=cache)
        probs = torch.softmax(logits[:, -1] / temperature, dim=-1)
        nxt = torch.multinomial(probs, 1, generator=generator)  # (B, 1)
        context = torch.cat([context, nxt], 1)[:, -model.block_size:]
        yield nxt

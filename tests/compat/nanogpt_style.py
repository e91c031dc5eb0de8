"""A character-level GPT trained the way nanoGPT's model and training script go about it: a config
dataclass, attention through one `c_attn` projection split into q, k, v and
`F.scaled_dot_product_attention(..., is_causal=True)`, weights tied between the token embedding and the
head, `self.apply(self._init_weights)` plus a scaled init of the residual projections found by name,
AdamW over decay / no-decay groups with `fused=` probed from its signature, `torch.compile` when asked, a
GradScaler and an autocast context chosen by device and dtype, a warmup-then-cosine learning rate written
into the param groups, gradient clipping, an `@torch.no_grad()` loss estimate, batches drawn with
`torch.randint` from a NumPy array, a checkpoint (model, optimizer, arguments) saved halfway and the run
resumed from it, and top-k sampling. Dropout is 0, so with `top_k=1` everything is deterministic."""
import inspect
import math
import os
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from .common import Replay, load_numpy_state, numpy_state


@dataclass
class GPTConfig:
    block_size: int = 32
    vocab_size: int = 65
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 32
    dropout: float = 0.0
    bias: bool = True


def blocks(torch):
    nn, F = torch.nn, torch.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self, config):
            super().__init__()
            assert config.n_embd % config.n_head == 0
            self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
            self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
            self.resid_dropout = nn.Dropout(config.dropout)
            self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            nh = self.n_head
            q = q.view(B, T, nh, C // nh).transpose(1, 2)          # (B, nh, T, hs)
            k = k.view(B, T, nh, C // nh).transpose(1, 2)
            v = v.view(B, T, nh, C // nh).transpose(1, 2)
            p = self.dropout if self.training else 0
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=p, is_causal=True)
            y = y.transpose(1, 2).contiguous().view(B, T, C)      # heads side by side again
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
            self.dropout = nn.Dropout(config.dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
            self.attn = CausalSelfAttention(config)
            self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
            self.mlp = MLP(config)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    return Block


def gpt_class(torch):
    nn, F = torch.nn, torch.nn.functional
    Block = blocks(torch)

    class GPT(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            ))
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight     # one matrix, two roles
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith('c_proj.weight'):
                    torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def get_num_params(self):
            return sum(p.numel() for p in self.parameters()) - self.transformer.wpe.weight.numel()

        def forward(self, idx, targets=None):
            device = idx.device
            b, t = idx.size()
            assert t <= self.config.block_size, f"sequence of {t} is longer than {self.config.block_size}"
            pos = torch.arange(0, t, dtype=torch.long, device=device)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)
            if targets is None:                                   # only the last position is needed
                return self.lm_head(x[:, [-1], :]), None
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            return logits, loss

        def configure_optimizers(self, weight_decay, learning_rate, betas, device_type):
            param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
            decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
            nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
            optim_groups = [{'params': decay_params, 'weight_decay': weight_decay},
                            {'params': nodecay_params, 'weight_decay': 0.0}]
            fused_available = 'fused' in inspect.signature(torch.optim.AdamW).parameters
            extra_args = dict(fused=True) if fused_available and device_type == 'cuda' else dict()
            return torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas, **extra_args)

        @torch.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
            for _ in range(max_new_tokens):
                context = idx if idx.size(1) <= self.config.block_size else idx[:, -self.config.block_size:]
                logits, _ = self(context)
                logits = logits[:, -1, :] / temperature
                if top_k is not None:
                    v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                    logits[logits < v[:, [-1]]] = -float('Inf')
                probs = F.softmax(logits, dim=-1)
                idx_next = torch.multinomial(probs, num_samples=1)
                idx = torch.cat((idx, idx_next), dim=1)
            return idx

    return GPT


def learning_rate(it, max_lr, warmup_iters, decay_iters, min_lr):
    """Linear warmup, then a cosine down to min_lr."""
    if it < warmup_iters:
        return max_lr * (it + 1) / (warmup_iters + 1)
    if it > decay_iters:
        return min_lr
    ratio = (it - warmup_iters) / (decay_iters - warmup_iters)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (max_lr - min_lr)


def batch_source(torch, train_data, val_data, block_size, batch_size, device, choose):
    device_type = 'cuda' if 'cuda' in device else 'cpu'

    def get_batch(split):
        data = train_data if split == 'train' else val_data
        ix = choose.batch(torch.randint(len(data) - block_size, (batch_size,)))
        x = torch.stack([torch.from_numpy((data[i:i + block_size]).astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy((data[i + 1:i + 1 + block_size]).astype(np.int64)) for i in ix])
        if device_type == 'cuda':
            x, y = x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
        else:
            x, y = x.to(device), y.to(device)
        return x, y

    return get_batch


def loss_estimator(torch, model, get_batch, ctx, eval_iters=2):
    @torch.no_grad()
    def estimate_loss():
        model.eval()
        out = {}
        for split in ['train', 'val']:
            losses = torch.zeros(eval_iters)
            for k in range(eval_iters):
                X, Y = get_batch(split)
                with ctx:
                    _, loss = model(X, Y)
                losses[k] = loss.item()
            out[split] = losses.mean()
        model.train()
        return out

    return estimate_loss


def train(torch, model, optimizer, get_batch, ctx, scaler, iters, max_iters, record, grad_clip=1.0):
    """Steps `iters` (a range) of a run of `max_iters`; losses and log lines go into `record`."""
    estimate_loss = loss_estimator(torch, model, get_batch, ctx)
    best_val_loss = 1e9
    X, Y = get_batch('train')
    for it in iters:
        lr = learning_rate(it, 3e-3, 3, max_iters, 3e-4)
        for param_group in optimizer.param_groups:
            param_group['lr'] = lr
        if it % 10 == 0:
            est = estimate_loss()
            record['log'].append(f"step {it}: train loss {est['train']:.4f}, val loss {est['val']:.4f}")
            best_val_loss = min(best_val_loss, est['val'])
        with ctx:
            _, loss = model(X, Y)
        X, Y = get_batch('train')                  # the next batch while this one's backward runs
        scaler.scale(loss).backward()
        if grad_clip != 0.0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        record['losses'].append(loss.item())
    return best_val_loss


def save_checkpoint(torch, path, model, optimizer, model_args, iter_num, best_val_loss):
    checkpoint = {'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'model_args': model_args,
                  'iter_num': iter_num, 'best_val_loss': best_val_loss, 'config': {'dataset': 'shakespeare_char'}}
    torch.save(checkpoint, path)


def resume(torch, path, device, device_type):
    """A new model and optimizer from the checkpoint at `path`, as a resumed run builds them."""
    checkpoint = torch.load(path, map_location=device)
    model = gpt_class(torch)(GPTConfig(**checkpoint['model_args']))
    state_dict = checkpoint['model']
    unwanted_prefix = '_orig_mod.'                 # what a compiled model's keys start with
    for k in list(state_dict.keys()):
        if k.startswith(unwanted_prefix):
            state_dict[k[len(unwanted_prefix):]] = state_dict.pop(k)
    model.load_state_dict(state_dict)
    model.to(device)
    optimizer = model.configure_optimizers(0.1, 3e-3, (0.9, 0.95), device_type)
    optimizer.load_state_dict(checkpoint['optimizer'])
    return model, optimizer, checkpoint['iter_num'], checkpoint['best_val_loss']


def sample(torch, model, device):
    model.eval()
    prompt = torch.zeros((1, 1), dtype=torch.long, device=device)
    greedy = model.generate(prompt, 12, top_k=1)[0].tolist()
    sampled = model.generate(prompt, 12, temperature=0.8, top_k=5)[0].tolist()
    return greedy, sampled


def run(torch, text, out_dir, weights=None, replay=None, max_iters=20, compile=False):
    """Train on `text` (a str) for `max_iters` steps, with a checkpoint written to `out_dir` and resumed
    from halfway; returns the losses, a greedy sample and a random one."""
    torch.manual_seed(1337)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    device_type = 'cuda' if 'cuda' in device else 'cpu'
    dtype = 'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float16'
    ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
    ctx = nullcontext() if device_type == 'cpu' else torch.amp.autocast(device_type=device_type, dtype=ptdtype)
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    ids = np.array([stoi[c] for c in text], dtype=np.uint16)
    n = int(0.9 * len(ids))
    model_args = dict(n_layer=2, n_head=2, n_embd=32, block_size=32, vocab_size=len(chars), bias=True, dropout=0.0)
    model = gpt_class(torch)(GPTConfig(**model_args))
    init = numpy_state(model)
    load_numpy_state(torch, model, weights)
    model.to(device)
    if compile:
        model = torch.compile(model)
    choose = Replay(torch, replay)
    get_batch = batch_source(torch, ids[:n], ids[n:], model_args['block_size'], 8, device, choose)
    scaler = torch.cuda.amp.GradScaler(enabled=(dtype == 'float16'))     # no GPU: disabled, with a warning
    optimizer = model.configure_optimizers(0.1, 3e-3, (0.9, 0.95), device_type)
    record = {'losses': [], 'log': []}
    half = max_iters // 2
    best_val_loss = train(torch, model, optimizer, get_batch, ctx, scaler, range(half), max_iters, record)
    path = os.path.join(out_dir, 'ckpt.pt')
    save_checkpoint(torch, path, model, optimizer, model_args, half, best_val_loss)
    model, optimizer, iter_num, best_val_loss = resume(torch, path, device, device_type)
    train(torch, model, optimizer, get_batch, ctx, scaler, range(iter_num, max_iters), max_iters, record)
    final = loss_estimator(torch, model, get_batch, ctx)()
    greedy, sampled = sample(torch, model, device)
    with torch.amp.autocast(device_type='cpu', dtype=torch.float16):
        X, Y = get_batch('val')
        _, half_loss = model(X, Y)
    return {"init": init, "drawn": choose.used, **record, "num_params": model.get_num_params(),
            "best_val_loss": float(best_val_loss), "val_loss": final['val'].item(), "greedy": greedy,
            "sampled": sampled, "autocast_val_loss": half_loss.item(),
            "autocast_float32_loss": half_loss.dtype == torch.float32, "model": model}

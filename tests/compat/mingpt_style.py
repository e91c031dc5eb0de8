"""A small GPT and its general-purpose Trainer the way minGPT writes them: a GELU written out with tanh,
attention with an explicit causal mask kept as a buffer (`register_buffer("bias", torch.tril(...))`,
`masked_fill(... == 0, float('-inf'))`), decay / no-decay parameter sets decided by module type over
`named_modules()`, a Trainer that pulls batches forever from a `DataLoader` over a
`RandomSampler(replacement=True, num_samples=int(1e10))` with `pin_memory=True` and reports through
callbacks, and a sampler that either samples or takes the top token. With dropout 0 (and the recorded data
order) the run is deterministic; with dropout it is compared by its final loss."""
import math
import time
from collections import defaultdict
from types import SimpleNamespace

from .common import Replay, load_numpy_state, numpy_state


def layers(torch):
    nn, F = torch.nn, torch.nn.functional

    class TanhGELU(nn.Module):
        """The tanh approximation of GELU, written out."""

        def forward(self, x):
            return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

    class MaskedSelfAttention(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
            self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd)
            self.attn_dropout = nn.Dropout(cfg.attn_pdrop)
            self.resid_dropout = nn.Dropout(cfg.resid_pdrop)
            n = cfg.block_size
            self.register_buffer("bias", torch.tril(torch.ones(n, n)).view(1, 1, n, n))
            self.n_head, self.n_embd = cfg.n_head, cfg.n_embd

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)   # (B, nh, T, hs)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))  # (B, nh, T, T)
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
            att = self.attn_dropout(F.softmax(att, dim=-1))
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.resid_dropout(self.c_proj(y))

    class Block(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.ln_1 = nn.LayerNorm(cfg.n_embd)
            self.attn = MaskedSelfAttention(cfg)
            self.ln_2 = nn.LayerNorm(cfg.n_embd)
            self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(cfg.n_embd, 4 * cfg.n_embd), act=TanhGELU(),
                                          c_proj=nn.Linear(4 * cfg.n_embd, cfg.n_embd),
                                          dropout=nn.Dropout(cfg.resid_pdrop)))
            m = self.mlp
            self.mlpf = lambda x: m.dropout(m.c_proj(m.act(m.c_fc(x))))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlpf(self.ln_2(x))

    return Block


def model_class(torch):
    nn, F = torch.nn, torch.nn.functional
    Block = layers(torch)

    class GPT(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.block_size = cfg.block_size
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(cfg.vocab_size, cfg.n_embd), wpe=nn.Embedding(cfg.block_size, cfg.n_embd),
                drop=nn.Dropout(cfg.embd_pdrop), h=nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)]),
                ln_f=nn.LayerNorm(cfg.n_embd)))
            self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith('c_proj.weight'):
                    torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))
            self.n_params = sum(p.numel() for p in self.transformer.parameters())

        def _init_weights(self, module):
            if isinstance(module, (nn.Linear, nn.Embedding)):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                torch.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                torch.nn.init.zeros_(module.bias)
                torch.nn.init.ones_(module.weight)

        def configure_optimizers(self, tc):
            decay, no_decay = set(), set()
            whitelist = (torch.nn.Linear, )
            blacklist = (torch.nn.LayerNorm, torch.nn.Embedding)
            for mn, m in self.named_modules():
                for pn, p in m.named_parameters():
                    fpn = '%s.%s' % (mn, pn) if mn else pn
                    if pn.endswith('bias'):
                        no_decay.add(fpn)
                    elif pn.endswith('weight') and isinstance(m, whitelist):
                        decay.add(fpn)
                    elif pn.endswith('weight') and isinstance(m, blacklist):
                        no_decay.add(fpn)
            param_dict = {pn: p for pn, p in self.named_parameters()}
            assert len(decay & no_decay) == 0, f"in both sets: {decay & no_decay}"
            assert len(param_dict.keys() - (decay | no_decay)) == 0, "some parameters are in neither set"
            groups = [{"params": [param_dict[pn] for pn in sorted(list(decay))], "weight_decay": tc.weight_decay},
                      {"params": [param_dict[pn] for pn in sorted(list(no_decay))], "weight_decay": 0.0}]
            return torch.optim.AdamW(groups, lr=tc.learning_rate, betas=tc.betas)

        def forward(self, idx, targets=None):
            b, t = idx.size()
            pos = torch.arange(0, t, dtype=torch.long, device=idx.device).unsqueeze(0)   # (1, t)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            loss = None
            if targets is not None:
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            return logits, loss

        @torch.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, do_sample=False, top_k=None):
            for _ in range(max_new_tokens):
                idx_cond = idx if idx.size(1) <= self.block_size else idx[:, -self.block_size:]
                logits, _ = self(idx_cond)
                logits = logits[:, -1, :] / temperature
                if top_k is not None:
                    v, _ = torch.topk(logits, top_k)
                    logits[logits < v[:, [-1]]] = -float('Inf')
                probs = F.softmax(logits, dim=-1)
                if do_sample:
                    idx_next = torch.multinomial(probs, num_samples=1)
                else:
                    _, idx_next = torch.topk(probs, k=1, dim=-1)
                idx = torch.cat((idx, idx_next), dim=1)
            return idx

    return GPT


def trainer_class(torch):
    class Trainer:
        """Runs the optimisation; `add_callback("on_batch_end", fn)` to watch it."""

        def __init__(self, tc, model, train_dataset):
            self.config, self.model, self.train_dataset = tc, model, train_dataset
            self.callbacks = defaultdict(list)
            self.device = 'cuda' if torch.cuda.is_available() else 'cpu'
            self.model = self.model.to(self.device)
            self.iter_num, self.iter_time, self.iter_dt = 0, 0.0, 0.0

        def add_callback(self, onevent, callback):
            self.callbacks[onevent].append(callback)

        def trigger_callbacks(self, onevent):
            for callback in self.callbacks.get(onevent, []):
                callback(self)

        def run(self):
            model, config = self.model, self.config
            self.optimizer = model.configure_optimizers(config)
            sampler = torch.utils.data.RandomSampler(self.train_dataset, replacement=True, num_samples=int(1e10))
            train_loader = torch.utils.data.DataLoader(self.train_dataset, sampler=sampler, shuffle=False,
                                                       pin_memory=True, batch_size=config.batch_size,
                                                       num_workers=config.num_workers)
            model.train()
            self.iter_time = time.time()
            data_iter = iter(train_loader)
            while self.iter_num < config.max_iters:
                try:
                    batch = next(data_iter)
                except StopIteration:
                    data_iter = iter(train_loader)
                    batch = next(data_iter)
                x, y = [t.to(self.device) for t in batch]
                logits, self.loss = model(x, y)
                model.zero_grad(set_to_none=True)
                self.loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_norm_clip)
                self.optimizer.step()
                self.trigger_callbacks('on_batch_end')
                self.iter_num += 1
                now = time.time()
                self.iter_dt, self.iter_time = now - self.iter_time, now

    return Trainer


def char_dataset(torch, text, block_size, choose):
    class CharDataset(torch.utils.data.Dataset):
        """Windows of block_size + 1 characters: the input and, shifted by one, the target."""

        def __init__(self):
            chars = sorted(list(set(text)))
            self.stoi = {ch: i for i, ch in enumerate(chars)}
            self.itos = {i: ch for i, ch in enumerate(chars)}
            self.vocab_size = len(chars)

        def __len__(self):
            return len(text) - block_size

        def __getitem__(self, idx):
            idx = choose.item(idx)
            dix = [self.stoi[s] for s in text[idx:idx + block_size + 1]]
            x = torch.tensor(dix[:-1], dtype=torch.long)
            y = torch.tensor(dix[1:], dtype=torch.long)
            return x, y

    return CharDataset()


def run(torch, text, weights=None, replay=None, pdrop=0.0, max_iters=20, batch_size=8, seed=3407):
    """Train a character GPT on `text`; returns per-step losses, the final loss on fixed windows, samples."""
    torch.manual_seed(seed)
    choose = Replay(torch, replay)
    block_size = 24
    train_dataset = char_dataset(torch, text, block_size, choose)
    cfg = SimpleNamespace(vocab_size=train_dataset.vocab_size, block_size=block_size, n_layer=2, n_head=4,
                          n_embd=32, embd_pdrop=pdrop, resid_pdrop=pdrop, attn_pdrop=pdrop)
    model = model_class(torch)(cfg)
    init = numpy_state(model)
    load_numpy_state(torch, model, weights)
    tc = SimpleNamespace(batch_size=batch_size, learning_rate=5e-3, betas=(0.9, 0.95), weight_decay=0.1,
                         grad_norm_clip=1.0, max_iters=max_iters, num_workers=0)
    trainer = trainer_class(torch)(tc, model, train_dataset)
    losses, log = [], []

    def batch_end_callback(trainer):
        losses.append(trainer.loss.item())
        if trainer.iter_num % 10 == 0:
            log.append(f"iter_dt {trainer.iter_dt * 1000:.2f}ms; iter {trainer.iter_num}: "
                       f"train loss {trainer.loss.item():.5f}")

    trainer.add_callback('on_batch_end', batch_end_callback)
    trainer.run()
    return {"init": init, "drawn": choose.used, "losses": losses, "log": log, "n_params": model.n_params,
            **evaluate(torch, model, train_dataset, text), "model": model}


def evaluate(torch, model, dataset, text):
    """The loss on fixed windows (the last ones of the text) and two samples from a prompt."""
    model.eval()
    windows, n = 32, model.block_size
    start = len(text) - windows * n - 1
    ids = torch.tensor([dataset.stoi[c] for c in text[start:]], dtype=torch.long)
    x = torch.stack([ids[i * n:(i + 1) * n] for i in range(windows)])
    y = torch.stack([ids[i * n + 1:(i + 1) * n + 1] for i in range(windows)])
    with torch.no_grad():
        _, loss = model(x, y)
    prompt = torch.tensor([[dataset.stoi[c] for c in text[:4]]], dtype=torch.long)
    greedy = model.generate(prompt, 10, do_sample=False)[0].tolist()
    sampled = model.generate(prompt, 10, do_sample=True, top_k=4)[0].tolist()
    return {"final_loss": loss.item(), "greedy": greedy, "sampled": sampled}

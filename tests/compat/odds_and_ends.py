"""Odds and ends: the pieces of the PyTorch API that the other programs do not reach, each used as a
program would use it. Every entry of the result is a plain Python value (list, number, string, bool), so
the test compares the two frameworks entry by entry."""
import math


def legacy_and_dtypes(torch):
    """Old-style constructors, dtype names, factories with size= and device=."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x = torch.Tensor(3, 4)
    return {
        "Tensor(3, 4).shape": list(x.shape),
        "Tensor(3, 4).type()": x.type(),
        "Tensor(list)": torch.Tensor([1, 2, 3]).tolist(),
        "FloatTensor": torch.FloatTensor([[1, 2], [3, 4]]).type(),
        "LongTensor": torch.LongTensor([5, 6]).type(),
        "isinstance FloatTensor": isinstance(torch.FloatTensor([1.0]), torch.Tensor),
        "empty(size=)": list(torch.empty(size=(2, 5)).shape),
        "zeros device": torch.zeros(2, 3, device=device).sum().item(),
        "ones dtype=int": torch.ones(3, dtype=torch.int).dtype == torch.int32,
        "to(torch.int)": torch.tensor([1.7, -2.2]).to(torch.int).tolist(),
        "type(torch.DoubleTensor)": torch.arange(3).type(torch.DoubleTensor).type(),
        "arange device": torch.arange(5, device=device).tolist(),
        "randint(2, (5,))": [list(torch.randint(2, (5,)).shape), torch.randint(2, (5,)).max().item() <= 1],
        "randint(10, (3,)) dtype": torch.randint(10, (3,)).dtype == torch.int64,
        "randint(3, 7, (4, 2))": list(torch.randint(3, 7, (4, 2)).shape),
        "device str": str(device),
        "tensor.device": str(torch.zeros(1).to(device).device),
        "non_blocking": torch.ones(2).to(device, non_blocking=True).tolist(),
        "0-d float64 + float32": (torch.tensor(2.0, dtype=torch.float64) + torch.ones(2)).dtype == torch.float32,
    }


def elementwise_and_reductions(torch):
    a = torch.tensor([[1.0, -2.0, 3.5], [-0.5, 4.0, 0.0]])
    b = torch.tensor([[2.0, 1.0, -1.0], [3.0, -2.0, 5.0]])
    return {
        "where(cond, 1, 0)": torch.where(a > 0, 1, 0).tolist(),
        "where scalars dtype": torch.where(a > 0, 1, 0).dtype == torch.int64,
        "sum(axis=1)": a.sum(axis=1).tolist(),
        "div floor": torch.div(a, b, rounding_mode='floor').tolist(),
        "div trunc": a.div(b, rounding_mode='trunc').tolist(),
        "% and //": [(a % 2).tolist(), (a // 2).tolist()],
        "cumprod": torch.cumprod(a, dim=1).tolist(),
        "cummax": [v.tolist() for v in torch.cummax(a, dim=1)],
        "cummin": [v.tolist() for v in a.cummin(dim=0)],
        "isclose": torch.isclose(a, a + 1e-9).tolist(),
        "allclose": [torch.allclose(a, a + 1e-9), torch.allclose(a, b)],
        "copysign": torch.copysign(a, b).tolist(),
        "maximum of bools": torch.maximum(a > 0, b > 0).dtype == torch.bool,
        "floor ceil round sign": [a.floor().tolist(), a.ceil().tolist(), a.round().tolist(), a.sign().tolist()],
        "any all": [bool(a.any()), bool((a > -1).all()), (a > 0).any(dim=1).tolist()],
        "median quantile": [a.median().item(), torch.quantile(a, 0.25).item()],
        "mm": torch.mm(a, b.t()).tolist(),
        "Tensor.mm": a.mm(b.t()).tolist(),
        "einsum": torch.einsum('ij,kj->ik', a, b).tolist(),
        "diag": [torch.diag(torch.tensor([1.0, 2.0])).tolist(), torch.diag(a).tolist()],
        "tril triu": [torch.tril(a).tolist(), torch.triu(a, diagonal=1).tolist()],
        "topk": [v.tolist() for v in torch.topk(a, 2, dim=1)],
        "sort argsort": [torch.sort(a, dim=1, descending=True)[0].tolist(), a.argsort(dim=1).tolist()],
        "bincount": [torch.bincount(torch.tensor([0, 3, 3, 1])).tolist(),
                     torch.tensor([1, 1]).bincount(weights=torch.tensor([0.5, 2.0]), minlength=3).tolist()],
        "histc": torch.histc(a, bins=4, min=-2, max=4).tolist(),
    }


def settings_and_info(torch):
    """Process-wide switches (put back as they were) and facts about dtypes."""
    precision = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision('high')
    read_back = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(precision)
    torch.use_deterministic_algorithms(True)
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(False)
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return {
        "matmul precision": read_back, "deterministic": deterministic, "threads": torch.get_num_threads() >= 1,
        "finfo": [[f.eps, f.max, f.min, f.tiny, f.bits, f.dtype]
                  for f in map(torch.finfo, (torch.float32, torch.float16, torch.bfloat16))],
        "finfo mask": (torch.zeros(2) + torch.finfo(torch.float32).min).tolist(),
        "iinfo": [torch.iinfo(torch.int64).max, torch.iinfo(torch.uint8).min, torch.iinfo(torch.int32).bits],
        "Size": [list(torch.Size([2, 3])), torch.Size([2, 3]).numel(), torch.ones(2, 3).shape == torch.Size([2, 3])],
        "cuda memory": [torch.cuda.memory_allocated(), torch.cuda.max_memory_allocated(), torch.cuda.empty_cache()],
    }


def indexing_and_shapes(torch):
    a = torch.arange(12).view(3, 4).float()
    idx = torch.tensor([[0, 1], [2, 0], [1, 1]])
    x = torch.zeros(3, 4)
    x.scatter_(1, idx, 1.0)
    acc = torch.zeros(5).index_add(0, torch.tensor([0, 2, 2]), torch.tensor([1.0, 2.0, 3.0]))
    return {
        "unique": [v.tolist() for v in torch.unique(torch.tensor([3, 1, 3, 2, 1]), return_counts=True)],
        "nonzero": torch.nonzero(a > 8).tolist(),
        "masked_select": torch.masked_select(a, a % 3 == 0).tolist(),
        "scatter_": x.tolist(),
        "index_add": acc.tolist(),
        "roll": torch.roll(a, shifts=1, dims=1).tolist(),
        "unbind": [t.tolist() for t in a.unbind(0)],
        "repeat_interleave": torch.tensor([1, 2]).repeat_interleave(torch.tensor([2, 3])).tolist(),
        "narrow": a.narrow(1, 1, 2).tolist(),
        "list index": a[:, [-1]].tolist(),
        "bool index set": _masked_set(torch, a.clone()),
        "pad circular negative": torch.nn.functional.pad(a.view(1, 3, 4), (1, -1), mode='circular').tolist(),
        "chunk": [t.shape[1] for t in a.chunk(3, dim=1)],
        "pad_sequence": torch.nn.utils.rnn.pad_sequence(
            [torch.ones(2), torch.ones(4), torch.ones(1)], batch_first=True).tolist(),
    }


def _masked_set(torch, a):
    a[a > 6] = -float('inf')
    return a.tolist()


def in_place(torch):
    x = torch.tensor([1.0, 2.0, 3.0])
    x += 1
    x.sub_(0.5).mul_(2).div_(4)
    x.clamp_(min=0.8, max=1.6)
    y = torch.ones(2, 2)
    y.add_(torch.ones(2, 2), alpha=3)
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    out = (w * w).sum()
    w.data.mul_(10)                                         # .data: no version bump, no error
    out.backward()
    return {"chain": x.tolist(), "add_ alpha": y.tolist(), "grad after .data change": w.grad.tolist()}


def special_functions_and_init(torch):
    """A GELU written with erf, a truncated-normal initialiser drawn through erfinv_ in place (the way
    vision libraries write it), masks cast with type_as, in-place rounding."""
    x = torch.linspace(-3, 3, 7)
    gelu = 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    u = torch.linspace(0.05, 0.95, 6)                     # stands for uniform draws, so both runs agree
    lo, hi = [(1.0 + math.erf(v / math.sqrt(2.0))) / 2.0 for v in (-2.0, 2.0)]
    w = (2 * (lo + u * (hi - lo)) - 1)
    w.erfinv_()
    w.mul_(0.02 * math.sqrt(2.0)).add_(0.0)
    w.clamp_(min=-0.04, max=0.04)
    mask = (x > 0).type_as(x)
    return {"erf gelu": gelu.tolist(), "trunc normal": w.tolist(), "type_as mask": [mask.tolist(), mask.dtype == torch.float32],
            "in-place rounding": [x.clone().floor_().tolist(), x.clone().mul_(0.37).round_(decimals=1).tolist()],
            "tile": torch.arange(3).tile((2,)).tolist(), "nelement ndimension": [x.nelement(), x.ndimension()]}


def in_place_error(torch):
    """Changing a tensor that backward needs raises PyTorch's error."""
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = a.sigmoid()
    c = (b * b).sum()
    with torch.no_grad():
        b.mul_(2)
    try:
        c.backward()
    except RuntimeError as e:
        return {"inplace error": "modified by an inplace operation" in str(e)}
    return {"inplace error": False}


def schedules(torch):
    """The learning rates that StepLR, LambdaLR (a warmup) and cosine annealing write into the optimizer."""
    out = {}
    makers = {
        "StepLR": lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
        "LambdaLR": lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: min(1.0, (epoch + 1) / 3)),
        "CosineAnnealingLR": lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=0.01),
    }
    for name, make in makers.items():
        w = torch.nn.Parameter(torch.ones(2))
        optimizer = torch.optim.SGD([w], lr=0.1)
        scheduler = make(optimizer)
        lrs = []
        for _ in range(6):
            lrs.append(optimizer.param_groups[0]['lr'])
            optimizer.zero_grad()
            (w * w).sum().backward()
            optimizer.step()
            scheduler.step()
        out[name] = lrs + [scheduler.get_last_lr()[0]]
    return out


def optimizers(torch):
    """Five steps of each optimizer on the same small problem."""
    out = {}
    target = torch.tensor([1.0, -2.0, 0.5])
    for name, kwargs in [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.1)),
                         ("AdamW", dict(lr=0.1, weight_decay=0.1)), ("NAdam", dict(lr=0.1)),
                         ("RAdam", dict(lr=0.1)), ("RMSprop", dict(lr=0.01)), ("Adagrad", dict(lr=0.5))]:
        w = torch.nn.Parameter(torch.zeros(3))
        optimizer = getattr(torch.optim, name)([w], **kwargs)
        for _ in range(5):
            optimizer.zero_grad(set_to_none=True)
            ((w - target) ** 2).sum().backward()
            optimizer.step()
        out[name] = w.detach().tolist()
    return out


def numerics(torch):
    """float16 where PyTorch accumulates in float32, and empty batches."""
    x = (torch.arange(64.0).view(4, 16) * 7.0 + 100).half()
    ln = torch.nn.functional.layer_norm(x, (16,))
    conv = torch.nn.Conv2d(2, 3, 3)
    empty = torch.zeros(0, 2, 5, 5, requires_grad=True)
    conv(empty).sum().backward()
    return {"float16 layer_norm": ln[0, :4].float().tolist(), "layer_norm dtype": str(ln.dtype)[-7:],
            "randn float16": str(torch.randn(3, dtype=torch.float16).dtype)[-7:],
            "batch-0 conv grads": [list(empty.grad.shape), conv.weight.grad.abs().sum().item()]}


def linalg_and_fft(torch):
    a = torch.tensor([[4.0, 1.0], [2.0, 3.0]])
    b = torch.tensor([1.0, 2.0])
    signal = torch.cos(torch.arange(8.0) * 0.7)
    spectrum = torch.fft.rfft(signal)
    return {"inv": torch.linalg.inv(a).tolist(), "solve": torch.linalg.solve(a, b).tolist(),
            "det": torch.linalg.det(a).item(), "norm": torch.linalg.norm(a).item(),
            "rfft abs": spectrum.abs().tolist(), "irfft": torch.fft.irfft(spectrum, n=8).tolist()}


def activations_and_layers(torch):
    nn = torch.nn
    x = torch.linspace(-3, 3, 7)
    names = ["Mish", "Hardswish", "ReLU6", "SELU", "LogSigmoid", "Hardtanh", "Softsign", "Tanhshrink", "GELU",
             "SiLU", "ELU"]
    out = {name: getattr(nn, name)()(x).tolist() for name in names}
    out["GLU"] = nn.GLU()(torch.arange(8.0).view(2, 4) / 4).tolist()
    out["Threshold"] = nn.Threshold(0.5, -1.0)(x).tolist()
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    pooled, indices = pool(torch.arange(16.0).view(1, 1, 4, 4).flip(-1))
    out["MaxUnpool2d"] = unpool(pooled, indices).tolist()
    seqs = [torch.tensor([1.0, 2.0, 3.0]), torch.tensor([4.0, 5.0])]
    padded = nn.utils.rnn.pad_sequence(seqs, batch_first=True).unsqueeze(-1)
    packed = nn.utils.rnn.pack_padded_sequence(padded, torch.tensor([3, 2]), batch_first=True)
    rnn = nn.RNN(1, 2, batch_first=True)
    with torch.no_grad():
        for p in rnn.parameters():
            p.fill_(0.3)
    output, h = rnn(packed)
    unpacked, lengths = nn.utils.rnn.pad_packed_sequence(output, batch_first=True)
    out["packed rnn"] = [unpacked.tolist(), lengths.tolist(), h.tolist()]
    return out


PARTS = (legacy_and_dtypes, elementwise_and_reductions, settings_and_info, indexing_and_shapes, in_place,
         special_functions_and_init, in_place_error, schedules, optimizers, numerics, linalg_and_fft, activations_and_layers)


def run(torch):
    torch.manual_seed(0)
    out = {}
    for part in PARTS:
        out.update(part(torch))
    out["math.exp(loss)"] = math.exp(torch.tensor(1.5).item())
    return out

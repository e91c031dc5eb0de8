"""More odds and ends, on the autograd and module side: the grad-mode switches in all their spellings,
hooks, higher-order gradients (a gradient penalty through a convolution, a Hessian-vector product),
activation checkpointing, `torch.autograd.functional`, buffers and parameter containers, weight norm,
a sine-wave LSTMCell fitted with LBFGS in float64 as the time-sequence example does, and a graph
convolution with a sparse adjacency matrix. Each entry of the result is a plain Python value."""
import math


def grad_modes(torch):
    x = torch.ones(3, requires_grad=True)

    @torch.no_grad
    def bare(t):
        return t * 2

    @torch.no_grad()
    def called(t):
        return t * 2

    @torch.no_grad()
    def stream(t, n):
        for _ in range(n):
            t = t * 2
            yield t.requires_grad

    with torch.set_grad_enabled(False):
        off = x * 2
    with torch.inference_mode():
        inference = x * 2
    torch.set_grad_enabled(True)
    with torch.enable_grad():
        on = x * 2
    return {"grad modes": [bare(x).requires_grad, called(x).requires_grad, off.requires_grad,
                           inference.requires_grad, on.requires_grad, torch.is_grad_enabled()],
            "no_grad generator": [[r, torch.is_grad_enabled()] for r in stream(x, 2)]}


def hooks_and_leaves(torch):
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * x
    y.retain_grad()
    y.register_hook(lambda g: g * 10)
    (y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    z = torch.tensor([0.0, 1.5], requires_grad=True)
    (z ** 0).sum().backward(retain_graph=True)
    w = torch.tensor([0.0, 2.0], requires_grad=True)
    (w.pow(2) + w.sign()).sum().backward()
    return {"retain_grad then hook": y.grad.tolist(), "x.grad": x.grad.tolist(), "grad of x**0": z.grad.tolist(),
            "grad of pow and sign at 0": w.grad.tolist(), "is_leaf": [x.is_leaf, y.is_leaf]}


def higher_order(torch):
    """A gradient penalty through a small convolutional critic, and a Hessian-vector product."""
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Tanh(), torch.nn.Flatten(),
                                 torch.nn.Linear(2 * 4 * 4, 1))
    with torch.no_grad():
        for i, p in enumerate(critic.parameters()):
            p.copy_(torch.linspace(-0.3, 0.4, p.numel()).view(p.shape) * (1 + 0.1 * i))
    x = torch.linspace(-1, 1, 72).view(2, 1, 6, 6).requires_grad_()
    score = critic(x).sum()
    (g,) = torch.autograd.grad(score, x, create_graph=True)
    penalty = ((g.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    f = lambda v: (v.sin() * v).sum()
    v0 = torch.tensor([0.3, -1.2, 2.0])
    _, hvp = torch.autograd.functional.hvp(f, v0, torch.ones(3))
    jac = torch.autograd.functional.jacobian(lambda v: v ** 3, v0)
    return {"penalty": penalty.item(), "penalty grad": critic[3].weight.grad.flatten()[:6].tolist(),
            "hvp": hvp.tolist(), "jacobian": jac.tolist()}


def checkpointing(torch):
    layer = torch.nn.Linear(4, 4)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(4) * 0.5 + 0.1)
        layer.bias.fill_(0.2)
    x = (torch.arange(8.0).view(2, 4) / 8).requires_grad_()
    out = torch.utils.checkpoint.checkpoint(lambda t: torch.tanh(layer(t)), x, use_reentrant=False)
    out.sum().backward()
    return {"checkpoint grad": x.grad.tolist(), "checkpoint weight grad": layer.weight.grad.tolist()}


def modules_and_buffers(torch):
    nn = torch.nn

    class Scaler(nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = nn.ParameterList([nn.Parameter(torch.ones(2) * (i + 1)) for i in range(2)])
            self.shifts = nn.ParameterDict({"a": nn.Parameter(torch.zeros(2))})
            self.steps = nn.Buffer(torch.zeros(()))
            self.scratch = nn.Buffer(torch.ones(2), persistent=False)

        def forward(self, x):
            self.steps += 1
            return x * self.scales[0] * self.scales[1] + self.shifts["a"] + self.scratch

    m = Scaler()
    m(torch.ones(2))
    norm = torch.nn.utils.weight_norm(nn.Linear(3, 2))
    return {"state keys": sorted(m.state_dict().keys()), "buffers": sorted(n for n, _ in m.named_buffers()),
            "steps": m.steps.item(), "parameters": len(list(m.parameters())),
            "weight_norm keys": sorted(norm.state_dict().keys())}


def sine_lbfgs(torch, steps=3):
    """A sine wave predicted one step ahead by an LSTMCell in float64, fitted with LBFGS and a closure."""
    torch.manual_seed(2)
    t = torch.arange(0, 40, dtype=torch.float64)
    data = torch.stack([torch.sin((t + 4 * k) / 4.0) for k in range(3)])          # (3, 40)
    cell, head = torch.nn.LSTMCell(1, 8).double(), torch.nn.Linear(8, 1).double()
    with torch.no_grad():
        for i, p in enumerate(list(cell.parameters()) + list(head.parameters())):
            p.copy_(torch.cos(torch.arange(p.numel(), dtype=torch.float64) * 0.7 + i).view(p.shape) * 0.3)
    params = list(cell.parameters()) + list(head.parameters())
    optimizer = torch.optim.LBFGS(params, lr=0.8)
    criterion = torch.nn.MSELoss()

    def predict(series):
        h = torch.zeros(series.size(0), 8, dtype=torch.float64)
        c = torch.zeros(series.size(0), 8, dtype=torch.float64)
        outputs = []
        for input_t in series.split(1, dim=1):
            h, c = cell(input_t, (h, c))
            outputs += [head(h)]
        return torch.cat(outputs, dim=1)

    losses = []

    def closure():
        optimizer.zero_grad()
        loss = criterion(predict(data[:, :-1]), data[:, 1:])
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(optimizer.step(closure).item())
    return {"lbfgs losses": losses}


def sparse_graph(torch):
    """One graph convolution: a row-normalised sparse adjacency times node features times a weight."""
    edges = torch.tensor([[0, 1, 1, 2, 2, 3, 0, 1, 2, 3], [1, 0, 2, 1, 3, 2, 0, 1, 2, 3]])
    degree = torch.zeros(4).index_add(0, edges[0], torch.ones(edges.size(1)))
    adj = torch.sparse_coo_tensor(edges, 1.0 / degree[edges[0]], (4, 4))
    features = torch.arange(12.0).view(4, 3) / 10
    weight = torch.linspace(-1, 1, 6).view(3, 2).requires_grad_()
    out = torch.sparse.mm(adj, features @ weight)
    out.pow(2).sum().backward()
    return {"gcn out": out.tolist(), "gcn weight grad": weight.grad.tolist()}


def misc(torch):
    big = torch.full((70000,), 0.5, dtype=torch.float16)
    return {"float16 mean of 70000": big.mean().item(), "math.sqrt(2/pi)": math.sqrt(2.0 / math.pi)}


PARTS = (grad_modes, hooks_and_leaves, higher_order, checkpointing, modules_and_buffers, sine_lbfgs, sparse_graph,
         misc)


def run(torch):
    out = {}
    for part in PARTS:
        out.update(part(torch))
    return out

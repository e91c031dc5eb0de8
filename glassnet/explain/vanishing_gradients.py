"""Why deep sigmoid networks stopped learning, and what fixed it.

Backpropagation multiplies, layer after layer, by W^T and by the activation's derivative. The
sigmoid's derivative is at most 1/4, and with PyTorch's default Linear init (weights ~ U(+-1/sqrt(fan_in)),
so a layer scales a signal by about 0.58) each layer shrinks the gradient by ~0.15: after 20 layers
the first layer's gradient is ~1e-16 of the last one's, and it no longer learns.

* ReLU's derivative is 0 or 1, and He init (std = sqrt(2 / fan_in)) makes each layer keep the
  signal's variance, so gradients keep their size through depth.
* Residual connections (h + f(h)) add an identity path: the gradient reaches early layers
  through the sums without being multiplied by every layer. Alone they do not control the scale:
  each ReLU block adds its own variance, so signal and gradients grow ~2x per block (relu+res).
* Batch normalisation rescales each layer's pre-activations to unit variance, which undoes the
  shrinking (or growing) of the signal and of the gradient; with residual connections it gives
  the ResNet recipe (relu+res+bn).

The table gives ||dL/dW|| of each hidden layer (1 = first) for one batch, from autograd
(sigmoid: default init; relu: He init; +res: residual connections; +bn: batch normalisation).
"""
import numpy as np

# sigmoid variants use PyTorch's default Linear init, relu variants He init; +res: residual, +bn: batch norm
VARIANTS = ("sigmoid", "sigmoid+res", "sigmoid+bn", "relu", "relu+res", "relu+bn", "relu+res+bn")


def _block_class():
    from glassnet import nn

    class Block(nn.Module):
        """h -> act(bn(linear(h))), plus h if residual."""

        def __init__(self, width, activation, he_init, batchnorm, residual):
            super().__init__()
            self.linear = nn.Linear(width, width)
            if he_init:
                nn.init.kaiming_normal_(self.linear.weight, nonlinearity="relu")
                nn.init.zeros_(self.linear.bias)
            self.norm = nn.BatchNorm1d(width) if batchnorm else nn.Identity()
            self.act = nn.Sigmoid() if activation == "sigmoid" else nn.ReLU()
            self.residual = residual

        def forward(self, h):
            out = self.act(self.norm(self.linear(h)))
            return h + out if self.residual else out

    return Block


def build(variant, depth=20, width=64):
    """The MLP of one variant: `depth` hidden blocks of `width` units, then a linear head to 1 output."""
    from glassnet import nn

    if variant not in VARIANTS:
        raise ValueError(f"vanishing-gradients: unknown variant {variant!r}; expected one of {VARIANTS}")
    Block = _block_class()
    activation = "sigmoid" if variant.startswith("sigmoid") else "relu"
    blocks = [Block(width, activation, activation == "relu", "+bn" in variant, "+res" in variant)
              for _ in range(depth)]
    return nn.Sequential(*blocks, nn.Linear(width, 1))


def layer_grad_norms(variant, depth=20, width=64, batch=128, seed=0):
    """||dL/dW|| of each hidden layer after one backward of the MSE loss on random data."""
    import glassnet as gn
    import glassnet.nn.functional as F
    from glassnet.viz import GradientMonitor

    gn.manual_seed(seed)
    model = build(variant, depth, width)
    rng = np.random.default_rng(seed)
    x = gn.tensor(rng.standard_normal((batch, width)).astype(np.float32))
    target = gn.tensor(rng.standard_normal((batch, 1)).astype(np.float32))
    F.mse_loss(model(x), target).backward()
    monitor = GradientMonitor(model, vanish_threshold=0.0, explode_threshold=float("inf"))
    recorded = monitor.record()["grad_norm"]
    norms = []
    for i in range(depth):
        w = model[i].linear.weight
        direct = float(np.linalg.norm(w.grad.array.astype(np.float64)))
        assert np.isclose(recorded[f"{i}.linear.weight"], direct, rtol=1e-12), "monitor and autograd disagree"
        norms.append(direct)
    return norms


def plot(results, path=None):
    """Gradient norm per layer, one line per variant (log scale); returns the figure."""
    from glassnet.viz._figure import finish, new_figure

    fig = new_figure((7.5, 4.2))
    ax = fig.add_subplot()
    for variant, norms in results.items():
        ax.plot(range(1, len(norms) + 1), np.maximum(norms, 1e-30), marker="o", ms=3, label=variant)
    ax.set_yscale("log")
    ax.set(xlabel="hidden layer (1 = closest to the input)", ylabel="||dL/dW||",
           title="gradient norm per layer at initialisation")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return finish(fig, path)


def main(depth=20, width=64, batch=128, variants=VARIANTS, seed=0, plot_path=None):
    """Print the table of gradient norms per layer for each variant; return {variant: norms}."""
    print(__doc__.strip().split("\n\n", 1)[1])
    results = {v: layer_grad_norms(v, depth, width, batch, seed) for v in variants}
    print(f"\ndepth {depth}, width {width}, batch {batch}\n")
    print("layer " + "".join(f"{v:>13}" for v in variants))
    shown = sorted(set(range(0, depth, max(1, depth // 10))) | {depth - 1})
    for i in shown:
        print(f"{i + 1:>5} " + "".join(f"{results[v][i]:>13.2e}" for v in variants))
    print("\nratio of the first layer's gradient norm to the last one's:")
    for v in variants:
        print(f"  {v:<12} first/last = {results[v][0] / results[v][-1]:.2e}")
    if plot_path is not None:
        plot(results, plot_path)
        print(f"\nplot written to {plot_path}")
    return results

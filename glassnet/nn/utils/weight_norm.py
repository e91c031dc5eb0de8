"""The older hook-based weight and spectral normalisation (torch.nn.utils.weight_norm / spectral_norm):
the parameter `weight` is replaced by `weight_g` and `weight_v` (or `weight_orig` with buffers `weight_u`,
`weight_v`), and a forward pre-hook recomputes `module.weight` from them before every call. PyTorch keeps
them for old checkpoints; new code uses nn.utils.parametrizations."""
from ...autograd import grad_mode
from ...ops.distance import normalize
from ..parameter import Parameter
from .parametrizations import norm_except_dim, weight_from_norm

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


class _WeightNormHook:
    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute_weight(self, module):
        return weight_from_norm(getattr(module, self.name + "_g"), getattr(module, self.name + "_v"), self.dim)

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def _parameter_of(module, name, op):
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"{op}: module {type(module).__name__} has no parameter named '{name}'")
    return weight


def _hook_of(module, cls, name):
    for hid, hook in module._forward_pre_hooks.items():
        if isinstance(hook, cls) and hook.name == name:
            return hid, hook
    return None, None


def weight_norm(module, name="weight", dim=0):
    """Replace `module.<name>` by <name>_g (its norm over all dims but `dim`; dim=None: over all) and
    <name>_v (its direction), recombined as v * g / ||v|| before each forward. Returns the module."""
    if _hook_of(module, _WeightNormHook, name)[1] is not None:
        raise RuntimeError(f"weight_norm: cannot register two weight_norm hooks on the same parameter {name}")
    weight = _parameter_of(module, name, "weight_norm")
    hook = _WeightNormHook(name, dim)
    del module._parameters[name]
    with grad_mode.no_grad():
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    setattr(module, name, hook.compute_weight(module))
    module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo weight_norm: `name` becomes one parameter again, holding the current weight."""
    hid, hook = _hook_of(module, _WeightNormHook, name)
    if hook is None:
        raise ValueError(f"remove_weight_norm: weight_norm of '{name}' not found in {type(module).__name__}")
    with grad_mode.no_grad():
        weight = hook.compute_weight(module)
    del module._forward_pre_hooks[hid]
    del module._parameters[name + "_g"], module._parameters[name + "_v"]
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(weight.detach()))
    return module


class _SpectralNormHook:
    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, weight):
        if self.dim != 0:
            weight = weight.movedim(self.dim, 0)
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        """W / (u . W v), after `n_power_iterations` steps v <- normalize(W^T u), u <- normalize(W v)."""
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = self.matrix(weight)
        if do_power_iteration:
            with grad_mode.no_grad():
                m = matrix.detach()
                for _ in range(self.n_power_iterations):
                    v.array[...] = normalize(m.mT @ u, dim=0, eps=self.eps).array
                    u.array[...] = normalize(m @ v, dim=0, eps=self.eps).array
        sigma = (u.clone() * (matrix @ v.clone())).sum()
        return weight / sigma

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, module.training))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Replace `module.<name>` by <name>_orig divided by its largest singular value, estimated by power
    iteration with buffers <name>_u, <name>_v (once per forward in training). Returns the module."""
    from ... import creation

    if n_power_iterations <= 0:
        raise ValueError(f"spectral_norm: expected n_power_iterations to be positive, got {n_power_iterations}")
    if _hook_of(module, _SpectralNormHook, name)[1] is not None:
        raise RuntimeError(f"spectral_norm: cannot register two spectral_norm hooks on the same parameter {name}")
    weight = _parameter_of(module, name, "spectral_norm")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    hook = _SpectralNormHook(name, n_power_iterations, dim, eps)
    h, w = hook.matrix(weight.detach()).shape
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())
    module.register_buffer(name + "_u", normalize(creation.randn(h, dtype=weight.dtype), dim=0, eps=eps))
    module.register_buffer(name + "_v", normalize(creation.randn(w, dtype=weight.dtype), dim=0, eps=eps))
    module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo spectral_norm: `name` becomes one parameter again, holding the current normalised weight."""
    hid, hook = _hook_of(module, _SpectralNormHook, name)
    if hook is None:
        raise ValueError(f"remove_spectral_norm: spectral_norm of '{name}' not found in {type(module).__name__}")
    with grad_mode.no_grad():
        weight = hook.compute_weight(module, False)
    del module._forward_pre_hooks[hid]
    del module._parameters[name + "_orig"], module._buffers[name + "_u"], module._buffers[name + "_v"]
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(weight.detach()))
    return module

"""Parametrizations, as torch.nn.utils.parametrize: a module's tensor computed from other tensors.

`register_parametrization(module, "weight", p)` removes the parameter `weight`, keeps the unconstrained
tensor it is made from as `module.parametrizations.weight.original` (or `original0, original1, ...` when
p.right_inverse returns several), and makes `module.weight` a property that returns p(original) on every
access, so gradients reach the original through p. The module's class becomes `Parametrized<Class>`, and
its state_dict keys are PyTorch's (`parametrizations.weight.original0`, ...).

Assigning `module.weight = value` stores right_inverse(value) into the originals (p.right_inverse, when
p defines one; the identity otherwise).
"""
from ...autograd import grad_mode
from ...tensor import Tensor
from ..modules.container import ModuleDict, ModuleList
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "type_before_parametrizations",
           "ParametrizationList"]


def _register_parameter_or_buffer(module, name, value):
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _right_inverse(modules, value):
    with grad_mode.no_grad():
        for m in reversed(list(modules)):
            if hasattr(m, "right_inverse"):
                value = m.right_inverse(value)
    return value


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the tensor(s) they start from: `original`,
    or `original0`, `original1`, ... when the first one's right_inverse returns a sequence of tensors."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        new = _right_inverse(self, original)
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if not unsafe and (new.shape != original.shape or new.dtype != original.dtype):
                raise ValueError(f"register_parametrization: right_inverse returned a tensor of shape {new.shape} and "
                                 f"dtype {new.dtype}; expected the original's {original.shape} and {original.dtype}")
            if new is not original:  # the same Parameter object gets the new values: optimizers keep it
                original.array = new.array.copy()
            _register_parameter_or_buffer(self, "original", original)
            return
        for i, t in enumerate(new):
            if not isinstance(t, Tensor):
                raise ValueError(f"register_parametrization: right_inverse must return Tensors, got "
                                 f"{type(t).__name__} at position {i}")
            tensor = Tensor._make(t.array.copy())
            if isinstance(original, Parameter):
                tensor = Parameter(tensor, requires_grad=original.requires_grad)
            _register_parameter_or_buffer(self, f"original{i}", tensor)

    def originals(self):
        return [self.original] if self.is_tensor else [getattr(self, f"original{i}") for i in range(self.ntensors)]

    def right_inverse(self, value):
        """Store right_inverse(value) into the original tensor(s), in place."""
        new = _right_inverse(self, value)
        new = [new] if self.is_tensor else list(new)
        if len(new) != self.ntensors:
            raise ValueError(f"right_inverse returned {len(new)} tensors, expected {self.ntensors}")
        for target, t in zip(self.originals(), new):
            target.array[...] = t.array if isinstance(t, Tensor) else t

    def forward(self):
        modules = list(self)
        x = modules[0](*self.originals())
        for m in modules[1:]:
            x = m(x)
        return x


def _inject_class(module):
    """Give `module` a class of its own, `Parametrized<Class>`, to hold the properties."""
    cls = type(module)
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {"_unparametrized_class": cls})


def _inject_property(module, name):
    def get_parametrized(self):
        return self.parametrizations[name]()

    def set_original(self, value):
        self.parametrizations[name].right_inverse(value)

    setattr(type(module), name, property(get_parametrized, set_original))


def is_parametrized(module, tensor_name=None):
    """True when `module` has a parametrized tensor (named `tensor_name`, when given)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def type_before_parametrizations(module):
    """The module's class before any parametrization was registered."""
    return getattr(type(module), "_unparametrized_class", type(module)) if is_parametrized(module) else type(module)


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make `module.<tensor_name>` = parametrization(original) (see the module docstring); a second
    parametrization of the same tensor is applied after the first. Returns the module."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be a Module, got "
                        f"{type(parametrization).__name__}")
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        module.parametrizations[tensor_name].append(parametrization)
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"register_parametrization: module {type(module).__name__} does not have a parameter, a "
                         f"buffer, or a parametrized element with name '{tensor_name}'")
    original = getattr(module, tensor_name)
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        _inject_class(module)
        module.parametrizations = ModuleDict()
    _inject_property(module, tensor_name)
    module.parametrizations[tensor_name] = plist
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo register_parametrization: `tensor_name` becomes a plain parameter (or buffer) again, holding the
    current parametrized value (leave_parametrized) or the original. Returns the module."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: module {type(module).__name__} does not have a "
                         f"parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with grad_mode.no_grad():
                value = getattr(module, tensor_name)
            original.array = value.array.copy()
    else:
        if not leave_parametrized:
            raise ValueError("remove_parametrizations: cannot leave unparametrized (leave_parametrized=False) a "
                             "tensor that is parametrized in terms of a sequence of tensors")
        with grad_mode.no_grad():
            value = getattr(module, tensor_name)
        original = Parameter(Tensor._make(value.array.copy()), requires_grad=plist.original0.requires_grad)
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module)._unparametrized_class
    return module

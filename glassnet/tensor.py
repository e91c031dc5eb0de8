"""`Tensor`: a NumPy array plus what autograd needs (requires_grad, grad, grad_fn).

`tensor.array` is the underlying NumPy array. `tensor.data` is, as in PyTorch, a Tensor sharing that
array but cut from the graph (changes made through it are invisible to autograd). Every method here is a
one-line delegation to the operation of the same name in `glassnet.ops`, where the forward and the
backward are written side by side.
"""
import builtins

import numpy as np

from . import device as _device, dtypes
from .autograd import engine, grad_mode


def to_array(data, dtype=None):
    """Turn Python data, a NumPy array or a Tensor into an ndarray with PyTorch's default dtypes.

    Python floats become float32 (the default float dtype), ints int64, bools bool; NumPy arrays keep
    their dtype. An explicit `dtype` wins.
    """
    if isinstance(data, Tensor):
        data = data.array
    if dtype is not None:
        return np.array(data, dtype=dtype)
    arr = np.array(data)
    if not isinstance(data, (np.ndarray, np.generic)):
        if arr.dtype.kind == "f":
            arr = arr.astype(dtypes.get_default_dtype(), copy=False)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64, copy=False)
        elif arr.dtype.kind not in "b":
            raise TypeError(f"tensor: cannot make a tensor from data of type {arr.dtype}")
    return arr


def _all_ints(values):
    return all(isinstance(v, (builtins.int, np.integer)) and not isinstance(v, builtins.bool) for v in values)


class Tensor:
    # _version: [n], the count of in-place changes of this storage, shared with the tensors that view it
    # (see ops/inplace.py); _base: the tensor this one is a view of, or None
    __slots__ = ("array", "_requires_grad", "grad", "grad_fn", "_output_index", "_hooks", "_post_accumulate_hooks",
                 "_version_box", "_base", "__weakref__")
    __array_priority__ = 1000  # numpy_array * tensor dispatches to Tensor.__rmul__

    def __init__(self, *args, requires_grad=False, dtype=None):
        """PyTorch's legacy constructor: Tensor(2, 3) is an uninitialised float tensor of shape (2, 3),
        Tensor(data) a float tensor holding `data` (default float dtype unless `dtype` is given).
        Prefer `glassnet.tensor(data)`, which keeps integer data integer."""
        dtype = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
        if not args or _all_ints(args):
            self.array = np.empty(tuple(builtins.int(a) for a in args) or (0,), dtype)
        elif len(args) == 1:
            data = args[0]
            self.array = data if isinstance(data, np.ndarray) and data.dtype == dtype else to_array(data, dtype)
        else:
            raise TypeError(f"Tensor: expected sizes (ints) or one piece of data, got {args!r}")
        self.grad = None
        self.grad_fn = None
        self._output_index = 0
        self._hooks = self._post_accumulate_hooks = None
        self._version_box = [0]
        self._base = None
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _make(cls, data, grad_fn=None, output_index=0):
        """Fast internal constructor for operation results (no conversion, no checks)."""
        t = object.__new__(cls)
        t.array = data if isinstance(data, np.ndarray) else np.asarray(data)
        t.grad = None
        t.grad_fn = grad_fn
        t._output_index = output_index
        t._hooks = t._post_accumulate_hooks = None
        t._version_box = [0]
        t._base = None
        t._requires_grad = grad_fn is not None
        return t

    @property
    def _version(self):
        """How many in-place changes this tensor's storage has seen (PyTorch's `tensor._version`)."""
        return self._version_box[0]

    def _bump_version(self):
        """Record an in-place change of the storage (optimizers call this after updating a parameter)."""
        self._version_box[0] += 1

    @property
    def data(self):
        """The same storage as a Tensor outside the graph (PyTorch's `.data`); assigning replaces the storage."""
        return Tensor._make(self.array)

    @data.setter
    def data(self, value):
        array = value.array if isinstance(value, Tensor) else np.asarray(value)
        if array.shape != self.array.shape:
            raise RuntimeError(f"data: cannot assign a tensor of shape {array.shape} to one of shape {self.shape}")
        self.array = array

    def __array__(self, dtype=None, copy=None):
        """NumPy interop: np.asarray(tensor) is the underlying array (no copy unless a dtype asks for one)."""
        if dtype is not None and np.dtype(dtype) != self.array.dtype:
            return self.array.astype(dtype)
        return self.array

    # ---- autograd attributes -------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and self.array.dtype.kind != "f":
            raise RuntimeError(f"requires_grad: only floating point tensors can require gradients, got {self.dtype}")
        if not flag and self.grad_fn is not None:
            raise RuntimeError("requires_grad: cannot turn it off on a non-leaf tensor; use detach()")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Compute the gradient of this tensor with respect to the graph leaves, adding into their `.grad`."""
        if gradient is None:
            if self.array.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for scalar outputs, got shape {self.shape}; "
                    "pass `gradient` of the same shape"
                )
            gradient = Tensor._make(np.ones_like(self.array))
        else:
            gradient = gradient if isinstance(gradient, Tensor) else Tensor._make(np.asarray(gradient, self.dtype))
            if gradient.shape != self.shape:
                raise RuntimeError(f"backward: gradient has shape {gradient.shape}, expected {self.shape}")
        if retain_graph is None:
            retain_graph = create_graph
        engine.run_backward([self], [gradient], retain_graph, create_graph)

    def _accumulate_grad(self, grad, create_graph):
        if create_graph:
            self.grad = grad if self.grad is None else self.grad + grad
        elif self.grad is None:
            self.grad = Tensor._make(np.array(grad.array, dtype=self.dtype, copy=True))
        else:
            self.grad.array += grad.array

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is not None:
            self.grad_fn.add_hook(self._output_index, hook)
        else:
            self._hooks = (self._hooks or []) + [hook]
        return hook

    def register_post_accumulate_grad_hook(self, hook):
        """Call `hook(tensor)` on a leaf right after a backward has added into its `.grad`."""
        if self.grad_fn is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: only leaf tensors have an accumulated .grad")
        if not self.requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook: the tensor does not require grad")
        self._post_accumulate_hooks = (self._post_accumulate_hooks or []) + [hook]
        return hook

    def retain_grad(self):
        """Keep `.grad` for a non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is not None:
            self.grad_fn.retain_output_grad(self._output_index, self)

    def detach(self):
        """The same storage, cut from the graph; in-place changes through it still count against the graph."""
        t = Tensor._make(self.array)
        t._version_box = self._version_box
        return t

    def _bitcast(self, dtype):
        """x.view(dtype): the same bytes read as another dtype, as PyTorch's (no gradient flows through it). With
        a different element size the last dim, which must be contiguous, grows or shrinks by the ratio."""
        a = self.array
        if dtype.itemsize != a.itemsize and (a.ndim == 0 or a.strides[-1] != a.itemsize
                                             or a.shape[-1] * a.itemsize % dtype.itemsize):
            raise RuntimeError(f"view: cannot read {a.dtype} of shape {tuple(a.shape)} as {dtype}: with a different "
                               f"element size the last dim must be contiguous and hold a whole number of {dtype} "
                               f"elements")
        t = Tensor._make(a.view(dtype))
        t._version_box = self._version_box
        return t

    def detach_(self):
        self.grad_fn = None
        self._requires_grad = False
        return self

    def clone(self):
        return ops.clone(self)

    # ---- metadata ------------------------------------------------------------------------------
    @property
    def shape(self):
        return self.array.shape

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self):
        return _device.CPU

    is_cuda = False
    is_sparse = False

    def get_device(self):
        """-1: the CPU (PyTorch's answer for a CPU tensor)."""
        return -1

    def is_floating_point(self):
        return self.array.dtype.kind == "f"

    def size(self, dim=None):
        return self.array.shape if dim is None else self.array.shape[dim]

    def numel(self):
        return self.array.size

    def dim(self):
        return self.array.ndim

    def element_size(self):
        return self.array.itemsize

    nelement, ndimension = numel, dim              # older spellings
    is_cpu = True

    @property
    def itemsize(self):
        return self.array.itemsize

    @property
    def nbytes(self):
        return self.array.nbytes

    def is_signed(self):
        return self.array.dtype.kind in "ifc"

    def data_ptr(self):
        """The address of the first element (tensors that share it share memory there)."""
        return self.array.__array_interface__["data"][0]

    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ---- conversion ----------------------------------------------------------------------------
    def item(self):
        if self.array.size != 1:
            raise RuntimeError(f"item: a tensor with {self.array.size} elements cannot be converted to a scalar")
        return self.array.item()

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self.array

    def tolist(self):
        return self.array.tolist()

    def to(self, *args, **kwargs):
        """to(dtype), to(device), to(device, dtype), to(other): a cast (differentiable between float types),
        or this tensor itself when nothing changes (unless copy=True). Only the CPU exists (see device.py)."""
        dtype, copy = _device.parse_to(args, kwargs, "Tensor.to")
        if dtype is None or dtype == self.dtype:
            return ops.clone(self) if copy else self
        return ops.cast(self, dtype)

    def type(self, dtype=None, non_blocking=False):
        """With no argument, the legacy type name ('torch.FloatTensor', as PyTorch programs compare it);
        with a dtype (or such a name), a cast."""
        if dtype is None:
            return dtypes.legacy_type_name(self.dtype)
        if isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), np.dtype):
            dtype = dtype.dtype                      # a legacy class: x.type(glassnet.DoubleTensor)
        return self.to(dtypes.from_legacy_type_name(dtype) if isinstance(dtype, str) else dtype)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool)

    def short(self):
        return self.to(dtypes.int16)

    def char(self):
        return self.to(dtypes.int8)

    def byte(self):
        return self.to(dtypes.uint8)

    def bfloat16(self):
        return self.to(dtypes.bfloat16)            # raises: NumPy has no bfloat16

    def type_as(self, other):
        """This tensor cast to `other`'s dtype."""
        return self.to(other.dtype)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        _device.check_device("cuda" if device is None else device, "Tensor.cuda")

    def contiguous(self, memory_format=None):
        """This tensor when its array is C-contiguous, else a contiguous copy (differentiable)."""
        return self if self.array.flags.c_contiguous else ops.clone(self)

    def is_contiguous(self, memory_format=None):
        return self.array.flags.c_contiguous

    def stride(self, dim=None):
        """Strides in elements, as PyTorch counts them (NumPy counts bytes)."""
        strides = tuple(s // self.array.itemsize for s in self.array.strides)
        return strides if dim is None else strides[dim]

    def pin_memory(self):
        return self

    # ---- new tensors with this one's dtype (PyTorch's new_* methods) -----------------------------
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of `size` (ints or one tuple) with this tensor's dtype unless `dtype` is given."""
        return _creation.zeros(*size, dtype=self._new_dtype(dtype), device=device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.ones(*size, dtype=self._new_dtype(dtype), device=device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.empty(*size, dtype=self._new_dtype(dtype), device=device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return _creation.full(size, fill_value, dtype=self._new_dtype(dtype), device=device,
                              requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A copy of `data` as a tensor with this tensor's dtype unless `dtype` is given."""
        return _creation.tensor(data, dtype=self._new_dtype(dtype), device=device, requires_grad=requires_grad)

    def _new_dtype(self, dtype):
        return self.dtype if dtype is None else dtype

    def __format__(self, spec):
        """A 0-d tensor formats as its value, as in PyTorch: f"{loss:.4f}", and "{}".format(correct) gives
        "402", not "tensor(402)"; any other tensor takes only the empty format."""
        if self.array.ndim == 0:
            return format(self.array.item(), spec)
        return object.__format__(self, spec)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self.array.size} elements is ambiguous")
        return bool(self.array)

    def __index__(self):
        if self.array.dtype.kind not in "iu" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.array)

    __hash__ = object.__hash__

    def __repr__(self):
        body = np.array2string(self.array, separator=", ", precision=4, prefix="tensor(")
        extra = ""
        if self.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool):
            extra += f", dtype={self.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ---- in-place operations (ops/inplace.py: recorded in the graph, counted by version) ----------
    def _inplace(self, op, compute, *operands, reads_self=True):
        return _inplace.apply_inplace(self, op, compute, *operands, reads_self=reads_self)

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        return self._inplace("fill_", _inplace.overwrite, Ellipsis, value, reads_self=False)

    def copy_(self, src, non_blocking=False):
        src = src if isinstance(src, Tensor) else Tensor._make(np.asarray(src))
        if _util.check_broadcast("copy_", src.shape, self.shape) != self.shape:
            raise RuntimeError(f"copy_: cannot copy a tensor of shape {tuple(src.shape)} into one of shape "
                               f"{tuple(self.shape)}")
        return self._inplace("copy_", _inplace.overwrite, Ellipsis, src, reads_self=False)

    def __setitem__(self, index, value):
        self._inplace("__setitem__", _inplace.overwrite, _inplace.to_index(index), value, reads_self=False)

    def add_(self, other, alpha=1):
        return self._inplace("add_", lambda t, o: ops.add(t, o if alpha == 1 else o * alpha), other,
                             reads_self=False)

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", lambda t, o: ops.sub(t, o if alpha == 1 else o * alpha), other,
                             reads_self=False)

    def mul_(self, other):
        return self._inplace("mul_", ops.mul, other)

    def div_(self, other, rounding_mode=None):
        return self._inplace("div_", lambda t, o: ops.div(t, o, rounding_mode=rounding_mode)
                             if rounding_mode is not None else ops.div(t, o), other)

    def pow_(self, exponent):
        return self._inplace("pow_", ops.pow, exponent)

    def neg_(self):
        return self._inplace("neg_", ops.neg, reads_self=False)

    def abs_(self):
        return self._inplace("abs_", ops.abs)

    def exp_(self):
        return self._inplace("exp_", ops.exp)

    def log_(self):
        return self._inplace("log_", ops.log)

    def sqrt_(self):
        return self._inplace("sqrt_", ops.sqrt)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda t: ops.clamp(t, min, max))

    clip_ = clamp_

    def relu_(self):
        return self._inplace("relu_", ops.relu)

    def sigmoid_(self):
        return self._inplace("sigmoid_", ops.sigmoid)

    def tanh_(self):
        return self._inplace("tanh_", ops.tanh)

    def masked_fill_(self, mask, value):
        return self._inplace("masked_fill_", lambda t: ops.masked_fill(t, mask, value))

    def addcmul_(self, tensor1, tensor2, value=1):
        return self._inplace("addcmul_", lambda t, a, b: t + value * a * b, tensor1, tensor2, reads_self=False)

    def addcdiv_(self, tensor1, tensor2, value=1):
        return self._inplace("addcdiv_", lambda t, a, b: t + value * a / b, tensor1, tensor2, reads_self=False)

    def lerp_(self, end, weight):
        return self._inplace("lerp_", lambda t, e: t + weight * (e - t), end)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        return self._inplace("normal_", lambda t: _creation.randn_like(t, generator=generator) * std + mean,
                             reads_self=False)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        return self._inplace("uniform_", lambda t: _creation.rand_like(t, generator=generator) * (b - a) + a,
                             reads_self=False)

    def bernoulli_(self, p=0.5, *, generator=None):
        return self._inplace("bernoulli_", lambda t: ops.cast(_creation.rand_like(t, dtype=dtypes.float64,
                             generator=generator) < p, t.dtype), reads_self=False)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # ---- operators -----------------------------------------------------------------------------
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, exponent):
        return ops.pow(self, exponent)

    def __rpow__(self, base):
        return ops.pow(base, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __abs__(self):
        return ops.abs(self)

    def __eq__(self, other):
        return ops.eq(self, other)

    def __ne__(self, other):
        return ops.ne(self, other)

    def __lt__(self, other):
        return ops.lt(self, other)

    def __le__(self, other):
        return ops.le(self, other)

    def __gt__(self, other):
        return ops.gt(self, other)

    def __ge__(self, other):
        return ops.ge(self, other)

    def __invert__(self):
        return ops.bitwise_not(self)

    def __and__(self, other):
        return ops.bitwise_and(self, other)

    def __or__(self, other):
        return ops.bitwise_or(self, other)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # ---- operations as methods (see glassnet.ops for each one's math) ----------------------------
    # fmt: off
    def add(self, other, *, alpha=1): return ops.add(self, other, alpha=alpha)
    def sub(self, other, *, alpha=1): return ops.sub(self, other, alpha=alpha)
    def mul(self, other): return ops.mul(self, other)
    def div(self, other, *, rounding_mode=None): return ops.div(self, other, rounding_mode=rounding_mode)
    def pow(self, exponent): return ops.pow(self, exponent)
    def neg(self): return ops.neg(self)
    def matmul(self, other): return ops.matmul(self, other)
    def subtract(self, other, *, alpha=1): return ops.sub(self, other, alpha=alpha)
    def multiply(self, other): return ops.mul(self, other)
    def divide(self, other, *, rounding_mode=None): return ops.div(self, other, rounding_mode=rounding_mode)
    def erf(self): return ops.erf(self)
    def erfc(self): return ops.erfc(self)
    def erfinv(self): return ops.erfinv(self)
    def clamp_min(self, min): return ops.clamp_min(self, min)
    def clamp_max(self, max): return ops.clamp_max(self, max)
    def tile(self, *dims): return ops.tile(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)
    def multinomial(self, num_samples, replacement=False, *, generator=None): return _creation.multinomial(self, num_samples, replacement, generator=generator)
    def bernoulli(self, p=None, *, generator=None): return _creation.bernoulli(self, p, generator=generator)
    def mm(self, mat2): return ops.mm(self, mat2)
    def bmm(self, mat2): return ops.bmm(self, mat2)
    def mv(self, vec): return ops.mv(self, vec)
    def dot(self, other): return ops.dot(self, other)
    def outer(self, vec2): return ops.outer(self, vec2)
    ger = outer
    def addmm(self, mat1, mat2, *, beta=1, alpha=1): return ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def log1p(self): return ops.log1p(self)
    def sqrt(self): return ops.sqrt(self)
    def rsqrt(self): return ops.rsqrt(self)
    def abs(self): return ops.abs(self)
    def sign(self): return ops.sign(self)
    def sin(self): return ops.sin(self)
    def cos(self): return ops.cos(self)
    def clamp(self, min=None, max=None): return ops.clamp(self, min, max)
    clip = clamp
    def maximum(self, other): return ops.maximum(self, other)
    def minimum(self, other): return ops.minimum(self, other)
    def where(self, condition, other): return ops.where(condition, self, other)
    def eq(self, other): return ops.eq(self, other)
    def ne(self, other): return ops.ne(self, other)
    def lt(self, other): return ops.lt(self, other)
    def le(self, other): return ops.le(self, other)
    def gt(self, other): return ops.gt(self, other)
    def ge(self, other): return ops.ge(self, other)
    def sum(self, *args, **kwargs): return ops.sum(self, *args, **kwargs)
    def mean(self, *args, **kwargs): return ops.mean(self, *args, **kwargs)
    def prod(self, *args, **kwargs): return ops.prod(self, *args, **kwargs)
    def max(self, *args, **kwargs): return ops.max(self, *args, **kwargs)
    def min(self, *args, **kwargs): return ops.min(self, *args, **kwargs)
    def amax(self, *args, **kwargs): return ops.amax(self, *args, **kwargs)
    def amin(self, *args, **kwargs): return ops.amin(self, *args, **kwargs)
    def var(self, *args, **kwargs): return ops.var(self, *args, **kwargs)
    def std(self, *args, **kwargs): return ops.std(self, *args, **kwargs)
    def logsumexp(self, *args, **kwargs): return ops.logsumexp(self, *args, **kwargs)
    def norm(self, p="fro", dim=None, keepdim=False): return ops.norm(self, p, dim, keepdim)
    def argmax(self, *args, **kwargs): return ops.argmax(self, *args, **kwargs)
    def argmin(self, *args, **kwargs): return ops.argmin(self, *args, **kwargs)
    def cumsum(self, *args, **kwargs): return ops.cumsum(self, *args, **kwargs)
    def reshape(self, *shape): return ops.reshape(self, *shape)
    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], np.dtype):
            return self._bitcast(shape[0])
        return ops.view(self, *shape)
    def view_as(self, other): return ops.reshape(self, other.shape)
    def reshape_as(self, other): return ops.reshape(self, other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return ops.flatten(self, start_dim, end_dim)
    def squeeze(self, *args, **kwargs): return ops.squeeze(self, *args, **kwargs)
    def unsqueeze(self, *args, **kwargs): return ops.unsqueeze(self, *args, **kwargs)
    def transpose(self, dim0, dim1): return ops.transpose(self, dim0, dim1)
    def permute(self, *dims): return ops.permute(self, *dims)
    def expand(self, *sizes): return ops.expand(self, *sizes)
    def expand_as(self, other): return ops.expand(self, other.shape)
    def broadcast_to(self, shape): return ops.broadcast_to(self, shape)
    def repeat(self, *sizes): return ops.repeat(self, *sizes)
    def split(self, split_size_or_sections, dim=0): return ops.split(self, split_size_or_sections, dim)
    def chunk(self, *args, **kwargs): return ops.chunk(self, *args, **kwargs)
    def flip(self, dims): return ops.flip(self, dims)
    def masked_fill(self, mask, value): return ops.masked_fill(self, mask, value)
    def gather(self, *args, **kwargs): return ops.gather(self, *args, **kwargs)
    def scatter_add(self, dim, index, src): return ops.scatter_add(self, dim, index, src)
    def index_select(self, *args, **kwargs): return ops.index_select(self, *args, **kwargs)
    def tril(self, diagonal=0): return ops.tril(self, diagonal)
    def triu(self, diagonal=0): return ops.triu(self, diagonal)
    def relu(self): return ops.relu(self)
    def sigmoid(self): return ops.sigmoid(self)
    def tanh(self): return ops.tanh(self)
    def softmax(self, *args, **kwargs): return ops.softmax(self, *args, **kwargs)
    def log_softmax(self, *args, **kwargs): return ops.log_softmax(self, *args, **kwargs)
    def __mod__(self, other): return ops.remainder(self, other)
    def __rmod__(self, other): return ops.remainder(other, self)
    def __floordiv__(self, other): return ops.floor_divide(self, other)
    def __rfloordiv__(self, other): return ops.floor_divide(other, self)
    def __xor__(self, other): return ops.bitwise_xor(self, other)
    def __rxor__(self, other): return ops.bitwise_xor(other, self)
    def __rand__(self, other): return ops.bitwise_and(other, self)
    def __ror__(self, other): return ops.bitwise_or(other, self)
    def remainder(self, other): return ops.remainder(self, other)
    def fmod(self, other): return ops.fmod(self, other)
    def floor_divide(self, other): return ops.floor_divide(self, other)
    def true_divide(self, other): return ops.div(self, other)
    def float_power(self, exponent): return ops.float_power(self, exponent)
    def addcmul(self, tensor1, tensor2, *, value=1): return ops.addcmul(self, tensor1, tensor2, value=value)
    def addcdiv(self, tensor1, tensor2, *, value=1): return ops.addcdiv(self, tensor1, tensor2, value=value)
    def negative(self): return ops.neg(self)
    def absolute(self): return ops.abs(self)
    def exp2(self): return ops.exp2(self)
    def expm1(self): return ops.expm1(self)
    def log2(self): return ops.log2(self)
    def log10(self): return ops.log10(self)
    def square(self): return ops.square(self)
    def reciprocal(self): return ops.reciprocal(self)
    def tan(self): return ops.tan(self)
    def asin(self): return ops.asin(self)
    def acos(self): return ops.acos(self)
    def atan(self): return ops.atan(self)
    def sinh(self): return ops.sinh(self)
    def cosh(self): return ops.cosh(self)
    def asinh(self): return ops.asinh(self)
    def acosh(self): return ops.acosh(self)
    def atanh(self): return ops.atanh(self)
    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
    def atan2(self, other): return ops.atan2(self, other)
    arctan2 = atan2
    def hypot(self, other): return ops.hypot(self, other)
    def logaddexp(self, other): return ops.logaddexp(self, other)
    def lerp(self, end, weight): return ops.lerp(self, end, weight)
    def copysign(self, other): return ops.copysign(self, other)
    def floor(self): return ops.floor(self)
    def ceil(self): return ops.ceil(self)
    def round(self, *, decimals=0): return ops.round(self, decimals=decimals)
    def trunc(self): return ops.trunc(self)
    fix = trunc
    def frac(self): return ops.frac(self)
    def nan_to_num(self, nan=0.0, posinf=None, neginf=None): return ops.nan_to_num(self, nan, posinf, neginf)
    def fmax(self, other): return ops.fmax(self, other)
    def fmin(self, other): return ops.fmin(self, other)
    def greater(self, other): return ops.gt(self, other)
    def greater_equal(self, other): return ops.ge(self, other)
    def less(self, other): return ops.lt(self, other)
    def less_equal(self, other): return ops.le(self, other)
    def not_equal(self, other): return ops.ne(self, other)
    def equal(self, other): return ops.equal(self, other)
    def logical_and(self, other): return ops.logical_and(self, other)
    def logical_or(self, other): return ops.logical_or(self, other)
    def logical_xor(self, other): return ops.logical_xor(self, other)
    def logical_not(self): return ops.logical_not(self)
    def bitwise_and(self, other): return ops.bitwise_and(self, other)
    def bitwise_or(self, other): return ops.bitwise_or(self, other)
    def bitwise_xor(self, other): return ops.bitwise_xor(self, other)
    def bitwise_not(self): return ops.bitwise_not(self)
    def isnan(self): return ops.isnan(self)
    def isfinite(self): return ops.isfinite(self)
    def isinf(self): return ops.isinf(self)
    def isposinf(self): return ops.isposinf(self)
    def isneginf(self): return ops.isneginf(self)
    def signbit(self): return ops.signbit(self)
    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False): return ops.isclose(self, other, rtol, atol, equal_nan)
    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False): return ops.allclose(self, other, rtol, atol, equal_nan)
    def any(self, *args, **kwargs): return ops.any(self, *args, **kwargs)
    def all(self, *args, **kwargs): return ops.all(self, *args, **kwargs)
    def count_nonzero(self, *args, **kwargs): return ops.count_nonzero(self, *args, **kwargs)
    def nansum(self, *args, **kwargs): return ops.nansum(self, *args, **kwargs)
    def nanmean(self, *args, **kwargs): return ops.nanmean(self, *args, **kwargs)
    def aminmax(self, **kwargs): return ops.aminmax(self, **kwargs)
    def cumprod(self, *args, **kwargs): return ops.cumprod(self, *args, **kwargs)
    def cummax(self, *args, **kwargs): return ops.cummax(self, *args, **kwargs)
    def cummin(self, *args, **kwargs): return ops.cummin(self, *args, **kwargs)
    def logcumsumexp(self, *args, **kwargs): return ops.logcumsumexp(self, *args, **kwargs)
    def sort(self, dim=-1, descending=False, stable=False, **kwargs): return ops.sort(self, dim, descending, stable, **kwargs)
    def argsort(self, dim=-1, descending=False, stable=False, **kwargs): return ops.argsort(self, dim, descending, stable, **kwargs)
    def msort(self): return ops.msort(self)
    def topk(self, k, dim=-1, largest=True, sorted=True, **kwargs): return ops.topk(self, k, dim, largest, sorted, **kwargs)
    def kthvalue(self, k, dim=-1, keepdim=False, **kwargs): return ops.kthvalue(self, k, dim, keepdim, **kwargs)
    def median(self, *args, **kwargs): return ops.median(self, *args, **kwargs)
    def nanmedian(self, *args, **kwargs): return ops.nanmedian(self, *args, **kwargs)
    def quantile(self, q, *args, **kwargs): return ops.quantile(self, q, *args, **kwargs)
    def nanquantile(self, q, *args, **kwargs): return ops.nanquantile(self, q, *args, **kwargs)
    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None): return ops.unique(self, sorted, return_inverse, return_counts, dim)
    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None): return ops.unique_consecutive(self, return_inverse, return_counts, dim)
    def bincount(self, weights=None, minlength=0): return ops.bincount(self, weights, minlength)
    def histc(self, bins=100, min=0, max=0): return ops.histc(self, bins, min, max)
    def nonzero(self, *, as_tuple=False): return ops.nonzero(self, as_tuple=as_tuple)
    def argwhere(self): return ops.argwhere(self)
    def masked_select(self, mask): return ops.masked_select(self, mask)
    def scatter(self, dim, index, src=None, **kwargs): return ops.scatter(self, dim, index, src, **kwargs)
    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True): return ops.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)
    def index_add(self, dim, index, source, *, alpha=1): return ops.index_add(self, dim, index, source, alpha=alpha)
    def index_copy(self, dim, index, source): return ops.index_copy(self, dim, index, source)
    def index_fill(self, dim, index, value): return ops.index_fill(self, dim, index, value)
    def scatter_(self, dim, index, src=None, **kwargs): return self._inplace("scatter_", lambda t, s: ops.scatter(t, dim, index, s, **kwargs), src)
    def scatter_add_(self, dim, index, src): return self._inplace("scatter_add_", lambda t, s: ops.scatter_add(t, dim, index, s), src)
    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True): return self._inplace("scatter_reduce_", lambda t, s: ops.scatter_reduce(t, dim, index, s, reduce, include_self=include_self), src)
    def index_add_(self, dim, index, source, *, alpha=1): return self._inplace("index_add_", lambda t, s: ops.index_add(t, dim, index, s, alpha=alpha), source)
    def index_copy_(self, dim, index, source): return self._inplace("index_copy_", lambda t, s: ops.index_copy(t, dim, index, s), source)
    def index_fill_(self, dim, index, value): return self._inplace("index_fill_", lambda t, v: ops.index_fill(t, dim, index, v), value)
    def unbind(self, dim=0, **kwargs): return ops.unbind(self, dim, **kwargs)
    def select(self, dim, index): return ops.select(self, dim, index)
    def narrow(self, dim, start, length): return ops.narrow(self, dim, start, length)
    def tensor_split(self, indices_or_sections, dim=0, **kwargs): return ops.tensor_split(self, indices_or_sections, dim, **kwargs)
    def repeat_interleave(self, repeats, dim=None, *, output_size=None): return ops.repeat_interleave(self, repeats, dim, output_size=output_size)
    def take(self, index): return ops.take(self, index)
    def take_along_dim(self, indices, dim=None, **kwargs): return ops.take_along_dim(self, indices, dim, **kwargs)
    def unfold(self, dimension, size, step): return ops.unfold(self, dimension, size, step)
    def diff(self, n=1, dim=-1, prepend=None, append=None, **kwargs): return ops.diff(self, n, dim, prepend, append, **kwargs)
    def diagonal(self, offset=0, dim1=0, dim2=1): return ops.diagonal(self, offset, dim1, dim2)
    def diag(self, diagonal=0): return ops.diag(self, diagonal)
    def diag_embed(self, offset=0, dim1=-2, dim2=-1): return ops.diag_embed(self, offset, dim1, dim2)
    def trace(self): return ops.trace(self)
    def roll(self, shifts, dims=None): return ops.roll(self, shifts, dims)
    def movedim(self, source, destination): return ops.movedim(self, source, destination)
    moveaxis = movedim
    def swapaxes(self, axis0, axis1): return ops.swapaxes(self, axis0, axis1)
    swapdims = swapaxes
    def t(self): return ops.t(self)
    def unflatten(self, dim, sizes): return ops.unflatten(self, dim, sizes)
    def ravel(self): return ops.ravel(self)
    real = property(lambda self: ops.real(self), doc="The real part (see ops/fourier.py)")
    imag = property(lambda self: ops.imag(self), doc="The imaginary part of a complex tensor")
    def conj(self): return ops.conj(self)
    def angle(self): return ops.angle(self)
    def sgn(self): return ops.sgn(self)
    def is_complex(self): return ops.is_complex(self)
    def stft(self, n_fft, *args, **kwargs): return ops.stft(self, n_fft, *args, **kwargs)
    def det(self): return ops.det(self)
    def logdet(self): return ops.logdet(self)
    def slogdet(self): return ops.slogdet(self)
    def inverse(self): return ops.inverse(self)
    def pinverse(self, rcond=1e-15): return ops.pinverse(self, rcond)
    def cholesky(self, upper=False): return ops.cholesky(self, upper=upper)
    def matrix_power(self, n): return ops.matrix_power(self, n)
    def cross(self, other, dim=None): return ops.cross(self, other, dim)
    def __lshift__(self, other): return ops.bitwise_left_shift(self, other)
    def __rshift__(self, other): return ops.bitwise_right_shift(self, other)
    def bitwise_left_shift(self, other): return ops.bitwise_left_shift(self, other)
    def bitwise_right_shift(self, other): return ops.bitwise_right_shift(self, other)
    # fmt: on

    @property
    def T(self):
        return ops.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):
        return ops.transpose(self, -2, -1)


from . import ops  # noqa: E402  (the operations import Tensor, so they come after it)
from .ops import _util, inplace as _inplace  # noqa: E402
from . import creation as _creation  # noqa: E402


def _inplace_twin(name):
    """x.<name>_(...): x.<name>(...) written into x's own storage, recorded for autograd like <name>
    (see ops/inplace.py)."""
    out_of_place = getattr(Tensor, name)

    def method(self, *args, **kwargs):
        return self._inplace(name + "_", lambda t, *operands: out_of_place(t, *operands, **kwargs), *args)

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In place: x.{name}_(...) makes x equal to x.{name}(...)."
    return method


# the in-place twins of the shape-keeping methods (the others are written out above)
for _name in ("floor ceil round trunc fix frac sign sgn sin cos tan asin acos atan arcsin arccos arctan sinh cosh "
              "asinh acosh atanh arcsinh arccosh arctanh log1p log2 log10 expm1 exp2 rsqrt reciprocal square erf "
              "erfc erfinv fmod remainder floor_divide true_divide hypot atan2 arctan2 copysign nan_to_num tril triu "
              "eq ne lt le gt ge greater greater_equal less less_equal not_equal logical_and logical_or logical_xor "
              "logical_not bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift bitwise_right_shift "
              "cumsum cumprod negative absolute clamp_min clamp_max subtract multiply divide addmm").split():
    setattr(Tensor, _name + "_", _inplace_twin(_name))

"""`Tensor`: a NumPy array plus what autograd needs (requires_grad, grad, grad_fn).

`tensor.array` is the underlying NumPy array. `tensor.data` is, as in PyTorch, a Tensor sharing that
array but cut from the graph (changes made through it are invisible to autograd). Every method here is a
one-line delegation to the operation of the same name in `glassnet.ops`, where the forward and the
backward are written side by side.
"""
import numpy as np

from . import dtypes
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


class Tensor:
    __slots__ = ("array", "_requires_grad", "grad", "grad_fn", "_output_index", "_hooks", "__weakref__")
    __array_priority__ = 1000  # numpy_array * tensor dispatches to Tensor.__rmul__

    def __init__(self, data, requires_grad=False, dtype=None):
        self.array = data if isinstance(data, np.ndarray) and dtype is None else to_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self._output_index = 0
        self._hooks = None
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
        t._hooks = None
        t._requires_grad = grad_fn is not None
        return t

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
            gradient = gradient if isinstance(gradient, Tensor) else Tensor(gradient, dtype=self.dtype)
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

    def retain_grad(self):
        """Keep `.grad` for a non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is not None:
            self.grad_fn.retain_output_grad(self._output_index, self)

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor._make(self.array)

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
        return "cpu"

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

    def to(self, dtype=None, *args, **kwargs):
        """Cast to `dtype` (differentiable between float types); device strings are accepted and ignored."""
        if isinstance(dtype, str) or dtype is None:
            return self
        return ops.cast(self, dtype)

    def type(self, dtype):
        return self.to(dtype)

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

    def cpu(self):
        return self

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

    # ---- in-place helpers (outside the graph) ---------------------------------------------------
    def _check_inplace(self, op):
        if grad_mode.is_grad_enabled() and self.requires_grad:
            raise RuntimeError(
                f"{op}: a tensor that requires grad is being used in an in-place operation; "
                "wrap it in glassnet.no_grad()"
            )

    def zero_(self):
        self._check_inplace("zero_")
        self.array[...] = 0
        return self

    def fill_(self, value):
        self._check_inplace("fill_")
        self.array[...] = value
        return self

    def copy_(self, src):
        self._check_inplace("copy_")
        src = src.array if isinstance(src, Tensor) else np.asarray(src)
        if src.shape != self.shape and np.broadcast_shapes(src.shape, self.shape) != self.shape:
            raise RuntimeError(f"copy_: cannot copy a tensor of shape {src.shape} into shape {self.shape}")
        self.array[...] = src
        return self

    def __setitem__(self, index, value):
        self._check_inplace("__setitem__")
        self.array[ops.to_index(index)] = value.array if isinstance(value, Tensor) else value

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
        return ops.logical_not(self)

    def __and__(self, other):
        return ops.logical_and(self, other)

    def __or__(self, other):
        return ops.logical_or(self, other)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # ---- operations as methods (see glassnet.ops for each one's math) ----------------------------
    # fmt: off
    def add(self, other): return ops.add(self, other)
    def sub(self, other): return ops.sub(self, other)
    def mul(self, other): return ops.mul(self, other)
    def div(self, other): return ops.div(self, other)
    def pow(self, exponent): return ops.pow(self, exponent)
    def neg(self): return ops.neg(self)
    def matmul(self, other): return ops.matmul(self, other)
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
    def sum(self, dim=None, keepdim=False): return ops.sum(self, dim, keepdim)
    def mean(self, dim=None, keepdim=False): return ops.mean(self, dim, keepdim)
    def prod(self, dim=None, keepdim=False): return ops.prod(self, dim, keepdim)
    def max(self, dim=None, keepdim=False): return ops.max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return ops.min(self, dim, keepdim)
    def amax(self, dim=None, keepdim=False): return ops.amax(self, dim, keepdim)
    def amin(self, dim=None, keepdim=False): return ops.amin(self, dim, keepdim)
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None): return ops.var(self, dim, unbiased, keepdim, correction=correction)
    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None): return ops.std(self, dim, unbiased, keepdim, correction=correction)
    def logsumexp(self, dim, keepdim=False): return ops.logsumexp(self, dim, keepdim)
    def norm(self, p="fro", dim=None, keepdim=False): return ops.norm(self, p, dim, keepdim)
    def argmax(self, dim=None, keepdim=False): return ops.argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return ops.argmin(self, dim, keepdim)
    def cumsum(self, dim): return ops.cumsum(self, dim)
    def reshape(self, *shape): return ops.reshape(self, *shape)
    def view(self, *shape): return ops.view(self, *shape)
    def view_as(self, other): return ops.reshape(self, other.shape)
    def reshape_as(self, other): return ops.reshape(self, other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return ops.flatten(self, start_dim, end_dim)
    def squeeze(self, dim=None): return ops.squeeze(self, dim)
    def unsqueeze(self, dim): return ops.unsqueeze(self, dim)
    def transpose(self, dim0, dim1): return ops.transpose(self, dim0, dim1)
    def permute(self, *dims): return ops.permute(self, *dims)
    def expand(self, *sizes): return ops.expand(self, *sizes)
    def expand_as(self, other): return ops.expand(self, other.shape)
    def broadcast_to(self, shape): return ops.broadcast_to(self, shape)
    def repeat(self, *sizes): return ops.repeat(self, *sizes)
    def split(self, split_size_or_sections, dim=0): return ops.split(self, split_size_or_sections, dim)
    def chunk(self, chunks, dim=0): return ops.chunk(self, chunks, dim)
    def flip(self, dims): return ops.flip(self, dims)
    def masked_fill(self, mask, value): return ops.masked_fill(self, mask, value)
    def gather(self, dim, index): return ops.gather(self, dim, index)
    def scatter_add(self, dim, index, src): return ops.scatter_add(self, dim, index, src)
    def index_select(self, dim, index): return ops.index_select(self, dim, index)
    def tril(self, diagonal=0): return ops.tril(self, diagonal)
    def triu(self, diagonal=0): return ops.triu(self, diagonal)
    def relu(self): return ops.relu(self)
    def sigmoid(self): return ops.sigmoid(self)
    def tanh(self): return ops.tanh(self)
    def softmax(self, dim): return ops.softmax(self, dim)
    def log_softmax(self, dim): return ops.log_softmax(self, dim)
    # fmt: on

    @property
    def T(self):
        return ops.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):
        return ops.transpose(self, -2, -1)


from . import ops  # noqa: E402  (the operations import Tensor, so they come after it)

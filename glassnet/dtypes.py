"""Data types: glassnet uses NumPy's dtypes directly, under PyTorch's names.

Floats default to float32. Type promotion follows PyTorch's rule of thumb rather than NumPy's:
an integer tensor combined with a float tensor takes the float tensor's dtype (NumPy would
widen to float64), and a Python scalar never widens a tensor's dtype.
"""
import builtins

import numpy as np

float16 = half = np.dtype("float16")
float32 = float = np.dtype("float32")
float64 = double = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = short = np.dtype("int16")
int32 = int = np.dtype("int32")
int64 = long = np.dtype("int64")
bool = np.dtype("bool")
complex64 = cfloat = np.dtype("complex64")
complex128 = cdouble = np.dtype("complex128")


class _NoNumPyDtype:
    """A PyTorch dtype that NumPy cannot compute in (bfloat16). The name exists, so programs that only
    mention it (nanoGPT's dtype table) run; making a tensor of it raises a clear error. bfloat16 weights
    in safetensors files are widened to float32 on load (see serialization.py)."""

    def __init__(self, name):
        self.name = name

    @property
    def dtype(self):  # NumPy asks for this when it is given the object as a dtype
        raise TypeError(f"{self.name}: NumPy has no {self.name} arithmetic, so glassnet cannot make {self.name} "
                        f"tensors; use float32 (glassnet.load widens {self.name} weights to float32)")

    is_floating_point = True
    itemsize = 2

    def __repr__(self):
        return f"glassnet.{self.name}"


bfloat16 = _NoNumPyDtype("bfloat16")


class finfo:
    """Facts about a floating dtype (the default float dtype when none is given), as Python numbers:
    bits, eps, max, min, tiny (= smallest_normal, the smallest positive normal number), resolution, and
    `dtype` (its name). Also for bfloat16, which glassnet cannot compute in."""

    def __init__(self, type=None):
        if type is bfloat16:                   # 8 exponent bits like float32, 7 fraction bits
            self.bits, self.eps, self.tiny, self.resolution, self.dtype = 16, 2.0**-7, 2.0**-126, 0.01, "bfloat16"
            self.max = (2 - 2.0**-7) * 2.0**127
        else:
            dtype = get_default_dtype() if type is None else np.dtype(type)
            if dtype.kind not in "fc":
                raise TypeError(f"finfo: expected a floating dtype, got {dtype} (use iinfo for integers)")
            info = np.finfo(dtype)
            self.bits, self.eps, self.tiny = info.bits, builtins.float(info.eps), builtins.float(info.tiny)
            self.max, self.resolution, self.dtype = builtins.float(info.max), 10.0 ** -info.precision, dtype.name
        self.min, self.smallest_normal = -self.max, self.tiny

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.tiny:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Facts about an integer dtype as Python ints: bits, max, min, and `dtype` (its name)."""

    def __init__(self, type):
        dtype = np.dtype(type)
        if dtype.kind not in "iu":
            raise TypeError(f"iinfo: expected an integer dtype, got {dtype} (use finfo for floats)")
        info = np.iinfo(dtype)
        self.bits, self.max, self.min, self.dtype = info.bits, builtins.int(info.max), builtins.int(info.min), dtype.name

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


_default_float = float32


def get_default_dtype():
    """The dtype of tensors made from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype):
    """Set the dtype of tensors made from Python floats; only float32 and float64 are allowed."""
    global _default_float
    dtype = np.dtype(dtype)
    if dtype not in (float32, float64):
        raise TypeError(f"set_default_dtype: expected float32 or float64, got {dtype}")
    _default_float = dtype


def is_floating(dtype):
    return np.dtype(dtype).kind == "f"


def _category(dtype):
    return "biufc".index(dtype.kind) if dtype.kind in "biufc" else 0


def promote_zero_dim(dim_dtype, zero_dim_dtype):
    """PyTorch's rule for a tensor with dimensions and a 0-d tensor: the 0-d one only decides the result
    when it is of a higher category (bool < integer < float), so float32 [n] + float64 0-d is float32."""
    if _category(zero_dim_dtype) > _category(dim_dtype):
        return zero_dim_dtype
    return dim_dtype


_LEGACY = {float32: "FloatTensor", float64: "DoubleTensor", float16: "HalfTensor", int64: "LongTensor",
           int32: "IntTensor", int16: "ShortTensor", int8: "CharTensor", uint8: "ByteTensor", bool: "BoolTensor"}


def legacy_type_name(dtype):
    """'torch.FloatTensor' for float32 and so on: the names PyTorch programs compare `x.type()` with."""
    return "torch." + _LEGACY[np.dtype(dtype)]


def from_legacy_type_name(name):
    by_name = {v: k for k, v in _LEGACY.items()}
    short = name.rsplit(".", 1)[-1]
    if short not in by_name:
        raise TypeError(f"type: unknown tensor type name {name!r}; expected one of "
                        f"{', '.join('torch.' + n for n in by_name)}")
    return by_name[short]


def promote(a, b):
    """The result dtype of a binary operation between dtypes or Python scalars `a` and `b`.

    tensor/tensor: two floats give the wider float, a float and an integer give the float,
    two integers give the wider integer. tensor/scalar: the tensor's dtype, except that a
    Python float with an integer or bool tensor gives the default float dtype.
    """
    a_scalar, b_scalar = not isinstance(a, np.dtype), not isinstance(b, np.dtype)
    if a_scalar and b_scalar:
        raise TypeError("promote: at least one operand must be a tensor dtype")
    if a_scalar or b_scalar:
        dtype, scalar = (b, a) if a_scalar else (a, b)
        if isinstance(scalar, builtins.float) and dtype.kind in "biu":
            return _default_float
        if isinstance(scalar, builtins.int) and not isinstance(scalar, builtins.bool) and dtype.kind == "b":
            return int64
        if isinstance(scalar, builtins.complex) and dtype.kind != "c":  # x * 1j: complex of x's precision
            return complex128 if dtype == float64 else complex64
        return dtype
    if "c" in (a.kind, b.kind):  # a complex dtype wins, at the larger float precision of the two
        return a if b.kind in "biu" else b if a.kind in "biu" else np.promote_types(a, b)
    if a.kind == "f" and b.kind != "f":
        return a
    if b.kind == "f" and a.kind != "f":
        return b
    return np.promote_types(a, b)


"""Diagonals: diagonal, diag_embed, diag, trace, and einsum (sums of products over named indices).

diagonal reads the entries (i, i + offset) of two dims; diag_embed writes a vector onto them in a
block of zeros. Each is the other's adjoint, so each backward is the other operation.
"""
import functools

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import normalize_dim
from .shape import cast

__all__ = ["diagonal", "diag_embed", "diag", "trace", "einsum"]


def _diagonal_positions(n1, n2, offset):
    """The rows and columns of the entries (i, i + offset) of an (n1, n2) matrix."""
    length = max(0, min(n1 + min(offset, 0), n2 - max(offset, 0)))
    rows = np.arange(length) + max(-offset, 0)
    return rows, rows + offset


class Diagonal(Function):
    """y[..., i] = x[..., i, ..., i + offset, ...] (dims dim1, dim2 removed, the diagonal appended last).

    dx = diag_embed(dy): zeros with dy written back on the same diagonal.   Shapes: as torch.diagonal.
    """

    saves_inputs = False

    def forward(self, x, offset, dim1, dim2):
        self.params = (offset, dim1, dim2)
        rows, cols = _diagonal_positions(x.shape[dim1], x.shape[dim2], offset)
        return np.moveaxis(x, (dim1, dim2), (-2, -1))[..., rows, cols]

    def backward(self, dy):
        return DiagEmbed.apply(dy, shape=self.inputs[0].shape, params=self.params)

    def jvp(self, dx):
        return None if dx is None else self.forward(dx, *self.params)


class DiagEmbed(Function):
    """y = zeros(shape) with v written on the diagonal (i, i + offset) of dims dim1, dim2 (v's last dim
    runs along it).   dv = diagonal(dy) (Diagonal's adjoint)."""

    saves_inputs = False

    def forward(self, v, shape, params):
        self.params = params
        offset, dim1, dim2 = params
        out = np.zeros(shape, v.dtype)
        rows, cols = _diagonal_positions(shape[dim1], shape[dim2], offset)
        np.moveaxis(out, (dim1, dim2), (-2, -1))[..., rows, cols] = v
        return out

    def backward(self, dy):
        return Diagonal.apply(dy, offset=self.params[0], dim1=self.params[1], dim2=self.params[2])

    def jvp(self, dv):
        return None if dv is None else self.forward(dv, self._outputs[0].shape, self.params)


def _two_dims(ndim, dim1, dim2, op):
    d1, d2 = normalize_dim(dim1, ndim, op), normalize_dim(dim2, ndim, op)
    if d1 == d2:
        raise ValueError(f"{op}: dim1 and dim2 must be different dimensions, both are {d1}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal (i, i + offset) of dims dim1 and dim2, as a new last dim (offset > 0: above the main
    diagonal). A read of the input's entries; its gradient is written back on the diagonal."""
    d1, d2 = _two_dims(input.ndim, dim1, dim2, "diagonal")
    return Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices with the last dim of `input` on their diagonal (i, i + offset), zeros elsewhere; the two
    new dims are dim1 and dim2 of the result."""
    ndim = input.ndim + 1
    d1, d2 = _two_dims(ndim, dim1, dim2, "diag_embed")
    n = input.shape[-1] + abs(int(offset))
    rest = list(input.shape[:-1])
    shape = []
    for k in range(ndim):
        shape.append(n if k in (d1, d2) else rest.pop(0))
    return DiagEmbed.apply(input, shape=tuple(shape), params=(int(offset), d1, d2))


def diag(input, diagonal=0):
    """1-D input: the square matrix with it on diagonal `diagonal`; 2-D input: that diagonal, 1-D."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return Diagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1)
    raise ValueError(f"diag: expects a 1-D or 2-D tensor, got shape {input.shape}")


def trace(input):
    """The sum of the main diagonal of a matrix."""
    from .reduction import sum as _sum

    if input.ndim != 2:
        raise ValueError(f"trace: expects a 2-D tensor, got shape {input.shape}")
    return _sum(diagonal(input))


# ---- einsum ----------------------------------------------------------------------------------------
class Einsum(Function):
    """y = einsum(equation, *xs): the sum over the indices missing from the output of the products.

    For an operand x_k with subscripts s_k and output subscripts s_y, the gradient is another einsum:
        dx_k = einsum("s_y, s_j for j != k -> s_k", dy, x_j for j != k)
    which is exact also when an index repeats within s_k (a diagonal: the gradient is written back on
    it) or appears in s_k only (summed away: the gradient is broadcast over it). Shapes: as the equation.
    Written with einsum itself, so it is differentiable again.
    """

    def forward(self, *xs, inputs, output):
        self.subscripts = (inputs, output)
        return np.asarray(np.einsum(",".join(inputs) + "->" + output, *xs, optimize=len(xs) > 2))

    def backward(self, dy):
        inputs, output = self.subscripts
        grads = []
        for k, (x, needed) in enumerate(zip(self.inputs, self.needs_input_grad)):
            if not needed:
                grads.append(None)
                continue
            others = [(s, t) for j, (s, t) in enumerate(zip(inputs, self.inputs)) if j != k]
            grads.append(_einsum_into(inputs[k], x.shape, dy, output, others))
        return tuple(grads)

    def jvp(self, *tangents):
        inputs, output = self.subscripts
        total = None
        for k, t in enumerate(tangents):
            if t is None:
                continue
            arrays = [t if j == k else x.array for j, x in enumerate(self.inputs)]
            term = np.einsum(",".join(inputs) + "->" + output, *arrays)
            total = term if total is None else total + term
        return total


def _einsum_into(target, shape, dy, output, others):
    """einsum(output, others -> target) brought to `shape`: indices of target found in no other operand
    were summed away, so the gradient is broadcast over them; an index repeated in target is a diagonal,
    so the gradient is written on it (a DiagEmbed per extra occurrence)."""
    from .shape import broadcast_to, movedim, permute, reshape

    present = set(output).union(*(set(s) for s, _ in others))
    unique = "".join(dict.fromkeys(target))  # target's indices, each once, in order
    kept = "".join(c for c in unique if c in present)
    g = _einsum(",".join([output] + [s for s, _ in others]) + "->" + kept, dy, *[t for _, t in others])
    size = dict(zip(target, shape))
    g = broadcast_to(reshape(g, [size[c] if c in kept else 1 for c in unique]), [size[c] for c in unique])
    labels = list(unique)
    for c in unique:
        for _ in range(target.count(c) - 1):
            g = movedim(g, labels.index(c), -1)  # c's dim last, then spread over a new (c, c) diagonal
            labels.append(labels.pop(labels.index(c)))
            g = DiagEmbed.apply(g, shape=g.shape + (g.shape[-1],), params=(0, len(labels) - 1, len(labels)))
            labels.append(c)
    return permute(g, *_placement(labels, target))


def _placement(have, target):
    """The permutation taking dims labelled `have` to the order of `target` (repeated labels in turn)."""
    used = [False] * len(have)
    order = []
    for c in target:
        j = next(i for i, h in enumerate(have) if h == c and not used[i])
        used[j] = True
        order.append(j)
    return order


def _einsum(equation, *operands):
    """einsum on Tensors, recorded as an Einsum node (operands cast to one float dtype)."""
    inputs, output = equation.split("->")
    return Einsum.apply(*operands, inputs=tuple(inputs.split(",")), output=output)


def _parse(equation, operands):
    """(input subscripts, output subscripts) with spaces removed, '...' expanded to letters, and the
    implicit output (indices seen once, in alphabetical order) made explicit."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(operands):
        raise ValueError(f"einsum: the equation {equation!r} has {len(inputs)} operands but {len(operands)} tensors "
                         "were given")
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in equation]
    spans = [t.ndim - (len(sub) - 3) if "..." in sub else 0 for sub, t in zip(inputs, operands)]
    if min(spans) < 0:
        raise ValueError(f"einsum: subscripts in {equation!r} name more dims than their operand has")
    ellipsis_dims = max(spans)
    # '...' covers the trailing `span` of the batch letters (batch dims broadcast from the right)
    expanded = [sub.replace("...", "".join(free[ellipsis_dims - n:ellipsis_dims])) for sub, n in zip(inputs, spans)]
    batch = "".join(free[:ellipsis_dims])
    for sub, t in zip(expanded, operands):
        if not all(c.isalpha() for c in sub):
            raise ValueError(f"einsum: subscripts must be letters, got {sub!r} in {equation!r}")
        if len(sub) != t.ndim:
            raise ValueError(f"einsum: subscripts {sub!r} name {len(sub)} dims but the operand has shape {t.shape}")
    if arrow:
        output = rhs.replace("...", batch)
    else:
        counts = {c: "".join(expanded).count(c) for c in "".join(expanded)}
        output = batch + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in batch))
    return expanded, output


def einsum(equation, *operands):
    """Einstein summation, as torch.einsum: "ij,jk->ik" is a matrix product, "ii->i" a diagonal,
    "bij->bji" a transpose, "...ij,...jk" a batched product. Operands broadcast along '...'.

    One Einsum node; its backward is one einsum per operand (see Einsum).
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands or not all(isinstance(t, Tensor) for t in operands):
        raise TypeError("einsum: expects an equation and one or more Tensors")
    inputs, output = _parse(equation, operands)
    dtype = functools.reduce(dtypes.promote, [t.dtype for t in operands])
    operands = _broadcast_indices(inputs, [cast(t, dtype) for t in operands], equation)
    return Einsum.apply(*operands, inputs=tuple(inputs), output=output)


def _broadcast_indices(inputs, operands, equation):
    """Operands with each size-1 dim expanded to its index's size elsewhere (broadcasting, as torch.einsum);
    an index of two different sizes > 1 is an error."""
    from .shape import broadcast_to

    sizes = {}
    for sub, t in zip(inputs, operands):
        for c, n in zip(sub, t.shape):
            if sizes.get(c, 1) != 1 and n not in (1, sizes[c]):
                raise ValueError(f"einsum: index {c!r} has size {sizes[c]} in one operand and {n} in another "
                                 f"({equation!r})")
            sizes[c] = max(sizes.get(c, 1), n)
    return [broadcast_to(t, tuple(sizes[c] for c in sub)) for sub, t in zip(inputs, operands)]

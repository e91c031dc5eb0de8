"""Linear algebra (torch.linalg): inv, solve, solve_triangular, det, slogdet, cholesky, qr, eigh, svd, pinv,
matrix and vector norms, matrix_power, cross, multi_dot.

Every function works on the last two dims and treats leading dims as a batch. The forward is NumPy's
LAPACK call; each backward is the classical matrix-calculus formula, written with glassnet's own
operations (so second derivatives work), as PyTorch defines them. Real (float32/float64) inputs.
Formulas use ^T for the transpose of the last two dims and A^-T for (A^-1)^T.

The spectral backwards (eigh, svd) divide by differences of eigenvalues (or squared singular values):
they are defined where those are distinct, and give inf/NaN otherwise, as in PyTorch.
"""
import builtins
import math
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import normalize_dim
from .arithmetic import matmul
from .indexing import tril, triu

__all__ = ["inverse", "det", "logdet", "slogdet", "pinverse", "matrix_power", "cholesky", "cross"]

_Slogdet = namedtuple("slogdet", ("sign", "logabsdet"))
_QR = namedtuple("qr", ("Q", "R"))
_Eigh = namedtuple("eigh", ("eigenvalues", "eigenvectors"))
_SVD = namedtuple("svd", ("U", "S", "Vh"))


def _square(A, op):
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"{op}: expected a square matrix or a batch of them (..., n, n), got shape {A.shape}")
    _check_float(A, op)


def _matrix(A, op):
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    if A.ndim < 2:
        raise ValueError(f"{op}: expected a matrix or a batch of them (..., m, n), got shape {A.shape}")
    _check_float(A, op)


def _check_float(A, op):
    if A.dtype.kind != "f":
        raise TypeError(f"{op}: expected a float32 or float64 tensor, got {A.dtype}")


def _lapack(op, fn, *arrays, **kwargs):
    """Call a NumPy linalg function; its LinAlgError becomes an error naming the operation."""
    try:
        with np.errstate(all="ignore"):
            return fn(*arrays, **kwargs)
    except np.linalg.LinAlgError as err:
        raise RuntimeError(f"linalg.{op}: {err} (the input matrix is singular or not positive-definite, "
                           "so the operation is not defined for it)") from None


def _eye_like(n, dtype):
    return Tensor._make(np.eye(n, dtype=dtype))


def _scale(matrix, value):
    """Multiply each matrix of a batch by the matching entry of `value` (shape: the batch shape)."""
    from .shape import reshape

    return matrix * reshape(value, value.shape + (1, 1))


# ---- inv, solve, solve_triangular ------------------------------------------------------------------
class Inv(Function):
    """Y = A^-1.   dA = -Y^T dY Y^T.   Shapes: (..., n, n)."""

    saves_inputs = False

    def forward(self, A):
        return _lapack("inv", np.linalg.inv, A)

    def backward(self, dY):
        Y = self.output()
        return -matmul(matmul(Y.mT, dY), Y.mT)

    def jvp(self, dA):
        Y = self._outputs[0]
        return None if dA is None else -(Y @ dA @ Y)


def inv(A):
    """The inverse of a square matrix (or of each in a batch); an error if one is singular."""
    _square(A, "inv")
    return Inv.apply(A)


inverse = inv


class Solve(Function):
    """X = A^-1 B, the solution of A X = B.   Shapes: A (..., n, n), B (..., n, k) (batch dims broadcast).

    dB = A^-T dX (= solve(A^T, dX));   dA = -dB X^T.
    """

    saves_inputs = "cross"

    def forward(self, A, B):
        return _lapack("solve", np.linalg.solve, A, B)

    def backward(self, dX):
        from .shape import sum_to

        A, B = self.inputs
        dB = Solve.apply(A.mT, dX)
        dA = sum_to(-matmul(dB, self.output().mT), A.shape) if self.needs_input_grad[0] else None
        return dA, (sum_to(dB, B.shape) if self.needs_input_grad[1] else None)

    def jvp(self, dA, dB):  # A dX + dA X = dB
        A, X = self.inputs[0].array, self._outputs[0]
        rhs = np.zeros_like(X) if dB is None else np.broadcast_to(dB, X.shape)
        if dA is not None:
            rhs = rhs - dA @ X
        return np.linalg.solve(A, rhs)


def solve(A, B, *, left=True):
    """The X with A X = B (left=True) or X A = B (left=False). B may be a vector (..., n) or a matrix
    (..., n, k), read as PyTorch reads it: a vector when B.ndim == 1 or B's shape is A's without its last dim."""
    from .shape import squeeze, unsqueeze

    _square(A, "solve")
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    B2 = unsqueeze(B, -1) if vector else B
    if B2.shape[-2] != A.shape[-1]:
        raise ValueError(f"solve: A of shape {A.shape} and B of shape {B.shape} do not fit (A has {A.shape[-1]} "
                         f"columns, B {B2.shape[-2]} rows)")
    X = Solve.apply(A, B2 if B2.dtype == A.dtype else B2.to(A.dtype))
    return squeeze(X, -1) if vector else X


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """solve with A triangular: only its upper (upper=True) or lower triangle is read, so the gradient
    of A is zero outside it; unitriangular=True takes A's diagonal as ones (and gives it no gradient)."""
    T = triu(A, 1 if unitriangular else 0) if upper else tril(A, -1 if unitriangular else 0)
    if unitriangular:
        T = T + _eye_like(A.shape[-1], A.dtype)
    return solve(T, B, left=left)


# ---- det, slogdet, logdet --------------------------------------------------------------------------
def _cofactor(A):
    """The cofactor matrix det(A) A^-T, exact also for singular A: with A = U S V^T,
    cofactor = det(U) det(V) U diag(prod_{j != i} s_j) V^T."""
    U, s, Vh = np.linalg.svd(A)
    others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(s.shape[-1])], axis=-1)
    signs = np.linalg.det(U) * np.linalg.det(Vh)
    return (U * others[..., None, :]) @ Vh * signs[..., None, None]


class Det(Function):
    """y = det(A).   dA = dy * det(A) A^-T (the cofactor matrix; computed through an SVD where A is
    singular, where the inverse does not exist).   Shapes: A (..., n, n), y (...)."""

    def forward(self, A):
        return np.asarray(np.linalg.det(A), A.dtype)

    def backward(self, dy):
        A = self.inputs[0]
        if (self._outputs[0] == 0).any():  # singular: the cofactors, as a constant (no second derivative)
            return _scale(Tensor._make(_cofactor(A.array).astype(A.dtype)), dy)
        return _scale(inv(A).mT, dy * self.output())

    def jvp(self, dA):
        A, y = self.inputs[0].array, self._outputs[0]
        if dA is None:
            return None
        return np.einsum("...ij,...ij->...", _cofactor(A), dA).astype(y.dtype)  # d det = <cofactors, dA>


def det(A):
    """The determinant of a square matrix (or of each in a batch)."""
    _square(A, "det")
    return Det.apply(A)


class Slogdet(Function):
    """(sign, log|det A|).   dA = dlogabsdet * A^-T (the sign is piecewise constant: no gradient).
    Shapes: A (..., n, n), both outputs (...)."""

    def forward(self, A):
        sign, logabs = np.linalg.slogdet(A)
        return np.asarray(sign, A.dtype), np.asarray(logabs, A.dtype)

    def backward(self, dsign, dlogabs):
        return None if dlogabs is None else _scale(inv(self.inputs[0]).mT, dlogabs)

    def jvp(self, dA):
        if dA is None:
            return None, None
        A = self.inputs[0].array
        return np.zeros_like(self._outputs[0]), np.einsum("...ij,...ji->...", np.linalg.inv(A), dA)


def slogdet(A):
    """(sign, logabsdet) with det(A) = sign * exp(logabsdet), without overflow for large matrices."""
    _square(A, "slogdet")
    return _Slogdet(*Slogdet.apply(A))


def logdet(A):
    """log(det A): NaN where det < 0, -inf where det == 0 (as PyTorch)."""
    from .elementwise import where

    sign, logabs = slogdet(A)
    return where(sign < 0, math.nan, logabs)


# ---- cholesky ---------------------------------------------------------------------------------------
class Cholesky(Function):
    """L with A = L L^T (L lower triangular) for a symmetric positive-definite A.

    With P = tril(L^T dL) and Phi = (P + tril(P, -1)^T) / 2 (P with its strict lower part mirrored,
    the diagonal counted once): dA = L^-T Phi L^-1 (PyTorch's formula).   Shapes: (..., n, n).
    """

    saves_inputs = False

    def forward(self, A):
        return _lapack("cholesky", np.linalg.cholesky, A)

    def backward(self, dL):
        L = self.output()
        P = tril(matmul(L.mT, dL))
        phi = (P + tril(P, -1).mT) * 0.5
        L_inv = inv(L)
        return matmul(matmul(L_inv.mT, phi), L_inv)

    def jvp(self, dA):  # dL = L Phi(L^-1 dA L^-T), Phi: the lower triangle with the diagonal halved
        if dA is None:
            return None
        L = self._outputs[0]
        L_inv = np.linalg.inv(L)
        X = L_inv @ dA @ L_inv.swapaxes(-1, -2)
        return L @ (np.tril(X, -1) + np.tril(np.triu(X)) * 0.5)


def cholesky(A, *, upper=False):
    """The Cholesky factor L (A = L L^T), or U = L^T with upper=True."""
    _square(A, "cholesky")
    L = Cholesky.apply(A)
    return L.mT if upper else L


# ---- qr ---------------------------------------------------------------------------------------------
class QR(Function):
    """(Q, R) with A = Q R, Q (m, k) orthonormal columns, R (k, n) upper triangular, k = min(m, n).

    Backward for m >= n (PyTorch's formula): with M = triu(dR R^T - Q^T dQ) made symmetric by mirroring
    its strict upper part, dA = (dQ + Q M) R^-T.
    """

    def forward(self, A, mode):
        self.mode = mode
        Q, R = np.linalg.qr(A, mode=mode)
        return Q, R

    def backward(self, dQ, dR):
        Q, R = self.output(0), self.output(1)
        m, n = self.inputs[0].shape[-2:]
        if self.mode != "reduced" or m < n:
            raise NotImplementedError(f"linalg.qr: the backward is implemented for mode='reduced' and m >= n, got "
                                      f"mode={self.mode!r} and a {m}x{n} matrix")
        M = Tensor._make(np.zeros(R.shape, R.dtype))
        if dR is not None:
            M = M + matmul(dR, R.mT)
        if dQ is not None:
            M = M - matmul(Q.mT, dQ)
        M = triu(M)
        M = M + triu(M, 1).mT
        G = matmul(Q, M) if dQ is None else dQ + matmul(Q, M)
        return matmul(G, inv(R).mT)

    def jvp(self, dA):
        # C = Q^T dA R^-1 = Q^T dQ + dR R^-1: an antisymmetric part (Q^T dQ) plus an upper triangular one
        if dA is None:
            return None, None
        Q, R = self._outputs
        R_inv = np.linalg.inv(R)
        C = Q.swapaxes(-1, -2) @ dA @ R_inv
        low = np.tril(C, -1)
        omega = low - low.swapaxes(-1, -2)
        dR = (C - omega) @ R
        return (dA - Q @ dR) @ R_inv, dR


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R; mode "reduced" (Q is m x k), "complete" (Q is m x m) or "r" (Q empty)."""
    _matrix(A, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    if mode == "r":
        R = QR.apply(A, mode="reduced")[1]
        return _QR(Tensor._make(np.zeros(0, A.dtype)), R)
    return _QR(*QR.apply(A, mode=mode))


# ---- eigh -------------------------------------------------------------------------------------------
def _gap_inverse(values):
    """F[i, j] = 1 / (values[j] - values[i]) off the diagonal, 0 on it (constant)."""
    with np.errstate(divide="ignore"):
        F = 1 / (values[..., None, :] - values[..., :, None])
    n = values.shape[-1]
    F[..., np.arange(n), np.arange(n)] = 0
    return Tensor._make(F)


class Eigh(Function):
    """(w, V): the eigenvalues (ascending) and orthonormal eigenvectors of a symmetric A = V diag(w) V^T,
    read from the lower (UPLO='L') or upper triangle.

    dA = V (diag(dw) + F o (V^T dV)) V^T, F[i, j] = 1 / (w_j - w_i) (0 on the diagonal): defined for
    distinct eigenvalues. Shapes: A (..., n, n), w (..., n), V (..., n, n).
    """

    saves_inputs = False

    def forward(self, A, UPLO):
        w, V = np.linalg.eigh(A, UPLO=UPLO)
        return w, V

    def backward(self, dw, dV):
        from .matrix import diag_embed

        w, V = self._outputs[0], self.output(1)
        inner = Tensor._make(np.zeros(V.shape, V.dtype))
        if dw is not None:
            inner = inner + diag_embed(dw)
        if dV is not None:
            inner = inner + _gap_inverse(w) * matmul(V.mT, dV)
        return matmul(matmul(V, inner), V.mT)

    def jvp(self, dA):  # with P = V^T dA V: dw = diag(P), dV = V (F o P)
        if dA is None:
            return None, None
        w, V = self._outputs
        P = V.swapaxes(-1, -2) @ dA @ V
        return np.diagonal(P, axis1=-2, axis2=-1).copy(), V @ (_gap_inverse(w).array * P)


def eigh(A, UPLO="L"):
    """(eigenvalues, eigenvectors) of a symmetric matrix, eigenvalues ascending."""
    _square(A, "eigh")
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return _Eigh(*Eigh.apply(A, UPLO=UPLO))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues of a symmetric matrix, ascending (gradient V diag(dw) V^T)."""
    return eigh(A, UPLO).eigenvalues


# ---- svd, svdvals, pinv, matrix_rank ----------------------------------------------------------------
class SVD(Function):
    """(U, S, Vh) with A = U diag(S) Vh, S descending; reduced (k = min(m, n)) or full matrices.

    Backward (reduced; PyTorch's formula), with V = Vh^T, F[i, j] = 1 / (s_j^2 - s_i^2) (0 on the diagonal):
      J = F o (U^T dU - dU^T U),  K = F o (V^T dV - dV^T V)
      dA = U (J S + S K + diag(dS)) V^T + (I - U U^T) dU S^-1 V^T + U S^-1 dV^T (I - V V^T)
    Defined for distinct non-zero singular values. Shapes: A (..., m, n).
    """

    saves_inputs = False

    def forward(self, A, full_matrices):
        self.full = full_matrices
        return _lapack("svd", np.linalg.svd, A, full_matrices=full_matrices)

    def backward(self, dU, dS, dVh):
        from .matrix import diag_embed

        m, n = self.inputs[0].shape[-2:]
        U, s, Vh = self.output(0), self._outputs[1], self.output(2)
        k = s.shape[-1]
        if U.shape[-1] != k or Vh.shape[-2] != k:  # full matrices of a non-square A: only dS can be used
            if any(g is not None and g.array.any() for g in (dU, dVh)):
                raise NotImplementedError("linalg.svd: the gradient of U and Vh needs full_matrices=False for a "
                                          f"non-square ({m}x{n}) matrix, as in PyTorch")
            U, Vh, dU, dVh = U[..., :k], Vh[..., :k, :], None, None
        S = Tensor._make(s)
        inner = diag_embed(dS) if dS is not None else Tensor._make(np.zeros(s.shape + s.shape[-1:], s.dtype))
        if dU is None and dVh is None:
            return matmul(matmul(U, inner), Vh)
        V = Vh.mT
        F = _gap_inverse(s * s)
        S_mat, S_inv = diag_embed(S), diag_embed(1 / S)
        extra = None
        if dU is not None:
            UtdU = matmul(U.mT, dU)
            inner = inner + matmul(F * (UtdU - UtdU.mT), S_mat)
            if m > U.shape[-1]:  # the part of dU outside U's columns
                extra = matmul(matmul(dU - matmul(U, UtdU), S_inv), Vh)
        if dVh is not None:
            dV = dVh.mT
            VtdV = matmul(V.mT, dV)
            inner = inner + matmul(S_mat, F * (VtdV - VtdV.mT))
            if n > V.shape[-1]:
                term = matmul(matmul(U, S_inv), (dV - matmul(V, VtdV)).mT)
                extra = term if extra is None else extra + term
        dA = matmul(matmul(U, inner), Vh)
        return dA if extra is None else dA + extra

    def jvp(self, dA):
        # with P = U^T dA V (reduced factors): dS = diag(P),
        # dU = U (F o (P S + S P^T)) + (I - U U^T) dA V S^-1,  dV = V (F o (S P + P^T S)) + (I - V V^T) dA^T U S^-1
        if dA is None:
            return None, None, None
        U, s, Vh = self._outputs
        if self.full and U.shape[-1] != Vh.shape[-2]:
            raise NotImplementedError("linalg.svd: forward-mode derivatives of U and Vh need full_matrices=False")
        V = Vh.swapaxes(-1, -2)
        T = lambda a: a.swapaxes(-1, -2)  # noqa: E731
        P = T(U) @ dA @ V
        F = _gap_inverse(s * s).array
        S = s[..., None, :]  # multiplies columns
        dU = U @ (F * (P * S + s[..., :, None] * T(P))) + (dA @ V - U @ P) / S
        dV = V @ (F * (s[..., :, None] * P + T(P) * S)) + (T(dA) @ U - V @ T(P)) / S
        return dU, np.diagonal(P, axis1=-2, axis2=-1).copy(), T(dV)


def svd(A, full_matrices=True):
    """(U, S, Vh) with A = U diag(S) Vh (torch.linalg.svd; full_matrices=True by default, as PyTorch)."""
    _matrix(A, "svd")
    return _SVD(*SVD.apply(A, full_matrices=bool(full_matrices)))


def svdvals(A):
    """The singular values, descending (gradient U diag(dS) V^T)."""
    return svd(A, full_matrices=False).S


class Pinv(Function):
    """P = A^+, the Moore-Penrose pseudo-inverse (through an SVD; singular values below
    max(atol, rtol * s_max) count as zero).

    Where the rank does not change (Golub and Pereyra), with P (n, m):
      dA = -P^T dP P^T + (I - A P) dP^T P P^T + P^T P dP^T (I - P A).
    Shapes: A (..., m, n), P (..., n, m).
    """

    def forward(self, A, atol, rtol):
        U, s, Vh = np.linalg.svd(A, full_matrices=False)
        cutoff = np.maximum(atol, rtol * s[..., :1]) if s.shape[-1] else 0
        with np.errstate(divide="ignore"):
            s_inv = np.where(s > cutoff, 1 / s, 0).astype(A.dtype)
        return (Vh.swapaxes(-1, -2) * s_inv[..., None, :]) @ U.swapaxes(-1, -2)

    def backward(self, dP):
        A, P = self.inputs[0], self.output()
        m, n = A.shape[-2:]
        left = _eye_like(m, A.dtype) - matmul(A, P)
        right = _eye_like(n, A.dtype) - matmul(P, A)
        return (-matmul(matmul(P.mT, dP), P.mT) + matmul(matmul(left, dP.mT), matmul(P, P.mT))
                + matmul(matmul(matmul(P.mT, P), dP.mT), right))

    def jvp(self, dA):  # dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P
        if dA is None:
            return None
        A, P = self.inputs[0].array, self._outputs[0]
        T = lambda a: a.swapaxes(-1, -2)  # noqa: E731
        m, n = A.shape[-2:]
        return (-P @ dA @ P + P @ T(P) @ T(dA) @ (np.eye(m) - A @ P)
                + (np.eye(n) - P @ A) @ T(dA) @ T(P) @ P).astype(P.dtype)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The pseudo-inverse; rtol defaults to eps * max(m, n) when atol is not given (PyTorch's default)."""
    _matrix(A, "pinv")
    eps = np.finfo(A.dtype).eps
    if rtol is None:
        rtol = eps * builtins.max(A.shape[-2:]) if atol is None or atol == 0 else 0.0
    return Pinv.apply(A, atol=float(atol or 0.0), rtol=float(rtol))


def pinverse(input, rcond=1e-15):
    """torch.pinverse: pinv with a relative cutoff `rcond`."""
    return pinv(input, rtol=rcond)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values above max(atol, rtol * s_max) (int64; no gradient)."""
    _matrix(A, "matrix_rank")
    s = np.linalg.svd(A.array, compute_uv=False)
    if rtol is None:
        rtol = np.finfo(A.dtype).eps * builtins.max(A.shape[-2:]) if atol is None or atol == 0 else 0.0
    cutoff = np.maximum(atol or 0.0, rtol * (s[..., :1] if s.shape[-1] else 0))
    return Tensor._make(np.asarray((s > cutoff).sum(axis=-1), np.int64))


# ---- norms ------------------------------------------------------------------------------------------
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(sum |x|^ord)^(1/ord) over `dim` (all elements if None); ord inf/-inf: max/min |x|; 0: non-zeros."""
    from .elementwise import abs as _abs
    from .reduction import amin, norm

    if dtype is not None:
        x = x.to(dtype)
    _check_float(x, "vector_norm")
    if ord == -math.inf:
        return amin(_abs(x), () if dim is None else dim, keepdim)
    if isinstance(ord, str):
        raise ValueError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    return norm(x, float(ord), dim, keepdim) if ord >= 0 else _negative_norm(x, float(ord), dim, keepdim)


def _negative_norm(x, ord, dim, keepdim):
    from .elementwise import abs as _abs
    from .reduction import sum as _sum

    return _sum(_abs(x) ** ord, dim, keepdim) ** (1 / ord)


_MATRIX_ORDS = ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Matrix norms over the two dims `dim`: "fro" (Frobenius), "nuc" (sum of singular values), 2 / -2
    (largest / smallest singular value), 1 / -1 (max / min column sum of |A|), inf / -inf (max / min
    row sum)."""
    from .elementwise import abs as _abs
    from .reduction import amax, amin, norm
    from .reduction import sum as _sum
    from .shape import movedim, reshape

    if dtype is not None:
        A = A.to(dtype)
    if ord not in _MATRIX_ORDS:
        raise ValueError(f"linalg.matrix_norm: ord must be one of 'fro', 'nuc', inf, -inf, 1, -1, 2, -2; got {ord!r}")
    if A.ndim < 2:
        raise ValueError(f"linalg.matrix_norm: expected at least 2 dims, got shape {A.shape}")
    d = sorted(normalize_dim(k, A.ndim, "matrix_norm") for k in dim)
    if len(dim) != 2 or d[0] == d[1]:
        raise ValueError(f"linalg.matrix_norm: dim must name two different dims, got {dim}")
    if ord == "fro":
        return norm(A, 2.0, tuple(d), keepdim)
    rows, cols = (normalize_dim(k, A.ndim, "matrix_norm") for k in dim)
    M = movedim(A, (rows, cols), (-2, -1))
    if ord in ("nuc", 2, -2):
        s = svdvals(M)
        out = _sum(s, -1) if ord == "nuc" else (amax(s, -1) if ord == 2 else amin(s, -1))
    else:
        sums = _sum(_abs(M), -2 if ord in (1, -1) else -1)  # column sums for 1, row sums for inf
        out = amax(sums, -1) if ord in (1, math.inf) else amin(sums, -1)
    if keepdim:
        shape = list(A.shape)
        shape[d[0]] = shape[d[1]] = 1
        out = reshape(out, shape)
    return out


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: a vector norm when dim is an int (or A is 1-D), a matrix norm when dim is a
    pair (or A is 2-D); with ord=None and dim=None, the 2-norm of all elements."""
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    if dim is None and ord is not None:
        if A.ndim not in (1, 2):
            raise ValueError(f"linalg.norm: with ord={ord!r} and dim=None the input must be 1-D or 2-D, got shape "
                             f"{A.shape}")
        dim = tuple(range(A.ndim))
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if len(dim) == 2:
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


# ---- matrix_power, cross, multi_dot, vecdot ---------------------------------------------------------
def matrix_power(A, n):
    """A @ A @ ... (n times); n = 0 gives the identity, n < 0 powers of the inverse."""
    from .shape import broadcast_to

    _square(A, "matrix_power")
    if not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power: n must be an int, got {n!r}")
    if n == 0:
        return broadcast_to(_eye_like(A.shape[-1], A.dtype), A.shape)
    base = inv(A) if n < 0 else A
    result = None
    for _ in range(abs(int(n))):
        result = base if result is None else matmul(result, base)
    return result


def cross(input, other, dim=None):
    """The cross product of 3-vectors along `dim` (torch.cross: the first dim of size 3 when dim is None;
    torch.linalg.cross passes dim=-1). a x b = (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0)."""
    from .indexing import getitem, stack

    if dim is None:
        dim = next((k for k, n in enumerate(input.shape) if n == 3), None)
        if dim is None:
            raise ValueError(f"cross: no dimension of size 3 in shape {input.shape}")
    d = normalize_dim(dim, input.ndim, "cross")
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise ValueError(f"cross: dimension {dim} must have size 3, got shapes {input.shape} and {other.shape}")
    lead = (slice(None),) * d

    def part(t, i):
        return getitem(t, lead + (i,))

    a, b = [part(input, i) for i in range(3)], [part(other, i) for i in range(3)]
    return stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], d)


def multi_dot(tensors):
    """A @ B @ C ... (1-D first and last arguments are a row and a column vector, as in PyTorch)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors, got {len(tensors)}")
    out = tensors[0]
    for t in tensors[1:]:
        out = matmul(out, t)
    return out


def vecdot(x, y, *, dim=-1):
    """sum(x * y) along `dim` (real inputs)."""
    from .reduction import sum as _sum

    return _sum(x * y, dim)

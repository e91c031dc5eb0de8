"""L-BFGS: a quasi-Newton method that builds its curvature estimate from the last few steps
(Nocedal & Wright, Numerical Optimization, 2nd ed., algorithms 7.4 and 7.5), with an optional strong-Wolfe
line search (algorithms 3.5 and 3.6), following PyTorch's torch.optim.LBFGS step for step."""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _mark_updated, check_nonnegative

__all__ = ["LBFGS"]


class LBFGS(Optimizer):
    """LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
    history_size=100, line_search_fn=None).

    `step(closure)` runs up to `max_iter` iterations on all parameters seen as one vector x, each:

        d = -H g                    H g by the two-loop recursion over the last `history_size` pairs
                                    s = x_{k+1} - x_k, y = g_{k+1} - g_k (pairs with y.s <= 1e-10 skipped),
                                    starting from H_0 = (y.s / y.y) I
        t = min(1, 1 / sum|g|) lr   on the first iteration ever, lr after
        x = x + t d                 t from the strong-Wolfe search when line_search_fn="strong_wolfe"
                                    (conditions c1 = 1e-4, c2 = 0.9), else as is

    and stops early when max|g| <= tolerance_grad, when the directional derivative g.d > -tolerance_change,
    when max|t d| or |loss change| < tolerance_change, or after `max_eval` closure calls (default
    max_iter * 5 / 4). The closure clears the gradients, computes the loss, calls backward and returns the
    loss; `step` returns the loss of its first call. One parameter group only. The state (history, last
    direction and step) lives in `state[first parameter]` under PyTorch's keys.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _check_group(self, group):
        check_nonnegative("LBFGS", "lr", group["lr"], "learning rate")
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: only line_search_fn='strong_wolfe' (or None) is supported, got "
                             f"{group['line_search_fn']!r}")

    # ---- all parameters as one vector -------------------------------------------------------------
    def _flat_grad(self):
        return np.concatenate([np.zeros(p.array.size, p.dtype) if p.grad is None else p.grad.array.reshape(-1)
                               for p in self._params])

    def _add_to_params(self, step_size, direction):
        """x = x + step_size * direction, parameter by parameter (in place)."""
        offset = 0
        for p in self._params:
            n = p.array.size
            p.array += (step_size * direction[offset:offset + n]).reshape(p.shape).astype(p.dtype, copy=False)
            offset += n
        _mark_updated(self._params)

    def _set_params(self, values):
        for p, v in zip(self._params, values):
            np.copyto(p.array, v)
        _mark_updated(self._params)

    def _evaluate_at(self, closure, x, t, d):
        """(loss, flat gradient) at x + t d; the parameters are put back to x afterwards."""
        self._add_to_params(t, d)
        loss = float(self._run_closure(closure))
        g = self._flat_grad()
        self._set_params(x)
        return loss, g

    def load_state_dict(self, state_dict):
        """As Optimizer.load_state_dict; the state (flat vectors and lists, not shaped like a parameter) is copied."""
        saved = state_dict.get("state", {}) if isinstance(state_dict, dict) else {}
        super().load_state_dict({**state_dict, "state": {}})
        for index, entries in saved.items():
            self.state[self._params[int(index)]] = {key: _copied(value) for key, value in entries.items()}

    # ---- the iteration ----------------------------------------------------------------------------
    def step(self, closure=None):
        """Run up to max_iter L-BFGS iterations; `closure` re-evaluates the model and returns the loss."""
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that re-evaluates the model and returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), int(group["max_iter"]), int(group["max_eval"])
        tol_grad, tol_change = float(group["tolerance_grad"]), float(group["tolerance_change"])
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = self._run_closure(closure)
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if np.abs(g).max(initial=0) <= tol_grad:
            return orig_loss
        memory = _Memory.from_state(state, group["history_size"])
        d, t = memory.d, memory.t
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                memory.reset()
                d = -g
            else:
                memory.remember(g - memory.prev_g, d * t)
                d = memory.direction(g)
            memory.prev_g, memory.prev_loss = g.copy(), loss
            t = min(1.0, 1.0 / float(np.abs(g).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(g @ d)
            if gtd > -tol_change:  # not a descent direction any more
                break
            if group["line_search_fn"] == "strong_wolfe":
                x0 = [p.array.copy() for p in self._params]
                loss, g, t, ls_evals = _strong_wolfe(lambda step: self._evaluate_at(closure, x0, step, d), t, d,
                                                     loss, g, gtd)
                self._add_to_params(t, d)
                converged = np.abs(g).max() <= tol_grad
            else:
                self._add_to_params(t, d)
                ls_evals = 0
                converged = False
                if n_iter != max_iter:
                    loss = float(self._run_closure(closure))
                    g = self._flat_grad()
                    converged = np.abs(g).max() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            if (n_iter == max_iter or evals >= max_eval or converged or np.abs(d * t).max() <= tol_change
                    or abs(loss - memory.prev_loss) < tol_change):
                break
        memory.d, memory.t = d, t
        memory.save(state)
        return orig_loss


def _copied(value):
    if isinstance(value, Tensor):
        return Tensor._make(value.array.copy())
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


class _Memory:
    """The curvature pairs (s, y) and 1 / (y.s) of the last iterations, the scale H_0 = y.s / y.y, and what
    the next iteration needs (previous gradient, loss, direction and step)."""

    def __init__(self, history_size):
        self.history_size = int(history_size)
        self.reset()
        self.d = self.t = self.prev_g = self.prev_loss = self.alphas = None

    def reset(self):
        self.old_dirs, self.old_stps, self.ro, self.h_diag = [], [], [], 1.0

    def remember(self, y, s):
        """Keep the pair (s, y) when y.s > 1e-10 (the curvature condition), the oldest one dropped."""
        ys = float(y @ s)
        if ys > 1e-10:
            if len(self.old_dirs) == self.history_size:
                del self.old_dirs[0], self.old_stps[0], self.ro[0]
            self.old_dirs.append(y)
            self.old_stps.append(s)
            self.ro.append(1.0 / ys)
            self.h_diag = ys / float(y @ y)

    def direction(self, g):
        """-H g by the two-loop recursion (Nocedal & Wright, algorithm 7.4)."""
        q = -g
        self.alphas = alphas = [0.0] * len(self.old_dirs)
        for i in reversed(range(len(self.old_dirs))):
            alphas[i] = float(self.old_stps[i] @ q) * self.ro[i]
            q = q - alphas[i] * self.old_dirs[i]
        r = q * np.asarray(self.h_diag, q.dtype)
        for i in range(len(self.old_dirs)):
            beta = float(self.old_dirs[i] @ r) * self.ro[i]
            r = r + (alphas[i] - beta) * self.old_stps[i]
        return r

    @classmethod
    def from_state(cls, state, history_size):
        memory = cls(history_size)
        if "d" in state:
            memory.d, memory.t = state["d"].array, float(state["t"].array)
            memory.old_dirs = [t.array for t in state["old_dirs"]]
            memory.old_stps = [t.array for t in state["old_stps"]]
            memory.ro = [float(t.array) for t in state["ro"]]
            memory.h_diag = float(state["H_diag"].array)
            memory.prev_g, memory.prev_loss = state["prev_flat_grad"].array, float(state["prev_loss"])
        return memory

    def save(self, state):
        """Into the optimizer's state, under PyTorch's keys (Tensors and numbers: no pickle needed)."""
        dtype = self.d.dtype
        state.update({
            "d": Tensor._make(self.d), "t": Tensor._make(np.asarray(self.t, dtype)),
            "old_dirs": [Tensor._make(y) for y in self.old_dirs], "old_stps": [Tensor._make(s) for s in self.old_stps],
            "ro": [Tensor._make(np.asarray(r, dtype)) for r in self.ro],
            "H_diag": Tensor._make(np.asarray(self.h_diag, dtype)),
            "prev_flat_grad": Tensor._make(self.prev_g), "prev_loss": float(self.prev_loss),
        })
        if self.alphas is not None:  # the two-loop recursion's coefficients, padded to history_size with None
            padding = [None] * (self.history_size - len(self.alphas))
            state["al"] = [Tensor._make(np.asarray(a, dtype)) for a in self.alphas] + padding


# ---- the strong-Wolfe line search -----------------------------------------------------------------
def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2 (Nocedal & Wright
    eq. 3.59), clipped to `bounds` (default: between x1 and x2); their midpoint when the cubic has none."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2
    d2 = d2_square ** 0.5
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


class _Point:
    """A trial step t along d with its loss f, gradient g and directional derivative gtd = g.d."""

    def __init__(self, t, f, g, gtd):
        self.t, self.f, self.g, self.gtd = t, f, g, gtd


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step t along d satisfying the strong Wolfe conditions
        f(t) <= f(0) + c1 t f'(0)   and   |f'(t)| <= -c2 f'(0)
    (Nocedal & Wright algorithm 3.5: grow t until a bracket is found; 3.6: zoom into it by cubic
    interpolation). `evaluate(t)` -> (loss, gradient). Returns (loss, gradient, t, evaluations)."""
    d_norm = float(np.abs(d).max())
    start = _Point(0.0, f, g, gtd)
    prev, new = start, _Point(t, *_evaluated(evaluate, t, d))
    evals, ls_iter, done = 1, 0, False
    bracket = None
    while ls_iter < max_ls:
        if new.f > f + c1 * new.t * gtd or (ls_iter > 1 and new.f >= prev.f):
            bracket = [prev, new]
            break
        if abs(new.gtd) <= -c2 * gtd:
            bracket, done = [new], True
            break
        if new.gtd >= 0:
            bracket = [prev, new]
            break
        t_next = _cubic_minimum(prev.t, prev.f, prev.gtd, new.t, new.f, new.gtd,
                                bounds=(new.t + 0.01 * (new.t - prev.t), new.t * 10))
        prev, new = new, _Point(t_next, *_evaluated(evaluate, t_next, d))
        evals += 1
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = [start, new]
    if not done and ls_iter < max_ls:
        new, more = _zoom(evaluate, bracket, d, d_norm, f, gtd, c1, c2, tolerance_change, max_ls - ls_iter)
        evals += more
    else:
        new = bracket[0] if done else min(bracket, key=lambda p: p.f)  # out of evaluations: the lower loss
    return new.f, new.g, new.t, evals


def _evaluated(evaluate, t, d):
    loss, g = evaluate(t)
    return loss, g, float(g @ d)


def _zoom(evaluate, bracket, d, d_norm, f, gtd, c1, c2, tolerance_change, budget):
    """Shrink a bracket [lo, hi] (lo the lower loss) around a strong-Wolfe point (algorithm 3.6, with
    PyTorch's safeguard against steps too close to an end). Returns (the low end, evaluations)."""
    low, high = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
    insufficient_progress = False
    evals = 0
    while evals < budget:
        a, b = bracket
        if abs(b.t - a.t) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(a.t, a.f, a.gtd, b.t, b.f, b.gtd)
        top, bottom = max(a.t, b.t), min(a.t, b.t)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:  # too close to an end: move it in, unless the last move was fine
            if insufficient_progress or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        new = _Point(t, *_evaluated(evaluate, t, d))
        evals += 1
        if new.f > f + c1 * t * gtd or new.f >= bracket[low].f:
            bracket[high] = new
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
        else:
            if abs(new.gtd) <= -c2 * gtd:
                bracket[low] = new
                break
            if new.gtd * (bracket[high].t - bracket[low].t) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = new
    return bracket[low], evals

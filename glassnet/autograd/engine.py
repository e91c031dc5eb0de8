"""The backward pass: an iterative walk of the graph in dependency order.

1. From the roots, visit every node once (explicit stack, no recursion: a chain of 100,000 ops works)
   and count, for each node, how many edges lead into it from nodes that will send it a gradient.
2. Start from the roots. A node runs when every consumer has sent its gradient (its count is zero);
   gradients of a tensor used several times are summed before its node runs (Kahn's algorithm).
3. A node's backward turns its output gradients into input gradients. Leaves are counted like nodes:
   once a leaf's last gradient has arrived, its hooks run, the sum is added into `.grad` (or captured,
   for `autograd.grad`) and its post-accumulate hooks run, while the rest of the backward goes on
   (data-parallel training starts its gradient all-reduce there).
4. Unless `retain_graph`, each node frees its saved arrays once it has run.

Before a node runs, it checks that no input its backward reads was changed in place since the forward
(every tensor carries a version counter; see ops/inplace.py): PyTorch's "modified by an inplace
operation" error, instead of a gradient silently computed from the new values.
"""
import numpy as np

from . import grad_mode


def _zeros(shape, dtype):
    from ..tensor import Tensor

    return Tensor._make(np.zeros(shape, dtype))


def _accumulate(store, key, grad):
    prev = store.get(key)
    store[key] = grad if prev is None else prev + grad


_final_callbacks = None  # a list while a backward runs (see queue_callback)


def queue_callback(callback):
    """Run `callback()` once the current backward pass has finished (data-parallel training uses it to
    wait for its gradient all-reduces). Only valid while a backward runs."""
    if _final_callbacks is None:
        raise RuntimeError("queue_callback: no backward pass is running")
    _final_callbacks.append(callback)


def _count_edges(starts, roots):
    """Phase 1: how many gradients each node and each leaf will receive (explicit stack, no recursion)."""
    pending = dict.fromkeys(starts, 0)
    leaf_pending = {}
    for root in roots:
        if root.grad_fn is None:
            leaf_pending[id(root)] = leaf_pending.get(id(root), 0) + 1
    stack = list(starts)
    while stack:
        node = stack.pop()
        if node._released:
            raise RuntimeError(
                f"backward: trying to go through the graph a second time (at {node.name}); its saved "
                "values were freed by the first backward. Pass retain_graph=True to the first backward."
            )
        for t, needed in zip(node.inputs, node.needs_input_grad):
            if not needed:
                continue
            parent = t.grad_fn
            if parent is None:
                leaf_pending[id(t)] = leaf_pending.get(id(t), 0) + 1
            elif parent in pending:
                pending[parent] += 1
            else:
                pending[parent] = 1
                stack.append(parent)
    return pending, leaf_pending


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, capture=None):
    """Propagate `root_grads` from `roots` to the leaves.

    With `capture` (a list of tensors), return their gradients instead of touching any `.grad`.
    """
    global _final_callbacks
    node_grads = {}  # (node, output index) -> summed gradient
    leaf_grads = {}  # id(leaf) -> summed gradient
    captured = {}
    capture_ids = {id(t): t for t in capture} if capture is not None else None
    capture_nodes = {}
    if capture is not None:
        for t in capture:
            if t.grad_fn is not None:
                capture_nodes[(t.grad_fn, t._output_index)] = id(t)
    for root in roots:
        if root.grad_fn is None and not root.requires_grad:
            raise RuntimeError("backward: the tensor does not require grad and has no grad_fn")

    starts = list(dict.fromkeys(root.grad_fn for root in roots if root.grad_fn is not None))
    pending, leaf_pending = _count_edges(starts, roots)

    def leaf_receives(leaf, grad):
        """A gradient for a leaf; once its last one has arrived: hooks, then .grad (or capture)."""
        key = id(leaf)
        if grad is not None:
            _accumulate(leaf_grads, key, grad)
        leaf_pending[key] -= 1
        if leaf_pending[key] or key not in leaf_grads:
            return
        g = leaf_grads.pop(key)
        for hook in leaf._hooks or ():
            new = hook(g)
            if new is not None:
                g = new
        if capture_ids is not None:
            if key in capture_ids:
                captured[key] = g
        else:
            leaf._accumulate_grad(g, create_graph)
            for hook in leaf._post_accumulate_hooks or ():
                hook(leaf)

    outer_callbacks, _final_callbacks = _final_callbacks, []
    try:
        with grad_mode.enable_grad() if create_graph else grad_mode.no_grad():
            for root, grad in zip(roots, root_grads):
                if root.grad_fn is None:
                    leaf_receives(root, grad)
                else:
                    _accumulate(node_grads, (root.grad_fn, root._output_index), grad)
            _run_nodes(starts, pending, node_grads, leaf_receives, capture_nodes, captured, retain_graph,
                       create_graph)
        for callback in _final_callbacks:
            callback()
    finally:
        _final_callbacks = outer_callbacks
    if capture is not None:
        return [captured.get(id(t)) for t in capture]
    return None


def _run_nodes(starts, pending, node_grads, leaf_receives, capture_nodes, captured, retain_graph, create_graph):
    """Phases 2-3: run each node once every consumer has sent its gradient (Kahn's algorithm)."""
    ready = [node for node in starts if pending[node] == 0]
    while ready:
        node = ready.pop()
        grads_out = []
        for i, (shape, dtype) in enumerate(node.output_meta()):
            g = node_grads.pop((node, i), None)
            if g is not None and node._hooks and i in node._hooks:
                for hook in node._hooks[i]:
                    new = hook(g)
                    if new is not None:
                        g = new
            if g is not None and node._retained:
                node.store_retained_grad(i, g)
            if capture_nodes and (node, i) in capture_nodes:
                captured[capture_nodes[(node, i)]] = g
            grads_out.append(_zeros(shape, dtype) if g is None else g)
        if create_graph and not node.differentiable_backward:
            raise RuntimeError(
                f"backward: {node.name} has a hand-written NumPy backward that is not itself "
                "differentiable, so create_graph=True (higher-order gradients) is not supported through it"
            )
        node.check_saved_inputs()
        grads_in = node.backward(*grads_out)
        if not isinstance(grads_in, tuple):
            grads_in = (grads_in,)
        if len(grads_in) != len(node.inputs):
            raise RuntimeError(
                f"{node.name}.backward returned {len(grads_in)} gradients for {len(node.inputs)} inputs"
            )
        for t, needed, g in zip(node.inputs, node.needs_input_grad, grads_in):
            if not needed:
                continue
            if g is not None and g.shape != t.shape:
                raise RuntimeError(
                    f"{node.name}.backward returned a gradient of shape {g.shape} "
                    f"for an input of shape {t.shape}"
                )
            parent = t.grad_fn
            if parent is None:
                leaf_receives(t, g)
                continue
            if g is not None:
                _accumulate(node_grads, (parent, t._output_index), g)
            pending[parent] -= 1
            if pending[parent] == 0:
                ready.append(parent)
        if not retain_graph:
            node.release()

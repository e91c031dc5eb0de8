"""The computational graph behind a tensor, as a list of nodes and as a picture.

`graph_nodes(t)` walks from `t.grad_fn` back to the leaves (each Function node keeps its input
tensors in `.inputs`) and returns the nodes inputs-first:

* "leaf"   a tensor that requires grad and has no grad_fn (a parameter, an input you differentiate);
* "const"  an input that does not require grad (data, a Python scalar turned into a 0-d tensor);
* "op"     a Function node: the operation's name and the shape of what it produced.

`draw_graph(t)` draws it: with Graphviz's `dot` when it is on PATH, else with a small layered layout
drawn by matplotlib (each node sits one layer below its deepest input; within a layer, nodes are
ordered by the mean position of their inputs, which removes most crossings in network graphs).

Backward frees the graph (unless retain_graph=True), so take the nodes first and draw them after
backward to see the leaves' gradient norms:

    nodes = viz.graph_nodes(loss); loss.backward(); viz.draw_graph(nodes, "graph.png")
"""
import os
import shutil
import subprocess
from dataclasses import dataclass, field

import numpy as np

from ._figure import finish, new_figure

__all__ = ["GraphNode", "graph_nodes", "draw_graph", "to_dot"]


@dataclass(eq=False)
class GraphNode:
    """One node: `kind` is "leaf", "const" or "op"; `inputs` are indices of earlier nodes."""

    index: int
    kind: str
    name: str
    shapes: list
    dtype: str
    inputs: list = field(default_factory=list)
    tensor: object = None  # the leaf tensor itself (so its .grad can be read after backward)

    @property
    def shape(self):
        return self.shapes[0] if len(self.shapes) == 1 else tuple(self.shapes)

    @property
    def grad_norm(self):
        """The L2 norm of a leaf's .grad (None before backward, or for other nodes)."""
        g = None if self.tensor is None else self.tensor.grad
        return None if g is None else float(np.linalg.norm(np.asarray(g.array, dtype=np.float64)))

    def label(self):
        shape = " ".join(str(tuple(s)) for s in self.shapes)
        text = f"{self.name}\n{shape}"
        norm = self.grad_norm
        if norm is not None:
            text += f"\n|grad| {norm:.3g}"
        return text


def graph_nodes(tensor, params=None):
    """The nodes of the graph that produced `tensor`, inputs before their users (the root op last).

    `params`: optional {name: tensor} (e.g. dict(model.named_parameters())) to name the leaves.
    """
    from ..tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"graph_nodes: expected a Tensor, got {type(tensor).__name__}")
    names = {id(t): n for n, t in (params or {}).items()}
    nodes, index_of = [], {}

    def add_tensor_node(t):  # a leaf or constant input, once per tensor
        key = ("tensor", id(t))
        if key not in index_of:
            kind = "leaf" if t.requires_grad else "const"
            name = names.get(id(t), "leaf" if kind == "leaf" else "const")
            index_of[key] = len(nodes)
            nodes.append(GraphNode(len(nodes), kind, name, [tuple(t.shape)], str(t.dtype),
                                   tensor=t if kind == "leaf" else None))
        return index_of[key]

    if tensor.grad_fn is None:
        add_tensor_node(tensor)
        return nodes
    # iterative depth-first post-order: a node is emitted after all its inputs
    stack = [(tensor.grad_fn, False)]
    while stack:
        fn, inputs_done = stack.pop()
        key = ("op", id(fn))
        if key in index_of:
            continue
        if getattr(fn, "_released", False) or not hasattr(fn, "inputs"):
            raise RuntimeError(
                f"graph_nodes: the graph behind this tensor was freed by backward (at {fn.name}); take "
                "viz.graph_nodes(t) before backward, or call backward(retain_graph=True)"
            )
        if not inputs_done:
            stack.append((fn, True))
            for t in reversed(fn.inputs):
                if t.grad_fn is not None and ("op", id(t.grad_fn)) not in index_of:
                    stack.append((t.grad_fn, False))
            continue
        inputs = []
        for t in fn.inputs:
            inputs.append(add_tensor_node(t) if t.grad_fn is None else index_of[("op", id(t.grad_fn))])
        index_of[key] = len(nodes)
        shapes = [tuple(s) for s, _ in fn.output_meta()]
        dtype = str(fn.output_meta()[0][1])
        nodes.append(GraphNode(len(nodes), "op", fn.name, shapes, dtype, inputs))
    return nodes


def _nodes_of(graph, params):
    return graph if isinstance(graph, list) else graph_nodes(graph, params)


def to_dot(graph, params=None):
    """The graph as Graphviz DOT source (ops as boxes, leaves blue, constants grey)."""
    nodes = _nodes_of(graph, params)
    lines = ["digraph glassnet {", '  node [fontname="Helvetica", fontsize=10, style=filled];']
    colors = {"leaf": "#cfe2ff", "const": "#e9ecef", "op": "#fff3cd"}
    for n in nodes:
        label = n.label().replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        shape = "box" if n.kind == "op" else "ellipse"
        lines.append(f'  n{n.index} [label="{label}", shape={shape}, fillcolor="{colors[n.kind]}"];')
    for n in nodes:
        for i in n.inputs:
            lines.append(f"  n{i} -> n{n.index};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _layers(nodes):
    """Layer of each node: an op sits one below its deepest input; a leaf or constant sits just above
    its first user (so parameters appear next to the layer that uses them, not all on the top row)."""
    layer = [0] * len(nodes)
    users = [[] for _ in nodes]
    for n in nodes:
        if n.inputs:
            layer[n.index] = 1 + max(layer[i] for i in n.inputs)
        for i in n.inputs:
            users[i].append(n.index)
    for n in nodes:
        if not n.inputs and users[n.index]:
            layer[n.index] = min(layer[u] for u in users[n.index]) - 1
    return layer


def _positions(nodes):
    """(x, y) per node: y = -layer; x spread evenly in each layer, ordered by the inputs' mean x."""
    layer = _layers(nodes)
    rows = {}
    for n in nodes:
        rows.setdefault(layer[n.index], []).append(n.index)
    width = max(len(r) for r in rows.values())
    x = {}
    for depth in sorted(rows):
        members = rows[depth]
        if depth > 0:  # barycentre of the inputs; ties keep creation order
            members.sort(key=lambda i: np.mean([x[j] for j in nodes[i].inputs]) if nodes[i].inputs else 0.0)
        offset = (width - len(members)) / 2
        for k, i in enumerate(members):
            x[i] = offset + k
    return {i: (x[i], -layer[i]) for i in x}, width, max(layer) + 1


def _draw_matplotlib(nodes):
    pos, width, depth = _positions(nodes)
    fig = new_figure((max(4.0, 2.1 * width), max(2.5, 1.25 * depth)))
    ax = fig.add_subplot()
    ax.axis("off")
    colors = {"leaf": "#cfe2ff", "const": "#e9ecef", "op": "#fff3cd"}
    for n in nodes:
        for i in n.inputs:
            ax.annotate("", xy=pos[n.index], xytext=pos[i],
                        arrowprops=dict(arrowstyle="-|>", color="#555555", shrinkA=18, shrinkB=18, lw=1))
    for n in nodes:
        style = "round,pad=0.35" if n.kind == "op" else "round4,pad=0.35"
        ax.text(*pos[n.index], n.label(), ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle=style, fc=colors[n.kind], ec="#333333", lw=0.8))
    ax.set_xlim(-0.7, width - 0.3)
    ax.set_ylim(-depth + 0.5, 0.5)
    return fig


def _draw_dot(nodes, path):
    """Render with Graphviz; returns a matplotlib figure showing the PNG (and writes `path`)."""
    import matplotlib.image as mpimg
    import tempfile

    source = to_dot(nodes)
    with tempfile.TemporaryDirectory() as tmp:
        png = os.path.join(tmp, "graph.png")
        subprocess.run(["dot", "-Tpng", "-Gdpi=110", "-o", png], input=source.encode(), check=True,
                       capture_output=True, timeout=60)
        image = mpimg.imread(png)
        if path is not None and not os.fspath(path).lower().endswith(".png"):
            fmt = os.path.splitext(os.fspath(path))[1].lstrip(".") or "svg"
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            subprocess.run(["dot", f"-T{fmt}", "-o", os.fspath(path)], input=source.encode(), check=True,
                           capture_output=True, timeout=60)
        elif path is not None:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            shutil.copyfile(png, path)
    h, w = image.shape[:2]
    fig = new_figure((w / 110, h / 110))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(image)
    ax.axis("off")
    return fig


def draw_graph(tensor, path=None, params=None, engine="auto"):
    """Draw the graph behind `tensor` (or a list from `graph_nodes`); return the matplotlib figure.

    Each op shows its name and output shape; leaves show their gradient norm once backward has run.
    engine: "auto" (Graphviz `dot` if on PATH, else matplotlib), "dot" or "matplotlib".
    `path`: also write the picture there (.png or .svg).
    """
    if engine not in ("auto", "dot", "matplotlib"):
        raise ValueError(f"draw_graph: engine must be 'auto', 'dot' or 'matplotlib', got {engine!r}")
    nodes = _nodes_of(tensor, params)
    has_dot = shutil.which("dot") is not None
    if engine == "dot" and not has_dot:
        raise RuntimeError("draw_graph: engine='dot' needs Graphviz's `dot` on PATH; use engine='matplotlib'")
    if engine == "dot" or (engine == "auto" and has_dot):
        return _draw_dot(nodes, path)
    return finish(_draw_matplotlib(nodes), path)

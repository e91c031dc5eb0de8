"""The package's imports go one way: core <- nn/optim <- data <- models <- train <- recipes <- cli, with viz
and explain beside (they may use everything up to train, and only recipes and the command line use them).
Every import is read from the source (ast), those inside functions too, so a lazy import cannot hide an
upward dependency or a cycle. A part of the package not named below (a new sub-package) sits at the lowest
layer its own imports allow, and nothing below that layer may import it."""
import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "glassnet"

# the layer of each top-level part of the package (a module or a sub-package)
LAYERS = {
    "core": 0, "nn": 1, "optim": 1, "data": 2, "models": 3, "train": 4, "viz": 5, "explain": 5, "recipes": 6, "cli": 7,
}
PARTS = {
    "tensor": "core", "autograd": "core", "ops": "core", "dtypes": "core", "random": "core", "creation": "core",
    "serialization": "core", "allocator": "core", "amp": "core", "device": "core", "cuda": "core", "backends": "core", "legacy": "core",
    "nn": "nn", "optim": "optim",
    "utils": "data", "datasets": "data", "text": "data", "transforms": "data", "tasks": "data",
    "models": "models", "generate": "models",
    "train": "train", "metrics": "train", "viz": "viz", "explain": "explain", "recipes": "recipes",
    "cli": "cli", "__main__": "cli",
    "sparse": "core", "audio": "data", "rl": "train",
}
BESIDE = {"viz", "explain"}  # used only by the layers above train


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts), parts[-1] == "__init__"


def _imports(path, module=None):
    """The glassnet modules imported anywhere in the file at `path` (the module `module`, by default the one at
    that place in the package), as dotted names."""
    name, is_package = (module, False) if module else _module_name(path)
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "glassnet")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "glassnet":
                continue
            for alias in node.names:  # `from . import nn` imports the module glassnet.nn
                sub = f"{target}.{alias.name}"
                found.add(sub if _is_module(sub) else target)
    return found


def _is_module(dotted):
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _part(dotted):
    """The top-level part of a module (None for the package root, the public facade)."""
    pieces = dotted.split(".")
    return PARTS.get(pieces[1], pieces[1]) if len(pieces) > 1 else None


@functools.lru_cache(maxsize=None)
def _edges():
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source, _ = _module_name(path)
        for target in _imports(path):
            edges.append((source, target, path.relative_to(PACKAGE.parent)))
    return tuple(edges)


def _uses():
    uses = {}
    for source, target, _ in _edges():
        a, b = _part(source), _part(target)
        if a and b and a != b:
            uses.setdefault(a, set()).add(b)
    return uses


@functools.lru_cache(maxsize=None)
def _layers():
    """The layer of every part: as listed, or (an unlisted part) the highest layer of what it imports."""
    uses = _uses()
    unlisted = ({p for p in uses} | {b for bs in uses.values() for b in bs}) - set(LAYERS)
    layers = {**LAYERS, **{p: 0 for p in unlisted}}
    for _ in range(len(unlisted) + 1):  # to a fixed point: an unlisted part sits above everything it imports
        for part in unlisted:
            layers[part] = max([0] + [layers[b] for b in uses.get(part, ())])
    return layers


def test_imports_go_one_way():
    upward, layers = [], _layers()
    for source, target, where in _edges():
        a, b = _part(source), _part(target)
        if a is None or b is None or a == b:
            continue
        if layers[b] > layers[a] or (b in BESIDE and layers[a] <= LAYERS["train"]):
            upward.append(f"{where}: {a} imports {target} ({b})")
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_no_cycles_between_the_parts_above_the_core():
    """Within the core (tensor, autograd, ops) modules refer to each other; above it, no part may reach back."""
    graph = {a: {b for b in bs if b != "core"} for a, bs in _uses().items() if a != "core"}
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    pytest.fail("import cycle: " + " -> ".join(trail + [start]))
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, trail + [nxt]))


def test_the_checker_sees_an_upward_import(tmp_path):
    """The parser finds `from ..recipes import x` inside a function of a models file."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..recipes import get\n    return get\n")
    assert _imports(probe, "glassnet.models.probe") == {"glassnet.recipes"}
    assert _layers()[_part("glassnet.recipes")] > _layers()[_part("glassnet.models.probe")]

"""Structural rules of the ``symbolic`` package, read from its source with ``ast`` (nothing is
imported): no import cycle between modules, no module using another module's underscore names,
no function over 80 lines.

    python tests/check_structure.py        # prints what breaks a rule; exit status 1 if any

Every import counts for cycles, also those inside functions: a cycle that only works because
an import is deferred is still a cycle in the design. ``tests/test_structure.py`` runs these.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "symbolic"
MAX_FUNCTION_LINES = 80


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _absolute(module: str, target: str | None, level: int, is_package: bool) -> str:
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def scan(root: Path = PACKAGE):
    """``(graph, private_uses, long_functions)``: the import graph between package modules,
    ``'file:line what'`` for each cross-module underscore name, and for each long function."""
    mods = modules(root)
    graph = {m: set() for m in mods}
    private, long_functions = [], []
    for mod, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        aliases = {}  # local name -> package module it stands for
        where = path.relative_to(root.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                src = _absolute(mod, node.module, node.level, is_package)
                for alias in node.names:
                    full = f"{src}.{alias.name}"
                    if full in mods:
                        graph[mod].add(full)
                        aliases[alias.asname or alias.name] = full
                    elif src in mods:
                        graph[mod].add(src)
                        if _private(alias.name) and src != mod:
                            private.append(f"{where}:{node.lineno} from {src} import "
                                           f"{alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in mods:
                        graph[mod].add(alias.name)
                        aliases[alias.asname or alias.name] = alias.name
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long_functions.append(f"{where}:{node.lineno} {node.name}: {n} lines")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                target = aliases.get(node.value.id)
                if target and target != mod and _private(node.attr):
                    private.append(f"{where}:{node.lineno} {node.value.id}.{node.attr}")
    for mod in graph:  # importing a package's submodule runs the package's __init__ first
        graph[mod].discard(mod)
    return graph, private, long_functions


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative). A
    package ``__init__`` that imports its submodules and a submodule that imports back from
    that ``__init__`` form a cycle too: submodules import their siblings directly."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    group.append(m)
                    if m == node:
                        break
                if len(group) > 1:
                    out.append(sorted(group))
    return out


def problems(root: Path = PACKAGE) -> dict[str, list[str]]:
    graph, private, long_functions = scan(root)
    return {"import cycles": [" <-> ".join(g) for g in cycles(graph)],
            "private names used across modules": private,
            f"functions over {MAX_FUNCTION_LINES} lines": long_functions}


def main() -> int:
    bad = 0
    for title, items in problems().items():
        print(f"{title}: {len(items)}")
        for item in items:
            print(f"  {item}")
        bad += len(items)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

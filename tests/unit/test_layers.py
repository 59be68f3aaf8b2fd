"""The import graph: layers, and no circle. Every import statement counts, those
inside functions too (a lazy import is still a dependency).

From the top: the Python client (zccache_client) -> the CLI (zccache.core.cli) ->
the commands and the build-system adapters (zccache.plugins.*, *_command) -> the
control layer and the engine's modules -> zccache_wire, which imports nothing of ours.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {module_name(p): p for p in (ROOT / "zccache").rglob("*.py")}
    for top in ("zccache_client", "zccache_wire"):
        found[top] = ROOT / f"{top}.py"
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            # the longest known module the target names (a name imported from a module is that module)
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def importers(edges: dict[str, set[str]], target: str) -> set[str]:
    return {m for m, deps in edges.items() if target in deps}


def test_no_import_circle():
    assert cycles(graph()) == []


def test_wire_is_the_bottom_layer():
    assert graph()["zccache_wire"] == set()


def test_nothing_imports_the_client_or_the_cli():
    edges = graph()
    assert importers(edges, "zccache_client") == set()
    assert importers(edges, "zccache.core.cli") <= {"zccache_client", "zccache.__main__"}  # the two entry points


def test_core_knows_no_build_system_adapter():
    edges = graph()
    for module, deps in edges.items():
        if module.startswith("zccache.core"):
            assert not {d for d in deps if d.startswith("zccache.plugins")}, module


def test_the_graph_is_read_right():
    """A check that could not fail would prove nothing: the reader sees real edges."""
    edges = graph()
    assert "zccache_wire" in edges["zccache_client"] and "zccache.core.cli" in edges["zccache_client"]
    assert "zccache.core.engine" in edges["zccache.core.launcher"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

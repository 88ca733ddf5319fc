"""The shape of the code (issue 12): no import cycles, small modules, a test bed apart.

Every import counts, including those under TYPE_CHECKING and inside functions: a cycle hidden
there is still a cycle a reader has to untangle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("engine", "web", "phonebank")
MAX_LINES = 400
MAX_LOOSE_ENGINE_MODULES = 8


def modules(packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name to file, for every module of the given top-level packages."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported_names(path: Path, module: str) -> Iterator[str]:
    """Every module name an import statement anywhere in the file names (absolute form)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")
                parent = parent if is_package else parent[:-1]
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(packages: tuple[str, ...]) -> dict[str, set[str]]:
    known = modules(packages)
    return {
        name: {target for target in imported_names(path, name) if target in known} - {name}
        for name, path in known.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_product_modules() -> None:
    assert cycles(import_graph(PRODUCT)) == []


def test_the_cycle_finder_sees_type_checking_and_function_level_imports(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from engine.app import Engine\n"
        "def f() -> None:\n    from web import routes\n"
        "from . import sibling\n"
    )
    names = set(imported_names(source, "engine.calls.m"))
    assert {"engine.app", "web.routes", "engine.calls.sibling"} <= names


def test_no_module_over_400_lines() -> None:
    long = {
        name: lines
        for name, path in modules((*PRODUCT, "testbed")).items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_engine_has_few_loose_modules() -> None:
    loose = sorted(path.name for path in (ROOT / "engine").glob("*.py"))
    assert len(loose) <= MAX_LOOSE_ENGINE_MODULES, loose


def test_the_product_never_imports_the_test_bed() -> None:
    offenders = {
        name: sorted(t for t in targets if t == "testbed" or t.startswith("testbed."))
        for name, path in modules(PRODUCT).items()
        if (targets := set(imported_names(path, name)))
        and any(t == "testbed" or t.startswith("testbed.") for t in targets)
    }
    assert offenders == {}


def package_of(module: str) -> str:
    """engine.calls.outbound -> engine.calls; loose modules are their own package."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else module


def two_way_packages(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    edges = {
        (package_of(source), package_of(target))
        for source, targets in graph.items()
        for target in targets
        if package_of(source) != package_of(target)
    }
    return sorted((a, b) for a, b in edges if a < b and (b, a) in edges)


def test_packages_depend_one_way() -> None:
    assert two_way_packages(import_graph(PRODUCT)) == []


def test_the_package_check_sees_two_packages_importing_each_other() -> None:
    graph = {
        "engine.calls.a": {"engine.dialer.b"},
        "engine.dialer.b": set(),
        "engine.dialer.c": {"engine.calls.d"},
        "engine.calls.d": set(),
    }
    assert two_way_packages(graph) == [("engine.calls", "engine.dialer")]

"""The shape of the house: small modules and functions, no import cycles, layers one way."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("router", "providers", "storage", "migrations")
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60
# The vendors whose APIs the router speaks or whose models it runs.
VENDOR = re.compile(r"openai|distribute|dedalus|aqueduct|chatterbox|kokoro", re.IGNORECASE)
# Where vendors may be named: their plugins, and the dialect modules that speak their APIs.
VENDOR_HOMES = ("providers", "router/http/dialects")


def module_name(path: Path) -> str:
    """The dotted name `path` is imported as."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def imported(path: Path) -> set[str]:
    """The project modules `path` imports anywhere in it, under TYPE_CHECKING or in a function."""
    known = modules()
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` imports the module; `from module import name` not.
            submodules = {f"{node.module}.{alias.name}" for alias in node.names}
            found.update(submodules & known.keys() or {node.module})
    return found & known.keys()


def import_graph() -> dict[str, set[str]]:
    """Which project modules each project module imports."""
    return {name: imported(path) - {name} for name, path in modules().items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = [stack.pop()]
            while group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def functions(path: Path) -> Iterator[tuple[str, int]]:
    """Every function in `path`, with its length in lines."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            yield node.name, node.end_lineno - node.lineno + 1


def test_no_module_is_over_the_limit() -> None:
    lengths = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in lengths.items() if n > MAX_MODULE_LINES} == {}


def test_no_function_is_over_the_limit() -> None:
    long = {
        f"{name}.{function}": lines
        for name, path in modules().items()
        for function, lines in functions(path)
        if lines > MAX_FUNCTION_LINES
    }
    assert long == {}


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("providers", "router"),
        ("storage", "router"),
        ("migrations", "router"),
        ("router.speech", "router.http"),
        ("router.accounts", "router.http"),
        ("router.accounts", "router.speech"),
    ],
)
def test_layers_import_one_way(layer: str, forbidden: str) -> None:
    inside = [name for name in modules() if name == layer or name.startswith(f"{layer}.")]
    assert inside
    offenders = {
        name: sorted(t for t in targets if t == forbidden or t.startswith(f"{forbidden}."))
        for name, targets in import_graph().items()
        if name in inside
    }
    assert {name: targets for name, targets in offenders.items() if targets} == {}


def test_no_vendor_is_named_outside_its_home() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in modules().values()
        if not path.relative_to(ROOT).as_posix().startswith(VENDOR_HOMES)
        and VENDOR.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []

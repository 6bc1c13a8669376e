"""The dependency direction: router → providers, storage; never the other way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, absolute names only."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["providers", "storage", "migrations"])
def test_package_never_imports_router(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    offenders = {
        str(path.relative_to(ROOT))
        for path in files
        if any(name == "router" or name.startswith("router.") for name in imported_modules(path))
    }
    assert offenders == set()


def test_no_code_outside_a_provider_names_one() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "router").rglob("*.py"))
        if "kokoro" in path.read_text(encoding="utf-8").lower()
    ]
    assert offenders == []

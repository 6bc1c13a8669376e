"""Every file the console serves ships in the package: pyproject's package-data names it."""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[2]
ROUTER = ROOT / "router"


def shipped(path: PurePosixPath, patterns: list[str]) -> bool:
    """Whether a path under router/ matches one of the package-data globs exactly."""
    return any(
        len(PurePosixPath(pattern).parts) == len(path.parts) and path.match(pattern)
        for pattern in patterns
    )


def test_package_data_covers_every_console_file() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns: list[str] = setuptools["package-data"]["router"]
    console = ROUTER / "http" / "console"
    served = [
        console / "console.html",
        *(p for p in (console / "static").rglob("*") if p.is_file()),
    ]
    relative = [PurePosixPath(path.relative_to(ROUTER).as_posix()) for path in served]
    assert [str(path) for path in relative if not shipped(path, patterns)] == []

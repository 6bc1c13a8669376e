"""Storage tests run on SQLite and on the machine's PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import BACKENDS, empty_database, migrated_database


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each database backend in turn."""
    return str(request.param)


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on `backend`."""
    with empty_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database on `backend`."""
    with migrated_database(backend, tmp_path) as url:
        yield url

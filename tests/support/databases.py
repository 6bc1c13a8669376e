"""Throwaway databases for tests: a SQLite file, or a fresh database on the local PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.database import create_engine, session_factory, upgrade

POSTGRES_ADMIN_DSN = os.environ.get("TTS_ROUTER_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")
REDIS_URL = os.environ.get("TTS_ROUTER_TEST_REDIS", "redis://127.0.0.1:6379/0")


async def _execute(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database; yields its SQLAlchemy URL and drops it afterwards."""
    name = f"tts_router_test_{secrets.token_hex(6)}"
    asyncio.run(_execute(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def empty_database(backend: str, directory: Path) -> Iterator[str]:
    """An empty database of `backend` ("sqlite" or "postgresql"); yields its URL."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'test.sqlite3'}"
        return
    with postgres_database() as url:
        yield url


@contextmanager
def migrated_database(backend: str, directory: Path) -> Iterator[str]:
    """A database of `backend` with every migration applied; yields its URL."""
    with empty_database(backend, directory) as url:
        upgrade(url)
        yield url


@asynccontextmanager
async def sessions(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the database at `url`, its engine disposed afterwards."""
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@contextmanager
def router_database(backend: str) -> Iterator[dict[str, str]]:
    """The environment that points a router at SQLite (its default) or a fresh PostgreSQL."""
    if backend == "sqlite":
        yield {}
        return
    with postgres_database() as url:
        yield {"TTS_ROUTER_DATABASE_URL": url}


def rows_in(env: Mapping[str, str], data: Path, query: str) -> list[tuple[Any, ...]]:
    """The rows `query` reads from the database of a router run with `env` and data dir `data`."""
    url = env.get("TTS_ROUTER_DATABASE_URL")
    if url is None:
        with sqlite3.connect(data / "tts-router.sqlite3") as db:
            return list(db.execute(query).fetchall())

    async def fetch() -> list[tuple[Any, ...]]:
        connection = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            return [tuple(row.values()) for row in await connection.fetch(query)]
        finally:
            await connection.close()

    # Its own thread and loop, so that it may be called from inside a running loop too.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(lambda: asyncio.run(fetch())).result()

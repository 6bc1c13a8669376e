"""Migrations as code: upgrade to head, no drift, downgrade to base, one head."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, bindparam, inspect, text

from storage.database import alembic_config, create_engine
from storage.models import Base

OLD_ROW = (
    "INSERT INTO usage_records (request_id, created_at, dialect, tenant_id, requested_model,"
    " input_characters, audio_seconds, output_bytes, latency_ms, status)"
    " VALUES ('req_1', :created_at, 'openai', 'anonymous', 'tts-1', 5, 1.5, 100, 20.0, 200)"
)


def table_names(url: str) -> set[str]:
    """The tables in the database at `url`."""

    async def read() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def execute(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    """Run one statement, commit, and return its rows (none for a statement without any)."""

    statement = text(sql)
    if "created_at" in params:
        statement = statement.bindparams(bindparam("created_at", type_=DateTime(timezone=True)))

    async def run() -> list[tuple[object, ...]]:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(statement, params)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_check_downgrade(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "head")
    assert set(Base.metadata.tables) <= table_names(empty_database_url)
    command.check(config)
    command.downgrade(config, "base")
    assert table_names(empty_database_url) <= {"alembic_version"}


def test_0002_keeps_existing_usage_rows(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "0001")
    execute(empty_database_url, OLD_ROW, created_at=datetime(2026, 3, 4, 23, 59, tzinfo=UTC))
    command.upgrade(config, "0002")
    assert execute(
        empty_database_url, "SELECT day, failovers, cost_usd, finished_at FROM usage_records"
    ) == [("2026-03-04", 0, 0.0, None)]
    execute(empty_database_url, "UPDATE usage_records SET latency_ms = NULL")
    command.downgrade(config, "0001")
    assert execute(empty_database_url, "SELECT latency_ms FROM usage_records") == [(0.0,)]


def test_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    assert len(script.get_heads()) == 1

"""Migrations as code: upgrade to head, no drift, downgrade to base, one head."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.database import alembic_config, create_engine


def table_names(url: str) -> set[str]:
    """The tables in the database at `url`."""

    async def read() -> set[str]:
        engine = create_engine(url)
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(read())


def test_upgrade_check_downgrade_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    assert "usage_records" in table_names(url)
    command.check(config)
    command.downgrade(config, "base")
    assert table_names(url) <= {"alembic_version"}


def test_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    assert len(script.get_heads()) == 1

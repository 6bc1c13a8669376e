"""Secrets that every router process sharing the database must agree on."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import RouterSecret


async def shared_secret(sessions: async_sessionmaker[AsyncSession], name: str) -> str:
    """The secret called `name`, created at random by whichever process asks first."""
    async with sessions.begin() as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await session.execute(
            insert(RouterSecret)
            .values(name=name, value=secrets.token_urlsafe(48))
            .on_conflict_do_nothing(index_elements=[RouterSecret.name])
        )
        value = await session.scalar(select(RouterSecret.value).where(RouterSecret.name == name))
    if value is None:  # pragma: no cover - the row was inserted or already there
        raise RuntimeError(f"secret {name!r} could not be stored")
    return value

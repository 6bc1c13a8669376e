"""Usage records: written once per request, read back per tenant."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import UsageRecord


class UsageRepository:
    """Stores and reads usage records."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, record: UsageRecord) -> None:
        """Insert one record and commit it."""
        async with self._sessions.begin() as session:
            session.add(record)

    async def for_request(self, tenant_id: str, request_id: str) -> Sequence[UsageRecord]:
        """The records of one request, scoped to its tenant."""
        query = select(UsageRecord).where(
            UsageRecord.tenant_id == tenant_id, UsageRecord.request_id == request_id
        )
        async with self._sessions() as session:
            return (await session.scalars(query)).all()

"""Synthesized audio kept for download: which tenant owns it, where it is, when it expires."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import StoredAudio, utcnow


class StoredAudioRepository:
    """Rows of `stored_audio`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, audio: StoredAudio) -> StoredAudio:
        """Insert `audio` and commit."""
        async with self._sessions.begin() as session:
            session.add(audio)
        return audio

    async def get(self, audio_id: str) -> StoredAudio | None:
        """The stored audio with this id, expired or not."""
        async with self._sessions() as session:
            return await session.get(StoredAudio, audio_id)

    async def expired(self, now: datetime | None = None, limit: int = 500) -> Sequence[StoredAudio]:
        """Stored audio whose time is up, oldest first."""
        query = (
            select(StoredAudio)
            .where(StoredAudio.expires_at <= (now or utcnow()))
            .order_by(StoredAudio.expires_at)
            .limit(limit)
        )
        async with self._sessions() as session:
            return (await session.scalars(query)).all()

    async def delete(self, audio_ids: Sequence[str]) -> None:
        """Delete these rows."""
        if audio_ids:
            async with self._sessions.begin() as session:
                await session.execute(delete(StoredAudio).where(StoredAudio.id.in_(audio_ids)))

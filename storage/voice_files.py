"""Uploaded voice files: which tenant owns each, and where its audio is."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import VoiceFile


class VoiceFileRepository:
    """Rows of `voice_files`, always looked up within one tenant."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, voice: VoiceFile) -> VoiceFile:
        """Insert `voice` and commit."""
        async with self._sessions.begin() as session:
            session.add(voice)
        return voice

    async def get(self, tenant_id: str, file_id: str) -> VoiceFile | None:
        """The tenant's voice file with this id, if any."""
        async with self._sessions() as session:
            return await session.scalar(
                select(VoiceFile).where(VoiceFile.id == file_id, VoiceFile.tenant_id == tenant_id)
            )

    async def list(self, tenant_id: str, limit: int) -> Sequence[VoiceFile]:
        """The tenant's voice files, newest first."""
        query = (
            select(VoiceFile)
            .where(VoiceFile.tenant_id == tenant_id)
            .order_by(VoiceFile.created_at.desc(), VoiceFile.id)
            .limit(limit)
        )
        async with self._sessions() as session:
            return (await session.scalars(query)).all()

    async def delete(self, tenant_id: str, file_id: str) -> VoiceFile | None:
        """Delete the tenant's voice file with this id; the deleted row, if there was one."""
        async with self._sessions.begin() as session:
            return await session.scalar(
                delete(VoiceFile)
                .where(VoiceFile.id == file_id, VoiceFile.tenant_id == tenant_id)
                .returning(VoiceFile),
                execution_options={"synchronize_session": False},
            )

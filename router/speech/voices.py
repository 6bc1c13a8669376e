"""Voice files: reference audio uploaded once, normalized, and kept for cloning."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import anyio.to_thread

from router.errors import InvalidRequestError, NotFoundError, PayloadTooLargeError
from router.speech.audio.reference import (
    VoiceFileError,
    VoiceLimits,
    normalize_reference,
    safe_filename,
)
from storage.blobs import BlobStore
from storage.models import VoiceFile, utcnow
from storage.voice_files import VoiceFileRepository

FILE_ID_PREFIX = "file-"


def new_file_id() -> str:
    """An unguessable voice file id, `file-` and 128 random bits."""
    return f"{FILE_ID_PREFIX}{secrets.token_hex(16)}"


class VoiceLibrary:
    """Each tenant's voice files: their rows in the database and their audio in the blob store."""

    def __init__(
        self, repository: VoiceFileRepository, blobs: BlobStore, limits: VoiceLimits
    ) -> None:
        self._repository = repository
        self._blobs = blobs
        self.limits = limits

    async def add(self, tenant_id: str, filename: str | None, data: bytes) -> VoiceFile:
        """Normalize an upload into reference audio and keep it; refuses unfit uploads."""
        if len(data) > self.limits.max_bytes:
            msg = f"The file is larger than the limit of {self.limits.max_bytes:,} bytes."
            raise PayloadTooLargeError(msg, param="file")
        try:
            reference = await anyio.to_thread.run_sync(normalize_reference, data, self.limits)
        except VoiceFileError as exc:
            raise InvalidRequestError(str(exc), param="file", code="invalid_file") from None
        file_id = new_file_id()
        blob_key = f"voices/{tenant_id}/{file_id}.wav"
        await self._blobs.put(blob_key, reference.wav, "audio/wav")
        voice = VoiceFile(
            id=file_id,
            tenant_id=tenant_id,
            filename=safe_filename(filename),
            bytes=len(reference.wav),
            duration_seconds=round(reference.duration_seconds, 3),
            sample_rate=reference.sample_rate,
            blob_key=blob_key,
            created_at=utcnow(),
        )
        return await self._repository.add(voice)

    async def get(self, tenant_id: str, file_id: str, param: str = "file_id") -> VoiceFile:
        """The tenant's voice file, or a 404 that says the same for any id it does not own."""
        voice = await self._repository.get(tenant_id, file_id)
        if voice is None:
            raise NotFoundError(f"No voice file with id `{file_id}`.", param=param)
        return voice

    async def list(self, tenant_id: str, limit: int = 100) -> Sequence[VoiceFile]:
        """The tenant's voice files, newest first."""
        return await self._repository.list(tenant_id, limit)

    async def delete(self, tenant_id: str, file_id: str) -> None:
        """Delete the tenant's voice file and its audio."""
        voice = await self._repository.delete(tenant_id, file_id)
        if voice is None:
            raise NotFoundError(f"No voice file with id `{file_id}`.", param="file_id")
        await self._blobs.delete(voice.blob_key)

    async def audio(self, voice: VoiceFile) -> bytes:
        """The normalized WAV of a voice file."""
        return await self._blobs.get(voice.blob_key)

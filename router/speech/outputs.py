"""Synthesized audio kept in the blob store and handed out through signed, expiring URLs."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

from router.errors import NotFoundError, PermissionDeniedError
from router.speech.url_signing import UrlSigner
from storage.blobs import BlobNotFoundError, BlobStore
from storage.models import StoredAudio, utcnow
from storage.outputs import StoredAudioRepository

OUTPUTS_PATH = "/outputs"


class AudioOutputs:
    """Keeps audio for a while and signs URLs to it; the URL is the only credential needed."""

    def __init__(
        self,
        blobs: BlobStore,
        repository: StoredAudioRepository,
        signer: UrlSigner,
        *,
        ttl: timedelta,
        public_url: str | None = None,
    ) -> None:
        self._blobs = blobs
        self._repository = repository
        self._signer = signer
        self._ttl = ttl
        self._public_url = public_url.rstrip("/") if public_url else None

    async def keep(self, tenant_id: str, wav: bytes, ttl: timedelta | None = None) -> StoredAudio:
        """Store a WAV file for `tenant_id` for `ttl`, by default the URL lifetime."""
        audio_id = str(uuid.uuid4())
        now = utcnow()
        blob_key = f"outputs/{tenant_id}/{audio_id}.wav"
        await self._blobs.put(blob_key, wav, "audio/wav")
        audio = StoredAudio(
            id=audio_id,
            tenant_id=tenant_id,
            blob_key=blob_key,
            media_type="audio/wav",
            bytes=len(wav),
            created_at=now,
            expires_at=now + (ttl or self._ttl),
        )
        return await self._repository.add(audio)

    def url(self, base_url: str, audio_id: str, expires_at: datetime) -> str:
        """The absolute signed URL of stored audio, valid until it expires."""
        name = f"{audio_id}.wav"
        expires = int(expires_at.timestamp())
        signature = self._signer.sign(name, expires)
        base = self._public_url or base_url.rstrip("/")
        return f"{base}{OUTPUTS_PATH}/{name}?expires={expires}&signature={signature}"

    async def open(
        self, name: str, expires: str | None, signature: str | None
    ) -> tuple[StoredAudio, AsyncIterator[bytes]]:
        """The audio a signed URL names, refusing tampered and expired URLs."""
        if not expires or not expires.isdigit() or not signature:
            raise PermissionDeniedError("This URL is not signed.")
        if not self._signer.verify(name, int(expires), signature):
            raise PermissionDeniedError("This URL's signature is not valid.")
        audio_id = name.removesuffix(".wav")
        audio = await self._repository.get(audio_id)
        if int(expires) <= time.time() or audio is None or audio.expires_at <= utcnow():
            raise NotFoundError("This audio has expired or does not exist.")
        try:
            chunks = await self._blobs.stream(audio.blob_key)
        except BlobNotFoundError:
            raise NotFoundError("This audio has expired or does not exist.") from None
        return audio, chunks

    async def purge_expired(self) -> int:
        """Delete expired audio and its blobs; returns how many went."""
        expired = await self._repository.expired()
        await self.discard(expired)
        return len(expired)

    async def discard(self, audio: Sequence[StoredAudio]) -> None:
        """Delete stored audio and its blobs now."""
        for item in audio:
            await self._blobs.delete(item.blob_key)
        await self._repository.delete([item.id for item in audio])

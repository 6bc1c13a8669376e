"""The speech pipeline: check a request against its route, prime a provider, stream audio."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
import anyio.to_thread

from providers.api import (
    SAMPLING_CONTROLS,
    ModelCard,
    PcmAudio,
    SpeechRequest,
    SpeechStream,
    SpeechUsage,
    UploadedVoice,
)
from providers.errors import ProviderError
from router.audio import AudioEncoder, TempoFilter, media_type
from router.auth import Principal
from router.errors import InvalidRequestError, RouterError, from_provider_error
from router.routing import Catalog, Target
from router.usage import UsageEvent, UsageRecorder

logger = logging.getLogger("tts_router.speech")

CLIENT_CLOSED = 499


@dataclass(frozen=True, slots=True)
class SpeechCall:
    """Who is asking, through which dialect, and since when."""

    request_id: str
    dialect: str
    principal: Principal
    started: float = field(default_factory=time.perf_counter)


class SpeechService:
    """Opens speech streams for dialects; knows nothing of any provider by name."""

    def __init__(self, catalog: Catalog, recorder: UsageRecorder) -> None:
        self.catalog = catalog
        self._recorder = recorder

    async def open(self, call: SpeechCall, request: SpeechRequest) -> Speech:
        """Resolve, check and start `request`; returns once its first audio exists."""
        try:
            return await self._open(call, request)
        except RouterError as exc:
            await self._recorder.record(
                _event(
                    call,
                    request,
                    target=None,
                    usage=SpeechUsage(len(request.input)),
                    status=exc.status,
                    error_code=exc.error_code,
                )
            )
            raise

    async def _open(self, call: SpeechCall, request: SpeechRequest) -> Speech:
        *fallbacks, last = self.catalog.resolve(request.model).targets
        for target in fallbacks:
            try:
                return await self._start(call, request, target)
            except ProviderError as exc:
                if not exc.retryable:
                    raise from_provider_error(exc) from exc
                logger.warning("provider %s failed before audio: %s", target.provider.name, exc)
        try:
            return await self._start(call, request, last)
        except ProviderError as exc:
            raise from_provider_error(exc) from exc

    async def _start(self, call: SpeechCall, request: SpeechRequest, target: Target) -> Speech:
        check_request(request, target.card)
        chunks = target.provider.synthesize(for_provider(request, target.card))
        stream = SpeechStream(chunks, SpeechUsage(len(request.input)))
        try:
            first = await anext(stream, None)
        except BaseException:
            await stream.aclose()
            raise
        return Speech(call, request, target, stream, first, recorder=self._recorder)


def check_request(request: SpeechRequest, card: ModelCard) -> None:
    """Refuse what the target model cannot do, before any audio is made."""
    if len(request.input) > card.max_input_chars:
        msg = (
            f"Invalid 'input': string too long. Expected a string with maximum length "
            f"{card.max_input_chars}, but got a string with length {len(request.input)} instead."
        )
        raise InvalidRequestError(msg, param="input", code="string_above_max_length")
    voice = request.voice
    if isinstance(voice, UploadedVoice):
        if not card.voice_cloning:
            msg = f"Model `{request.model}` does not support custom voices."
            raise InvalidRequestError(msg, param="voice", code="unsupported_value")
    elif not card.has_voice(voice.name):
        known = ", ".join(v.id for v in card.voices)
        msg = (
            f"Voice `{voice.name}` is not available for model `{request.model}`. "
            f"Available voices: {known}."
        )
        raise InvalidRequestError(msg, param="voice", code="invalid_value")


def for_provider(request: SpeechRequest, card: ModelCard) -> SpeechRequest:
    """The request as the provider model sees it: its own id, and only the controls it honours."""
    update: dict[str, Any] = {"model": card.id}
    if not card.native_speed:
        update["speed"] = 1.0
    if not card.instructions:
        update["instructions"] = None
    for control in SAMPLING_CONTROLS:
        if control not in card.sampling_controls:
            update[control] = None
    return request.model_copy(update=update)


class Speech:
    """A started request: its first audio exists, so it can be answered with a 200."""

    def __init__(
        self,
        call: SpeechCall,
        request: SpeechRequest,
        target: Target,
        stream: SpeechStream,
        first: PcmAudio | None,
        *,
        recorder: UsageRecorder,
    ) -> None:
        self.call = call
        self.request = request
        self.target = target
        self.usage = stream.usage
        self.media_type = media_type(request.response_format)
        self._stream = stream
        self._first = first
        self._recorder = recorder
        self._tempo: TempoFilter | None = None
        self._encoder = AudioEncoder(request.response_format)

    async def audio(self) -> AsyncIterator[bytes]:
        """The encoded audio, chunk by chunk; records usage however the stream ends."""
        status: int = CLIENT_CLOSED
        error_code: str | None = "client_closed"
        output_bytes = 0
        first_byte_at: float | None = None
        try:
            chunk = self._first
            upcoming = read_ahead(self._stream)
            while chunk is not None:
                data = await anyio.to_thread.run_sync(self._encode, chunk)
                if data:
                    first_byte_at = first_byte_at or time.perf_counter()
                    output_bytes += len(data)
                    yield data
                chunk = await anext(upcoming, None)
            data = await anyio.to_thread.run_sync(self._finish)
            if data:
                first_byte_at = first_byte_at or time.perf_counter()
                output_bytes += len(data)
                yield data
            status, error_code = 200, None
        except ProviderError as exc:
            error = from_provider_error(exc)
            status, error_code = error.status, error.error_code
            raise error from exc
        finally:
            self._encoder.close()
            with anyio.CancelScope(shield=True):
                await self._stream.aclose()
                ttfb = None if first_byte_at is None else (first_byte_at - self.call.started) * 1000
                event = _event(
                    self.call,
                    self.request,
                    target=self.target,
                    usage=self.usage,
                    status=status,
                    error_code=error_code,
                )
                await self._recorder.record(
                    replace(event, output_bytes=output_bytes, time_to_first_byte_ms=ttfb)
                )

    def _encode(self, chunk: PcmAudio) -> bytes:
        return self._encoder.encode(self._change_speed(chunk))

    def _finish(self) -> bytes:
        if self._tempo is not None:
            tail = self._tempo.flush()
            if len(tail.samples):
                return self._encoder.encode(tail) + self._encoder.finish()
        return self._encoder.finish()

    def _change_speed(self, chunk: PcmAudio) -> PcmAudio:
        if self.request.speed == 1.0 or self.target.card.native_speed:
            return chunk
        if self._tempo is None:
            self._tempo = TempoFilter(self.request.speed, chunk.sample_rate)
        return self._tempo.process(chunk)


async def read_ahead(chunks: AsyncIterator[PcmAudio]) -> AsyncIterator[PcmAudio]:
    """Ask the provider for the next chunk while the current one is encoded and sent."""
    pending = asyncio.ensure_future(anext(chunks, None))
    try:
        while (chunk := await pending) is not None:
            pending = asyncio.ensure_future(anext(chunks, None))
            yield chunk
    finally:
        pending.cancel()


def _event(
    call: SpeechCall,
    request: SpeechRequest,
    *,
    target: Target | None,
    usage: SpeechUsage,
    status: int,
    error_code: str | None,
) -> UsageEvent:
    voice = (
        request.voice.file_id if isinstance(request.voice, UploadedVoice) else request.voice.name
    )
    return UsageEvent(
        request_id=call.request_id,
        dialect=call.dialect,
        tenant_id=call.principal.tenant_id,
        key_id=call.principal.key_id,
        requested_model=request.model,
        provider=None if target is None else target.provider.name,
        upstream_model=None if target is None else target.card.id,
        voice=voice,
        response_format=request.response_format,
        input_characters=usage.input_characters,
        audio_seconds=round(usage.audio_seconds, 3),
        output_bytes=0,
        time_to_first_byte_ms=None,
        latency_ms=(time.perf_counter() - call.started) * 1000,
        status=status,
        error_code=error_code,
    )

"""A started speech request: its audio, encoded chunk by chunk as the provider makes it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

import anyio
import anyio.to_thread

from providers.api import (
    Audio,
    EncodedAudio,
    PcmAudio,
    SpeechRequest,
    SpeechStream,
    WordTime,
)
from providers.errors import ProviderError
from router.errors import from_provider_error
from router.speech.audio import AudioEncoder, TempoFilter, media_type
from router.speech.audio.probe import encoded_seconds
from router.speech.audio.wav import mono_wav
from router.speech.routing import Target

CLIENT_CLOSED = 499
INTERNAL_ERROR = 500
# `pcm` is 16-bit mono at 24 kHz.
PCM_SAMPLE_RATE = 24000
# Passed-through audio up to this size is measured on the event loop (a fraction of a
# millisecond); longer audio in a worker thread.
INLINE_PROBE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class StreamOutcome:
    """How a stream ended and what it sent; `seconds()` measures the audio it sent."""

    status: int
    error_code: str | None
    output_bytes: int
    first_byte_at: float | None
    seconds: Callable[[], Awaitable[float]]


class Speech:
    """A started request: its first audio exists, so it can be answered with a 200."""

    def __init__(
        self,
        *,
        request: SpeechRequest,
        target: Target,
        stream: SpeechStream,
        first: Audio | None,
        finish: Callable[[StreamOutcome], Awaitable[None]],
        headers: Mapping[str, str],
    ) -> None:
        self.request = request
        self.target = target
        self.usage = stream.usage
        self.media_type = media_type(request.response_format)
        self.headers = dict(headers)
        self._stream = stream
        self._first = first
        self._finish = finish
        self._tempo: TempoFilter | None = None
        self._encoder = AudioEncoder(request.response_format)
        # Audio a provider sent ready-made, kept to measure its duration at the end.
        self._passed_through = bytearray()
        self._measured = False
        # Seconds of audio already played before the next chunk, at the speed it is played.
        self._played_seconds = 0.0

    async def audio(self) -> AsyncIterator[bytes]:
        """The encoded audio, chunk by chunk; reports the outcome however the stream ends."""
        async with contextlib.aclosing(self.pieces()) as pieces:
            async for data, _words in pieces:
                if data:
                    yield data

    async def pieces(self) -> AsyncGenerator[tuple[bytes, tuple[WordTime, ...]], None]:
        """Each piece's encoded audio with the words timed in it, from the start of the audio.

        A piece's bytes may be empty while its encoder fills a frame; its words still come.
        Reports the outcome however the stream ends.
        """
        status: int = CLIENT_CLOSED
        error_code: str | None = "client_closed"
        output_bytes = 0
        first_byte_at: float | None = None
        try:
            async for chunk in read_ahead(self._first, self._stream):
                data = await self._bytes_of(chunk)
                words = self._timed_words(chunk)
                if data:
                    first_byte_at = first_byte_at or time.perf_counter()
                    output_bytes += len(data)
                if data or words:
                    yield data, words
            data = b""
            if not self._passed_through:
                data = await anyio.to_thread.run_sync(self._finish_encoding)
            if data:
                first_byte_at = first_byte_at or time.perf_counter()
                output_bytes += len(data)
                yield data, ()
            status, error_code = 200, None
        except ProviderError as exc:
            error = from_provider_error(exc)
            status, error_code = error.status, error.error_code
            raise error from exc
        except Exception:
            status, error_code = INTERNAL_ERROR, "internal_error"
            raise
        finally:
            self._encoder.close()
            outcome = StreamOutcome(status, error_code, output_bytes, first_byte_at, self.seconds)
            with anyio.CancelScope(shield=True):
                await self._stream.aclose()
                await self._finish(outcome)

    def _timed_words(self, chunk: Audio) -> tuple[WordTime, ...]:
        """The chunk's words, timed from the start of the whole answer at its played speed."""
        if not isinstance(chunk, PcmAudio):
            return ()
        speed = 1.0 if self.target.card.native_speed else self.request.speed
        offset = self._played_seconds
        self._played_seconds += chunk.seconds / speed
        return tuple(word.shifted(offset, speed) for word in chunk.words)

    async def _bytes_of(self, chunk: Audio) -> bytes:
        if isinstance(chunk, EncodedAudio):
            self._passed_through += chunk.data
            return chunk.data
        return await anyio.to_thread.run_sync(self._encode, chunk)

    def _encode(self, chunk: PcmAudio) -> bytes:
        return self._encoder.encode(self._change_speed(chunk))

    async def seconds(self) -> float:
        """Seconds of audio sent; audio passed through is measured on the first call.

        Its packets are read after the response ends, off the caller's time.
        """
        if self._passed_through and not self._measured:
            data, fmt = bytes(self._passed_through), self.request.response_format
            measured = (
                encoded_seconds(data, fmt)
                if len(data) <= INLINE_PROBE_BYTES
                else await anyio.to_thread.run_sync(encoded_seconds, data, fmt)
            )
            self.usage.audio_seconds = measured
            self._measured = True
        return self.usage.audio_seconds

    def _finish_encoding(self) -> bytes:
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


async def read_ahead(first: Audio | None, rest: AsyncIterator[Audio]) -> AsyncIterator[Audio]:
    """`first`, then `rest`; the next chunk is made while one that needs encoding is encoded.

    Audio passed through needs no work before it is sent, so the next chunk of it is asked
    for only once it is wanted, without a task.
    """
    chunk, pending = first, None
    try:
        while chunk is not None:
            if isinstance(chunk, PcmAudio):
                pending = asyncio.ensure_future(anext(rest, None))
            yield chunk
            chunk = await (pending or anext(rest, None))
            pending = None
    finally:
        if pending is not None:
            pending.cancel()


async def collect_wav(speech: Speech) -> bytes:
    """All of a started request's audio as one WAV file with exact sizes in its header."""
    if speech.request.response_format != "pcm":
        raise ValueError("collect_wav needs a request for pcm audio")
    pcm = b"".join([chunk async for chunk in speech.audio()])
    return mono_wav(pcm, PCM_SAMPLE_RATE)

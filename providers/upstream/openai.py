"""Any server that speaks OpenAI's speech API: OpenAI, Dedalus, Aqueduct, Kokoro-FastAPI, ..."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from typing import Any

import aiohttp
import numpy as np
import numpy.typing as npt
from pydantic import Field

from providers.api import (
    AUDIO_FORMATS,
    Audio,
    AudioFormat,
    BuiltinVoice,
    EncodedAudio,
    ModelCard,
    PcmAudio,
    ProviderContext,
    SamplingControl,
    SpeechRequest,
    VoiceCard,
)
from providers.errors import (
    ProviderProtocolError,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from providers.options import options_error
from providers.options import parse_options as read_options
from providers.upstream.http import (
    ERROR_BODY_LIMIT,
    UpstreamOptions,
    cannot_connect,
    card_for,
    status_error,
    transport_error,
)

OPENAI_VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
PCM_SAMPLE_RATE = 24_000
# Enough bytes to recognize any format's signature before the first chunk is passed on.
FIRST_CHUNK_BYTES = 16
EVENT_STREAM = "text/event-stream"


class OpenAICompatibleOptions(UpstreamOptions):
    """The `options` of an `openai-compatible` provider."""

    models: tuple[str, ...] = Field(default=("tts-1",), min_length=1)
    voices: tuple[str, ...] = Field(default=OPENAI_VOICES, min_length=1)
    # The formats the upstream returns; audio in them is passed through untouched.
    formats: tuple[AudioFormat, ...] = AUDIO_FORMATS
    instructions: bool = False
    # Extra controls the upstream honours (another tts-router, Dedalus with Chatterbox, ...).
    sampling_controls: tuple[SamplingControl, ...] = ()
    max_input_chars: int = Field(default=4096, ge=1)


def parse_options(name: str, options: Mapping[str, Any]) -> OpenAICompatibleOptions:
    """Validate `options`, raising a ValueError that names the provider and each bad field."""
    parsed = read_options(OpenAICompatibleOptions, name, options)
    if "pcm" not in parsed.formats:
        raise ValueError(f"{options_error(name)}: formats: must include 'pcm'")
    return parsed


class OpenAICompatibleProvider:
    """Relays requests to `POST {base_url}/audio/speech`, streaming the answer as it comes."""

    def __init__(self, context: ProviderContext) -> None:
        self.name = context.name
        self._options = parse_options(context.name, context.options)
        voices = tuple(VoiceCard(voice) for voice in self._options.voices)
        self._cards = tuple(
            ModelCard(
                id=model,
                voices=voices,
                sample_rate=PCM_SAMPLE_RATE,
                max_input_chars=self._options.max_input_chars,
                native_formats=frozenset(self._options.formats),
                native_speed=True,
                instructions=self._options.instructions,
                sampling_controls=frozenset(self._options.sampling_controls),
            )
            for model in self._options.models
        )
        self._url = self._options.base_url.rstrip("/") + "/audio/speech"
        self._session: aiohttp.ClientSession | None = None
        self._reachable = True

    def models(self) -> Sequence[ModelCard]:
        """One card per configured upstream model."""
        return self._cards

    async def start(self) -> None:
        """Open the connection pool."""
        if self._session is None:
            self._session = self._options.session()

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def ready(self) -> bool:
        """Started, and the upstream answered the last time it was called."""
        return self._session is not None and self._reachable

    async def synthesize(self, request: SpeechRequest) -> AsyncGenerator[Audio, None]:
        """Stream the upstream's audio: as it is when the format is native, else as PCM."""
        session = self._session
        if session is None:
            raise ProviderUnavailableError(f"provider {self.name!r} is not started")
        card = card_for(self.name, self._cards, request.model)
        voice = request.voice
        if not isinstance(voice, BuiltinVoice) or not card.has_voice(voice.name):
            shown = voice.name if isinstance(voice, BuiltinVoice) else voice.file_id
            raise ProviderRejectedError(
                f"provider {self.name!r} has no voice {shown!r}", param="voice"
            )
        passthrough = request.response_format in card.native_formats
        body = self._body(request, voice.name, request.response_format if passthrough else "pcm")
        try:
            async with session.post(self._url, json=body) as response:
                self._reachable = True
                if response.status != 200:
                    head = await _head(response.content)
                    raise status_error(self.name, response.status, response.headers, head)
                _check_media_type(self.name, response.content_type)
                chunks: AsyncIterator[bytes] = response.content.iter_any()
                if response.content_type == EVENT_STREAM:
                    chunks = _not_events(self.name, chunks)
                if passthrough:
                    async for data in _regrouped(chunks):
                        yield EncodedAudio(data)
                else:
                    async for samples in _pcm(chunks):
                        yield PcmAudio(samples, PCM_SAMPLE_RATE)
        except aiohttp.ClientError as exc:
            if cannot_connect(exc):
                self._reachable = False
            raise transport_error(self.name, exc) from exc

    def _body(self, request: SpeechRequest, voice: str, fmt: AudioFormat) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "input": request.input,
            "voice": voice,
            "response_format": fmt,
        }
        if request.speed != 1.0:
            body["speed"] = request.speed
        if request.instructions is not None:
            body["instructions"] = request.instructions
        body.update({str(control): value for control, value in request.sampling().items()})
        return body


async def _head(body: aiohttp.StreamReader) -> bytes:
    """The start of an error body, read without trusting its length."""
    head = bytearray()
    async for data in body.iter_any():
        head += data
        if len(head) >= ERROR_BODY_LIMIT:
            break
    return bytes(head)


def _check_media_type(provider: str, content_type: str) -> None:
    kind = content_type.lower()
    if kind == EVENT_STREAM:
        return  # Aqueduct labels its raw audio so; `_not_events` checks that it is audio
    if kind.startswith(("application/json", "text/")):
        raise ProviderProtocolError(f"provider {provider!r} answered {kind} instead of audio")


async def _not_events(provider: str, chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    """The chunks of audio labelled `text/event-stream`, refused if they are events after all.

    The router never asks an upstream for `stream_format: "sse"`, so events are a broken answer.
    """
    first = True
    async for data in chunks:
        if first and data.lstrip().startswith((b"data:", b"event:")):
            raise ProviderProtocolError(
                f"provider {provider!r} answered server-sent events instead of audio"
            )
        first = False
        yield data


async def _regrouped(chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    """The bytes as they come, except that the first piece is long enough to recognize."""
    head = b""
    async for data in chunks:
        head += data
        if len(head) >= FIRST_CHUNK_BYTES:
            break
    if head:
        yield head
    async for data in chunks:
        yield data


async def _pcm(chunks: AsyncIterator[bytes]) -> AsyncGenerator[npt.NDArray[np.float32], None]:
    """16-bit little-endian samples as float32, whatever the byte boundaries of the chunks."""
    odd = b""
    async for data in chunks:
        joined = odd + data
        usable = len(joined) - len(joined) % 2
        odd = joined[usable:]
        if usable:
            yield (np.frombuffer(joined[:usable], dtype="<i2") / 32768.0).astype(np.float32)

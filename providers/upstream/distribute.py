"""Distribute.AI's speech API: a list of WAV URLs, answered at once or by a polled job."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, Literal, TypeVar

import aiohttp
import anyio
import av
import numpy as np
from av.audio.resampler import AudioResampler
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from providers.api import (
    Audio,
    BuiltinVoice,
    ModelCard,
    PcmAudio,
    ProviderContext,
    SamplingControl,
    SpeechRequest,
    VoiceCard,
)
from providers.errors import (
    ProviderError,
    ProviderProtocolError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from providers.options import parse_options as read_options
from providers.upstream.http import (
    ERROR_BODY_LIMIT,
    UpstreamOptions,
    cannot_connect,
    card_for,
    status_error,
    transport_error,
)

DISTRIBUTE_URL = "https://api.distribute.ai"
SYNC_PATH = "/v1/audio/speech"
CREATE_PATH = "/async/speech/create"
RESULT_PATH = "/async/speech/result"
# Chatterbox speaks at 24 kHz; the decoded file's own rate is what the audio carries.
SAMPLE_RATE = 24_000
# Distribute's schema bounds every control to [0, 1], tighter than the router's own limits.
CONTROL_RANGES: Mapping[SamplingControl, tuple[float, float]] = {
    "temperature": (0.0, 1.0),
    "exaggeration": (0.0, 1.0),
    "cfg_weight": (0.0, 1.0),
}
# Fastify's Ajv messages name the field: "body/input must NOT have fewer than 2 characters".
_AJV_FIELD = re.compile(r"^body/(\w+)")


class DistributeOptions(UpstreamOptions):
    """The `options` of a `distribute` provider."""

    base_url: str = Field(default=DISTRIBUTE_URL, min_length=1)
    mode: Literal["sync", "async"] = "sync"
    models: tuple[str, ...] = Field(default=("Chatterbox",), min_length=1)
    voices: tuple[str, ...] = Field(default=("leo", "nora"), min_length=1)
    # Distribute's docs send the bare key in `authorization`; some gateways want `Bearer`.
    auth_scheme: Literal["raw", "bearer"] = "raw"
    poll_interval_seconds: float = Field(default=0.5, gt=0)
    # Within the router's default attempt timeout of 30 s, which would cut the wait short.
    max_wait_seconds: float = Field(default=25.0, gt=0)
    max_audio_bytes: int = Field(default=64 * 1024 * 1024, ge=1)


class _Url(BaseModel):
    url: str = Field(min_length=1)


class _Created(BaseModel):
    id: str = Field(min_length=1)


class _Result(BaseModel):
    status: str
    results: list[_Url] = Field(default_factory=list)


@dataclass(frozen=True)
class _Answer:
    """An answer of the upstream's API, read whole."""

    status: int
    headers: Mapping[str, str]
    body: bytes


_URLS = TypeAdapter(list[_Url])
_CREATED = TypeAdapter(_Created)
_RESULT = TypeAdapter(_Result)
Parsed = TypeVar("Parsed")


def parse_options(name: str, options: Mapping[str, Any]) -> DistributeOptions:
    """Validate `options`, raising a ValueError that names the provider and each bad field."""
    return read_options(DistributeOptions, name, options)


class DistributeProvider:
    """Relays requests to Distribute.AI or a server speaking its dialect, then fetches the audio."""

    def __init__(self, context: ProviderContext) -> None:
        self.name = context.name
        self._options = parse_options(context.name, context.options)
        voices = tuple(VoiceCard(voice) for voice in self._options.voices)
        # No native formats: the fetched WAV is decoded to PCM, because audio passed through
        # untouched needs native speed and Distribute has no speed control.
        self._cards = tuple(
            ModelCard(
                id=model,
                voices=voices,
                sample_rate=SAMPLE_RATE,
                streaming=False,
                sampling_controls=frozenset(CONTROL_RANGES),
            )
            for model in self._options.models
        )
        self._base_url = self._options.base_url.rstrip("/")
        self._api: aiohttp.ClientSession | None = None
        self._downloads: aiohttp.ClientSession | None = None
        self._reachable = True

    def models(self) -> Sequence[ModelCard]:
        """One card per configured upstream model."""
        return self._cards

    async def start(self) -> None:
        """Open the connection pools: one carrying the key, one for audio URLs without it."""
        if self._api is None:
            scheme = "Bearer" if self._options.auth_scheme == "bearer" else ""
            self._api = self._options.session(scheme=scheme, decompress=True)
            # The URLs may point at another host, which must never see the key.
            keyless = self._options.model_copy(update={"api_key": None, "api_key_env": None})
            self._downloads = keyless.session(decompress=True)

    async def close(self) -> None:
        """Close the connection pools."""
        for session in (self._api, self._downloads):
            if session is not None:
                await session.close()
        self._api = self._downloads = None

    def ready(self) -> bool:
        """Started, and the upstream answered the last time it was called."""
        return self._api is not None and self._reachable

    async def synthesize(self, request: SpeechRequest) -> AsyncGenerator[Audio, None]:
        """Ask for the speech, then yield each URL's audio as PCM."""
        api, downloads = self._api, self._downloads
        if api is None or downloads is None:
            raise ProviderUnavailableError(f"provider {self.name!r} is not started")
        body = self._body(request)
        try:
            if self._options.mode == "async":
                urls = await self._run_job(api, body)
            else:
                body["response_format"] = "wav"
                urls = await self._speak(api, body)
            for url in urls:
                yield await self._fetch(downloads, url)
        except aiohttp.InvalidURL as exc:
            raise ProviderProtocolError(
                f"provider {self.name!r}: the upstream sent an unusable audio URL"
            ) from exc
        except aiohttp.ClientError as exc:
            raise transport_error(self.name, exc) from exc

    def _body(self, request: SpeechRequest) -> dict[str, Any]:
        voice = request.voice
        card = card_for(self.name, self._cards, request.model)
        if not isinstance(voice, BuiltinVoice) or not card.has_voice(voice.name):
            shown = voice.name if isinstance(voice, BuiltinVoice) else voice.file_id
            raise ProviderRejectedError(
                f"provider {self.name!r} has no voice {shown!r}", param="voice"
            )
        body: dict[str, Any] = {"model": request.model, "input": request.input, "voice": voice.name}
        return body | controls_within_range(request)

    async def _post(self, api: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> _Answer:
        url = self._base_url + path
        try:
            async with api.post(url, json=body, allow_redirects=False) as response:
                answer = _Answer(response.status, response.headers, await response.read())
        except aiohttp.ClientError as exc:
            if cannot_connect(exc):
                self._reachable = False
            raise
        self._reachable = True
        return answer

    async def _speak(self, api: aiohttp.ClientSession, body: dict[str, Any]) -> list[str]:
        answer = await self._post(api, SYNC_PATH, body)
        if answer.status != 200:
            raise self._refusal(answer)
        urls = self._parse(_URLS, answer.body, "speech")
        if not urls:
            raise ProviderProtocolError(f"provider {self.name!r}: the upstream sent no audio URL")
        return [item.url for item in urls]

    async def _run_job(self, api: aiohttp.ClientSession, body: dict[str, Any]) -> list[str]:
        answer = await self._post(api, CREATE_PATH, body)
        if answer.status != 200:
            raise self._refusal(answer)
        job_id = self._parse(_CREATED, answer.body, "job").id
        with anyio.move_on_after(self._options.max_wait_seconds):
            while True:
                urls = await self._poll(api, job_id)
                if urls is not None:
                    return urls
                await anyio.sleep(self._options.poll_interval_seconds)
        raise ProviderTimeoutError(
            f"provider {self.name!r}: upstream job {job_id} did not finish within "
            f"{self._options.max_wait_seconds:g} s"
        )

    async def _poll(self, api: aiohttp.ClientSession, job_id: str) -> list[str] | None:
        """The job's audio URLs once it completed, None while it runs."""
        answer = await self._post(api, RESULT_PATH, {"id": job_id})
        if answer.status != 200:
            raise self._poll_error(answer, job_id)
        result = self._parse(_RESULT, answer.body, "job result")
        if result.status == "ERROR":
            # The result schema has no reason field; another tts-router puts one in a header.
            reason = answer.headers.get("x-job-error", "no reason given")
            raise ProviderUnavailableError(
                f"provider {self.name!r}: upstream job {job_id} failed: {reason[:200]}"
            )
        if result.status != "COMPLETED":
            return None
        if not result.results:
            raise ProviderProtocolError(
                f"provider {self.name!r}: upstream job {job_id} completed without audio"
            )
        return [item.url for item in result.results]

    async def _fetch(self, downloads: aiohttp.ClientSession, url: str) -> PcmAudio:
        data = await self._download(downloads, url)
        try:
            return await anyio.to_thread.run_sync(decode_wav, data)
        except (av.FFmpegError, ValueError, IndexError) as exc:
            raise ProviderProtocolError(
                f"provider {self.name!r}: the upstream's audio is not a readable WAV file"
            ) from exc

    async def _download(self, downloads: aiohttp.ClientSession, url: str) -> bytes:
        """The file at `url`, refused once it grows past `max_audio_bytes`."""
        async with downloads.get(url, allow_redirects=False) as response:
            if response.status != 200:
                raise self._download_error(response.status, response.headers)
            data = bytearray()
            async for chunk in response.content.iter_any():
                data += chunk
                if len(data) > self._options.max_audio_bytes:
                    raise ProviderProtocolError(
                        f"provider {self.name!r}: the audio is larger than "
                        f"{self._options.max_audio_bytes} bytes"
                    )
        return bytes(data)

    def _parse(self, adapter: TypeAdapter[Parsed], content: bytes, what: str) -> Parsed:
        try:
            return adapter.validate_json(content)
        except ValidationError as exc:
            raise ProviderProtocolError(
                f"provider {self.name!r}: the upstream's {what} answer is not what its API says"
            ) from exc

    def _refusal(self, answer: _Answer) -> ProviderError:
        """The error for a non-2xx answer, naming the field an Ajv message blames."""
        error = status_error(
            self.name, answer.status, answer.headers, answer.body[:ERROR_BODY_LIMIT]
        )
        if isinstance(error, ProviderRejectedError) and error.param is None:
            field = _AJV_FIELD.match(error.message)
            error.param = field.group(1) if field else None
        return error

    def _poll_error(self, answer: _Answer, job_id: str) -> ProviderError:
        error = self._refusal(answer)
        if isinstance(error, ProviderRejectedError):
            # The caller did nothing wrong: the upstream lost the job it just created.
            return ProviderProtocolError(
                f"provider {self.name!r}: upstream answered {answer.status} "
                f"for its own job {job_id}: {error.message}"
            )
        return error

    def _download_error(self, status: int, headers: Mapping[str, str]) -> ProviderError:
        if status >= 500 or status in {408, 429}:
            # File hosts answer HTML or XML, so only the status and Retry-After are worth having.
            return status_error(self.name, status, headers, b"")
        # A 401, 403 or 404 here is an expired or broken URL, not our credentials or request.
        return ProviderProtocolError(f"provider {self.name!r}: its audio URL answered {status}")


def controls_within_range(request: SpeechRequest) -> dict[str, float | int]:
    """The sampling controls `request` sets, refused when Distribute's schema forbids them."""
    sampling = request.sampling()
    controls: dict[str, float | int] = {}
    for control, (low, high) in CONTROL_RANGES.items():
        value = sampling.get(control)
        if value is None:
            continue
        if not low <= value <= high:
            raise ProviderRejectedError(
                f"'{control}' must be between {low:g} and {high:g} for model "
                f"{request.model!r} (got {value:g}).",
                param=control,
            )
        controls[control] = value
    return controls


def decode_wav(data: bytes) -> PcmAudio:
    """A whole WAV file as mono float32 samples at its own rate."""
    # Naming the demuxer keeps FFmpeg from probing untrusted bytes as playlists or other files.
    with av.open(io.BytesIO(data), mode="r", format="wav") as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        resampler = AudioResampler(format="flt", layout="mono", rate=rate)
        parts = [
            converted.to_ndarray().reshape(-1)
            for frame in chain(container.decode(stream), [None])
            for converted in resampler.resample(frame)
        ]
    if not parts:
        raise ValueError("the WAV file holds no samples")
    return PcmAudio(np.concatenate(parts).astype(np.float32), rate)

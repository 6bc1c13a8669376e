"""OpenAI's speech dialect: wire models, mapping to the internal request, error envelope, routes."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import math
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Literal

from litestar import Request, get
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from providers.api import (
    MAX_INPUT_CHARS,
    MAX_SPEED,
    MIN_SPEED,
    SAMPLING_CONTROLS,
    AudioFormat,
    BuiltinVoice,
    SpeechRequest,
    SpeechUsage,
    StreamMode,
    UploadedVoice,
    WordTime,
)
from router.accounts.auth import Principal
from router.errors import InvalidRequestError, RouterError
from router.http.audio_response import StreamedAudio
from router.http.credentials import any_key
from router.http.dialects import BodyReader
from router.http.dialects.validation import invalid_request
from router.http.responses import request_id
from router.http.services import services
from router.http.usage_report import own_usage
from router.speech.service import SpeechCall, check_access
from router.speech.stream import Speech

logger = logging.getLogger("tts_router.openai")

DIALECT = "openai"
# "`sse` is not supported for `tts-1` or `tts-1-hd`" (CreateSpeechRequest.stream_format).
_NO_SSE_MODELS = frozenset({"tts-1", "tts-1-hd"})
# usage.output_tokens counts 20 ms audio frames.
_AUDIO_FRAMES_PER_SECOND = 50
_SAMPLING_FIELDS: set[str] = set(SAMPLING_CONTROLS)
Timestamps = Literal["none", "word"]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


class CustomVoice(BaseModel):
    """`{"id": ...}`: a reference to an uploaded voice."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1, max_length=128)


class SpokenText(BaseModel):
    """What to say and who says it: the fields every speaking endpoint shares."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: str = Field(min_length=1, max_length=256)
    input: str = Field(max_length=MAX_INPUT_CHARS)
    voice: str | CustomVoice
    instructions: str | None = Field(default=None, max_length=MAX_INPUT_CHARS)


class CreateSpeechBody(SpokenText):
    """OpenAI's CreateSpeechRequest, with its limits and no unknown fields."""

    response_format: AudioFormat = "mp3"
    speed: float = Field(default=1.0, ge=MIN_SPEED, le=MAX_SPEED)
    stream_format: StreamMode = "audio"
    # The router's own: `false` speaks the text as written, without its spoken form.
    normalize: bool = True
    # The router's own: `"word"` adds `speech.audio.timestamps` events to an SSE stream.
    timestamps: Timestamps = "none"


class OpenAISpeechBody(CreateSpeechBody):
    """OpenAI's body plus the sampling controls some models honour (the SDK's `extra_body`)."""

    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    exaggeration: float | None = Field(default=None, ge=0.0, le=2.0)
    cfg_weight: float | None = Field(default=None, ge=0.0, le=1.0)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)


def parse_body(raw: bytes) -> CreateSpeechBody:
    """Validate a request body, raising OpenAI-worded errors."""
    try:
        body = OpenAISpeechBody.model_validate_json(raw)
    except ValidationError as exc:
        raise invalid_request(exc) from None
    return check_body(body)


def check_text(body: SpokenText) -> None:
    """Refuse blank text or voice names, which the schema lets through."""
    if not body.input.strip():
        msg = "Invalid 'input': expected text to speak, but got an empty or blank string."
        raise InvalidRequestError(msg, param="input", code="string_below_min_length")
    if isinstance(body.voice, str) and not body.voice.strip():
        raise InvalidRequestError("Invalid 'voice': expected a voice name.", param="voice")


def voice_of(body: SpokenText) -> BuiltinVoice | UploadedVoice:
    """The voice a body names: a built-in voice, or `{"id": ...}` for an uploaded one."""
    if isinstance(body.voice, CustomVoice):
        return UploadedVoice(file_id=body.voice.id)
    return BuiltinVoice(name=body.voice)


def check_body(body: CreateSpeechBody) -> CreateSpeechBody:
    """Refuse what the schema lets through but no model can speak."""
    check_text(body)
    if body.stream_format == "sse" and body.model in _NO_SSE_MODELS:
        msg = f"stream_format 'sse' is not supported for model '{body.model}'. Use 'audio'."
        raise InvalidRequestError(msg, param="stream_format", code="unsupported_value")
    if body.timestamps == "word" and body.stream_format != "sse":
        msg = (
            "Invalid 'timestamps': word timestamps come as events of stream_format 'sse'; "
            "use POST /v1/audio/captions for audio and its words in one answer."
        )
        raise InvalidRequestError(msg, param="timestamps", code="unsupported_value")
    return body


def to_internal(body: CreateSpeechBody) -> SpeechRequest:
    """Map the wire body onto the internal request."""
    return SpeechRequest(
        model=body.model,
        input=body.input,
        voice=voice_of(body),
        response_format=body.response_format,
        speed=body.speed,
        instructions=body.instructions,
        stream=body.stream_format,
        normalize=body.normalize,
        word_timestamps=body.timestamps == "word",
        **body.model_dump(include=_SAMPLING_FIELDS, exclude_none=True),
    )


def error_body(error: RouterError) -> dict[str, Any]:
    """OpenAI's error envelope, with explicit nulls."""
    return {
        "error": {
            "message": error.message,
            "type": _ERROR_TYPES.get(error.status, "server_error"),
            "param": error.param,
            "code": error.error_code,
        }
    }


def usage_tokens(usage: SpeechUsage) -> dict[str, int]:
    """`usage` of `speech.audio.done`: input characters in, 20 ms audio frames out."""
    output = math.ceil(usage.audio_seconds * _AUDIO_FRAMES_PER_SECOND)
    return {
        "input_tokens": usage.input_characters,
        "output_tokens": output,
        "total_tokens": usage.input_characters + output,
    }


def _sse(event: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(event, separators=(",", ":")).encode() + b"\n\n"


def word_list(words: Iterable[WordTime]) -> list[dict[str, Any]]:
    """Timed words as JSON objects, their times in seconds to the millisecond."""
    return [
        {"word": word.word, "start": round(word.start, 3), "end": round(word.end, 3)}
        for word in words
    ]


async def sse_events(speech: Speech) -> AsyncIterator[bytes]:
    """Audio deltas and word timestamps, then `speech.audio.done`, or an `error` event."""
    try:
        async with contextlib.aclosing(speech.pieces()) as pieces:
            async for data, words in pieces:
                if data:
                    audio = base64.b64encode(data).decode()
                    yield _sse({"type": "speech.audio.delta", "audio": audio})
                if words:
                    yield _sse({"type": "speech.audio.timestamps", "words": word_list(words)})
    except RouterError as exc:
        yield _sse({"type": "error", **error_body(exc)})
        return
    except Exception:
        logger.exception("speech stream failed after its first byte")
        yield _sse({"type": "error", **error_body(RouterError("The server had an error."))})
        return
    await speech.seconds()
    yield _sse({"type": "speech.audio.done", "usage": usage_tokens(speech.usage)})


async def speak(
    request: Request[Any, Any, Any], principal: Principal, read: BodyReader
) -> StreamedAudio:
    """POST /v1/audio/speech: audio bytes, or SSE events with `stream_format: "sse"`."""
    return await speak_as(DIALECT, lambda _, raw: parse_body(raw), request, principal, read)


BodyParser = Callable[[Request[Any, Any, Any], bytes], CreateSpeechBody]


async def speak_as(
    dialect: str,
    parse: BodyParser,
    request: Request[Any, Any, Any],
    principal: Principal,
    read: BodyReader,
) -> StreamedAudio:
    """Speak an OpenAI-shaped body read by `parse`, recorded under `dialect`."""
    found = services(request)
    call = SpeechCall(request_id(request), dialect, principal)
    async with found.speech.recording_refusals(call):
        body = parse(request, await read())
        speech = await found.speech.open(call, to_internal(body))
    if body.stream_format == "sse":
        headers = {**speech.headers, "cache-control": "no-cache"}
        return StreamedAudio(
            iterator=sse_events(speech), media_type="text/event-stream", headers=headers
        )
    return StreamedAudio(
        iterator=speech.audio(), media_type=speech.media_type, headers=speech.headers
    )


@get("/models")
async def list_models(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """GET /v1/models in OpenAI's list shape."""
    found = services(request)
    principal = await found.authenticator.authenticate(any_key(request))
    names = [name for name, _ in found.speech.catalog.names() if principal.may_use(name)]
    return {"object": "list", "data": [_model_object(name, found.started_at) for name in names]}


@get("/models/{model:str}")
async def retrieve_model(request: Request[Any, Any, Any], model: str) -> dict[str, Any]:
    """GET /v1/models/{model}."""
    found = services(request)
    principal = await found.authenticator.authenticate(any_key(request))
    check_access(principal, model)
    found.speech.catalog.resolve(model)
    return _model_object(model, found.started_at)


@get("/audio/voices")
async def list_voices(request: Request[Any, Any, Any], model: str | None = None) -> dict[str, Any]:
    """GET /v1/audio/voices[?model=...]: the voices of each model (its route's lead target)."""
    found = services(request)
    principal = await found.authenticator.authenticate(any_key(request))
    catalog = found.speech.catalog
    if model is not None:
        check_access(principal, model)
    routes = (
        [(model, catalog.resolve(model))]
        if model
        else [(name, route) for name, route in catalog.names() if principal.may_use(name)]
    )
    data = [
        {
            "object": "model.voices",
            "model": name,
            "voices": [
                {
                    "id": voice.id,
                    "description": voice.description,
                    "language": voice.language,
                    "gender": voice.gender,
                }
                for voice in route.lead().card.voices
            ],
        }
        for name, route in routes
    ]
    return {"object": "list", "data": data}


def _model_object(name: str, created: int) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": created, "owned_by": "tts-router"}


MODEL_HANDLERS = (list_models, retrieve_model, list_voices, own_usage)

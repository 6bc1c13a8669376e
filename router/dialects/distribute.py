"""Distribute.AI's speech dialect: JSON URLs for sync requests, and async speech jobs."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from litestar import Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from providers.api import MAX_INPUT_CHARS, BuiltinVoice, SpeechRequest, UploadedVoice
from router.auth import Principal
from router.dialects.ajv import ajv_error
from router.errors import InvalidRequestError, RouterError
from router.outputs import collect_wav
from router.speech import SpeechCall
from router.web import request_id, services

DIALECT = "distribute"
JSON = "application/json; charset=utf-8"
# A voice that is not a built-in name is an uploaded voice file's id.
VOICE_FILE_PREFIX = "file-"


class _SpeechBody(BaseModel):
    """The fields the sync and async speech bodies share, as Distribute's schema has them."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: Literal["Chatterbox"]
    input: str = Field(min_length=2, max_length=MAX_INPUT_CHARS)
    voice: str = Field(default="leo", min_length=1, max_length=128)
    stream: bool = False
    temperature: float = Field(default=0.8, ge=0, le=1)
    exaggeration: float = Field(default=0.5, ge=0, le=1)
    cfg_weight: float = Field(default=0.5, ge=0, le=1)


class SyncSpeechBody(_SpeechBody):
    """POST /v1/audio/speech."""

    response_format: Literal["wav"] = "wav"


class AsyncSpeechBody(_SpeechBody):
    """POST /async/speech/create."""


Body = TypeVar("Body", bound=BaseModel)


def parse(model: type[Body], raw: bytes) -> Body:
    """Validate a body against Distribute's schema, with Ajv's wording on failure."""
    try:
        body = model.model_validate_json(raw)
    except ValidationError as exc:
        raise ajv_error(exc) from None
    if isinstance(body, _SpeechBody) and not body.input.strip():
        raise InvalidRequestError("body/input must contain text to speak", param="input")
    return body


def to_internal(body: _SpeechBody) -> SpeechRequest:
    """The internal request: raw PCM, wrapped into a WAV file once it is all made."""
    voice = (
        UploadedVoice(file_id=body.voice)
        if body.voice.startswith(VOICE_FILE_PREFIX)
        else BuiltinVoice(name=body.voice)
    )
    return SpeechRequest(
        model=body.model,
        input=body.input,
        voice=voice,
        response_format="pcm",
        temperature=body.temperature,
        exaggeration=body.exaggeration,
        cfg_weight=body.cfg_weight,
    )


def error_body(error: RouterError) -> dict[str, Any]:
    """Distribute's error envelope."""
    return {"message": error.message}


async def speak(request: Request[Any, Any, Any], principal: Principal) -> Response[Any]:
    """POST /v1/audio/speech: synthesize, store the WAV, answer `[{"url": ...}]`."""
    found = services(request)
    call = SpeechCall(request_id(request), DIALECT, principal)
    async with found.speech.recording_refusals(call):
        body = parse(SyncSpeechBody, await request.body())
        speech = await found.speech.open(call, to_internal(body))
    wav = await collect_wav(speech)
    audio = await found.outputs.keep(principal.tenant_id, wav)
    return Response([{"url": found.outputs.url(str(request.base_url), audio)}], media_type=JSON)

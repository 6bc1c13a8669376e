"""Distribute.AI's speech dialect: JSON URLs for sync requests, and async speech jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from litestar import Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from providers.api import MAX_INPUT_CHARS, BuiltinVoice, SpeechRequest, UploadedVoice
from router.accounts.auth import Principal
from router.errors import InvalidRequestError, NotFoundError, RouterError
from router.http.dialects import BodyReader
from router.http.dialects.ajv import ajv_error
from router.http.responses import request_id
from router.http.services import services
from router.speech.service import SpeechCall
from router.speech.stream import collect_wav
from storage.jobs import COMPLETED, ERROR, PROCESSING, QUEUED

DIALECT = "distribute"
JSON = "application/json; charset=utf-8"
# A voice that is not a built-in name is an uploaded voice file's id.
VOICE_FILE_PREFIX = "file-"
UUID4_PATTERN = (
    r"^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-4[a-fA-F0-9]{3}-[89abAB][a-fA-F0-9]{3}-[a-fA-F0-9]{12}$"
)
# Distribute's job states, as ours are named.
JOB_STATUS = {QUEUED: "QUEUED", PROCESSING: "PROCESSING", COMPLETED: "COMPLETED", ERROR: "ERROR"}


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
    # The router's own: `false` speaks the text as written, without its spoken form.
    normalize: bool = True


class SyncSpeechBody(_SpeechBody):
    """POST /v1/audio/speech."""

    response_format: Literal["wav"] = "wav"


class AsyncSpeechBody(_SpeechBody):
    """POST /async/speech/create."""


class JobResultBody(BaseModel):
    """POST /async/speech/result."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(pattern=UUID4_PATTERN)


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
        normalize=body.normalize,
    )


def error_body(error: RouterError) -> dict[str, Any]:
    """Distribute's error envelope."""
    return {"message": error.message}


async def speak(
    request: Request[Any, Any, Any], principal: Principal, read: BodyReader
) -> Response[Any]:
    """POST /v1/audio/speech: synthesize, store the WAV, answer `[{"url": ...}]`."""
    found = services(request)
    call = SpeechCall(request_id(request), DIALECT, principal)
    async with found.speech.recording_refusals(call):
        body = parse(SyncSpeechBody, await read())
        speech = await found.speech.open(call, to_internal(body))
    wav = await collect_wav(speech)
    audio = await found.outputs.keep(principal.tenant_id, wav)
    url = found.outputs.url(str(request.base_url), audio.id, audio.expires_at)
    return Response([{"url": url}], media_type=JSON)


async def create_job(request: Request[Any, Any, Any], principal: Principal) -> Response[Any]:
    """POST /async/speech/create: commit a job, answer its id."""
    found = services(request)
    call = SpeechCall(request_id(request), DIALECT, principal)
    async with found.speech.recording_refusals(call):
        body = parse(AsyncSpeechBody, await request.body())
        job = await found.jobs.submit(call, to_internal(body))
    return Response({"id": job.id}, media_type=JSON)


async def job_result(request: Request[Any, Any, Any], principal: Principal) -> Response[Any]:
    """POST /async/speech/result: the job's state, and its audio URL once completed."""
    found = services(request)
    body = parse(JobResultBody, await request.body())
    job = await found.jobs.find(principal.tenant_id, body.id)
    if job is None:
        raise NotFoundError(f"Task {body.id} not found.", param="id")
    result: dict[str, Any] = {
        "id": job.id,
        "status": JOB_STATUS[job.status],
        "created": _epoch_ms(job.created_at),
        "model": job.model,
        "results": [],
    }
    headers: dict[str, str] = {}
    if job.finished_at is not None:
        result["finished"] = _epoch_ms(job.finished_at)
    if job.audio_id is not None and job.expires_at is not None:
        result["results"] = [
            {"url": found.outputs.url(str(request.base_url), job.audio_id, job.expires_at)}
        ]
    if job.error_code is not None:
        # The result schema allows no error field, so the reason travels in headers.
        message = " ".join((job.error_message or "").split())
        headers = {
            "x-job-error-code": job.error_code,
            "x-job-error": message.encode("ascii", "replace").decode(),
        }
    return Response(result, media_type=JSON, headers=headers)


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)

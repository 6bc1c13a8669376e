"""Dedalus Labs' speech dialect: OpenAI's request, FastAPI's errors, provider-prefixed models."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request
from pydantic import ConfigDict, ValidationError

from router.accounts.auth import Principal
from router.errors import RouterError, UnprocessableError
from router.http.audio_response import StreamedAudio
from router.http.dialects import BodyReader
from router.http.dialects.openai import CreateSpeechBody, check_body, speak_as
from router.http.services import services

DIALECT = "dedalus"


class DedalusSpeechBody(CreateSpeechBody):
    """Dedalus's SpeechRequest: OpenAI's fields, coerced and with unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", strict=False)


def unprocessable(details: list[dict[str, Any]]) -> UnprocessableError:
    """A 422 whose body lists `details` as FastAPI does."""
    return UnprocessableError(details[0]["msg"], details)


def parse_body(request: Request[Any, Any, Any], raw: bytes) -> CreateSpeechBody:
    """Validate as FastAPI would, then drop a provider prefix the catalog does not know."""
    try:
        data = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        position = exc.pos if isinstance(exc, json.JSONDecodeError) else exc.start
        detail = {
            "type": "json_invalid",
            "loc": ["body", position],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": reason},
        }
        raise unprocessable([detail]) from None
    if data is None:
        raise unprocessable([{"type": "missing", "loc": ["body"], "msg": "Field required"}])
    try:
        body = DedalusSpeechBody.model_validate(data)
    except ValidationError as exc:
        details: list[dict[str, Any]] = json.loads(exc.json(include_url=False))
        raise unprocessable([{**d, "loc": ["body", *d["loc"]]} for d in details]) from None
    catalog = services(request).speech.catalog
    provider, slash, bare = body.model.partition("/")
    if slash and provider and bare and not catalog.knows(body.model):
        body = body.model_copy(update={"model": bare})
    return check_body(body)


async def speak(
    request: Request[Any, Any, Any], principal: Principal, read: BodyReader
) -> StreamedAudio:
    """POST /v1/audio/speech: audio bytes, or SSE events with `stream_format: "sse"`."""
    return await speak_as(DIALECT, parse_body, request, principal, read)


def error_body(error: RouterError) -> dict[str, Any]:
    """`{"detail": [...]}` for validation failures, `{"detail": "..."}` for the rest."""
    if isinstance(error, UnprocessableError):
        return {"detail": error.details}
    return {"detail": error.message}

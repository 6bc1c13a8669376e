"""Aqueduct's speech dialect: OpenAI's request with extra keys allowed, 400s for bad bodies."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request
from pydantic import ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from router.accounts.auth import Principal
from router.errors import InvalidRequestError, RouterError, UnsupportedMediaTypeError
from router.http.audio_response import StreamedAudio
from router.http.dialects import BodyReader
from router.http.dialects.openai import CreateSpeechBody, check_body, speak_as

DIALECT = "aqueduct"

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_denied_error",
    404: "not_found_error",
    410: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    504: "timeout_error",
}


class AqueductSpeechBody(CreateSpeechBody):
    """openai's SpeechCreateParams as Aqueduct checks them: coerced, extra keys ignored."""

    model_config = ConfigDict(extra="ignore", strict=False)


def parse_body(request: Request[Any, Any, Any], raw: bytes) -> CreateSpeechBody:
    """Validate as Aqueduct does: JSON only, and every failure as `field: message`."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip()
    if media_type != "application/json":
        raise UnsupportedMediaTypeError(f"Unsupported Content-Type: {media_type or 'none'}")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"Invalid JSON: {exc}") from None
    try:
        body = AqueductSpeechBody.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        message = ", ".join(_field_message(error) for error in errors)
        param = str(errors[0]["loc"][0]) if errors[0]["loc"] else None
        raise InvalidRequestError(message, param=param) from None
    return check_body(body)


def _field_message(error: ErrorDetails) -> str:
    field = ".".join(str(part) for part in error["loc"])
    return f"{field}: {error['msg']}" if field else error["msg"]


async def speak(
    request: Request[Any, Any, Any], principal: Principal, read: BodyReader
) -> StreamedAudio:
    """POST /audio/speech or /v1/audio/speech: audio bytes, or SSE events."""
    return await speak_as(DIALECT, parse_body, request, principal, read)


def error_body(error: RouterError) -> dict[str, Any]:
    """OpenAI's envelope as Aqueduct sends it: fields that are None are left out."""
    fields = {
        "message": error.message,
        "type": _ERROR_TYPES.get(error.status, "server_error"),
        "param": error.param,
        "code": error.error_code,
    }
    return {"error": {key: value for key, value in fields.items() if value is not None}}

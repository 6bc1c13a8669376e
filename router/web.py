"""What every HTTP handler shares: the services, request ids, and error rendering."""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from litestar import Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import HTTPException
from litestar.types import Message, Scope

from providers.api import Provider
from router.accounts import Accounts
from router.auth import Authenticator
from router.errors import InternalError, RouterError, from_http_status
from router.speech import SpeechService
from storage.usage import UsageRepository

if TYPE_CHECKING:
    from router.breaker import Breakers
    from router.jobs import SpeechJobs
    from router.metrics import Metrics
    from router.outputs import AudioOutputs
    from router.voices import VoiceLibrary

logger = logging.getLogger("tts_router.web")

REQUEST_ID_HEADER = "x-request-id"


@dataclass(frozen=True, slots=True)
class Services:
    """The long-lived objects handlers use, built once at startup."""

    speech: SpeechService
    authenticator: Authenticator
    accounts: Accounts
    usage: UsageRepository
    providers: Mapping[str, Provider]
    outputs: AudioOutputs
    jobs: SpeechJobs
    voices: VoiceLibrary
    breakers: Breakers
    metrics: Metrics
    started_at: int
    default_dialect: str = "openai"


def services(request: Request[Any, Any, Any]) -> Services:
    """The app's services."""
    return cast("Services", request.app.state["services"])


def bearer_key(request: Request[Any, Any, Any]) -> str | None:
    """The key from `Authorization: Bearer <key>`, if any."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return key.strip() or None


def raw_or_bearer_key(request: Request[Any, Any, Any]) -> str | None:
    """The key from `authorization: <key>` or `authorization: Bearer <key>`."""
    value = request.headers.get("authorization", "").strip()
    scheme, _, key = value.partition(" ")
    if scheme.lower() == "bearer":
        return key.strip() or None
    return value if value and " " not in value else None


def api_key_header(request: Request[Any, Any, Any]) -> str | None:
    """The key from `x-api-key`, if any."""
    return request.headers.get("x-api-key", "").strip() or None


def bearer_or_api_key(request: Request[Any, Any, Any]) -> str | None:
    """The key from `Authorization: Bearer <key>`, else from `x-api-key` (Dedalus sends both)."""
    return bearer_key(request) or api_key_header(request)


def any_key(request: Request[Any, Any, Any]) -> str | None:
    """The key in any form a supported dialect sends it."""
    return raw_or_bearer_key(request) or api_key_header(request)


def _scope_request_id(scope: Scope) -> str:
    state: dict[str, Any] = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = f"req_{secrets.token_hex(12)}"
    return cast("str", state["request_id"])


def request_id(request: Request[Any, Any, Any]) -> str:
    """This request's id, as sent back in `x-request-id`."""
    return _scope_request_id(request.scope)


async def add_request_id(message: Message, scope: Scope) -> None:
    """`before_send` hook: every response carries `x-request-id`."""
    if message["type"] == "http.response.start":
        MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = _scope_request_id(scope)


def as_router_error(request: Request[Any, Any, Any], exc: Exception) -> RouterError:
    """Any exception as the router error the caller sees; bugs are logged with a traceback."""
    if isinstance(exc, RouterError):
        return exc
    if isinstance(exc, HTTPException):
        return from_http_status(exc.status_code, exc.detail)
    logger.error("unhandled error in request %s", request_id(request), exc_info=exc)
    return InternalError(
        f"The server had an error processing your request (request id {request_id(request)})."
    )


def error_headers(error: RouterError) -> dict[str, str]:
    """`Retry-After` when known, and `x-should-retry: false` for permanent refusals."""
    headers = dict(error.headers)
    if error.retry_after is not None:
        headers["retry-after"] = str(max(1, math.ceil(error.retry_after)))
    if not error.should_retry:
        headers["x-should-retry"] = "false"
    return headers


def error_response(
    request: Request[Any, Any, Any],
    exc: Exception,
    render: Callable[[Request[Any, Any, Any], RouterError], Any],
) -> Response[Any]:
    """`exc` as the response its caller sees, its body worded by `render`."""
    error = as_router_error(request, exc)
    return Response(render(request, error), status_code=error.status, headers=error_headers(error))

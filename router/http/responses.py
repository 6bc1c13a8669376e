"""Request ids and the rendering of errors as responses, shared by every HTTP handler."""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable
from typing import Any, cast

from litestar import Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import HTTPException
from litestar.types import Message, Scope

from router.errors import InternalError, RouterError, ServiceUnavailableError, from_http_status
from storage.database import is_unreachable

logger = logging.getLogger("tts_router.http")

REQUEST_ID_HEADER = "x-request-id"
DATABASE_RETRY_SECONDS = 2.0


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
    if is_unreachable(exc):
        logger.warning("request %s: the database is unreachable: %s", request_id(request), exc)
        return ServiceUnavailableError(
            "The service's database is unreachable; retry shortly.",
            code="database_unavailable",
            retry_after=DATABASE_RETRY_SECONDS,
        )
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

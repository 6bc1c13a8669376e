"""POST …/audio/speech as a Litestar ASGI handler: one task reads, speaks and streams."""

from __future__ import annotations

import functools
from typing import Any

from litestar import Request, Response, asgi
from litestar.exceptions import MethodNotAllowedException
from litestar.handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send

from router.accounts.auth import Principal
from router.errors import InvalidRequestError, PayloadTooLargeError
from router.http.dialects import BodyReader
from router.http.dialects.registry import (
    DIALECTS,
    SpeechAnswer,
    authenticate,
    choose,
    dialect_error,
    dialect_of,
)

TOO_LARGE = "The request body is larger than the {limit} bytes this endpoint accepts."


def speech_route(path: str, dialect: str | None, *, body_limit: int) -> ASGIRouteHandler:
    """POST `path` speaking `dialect`, or when None the key's dialect; bodies up to `body_limit`.

    An ASGI handler skips the signature model and the response conversion of an HTTP handler;
    Litestar still routes it, checks its `Host` and runs its guards and middleware.
    """
    speak = _speak_in_chosen if dialect is None else DIALECTS[dialect].speak

    async def answer(request: Request[Any, Any, Any]) -> SpeechAnswer:
        if dialect is not None:
            choose(request, dialect)
        if request.method != "POST":
            raise MethodNotAllowedException(detail=f"Use POST for {request.url.path}.")
        principal = await authenticate(request, dialect)
        return await speak(request, principal, functools.partial(read_body, request, body_limit))

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        request: Request[Any, Any, Any] = Request(scope, receive, send)
        try:
            response = await answer(request)
        except Exception as exc:  # noqa: BLE001 (answered, and logged if it is a bug)
            response = dialect_error(request, exc)
        if isinstance(response, Response):
            response = response.to_asgi_response(None, request)
        await response(scope, receive, send)

    return asgi(path, copy_scope=False)(serve)


async def _speak_in_chosen(
    request: Request[Any, Any, Any], principal: Principal, read: BodyReader
) -> SpeechAnswer:
    return await dialect_of(request).speak(request, principal, read)


async def read_body(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The whole request body; 413 once it is, or says it will be, over `limit` bytes."""
    if (request.content_length or 0) > limit:
        raise PayloadTooLargeError(TOO_LARGE.format(limit=limit))
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] != "http.request":
            raise InvalidRequestError("The request body ended before it was whole.")
        chunks.append(message["body"])
        size += len(message["body"])
        if size > limit:
            raise PayloadTooLargeError(TOO_LARGE.format(limit=limit))
        if not message.get("more_body", False):
            return b"".join(chunks)

"""Speech routes are Litestar routes: its guards and middleware run around them."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Router
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.testing import TestClient
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from router.http.dialects.registry import rendered_errors
from router.http.speech_endpoint import speech_route

BODY = {"model": "tts-1", "input": "Hello.", "voice": "alloy"}


def _refuse(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    raise PermissionDeniedException("No speech here.")


def _stamping(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)["x-stamped"] = "yes"
            await send(message)

        await app(scope, receive, stamped)

    return middleware


def test_a_guard_on_a_speech_route_refuses_in_the_dialect() -> None:
    speech = speech_route("/audio/speech", "openai", body_limit=1024)
    app = Litestar(
        [Router("/v1", route_handlers=[speech], guards=[_refuse])],
        exception_handlers=rendered_errors(),
    )
    with TestClient(app) as client:
        response = client.post("/v1/audio/speech", json=BODY)
    assert response.status_code == 403
    assert response.json()["error"] == {
        "message": "No speech here.",
        "type": "permission_error",
        "param": None,
        "code": "permission_denied",
    }


def test_middleware_runs_around_a_speech_route() -> None:
    speech = speech_route("/audio/speech", "openai", body_limit=1024)
    app = Litestar([speech], middleware=[_stamping], exception_handlers=rendered_errors())
    with TestClient(app) as client:
        # Refused before any of the app's services are needed.
        response = client.get("/audio/speech")
    assert response.status_code == 405
    assert response.headers["x-stamped"] == "yes"
    assert response.json()["error"]["type"] == "invalid_request_error"

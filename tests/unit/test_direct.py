"""Speech routes are served directly only where Litestar would add nothing to them."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, Request, Response, Router, post
from litestar.connection import ASGIConnection
from litestar.datastructures import ResponseHeader
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.types import ASGIApp

from router.dialects.mounts import SPEECH, dialect_error
from router.direct import DirectSpeech


def _speech() -> HTTPRouteHandler:
    @post("/audio/speech", opt={SPEECH: True})
    async def speak(request: Request[Any, Any, Any]) -> None:
        """A stand-in speech handler."""

    return speak


def _plain() -> HTTPRouteHandler:
    @post("/elsewhere")
    async def elsewhere() -> None:
        """A handler that is not for speech."""

    return elsewhere


def _middleware(app: ASGIApp) -> ASGIApp:
    return app


def _guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Lets every request through."""


async def _after_request(response: Response[Any]) -> Response[Any]:
    return response


def test_a_speech_route_with_nothing_around_it_is_served_directly() -> None:
    DirectSpeech(Litestar([Router("/v1", route_handlers=[_speech()])]), on_error=dialect_error)


def test_layers_around_other_routes_do_not_matter() -> None:
    app = Litestar([_speech(), Router("/admin", route_handlers=[_plain()], guards=[_guard])])
    DirectSpeech(app, on_error=dialect_error)


@pytest.mark.parametrize(
    ("app", "skipped"),
    [
        (lambda: Litestar([_speech()], middleware=[_middleware]), "middleware"),
        (lambda: Litestar([Router("/v1", route_handlers=[_speech()], guards=[_guard])]), "guards"),
        (lambda: Litestar([_speech()], after_request=_after_request), "after_request hook"),
        (
            lambda: Litestar([_speech()], response_headers=[ResponseHeader(name="x", value="y")]),
            "response headers",
        ),
    ],
)
def test_a_speech_route_that_litestar_would_wrap_is_refused(app: Any, skipped: str) -> None:
    with pytest.raises(ValueError, match=f"POST (/v1)?/audio/speech .* {skipped}"):
        DirectSpeech(app(), on_error=dialect_error)

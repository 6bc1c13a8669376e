"""Where each dialect answers: under its own prefix, and on the shared root paths."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, Router, post
from litestar.handlers import HTTPRouteHandler
from litestar.types import ExceptionHandlersMap

from router.auth import Principal
from router.dialects import distribute, openai
from router.errors import RouterError
from router.web import (
    any_key,
    bearer_key,
    exception_handlers,
    raw_or_bearer_key,
    services,
)

KeyReader = Callable[[Request[Any, Any, Any]], str | None]
Speaker = Callable[[Request[Any, Any, Any], Principal], Awaitable[Response[Any]]]


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one dialect reads keys, speaks and words its errors."""

    name: str
    read_key: KeyReader
    speak: Speaker
    error_body: Callable[[RouterError], Any]


DIALECTS: dict[str, Dialect] = {
    dialect.name: dialect
    for dialect in (
        Dialect(openai.DIALECT, bearer_key, openai.speak, openai.error_body),
        Dialect(distribute.DIALECT, raw_or_bearer_key, distribute.speak, distribute.error_body),
    )
}
# The first path segment that names a dialect when no handler does (unknown paths).
_PATH_DIALECTS = {
    "async": distribute.DIALECT,
    "outputs": distribute.DIALECT,
    "admin": openai.DIALECT,
    **{name: name for name in DIALECTS},
}


def dialect_of(request: Request[Any, Any, Any]) -> Dialect:
    """The dialect a request speaks, for its errors: chosen by its key, its path, or the default."""
    chosen = request.scope.get("state", {}).get("dialect")
    if chosen is None:
        first = request.url.path.strip("/").split("/", 1)[0]
        found = request.app.state.get("services")
        default = found.default_dialect if found is not None else openai.DIALECT
        chosen = _PATH_DIALECTS.get(first, default)
    return DIALECTS[chosen]


def choose(request: Request[Any, Any, Any], name: str) -> Dialect:
    """Fix the dialect of this request, so its errors are worded in it."""
    request.scope.setdefault("state", {})["dialect"] = name
    return DIALECTS[name]


def render_error(request: Request[Any, Any, Any], error: RouterError) -> Any:
    """The body of `error` in its request's dialect."""
    return dialect_of(request).error_body(error)


def rendered_errors() -> ExceptionHandlersMap:
    """Exception handlers that word each error in its request's dialect."""
    return exception_handlers(render_error)


def dialect_route(path: str, dialect: str, handle: Speaker) -> HTTPRouteHandler:
    """POST `path`, authenticated and answered in `dialect`."""

    async def handler(request: Request[Any, Any, Any]) -> Response[Any]:
        chosen = choose(request, dialect)
        principal = await services(request).authenticator.authenticate(chosen.read_key(request))
        return await handle(request, principal)

    return post(path, status_code=200)(handler)


def shared_speech_route(path: str) -> HTTPRouteHandler:
    """POST `path` in the dialect the caller's key names, else the configured default."""

    async def create_speech(request: Request[Any, Any, Any]) -> Response[Any]:
        found = services(request)
        principal = await found.authenticator.authenticate(any_key(request))
        chosen = choose(request, principal.dialect or found.default_dialect)
        return await chosen.speak(request, principal)

    return post(path, status_code=200)(create_speech)


def speech_route(path: str, dialect: Dialect) -> HTTPRouteHandler:
    """POST `path` speaking `dialect`."""
    return dialect_route(path, dialect.name, dialect.speak)


def distribute_jobs() -> list[HTTPRouteHandler]:
    """Distribute's async job routes (only Distribute has them, so they also sit at the root)."""
    return [
        dialect_route("/async/speech/create", distribute.DIALECT, distribute.create_job),
        dialect_route("/async/speech/result", distribute.DIALECT, distribute.job_result),
    ]


def dialect_routers() -> list[Router]:
    """Every dialect under its own prefix, plus the shared root paths."""
    openai_dialect, distribute_dialect = DIALECTS[openai.DIALECT], DIALECTS[distribute.DIALECT]
    return [
        Router(
            "/v1",
            route_handlers=[shared_speech_route("/audio/speech"), *openai.MODEL_HANDLERS],
        ),
        Router("/", route_handlers=distribute_jobs()),
        Router(
            "/openai/v1",
            route_handlers=[speech_route("/audio/speech", openai_dialect), *openai.MODEL_HANDLERS],
        ),
        Router(
            "/distribute",
            route_handlers=[
                speech_route("/v1/audio/speech", distribute_dialect),
                *distribute_jobs(),
            ],
        ),
    ]

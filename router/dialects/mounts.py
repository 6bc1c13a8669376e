"""Where each dialect answers: under its own prefix, and on the shared root paths."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import HttpMethod, Request, Response, Router, route
from litestar.handlers import HTTPRouteHandler
from litestar.types import ExceptionHandlersMap

from router.auth import Principal
from router.dialects import aqueduct, dedalus, distribute, files, openai
from router.errors import RouterError
from router.web import (
    any_key,
    bearer_key,
    bearer_or_api_key,
    error_response,
    raw_or_bearer_key,
    services,
)

KeyReader = Callable[[Request[Any, Any, Any]], str | None]
Handler = Callable[[Request[Any, Any, Any], Principal], Awaitable[Response[Any]]]
# Marks the speech handlers in their `opt`, for the app to serve them directly.
SPEECH = "speech"
# Room for the multipart boundaries and the other form fields around an uploaded file.
MULTIPART_OVERHEAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one dialect reads keys, speaks and words its errors."""

    name: str
    read_key: KeyReader
    speak: Handler
    error_body: Callable[[RouterError], Any]


DIALECTS: dict[str, Dialect] = {
    dialect.name: dialect
    for dialect in (
        Dialect(openai.DIALECT, bearer_key, openai.speak, openai.error_body),
        Dialect(distribute.DIALECT, raw_or_bearer_key, distribute.speak, distribute.error_body),
        Dialect(dedalus.DIALECT, bearer_or_api_key, dedalus.speak, dedalus.error_body),
        Dialect(aqueduct.DIALECT, bearer_key, aqueduct.speak, aqueduct.error_body),
    )
}
# The first path segment that names a dialect when no handler does (unknown paths).
_PATH_DIALECTS = {
    "async": distribute.DIALECT,
    "outputs": distribute.DIALECT,
    "audio": aqueduct.DIALECT,
    "admin": openai.DIALECT,
    "console": openai.DIALECT,
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
    return {Exception: dialect_error}


def dialect_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """`exc` as a response worded in its request's dialect."""
    return error_response(request, exc, render_error)


def dialect_route(
    method: HttpMethod, path: str, dialect: str | None, handle: Handler, **options: Any
) -> HTTPRouteHandler:
    """`method` `path`, answered in `dialect`, or when None in the dialect the key names."""

    async def handler(request: Request[Any, Any, Any]) -> Response[Any]:
        found = services(request)
        if dialect is not None:
            chosen = choose(request, dialect)
            principal = await found.authenticator.authenticate(chosen.read_key(request))
        else:
            principal = await found.authenticator.authenticate(any_key(request))
            choose(request, principal.dialect or found.default_dialect)
        return await handle(request, principal)

    return route(path, http_method=[method], status_code=200, **options)(handler)


async def speak_in_chosen(request: Request[Any, Any, Any], principal: Principal) -> Response[Any]:
    """Answer a speech request in the dialect chosen for it."""
    return await dialect_of(request).speak(request, principal)


def speech_route(path: str, dialect: str | None) -> HTTPRouteHandler:
    """POST `path` speaking `dialect`, or, when None, the key's dialect."""
    speak = speak_in_chosen if dialect is None else DIALECTS[dialect].speak
    return dialect_route(HttpMethod.POST, path, dialect, speak, opt={SPEECH: True})


def file_routes(dialect: str | None, upload_limit: int) -> list[HTTPRouteHandler]:
    """The Files API for voice files; uploads may be `upload_limit` bytes plus the form's own."""
    one = f"{files.FILES_PATH}/{{file_id:str}}"
    return [
        dialect_route(
            HttpMethod.POST,
            files.FILES_PATH,
            dialect,
            files.upload,
            request_max_body_size=upload_limit + MULTIPART_OVERHEAD,
        ),
        dialect_route(HttpMethod.GET, files.FILES_PATH, dialect, files.list_files),
        dialect_route(HttpMethod.GET, one, dialect, files.retrieve),
        dialect_route(HttpMethod.GET, f"{one}/content", dialect, files.content),
        dialect_route(HttpMethod.DELETE, one, dialect, files.delete),
    ]


def distribute_jobs() -> list[HTTPRouteHandler]:
    """Distribute's async job routes (only Distribute has them, so they also sit at the root)."""
    name = distribute.DIALECT
    return [
        dialect_route(HttpMethod.POST, "/async/speech/create", name, distribute.create_job),
        dialect_route(HttpMethod.POST, "/async/speech/result", name, distribute.job_result),
    ]


def dialect_routers(upload_limit: int) -> list[Router]:
    """Every dialect under its own prefix, plus the shared root paths."""
    return [
        Router(
            "/v1",
            route_handlers=[
                speech_route("/audio/speech", None),
                *openai.MODEL_HANDLERS,
                *file_routes(None, upload_limit),
            ],
        ),
        # Only Aqueduct answers speech without `/v1`, and only Distribute has async jobs.
        Router(
            "/",
            route_handlers=[speech_route("/audio/speech", aqueduct.DIALECT), *distribute_jobs()],
        ),
        Router(
            "/openai/v1",
            route_handlers=[
                speech_route("/audio/speech", openai.DIALECT),
                *openai.MODEL_HANDLERS,
                *file_routes(openai.DIALECT, upload_limit),
            ],
        ),
        Router(
            "/distribute",
            route_handlers=[
                speech_route("/v1/audio/speech", distribute.DIALECT),
                *distribute_jobs(),
                Router("/v1", route_handlers=file_routes(distribute.DIALECT, upload_limit)),
            ],
        ),
        Router(
            "/dedalus/v1",
            route_handlers=[
                speech_route("/audio/speech", dedalus.DIALECT),
                *file_routes(dedalus.DIALECT, upload_limit),
            ],
        ),
        Router(
            "/aqueduct",
            route_handlers=[
                speech_route("/audio/speech", aqueduct.DIALECT),
                Router(
                    "/v1",
                    route_handlers=[
                        speech_route("/audio/speech", aqueduct.DIALECT),
                        *file_routes(aqueduct.DIALECT, upload_limit),
                    ],
                ),
            ],
        ),
    ]

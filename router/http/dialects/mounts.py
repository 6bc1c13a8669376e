"""Where each dialect answers: under its own prefix, and on the shared root paths."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import HttpMethod, Request, Response, Router, route
from litestar.handlers import HTTPRouteHandler

from router.accounts.auth import Principal
from router.http.dialects import aqueduct, captions, dedalus, distribute, files, openai
from router.http.dialects.registry import authenticate
from router.http.speech_endpoint import speech_route

# Room for the multipart boundaries and the other form fields around an uploaded file.
MULTIPART_OVERHEAD = 64 * 1024
Handler = Callable[[Request[Any, Any, Any], Principal], Awaitable[Response[Any]]]


def dialect_route(
    method: HttpMethod, path: str, dialect: str | None, handle: Handler, **options: Any
) -> HTTPRouteHandler:
    """`method` `path`, answered in `dialect`, or when None in the dialect the key names."""

    async def handler(request: Request[Any, Any, Any]) -> Response[Any]:
        return await handle(request, await authenticate(request, dialect))

    return route(path, http_method=[method], status_code=200, **options)(handler)


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


def captions_route(dialect: str | None, body_limit: int) -> HTTPRouteHandler:
    """POST …/audio/captions in `dialect`, with bodies up to `body_limit` bytes."""
    path, create = captions.CAPTIONS_PATH, captions.create
    return dialect_route(HttpMethod.POST, path, dialect, create, request_max_body_size=body_limit)


def dialect_routers(body_limit: int, upload_limit: int) -> list[Router]:
    """Every dialect under its own prefix, plus the shared root paths."""

    speech = functools.partial(speech_route, body_limit=body_limit)

    return [
        Router(
            "/v1",
            route_handlers=[
                speech("/audio/speech", None),
                captions_route(None, body_limit),
                *openai.MODEL_HANDLERS,
                *file_routes(None, upload_limit),
            ],
        ),
        # Only Aqueduct answers speech without `/v1`, and only Distribute has async jobs.
        Router(
            "/",
            route_handlers=[speech("/audio/speech", aqueduct.DIALECT), *distribute_jobs()],
        ),
        Router(
            "/openai/v1",
            route_handlers=[
                speech("/audio/speech", openai.DIALECT),
                captions_route(openai.DIALECT, body_limit),
                *openai.MODEL_HANDLERS,
                *file_routes(openai.DIALECT, upload_limit),
            ],
        ),
        Router(
            "/distribute",
            route_handlers=[
                speech("/v1/audio/speech", distribute.DIALECT),
                *distribute_jobs(),
                Router("/v1", route_handlers=file_routes(distribute.DIALECT, upload_limit)),
            ],
        ),
        Router(
            "/dedalus/v1",
            route_handlers=[
                speech("/audio/speech", dedalus.DIALECT),
                captions_route(dedalus.DIALECT, body_limit),
                *file_routes(dedalus.DIALECT, upload_limit),
            ],
        ),
        Router(
            "/aqueduct",
            route_handlers=[
                speech("/audio/speech", aqueduct.DIALECT),
                Router(
                    "/v1",
                    route_handlers=[
                        speech("/audio/speech", aqueduct.DIALECT),
                        captions_route(aqueduct.DIALECT, body_limit),
                        *file_routes(aqueduct.DIALECT, upload_limit),
                    ],
                ),
            ],
        ),
    ]

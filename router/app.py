"""create_app(settings): the Litestar application, with no I/O until it starts."""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from litestar import Litestar
from litestar.types import ControllerRouterHandler

from router.http.admin import admin_router
from router.http.console import console_router
from router.http.dialects.mounts import dialect_routers
from router.http.dialects.registry import rendered_errors
from router.http.downloads import download_output
from router.http.health import HEALTH_HANDLERS
from router.http.responses import add_request_id
from router.plugins import build_providers
from router.settings import Settings
from router.startup import SpeechPipeline, start_services

logger = logging.getLogger("tts_router.app")


def create_app(settings: Settings) -> Litestar:
    """The service for `settings`; providers load their models when the app starts."""
    pipeline = SpeechPipeline.build(settings, build_providers(settings))
    return Litestar(
        route_handlers=route_handlers(settings),
        lifespan=[functools.partial(serving, settings, pipeline)],
        before_send=[add_request_id],
        exception_handlers=rendered_errors(),
        request_max_body_size=settings.server.max_body_bytes,
        openapi_config=None,
        debug=False,
    )


def route_handlers(settings: Settings) -> list[ControllerRouterHandler]:
    """Every endpoint: health, stored audio, the dialects, the admin API and the console."""
    return [
        *HEALTH_HANDLERS,
        download_output,
        *dialect_routers(settings.server.max_body_bytes, settings.voice_files.max_bytes),
        admin_router(),
        console_router(),
    ]


@asynccontextmanager
async def serving(
    settings: Settings, pipeline: SpeechPipeline, app: Litestar
) -> AsyncIterator[None]:
    """The app's lifespan: its services are open from start-up to shutdown."""
    async with AsyncExitStack() as stack:
        app.state["services"] = await start_services(settings, pipeline, stack)
        logger.info(
            "serving %d models from %d providers",
            len(list(pipeline.catalog.names())),
            len(pipeline.providers),
        )
        # What start-up made lives as long as the process; frozen, it is left out of the
        # collector's full passes, which otherwise walk every module and model weight.
        gc.freeze()
        yield

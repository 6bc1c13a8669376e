"""create_app(settings): the Litestar application, with no I/O until it starts."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from litestar import Litestar, Request, get

from providers.api import Provider, ProviderContext
from providers.registry import discover, load_factory
from router.auth import StaticKeyAuthenticator
from router.dialects.openai import error_body, openai_router
from router.routing import Catalog
from router.settings import Settings
from router.speech import SpeechService
from router.usage import DatabaseUsageRecorder
from router.web import Services, add_request_id, exception_handlers, services
from storage.database import create_engine, session_factory, upgrade
from storage.usage import UsageRepository

logger = logging.getLogger("tts_router.app")


def build_providers(settings: Settings) -> dict[str, Provider]:
    """Instantiate every configured provider through its plugin's entry point."""
    plugins = discover(settings.plugins)
    providers: dict[str, Provider] = {}
    for name, config in settings.providers.items():
        factory = load_factory(config.plugin, plugins)
        providers[name] = factory(ProviderContext(name, settings.data_dir, config.options))
    return providers


@get("/health")
async def health(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Liveness plus whether each provider is ready."""
    found = services(request)
    ready = {name: {"ready": provider.ready()} for name, provider in found.providers.items()}
    status = "ok" if all(entry["ready"] for entry in ready.values()) else "degraded"
    return {"status": status, "providers": ready}


def create_app(settings: Settings) -> Litestar:
    """The service for `settings`; providers load their models when the app starts."""
    providers = build_providers(settings)
    catalog = Catalog.build(settings.routes, providers)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            settings.audio_dir.mkdir(parents=True, exist_ok=True)
            if settings.auto_migrate:
                await anyio.to_thread.run_sync(upgrade, settings.resolved_database_url)
            engine = create_engine(settings.resolved_database_url)
            stack.push_async_callback(engine.dispose)
            recorder = DatabaseUsageRecorder(UsageRepository(session_factory(engine)))
            await _start_all(providers, stack)
            app.state["services"] = Services(
                speech=SpeechService(catalog, recorder),
                authenticator=StaticKeyAuthenticator(settings.api_key),
                providers=providers,
                started_at=int(time.time()),
            )
            logger.info(
                "serving %d models from %d providers", len(list(catalog.names())), len(providers)
            )
            yield

    return Litestar(
        route_handlers=[health, openai_router()],
        lifespan=[lifespan],
        before_send=[add_request_id],
        exception_handlers=exception_handlers(error_body),
        request_max_body_size=settings.server.max_body_bytes,
        openapi_config=None,
        debug=False,
    )


async def _start_all(providers: Mapping[str, Provider], stack: AsyncExitStack) -> None:
    async with anyio.create_task_group() as group:
        for provider in providers.values():
            group.start_soon(provider.start)
            stack.push_async_callback(provider.close)

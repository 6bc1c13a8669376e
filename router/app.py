"""create_app(settings): the Litestar application, with no I/O until it starts."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

import anyio
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from providers.api import Provider, ProviderContext
from providers.errors import ProviderError
from providers.registry import discover, load_factory
from router.accounts import Accounts
from router.admin import admin_router
from router.audio.reference import VoiceLimits
from router.auth import Authenticator, KeyAuthenticator, OpenAuthenticator
from router.breaker import Breakers, CircuitBreaker
from router.console import console_router
from router.dialects.mounts import dialect_error, dialect_routers, rendered_errors
from router.direct import DirectSpeech
from router.failover import Failover
from router.health import HEALTH_HANDLERS
from router.jobs import SpeechJobs
from router.limits import Limiter
from router.metrics import MeteredLedger, Metrics
from router.outputs import AudioOutputs, download_output
from router.routing import Catalog
from router.settings import Settings
from router.signing import UrlSigner
from router.speech import SpeechService
from router.usage import DatabaseLedger, NullLedger, UsageLedger
from router.voices import VoiceLibrary
from router.web import Services, add_request_id
from storage.blobs import open_blob_store
from storage.database import create_engine, session_factory
from storage.jobs import JobRepository
from storage.keys import KeyRepository
from storage.limits import DatabaseLimitStore, LimitStore
from storage.outputs import StoredAudioRepository
from storage.redis_limits import RedisLimitStore
from storage.secrets import shared_secret
from storage.tenants import TenantRepository
from storage.usage import UsageRepository
from storage.usage_journal import UsageJournal
from storage.usage_writer import UsageWriter
from storage.voice_files import VoiceFileRepository

logger = logging.getLogger("tts_router.app")
USAGE_JOURNAL_DIR = "usage-journal"


def build_providers(settings: Settings) -> dict[str, Provider]:
    """Instantiate every configured provider through its plugin's entry point."""
    plugins = discover(settings.plugins)
    providers: dict[str, Provider] = {}
    for name, config in settings.providers.items():
        factory = load_factory(config.plugin, plugins)
        providers[name] = factory(ProviderContext(name, settings.data_dir, config.options))
    return providers


def create_app(settings: Settings) -> DirectSpeech:
    """The service for `settings`; providers load their models when the app starts."""
    providers = build_providers(settings)
    catalog = Catalog.build(settings.routes, providers)
    prices = {name: config.price for name, config in settings.providers.items() if config.price}
    breakers = Breakers({name: CircuitBreaker(settings.breaker_for(name)) for name in providers})
    failover = Failover(
        settings.routing,
        breakers,
        {name: settings.attempt_timeout_for(name) for name in providers},
    )
    metrics = Metrics(catalog)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            engine = create_engine(settings.resolved_database_url)
            stack.push_async_callback(engine.dispose)
            sessions = session_factory(engine)
            keys = KeyRepository(sessions)
            gateway = settings.gateway
            authenticator: Authenticator = (
                KeyAuthenticator(keys, cache_seconds=gateway.key_cache_seconds)
                if gateway.auth
                else OpenAuthenticator()
            )
            limiter = (
                Limiter(await _limit_store(settings, sessions, stack)) if gateway.limits else None
            )
            stored: UsageLedger = NullLedger()
            usage = UsageRepository(sessions)
            if gateway.usage:
                database_ledger = await _database_ledger(settings, engine, stack)
                usage = UsageRepository(sessions, pending_writes=database_ledger.flush)
                stored = database_ledger
            ledger = MeteredLedger(stored, metrics)
            blobs = await open_blob_store(settings.blobs, settings.blob_dir)
            stack.push_async_callback(blobs.close)
            outputs = AudioOutputs(
                blobs,
                StoredAudioRepository(sessions),
                UrlSigner(await shared_secret(sessions, "output-urls")),
                ttl=timedelta(seconds=settings.outputs.url_ttl_seconds),
                public_url=settings.server.public_url,
            )
            limits = settings.voice_files
            voices = VoiceLibrary(
                VoiceFileRepository(sessions),
                blobs,
                VoiceLimits(limits.max_bytes, limits.min_seconds, limits.max_seconds),
            )
            await _start_all(providers, stack)
            speech = SpeechService(catalog, failover, ledger, limiter, prices, voices=voices)
            stack.push_async_callback(speech.drain)
            jobs = SpeechJobs(
                JobRepository(sessions),
                SpeechService(
                    catalog,
                    failover,
                    ledger,
                    None,
                    prices,
                    voices=voices,
                    settle_in_background=False,
                ),
                outputs,
                settings.jobs,
                limiter,
            )
            await jobs.start()
            stack.push_async_callback(jobs.close)
            app.state["services"] = Services(
                speech=speech,
                authenticator=authenticator,
                accounts=Accounts(TenantRepository(sessions), keys, authenticator),
                usage=usage,
                providers=providers,
                outputs=outputs,
                jobs=jobs,
                voices=voices,
                breakers=breakers,
                metrics=metrics,
                started_at=int(time.time()),
                default_dialect=settings.server.default_dialect,
            )
            logger.info(
                "serving %d models from %d providers", len(list(catalog.names())), len(providers)
            )
            # What start-up made lives as long as the process; frozen, it is left out of the
            # collector's full passes, which otherwise walk every module and model weight.
            gc.freeze()
            yield

    app = Litestar(
        route_handlers=[
            *HEALTH_HANDLERS,
            download_output,
            *dialect_routers(settings.voice_files.max_bytes),
            admin_router(),
            console_router(),
        ],
        lifespan=[lifespan],
        before_send=[add_request_id],
        exception_handlers=rendered_errors(),
        request_max_body_size=settings.server.max_body_bytes,
        openapi_config=None,
        debug=False,
    )
    return DirectSpeech(app, on_error=dialect_error)


async def _database_ledger(
    settings: Settings, engine: AsyncEngine, stack: AsyncExitStack
) -> DatabaseLedger:
    journal = UsageJournal(settings.data_dir / USAGE_JOURNAL_DIR)
    journal.open()
    stack.callback(journal.close)
    writer = UsageWriter(engine, linger_seconds=settings.gateway.usage_batch_seconds)
    await writer.start()
    stack.push_async_callback(writer.close)
    ledger = DatabaseLedger(writer, journal)
    await ledger.restore_orphans()
    restoring = asyncio.create_task(
        ledger.keep_restoring(settings.gateway.usage_restore_seconds), name="usage-restore"
    )
    stack.callback(restoring.cancel)
    return ledger


async def _limit_store(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], stack: AsyncExitStack
) -> LimitStore:
    store: LimitStore = (
        RedisLimitStore.from_url(settings.redis_url)
        if settings.redis_url
        else DatabaseLimitStore(sessions)
    )
    stack.push_async_callback(store.close)
    return store


async def _start_all(providers: Mapping[str, Provider], stack: AsyncExitStack) -> None:
    async with anyio.create_task_group() as group:
        for name, provider in providers.items():
            group.start_soon(_start, name, provider)
            stack.push_async_callback(provider.close)


async def _start(name: str, provider: Provider) -> None:
    """Start one provider; one that fails stays not ready, and its routes fail over."""
    try:
        await provider.start()
    except ProviderError as exc:
        logger.warning("provider %s is not ready: %s", name, exc)
    except Exception:
        logger.exception("provider %s failed to start; it is not ready", name)

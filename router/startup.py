"""What the service opens as it starts: database, limits, usage, blobs, providers and jobs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

import anyio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from providers.api import Provider
from providers.errors import ProviderError
from router.accounts.auth import Authenticator, KeyAuthenticator, OpenAuthenticator
from router.accounts.ledger import DatabaseLedger, NullLedger, UsageLedger
from router.accounts.limits import Limiter
from router.accounts.management import Accounts
from router.http.services import Services
from router.metrics import MeteredLedger, Metrics
from router.settings import Price, Settings
from router.speech.audio.reference import VoiceLimits
from router.speech.breaker import Breakers, CircuitBreaker
from router.speech.failover import Failover
from router.speech.jobs import SpeechJobs
from router.speech.outputs import AudioOutputs
from router.speech.routing import Catalog
from router.speech.service import SpeechService
from router.speech.url_signing import UrlSigner
from router.speech.voices import VoiceLibrary
from storage.blobs import BlobStore, open_blob_store
from storage.database import create_engine, session_factory
from storage.jobs import JobRepository
from storage.keys import KeyRepository
from storage.limits import DatabaseLimitStore
from storage.outputs import StoredAudioRepository
from storage.redis_limits import RedisLimitStore
from storage.secrets import shared_secret
from storage.tenants import TenantRepository
from storage.usage_journal import UsageJournal
from storage.usage_records import UsageRepository
from storage.usage_writer import UsageWriter
from storage.voice_files import VoiceFileRepository

logger = logging.getLogger("tts_router.startup")
USAGE_JOURNAL_DIR = "usage-journal"
Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class SpeechPipeline:
    """What routes speech, built before the app starts: providers, routes, breakers, prices."""

    providers: dict[str, Provider]
    catalog: Catalog
    breakers: Breakers
    failover: Failover
    metrics: Metrics
    prices: dict[str, Price]

    @classmethod
    def build(cls, settings: Settings, providers: dict[str, Provider]) -> SpeechPipeline:
        """The pipeline over `providers`, routed and guarded as `settings` say."""
        catalog = Catalog.build(settings.routes, providers)
        breakers = Breakers(
            {name: CircuitBreaker(settings.breaker_for(name)) for name in providers}
        )
        timeouts = {name: settings.attempt_timeout_for(name) for name in providers}
        return cls(
            providers=providers,
            catalog=catalog,
            breakers=breakers,
            failover=Failover(settings.routing, breakers, timeouts),
            metrics=Metrics(catalog),
            prices={name: p.price for name, p in settings.providers.items() if p.price},
        )


async def start_services(
    settings: Settings, pipeline: SpeechPipeline, stack: AsyncExitStack
) -> Services:
    """Open everything the handlers use; `stack` closes it all at shutdown, in reverse."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url)
    stack.push_async_callback(engine.dispose)
    sessions = session_factory(engine)
    keys = KeyRepository(sessions)
    authenticator = _authenticator(settings, keys)
    limiter = await _limiter(settings, sessions, stack)
    ledger, usage = await _usage(settings, engine, sessions, stack)
    blobs = await open_blob_store(settings.blobs, settings.blob_dir)
    stack.push_async_callback(blobs.close)
    voices = _voice_library(settings, sessions, blobs)
    await _start_all(pipeline.providers, stack)
    speech = SpeechService(
        pipeline.catalog,
        pipeline.failover,
        MeteredLedger(ledger, pipeline.metrics),
        limiter,
        pipeline.prices,
        voices=voices,
    )
    stack.push_async_callback(speech.drain)
    outputs = await _outputs(settings, sessions, blobs)
    jobs = SpeechJobs(JobRepository(sessions), speech, outputs, settings.jobs, limiter)
    await jobs.start()
    stack.push_async_callback(jobs.close)
    return Services(
        speech=speech,
        jobs=jobs,
        authenticator=authenticator,
        accounts=Accounts(TenantRepository(sessions), keys, authenticator),
        usage=usage,
        providers=pipeline.providers,
        outputs=outputs,
        voices=voices,
        breakers=pipeline.breakers,
        metrics=pipeline.metrics,
        started_at=int(time.time()),
        default_dialect=settings.server.default_dialect,
    )


def _authenticator(settings: Settings, keys: KeyRepository) -> Authenticator:
    if not settings.gateway.auth:
        return OpenAuthenticator()
    return KeyAuthenticator(keys, cache_seconds=settings.gateway.key_cache_seconds)


async def _limiter(settings: Settings, sessions: Sessions, stack: AsyncExitStack) -> Limiter | None:
    if not settings.gateway.limits:
        return None
    database = DatabaseLimitStore(sessions)
    purging = asyncio.create_task(
        database.keep_purging(settings.gateway.limit_purge_seconds), name="limit-purge"
    )
    stack.callback(purging.cancel)
    if not settings.redis_url:
        return Limiter(database)
    store = RedisLimitStore.from_url(settings.redis_url)
    stack.push_async_callback(store.close)
    fallback = database if settings.gateway.limits_fallback == "database" else None
    return Limiter(store, fallback)


async def _usage(
    settings: Settings, engine: AsyncEngine, sessions: Sessions, stack: AsyncExitStack
) -> tuple[UsageLedger, UsageRepository]:
    """Where usage rows go, and where they are read back from once the pending ones land."""
    if not settings.gateway.usage:
        return NullLedger(), UsageRepository(sessions)
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
    return ledger, UsageRepository(sessions, pending_writes=ledger.flush)


def _voice_library(settings: Settings, sessions: Sessions, blobs: BlobStore) -> VoiceLibrary:
    limits = settings.voice_files
    return VoiceLibrary(
        VoiceFileRepository(sessions),
        blobs,
        VoiceLimits(limits.max_bytes, limits.min_seconds, limits.max_seconds),
    )


async def _outputs(settings: Settings, sessions: Sessions, blobs: BlobStore) -> AudioOutputs:
    return AudioOutputs(
        blobs,
        StoredAudioRepository(sessions),
        UrlSigner(await shared_secret(sessions, "output-urls")),
        ttl=timedelta(seconds=settings.outputs.url_ttl_seconds),
        public_url=settings.server.public_url,
    )


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

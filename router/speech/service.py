"""The speech pipeline: admit a request, check it against its route, prime a provider."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from providers.api import SpeechRequest, UploadedVoice
from router.accounts.auth import Principal
from router.accounts.ledger import UsageEvent, UsageLedger
from router.accounts.limits import Admission, Limiter
from router.errors import ModelNotFoundError, NotFoundError, RouterError
from router.settings import Price
from router.speech.capabilities import fit_request
from router.speech.failover import Failover
from router.speech.routing import Catalog, Route
from router.speech.stream import Speech, StreamOutcome
from router.speech.voices import VoiceLibrary
from storage.models import VoiceFile

logger = logging.getLogger("tts_router.speech")

ATTEMPTS_HEADER = "x-tts-router-attempts"
PROVIDER_HEADER = "x-tts-router-provider"


@dataclass(frozen=True, slots=True)
class SpeechPolicy:
    """What the service does around a request, by the kind of caller that makes it."""

    # Claim the caller's requests per minute, concurrency and characters before speaking.
    admit: bool
    # End the answer before its audio is measured and its usage row recorded.
    settle_in_background: bool


# A request answered over HTTP as it is spoken.
LIVE = SpeechPolicy(admit=True, settle_in_background=True)
# A queued job: its limits were claimed when it was accepted, and it is finished only once its
# usage row is written.
QUEUED = SpeechPolicy(admit=False, settle_in_background=False)


@dataclass(slots=True)
class SpeechCall:
    """Who is asking, through which dialect, since when, and whether it has been recorded."""

    request_id: str
    dialect: str
    principal: Principal
    policy: SpeechPolicy = LIVE
    started: float = field(default_factory=time.perf_counter)
    recorded: bool = False

    def event(self, request: SpeechRequest | None) -> UsageEvent:
        """A usage event for this call, filled in from `request` when there is one."""
        event = UsageEvent(
            request_id=self.request_id,
            dialect=self.dialect,
            tenant_id=self.principal.tenant_id,
            key_id=self.principal.key_id,
            requested_model="" if request is None else request.model,
        )
        if request is not None:
            voice = request.voice
            event.voice = voice.file_id if isinstance(voice, UploadedVoice) else voice.name
            event.response_format = request.response_format
            event.input_characters = len(request.input)
        return event

    def elapsed_ms(self) -> float:
        """Milliseconds since the call started."""
        return (time.perf_counter() - self.started) * 1000


class SpeechService:
    """Opens speech streams for dialects; knows nothing of any provider by name."""

    def __init__(
        self,
        catalog: Catalog,
        failover: Failover,
        ledger: UsageLedger,
        limiter: Limiter | None = None,
        prices: Mapping[str, Price] | None = None,
        *,
        voices: VoiceLibrary | None = None,
    ) -> None:
        self.catalog = catalog
        self._failover = failover
        self._voices = voices
        self._limiter = limiter
        self._ledger = ledger
        self._prices = dict(prices or {})
        self._settling: set[asyncio.Future[None]] = set()

    @asynccontextmanager
    async def recording_refusals(
        self, call: SpeechCall, request: SpeechRequest | None = None
    ) -> AsyncIterator[None]:
        """Record any router error raised inside as a refused request, then re-raise it."""
        try:
            yield
        except RouterError as exc:
            if not call.recorded:
                call.recorded = True
                event = call.event(request)
                event.status, event.error_code = exc.status, exc.error_code
                event.latency_ms = call.elapsed_ms()
                self._ledger.record(event)
            raise

    async def check(self, principal: Principal, request: SpeechRequest) -> None:
        """Refuse `request` now if `principal` may not use its model or no target can serve it."""
        route = self._route(principal, request)
        await self._voice_file(principal, request)
        refusals: list[RouterError] = []
        for target in route.targets:
            try:
                fit_request(request, target)
            except RouterError as exc:
                refusals.append(exc)
            else:
                return
        raise refusals[0]

    def _route(self, principal: Principal, request: SpeechRequest) -> Route:
        route = self.catalog.resolve(request.model)
        check_access(principal, request.model)
        return route

    async def _voice_file(self, principal: Principal, request: SpeechRequest) -> VoiceFile | None:
        """The tenant's voice file that `request` names, if any; 404 if it is not theirs."""
        voice = request.voice
        if not isinstance(voice, UploadedVoice):
            return None
        if self._voices is None:
            raise NotFoundError(f"No voice file with id `{voice.file_id}`.", param="voice")
        return await self._voices.get(principal.tenant_id, voice.file_id, param="voice")

    async def _with_reference(self, principal: Principal, request: SpeechRequest) -> SpeechRequest:
        """`request` with its voice file's audio attached, for providers that clone."""
        found = await self._voice_file(principal, request)
        if found is None or self._voices is None:
            return request
        voice = UploadedVoice(file_id=found.id, wav=await self._voices.audio(found))
        return request.model_copy(update={"voice": voice})

    async def open(self, call: SpeechCall, request: SpeechRequest) -> Speech:
        """Admit, resolve, check and start `request`; returns once its first audio exists."""
        event = call.event(request)
        route = self._route(call.principal, request)
        request = await self._with_reference(call.principal, request)
        call.recorded = True
        admission = Admission()
        try:
            if self._limiter is not None and call.policy.admit:
                admission = await self._limiter.admit(
                    call.principal, call.request_id, len(request.input)
                )
            started = await self._failover.first_audio(request, route, event.attempts)
        except BaseException as exc:
            await admission.finish(produced_audio=False)
            if isinstance(exc, RouterError):
                event.status, event.error_code = exc.status, exc.error_code
                exc.headers.update(attempt_headers(event))
            event.latency_ms = call.elapsed_ms()
            self._ledger.record(event)
            raise
        event.provider, event.upstream_model = started.target.provider.name, started.target.card.id
        try:
            # Before the 200 is sent, so that every answered request has its row.
            self._ledger.open(event)
        except BaseException:
            await started.stream.aclose()
            await admission.finish(produced_audio=False)
            raise
        return Speech(
            request=request,
            target=started.target,
            stream=started.stream,
            first=started.first,
            finish=functools.partial(self._finish, call, admission, event),
            headers={**admission.headers, **attempt_headers(event)},
        )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Record a finished stream in the background, so its response ends at once."""
        task = asyncio.ensure_future(work)
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def flush_usage(self) -> None:
        """Wait until the usage rows of the requests that ended so far are written."""
        await self._ledger.flush()

    async def drain(self) -> None:
        """Wait for every stream still being settled (at shutdown)."""
        while self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)

    async def _finish(
        self,
        call: SpeechCall,
        admission: Admission,
        event: UsageEvent,
        outcome: StreamOutcome,
    ) -> None:
        # The slot is freed before the response ends, so the caller's next request finds it
        # free; the usage row is written after.
        await admission.finish(produced_audio=outcome.output_bytes > 0)
        event.status, event.error_code = outcome.status, outcome.error_code
        event.output_bytes = outcome.output_bytes
        if outcome.first_byte_at is not None:
            event.time_to_first_byte_ms = (outcome.first_byte_at - call.started) * 1000
        event.latency_ms = call.elapsed_ms()
        if call.policy.settle_in_background:
            self._spawn(self._settle(event, outcome))
        else:
            await self._settle(event, outcome)

    async def _settle(self, event: UsageEvent, outcome: StreamOutcome) -> None:
        """Measure the audio a finished stream sent, price it, and record it."""
        event.audio_seconds = await outcome.seconds()
        price = self._prices.get(event.provider or "")
        if price is not None:
            event.cost_usd = price.cost(event.input_characters, event.audio_seconds)
        self._ledger.record(event)


def check_access(principal: Principal, model: str) -> None:
    """Refuse a model the key may not use as if it did not exist."""
    if not principal.may_use(model):
        msg = f"The model `{model}` does not exist or you do not have access to it."
        raise ModelNotFoundError(msg, param="model")


def attempt_headers(event: UsageEvent) -> dict[str, str]:
    """How many provider tries a request took, and which provider served it."""
    headers = {ATTEMPTS_HEADER: str(len(event.attempts))}
    served = [attempt.provider for attempt in event.attempts if attempt.status == 200]
    if served:
        headers[PROVIDER_HEADER] = served[-1]
    return headers

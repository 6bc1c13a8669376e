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

from providers.api import (
    SAMPLING_CONTROLS,
    ModelCard,
    SpeechRequest,
    SpeechStream,
    SpeechUsage,
    UploadedVoice,
)
from providers.errors import ProviderError
from router.auth import Principal
from router.errors import (
    InvalidRequestError,
    ModelNotFoundError,
    NotFoundError,
    RouterError,
    from_provider_error,
)
from router.limits import Admission, Limiter
from router.routing import Catalog, Target
from router.streaming import Speech, StreamOutcome
from router.usage import Attempt, Price, UsageEvent, UsageLedger
from router.voices import VoiceLibrary
from storage.models import VoiceFile

logger = logging.getLogger("tts_router.speech")


@dataclass(slots=True)
class SpeechCall:
    """Who is asking, through which dialect, since when, and whether it has been recorded."""

    request_id: str
    dialect: str
    principal: Principal
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
        ledger: UsageLedger,
        limiter: Limiter | None = None,
        prices: Mapping[str, Price] | None = None,
        *,
        voices: VoiceLibrary | None = None,
        settle_in_background: bool = True,
    ) -> None:
        self.catalog = catalog
        self._voices = voices
        self._limiter = limiter
        self._ledger = ledger
        self._prices = dict(prices or {})
        self._settle_in_background = settle_in_background
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
                await self._ledger.record(event)
            raise

    async def check(self, principal: Principal, request: SpeechRequest) -> None:
        """Refuse `request` now if `principal` may not use its model or no target can serve it."""
        targets = self._targets(principal, request)
        await self._voice_file(principal, request)
        refusals: list[RouterError] = []
        for target in targets:
            try:
                check_request(request, target.card)
            except RouterError as exc:
                refusals.append(exc)
            else:
                return
        raise refusals[0]

    def _targets(self, principal: Principal, request: SpeechRequest) -> tuple[Target, ...]:
        route = self.catalog.resolve(request.model)
        if not principal.may_use(request.model):
            msg = f"The model `{request.model}` does not exist or you do not have access to it."
            raise ModelNotFoundError(msg, param="model")
        return route.targets

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
        targets = self._targets(call.principal, request)
        request = await self._with_reference(call.principal, request)
        call.recorded = True
        # The in-progress row is written while the limits are claimed and the provider makes
        # its first audio; it is committed before the 200 is sent, so every answered request
        # has its row.
        opened = asyncio.ensure_future(self._ledger.open(event))
        admission = Admission()
        try:
            if self._limiter is not None:
                admission = await self._limiter.admit(
                    call.principal, call.request_id, len(request.input)
                )
            target, stream, first = await self._first_audio(call, request, targets, event)
        except BaseException as exc:
            await admission.finish(produced_audio=False)
            await opened
            if isinstance(exc, RouterError):
                event.status, event.error_code = exc.status, exc.error_code
            event.latency_ms = call.elapsed_ms()
            await self._ledger.close(event)
            raise
        try:
            await opened
        except BaseException:
            await stream.aclose()
            await admission.finish(produced_audio=False)
            raise
        event.provider, event.upstream_model = target.provider.name, target.card.id
        return Speech(
            request=request,
            target=target,
            stream=stream,
            first=first,
            finish=functools.partial(self._finish, call, admission, event),
            headers=admission.headers,
        )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Record a finished stream in the background, so its response ends at once."""
        task = asyncio.ensure_future(work)
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def drain(self) -> None:
        """Wait for every stream still being settled (at shutdown)."""
        while self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)

    async def _first_audio(
        self,
        call: SpeechCall,
        request: SpeechRequest,
        targets: tuple[Target, ...],
        event: UsageEvent,
    ) -> tuple[Target, SpeechStream, Any]:
        *fallbacks, last = targets
        for target in (*fallbacks, last):
            started = time.perf_counter()
            try:
                stream, first = await _start(request, target)
            except ProviderError as exc:
                error = from_provider_error(exc)
                event.attempts.append(_attempt(target, error.status, error.error_code, started))
                if target is last or not exc.retryable:
                    raise error from exc
                logger.warning("provider %s failed before audio: %s", target.provider.name, exc)
                continue
            event.attempts.append(_attempt(target, 200, None, started))
            return target, stream, first
        raise AssertionError("unreachable: the last target returns or raises")  # pragma: no cover

    async def _finish(
        self,
        call: SpeechCall,
        admission: Admission,
        event: UsageEvent,
        outcome: StreamOutcome,
    ) -> None:
        # The slot is freed before the response ends, so the caller's next request finds it
        # free; the usage row is written after.
        await admission.finish(produced_audio=outcome.audio_seconds > 0)
        event.status, event.error_code = outcome.status, outcome.error_code
        event.audio_seconds, event.output_bytes = outcome.audio_seconds, outcome.output_bytes
        if outcome.first_byte_at is not None:
            event.time_to_first_byte_ms = (outcome.first_byte_at - call.started) * 1000
        event.latency_ms = call.elapsed_ms()
        price = self._prices.get(event.provider or "")
        if price is not None:
            event.cost_usd = price.cost(event.input_characters, event.audio_seconds)
        if self._settle_in_background:
            self._spawn(self._ledger.close(event))
        else:
            await self._ledger.close(event)


async def _start(request: SpeechRequest, target: Target) -> tuple[SpeechStream, Any]:
    check_request(request, target.card)
    chunks = target.provider.synthesize(for_provider(request, target.card))
    stream = SpeechStream(chunks, SpeechUsage(len(request.input)))
    try:
        first = await anext(stream, None)
    except BaseException:
        await stream.aclose()
        raise
    return stream, first


def _attempt(target: Target, status: int, error_code: str | None, started: float) -> Attempt:
    latency = (time.perf_counter() - started) * 1000
    return Attempt(target.provider.name, target.card.id, status, error_code, latency)


def check_request(request: SpeechRequest, card: ModelCard) -> None:
    """Refuse what the target model cannot do, before any audio is made."""
    if len(request.input) > card.max_input_chars:
        msg = (
            f"Invalid 'input': string too long. Expected a string with maximum length "
            f"{card.max_input_chars}, but got a string with length {len(request.input)} instead."
        )
        raise InvalidRequestError(msg, param="input", code="string_above_max_length")
    voice = request.voice
    if isinstance(voice, UploadedVoice):
        if not card.voice_cloning:
            msg = f"Model `{request.model}` does not support custom voices."
            raise InvalidRequestError(msg, param="voice", code="unsupported_value")
    elif not card.has_voice(voice.name):
        known = ", ".join(v.id for v in card.voices)
        msg = (
            f"Voice `{voice.name}` is not available for model `{request.model}`. "
            f"Available voices: {known}."
        )
        raise InvalidRequestError(msg, param="voice", code="invalid_value")


def for_provider(request: SpeechRequest, card: ModelCard) -> SpeechRequest:
    """The request as the provider model sees it: its own id, and only the controls it honours."""
    update: dict[str, Any] = {"model": card.id}
    if not card.native_speed:
        update["speed"] = 1.0
    if not card.instructions:
        update["instructions"] = None
    for control in SAMPLING_CONTROLS:
        if control not in card.sampling_controls:
            update[control] = None
    return request.model_copy(update=update)

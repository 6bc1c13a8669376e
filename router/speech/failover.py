"""Try a route's targets until one makes its first audio: retries, deadline, backoff, breakers."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from providers.api import Audio, SpeechRequest, SpeechStream, SpeechUsage
from providers.errors import (
    ProviderError,
    ProviderRejectedError,
    ProviderTimeoutError,
)
from router.accounts.ledger import Attempt
from router.errors import RouterError, ServiceUnavailableError, from_provider_error
from router.settings import RoutingSettings
from router.speech.audio.sniff import check_encoded
from router.speech.breaker import Breakers, BreakerState
from router.speech.capabilities import fit_request
from router.speech.routing import Route, Target

logger = logging.getLogger("tts_router.failover")


@dataclass(slots=True)
class Started:
    """The target that made the first audio, its stream, and that first chunk."""

    target: Target
    stream: SpeechStream
    first: Audio | None


@dataclass(slots=True)
class _Plan:
    """What is known about each target during one request."""

    order: list[Target]
    not_before: dict[int, float] = field(default_factory=dict)
    tries: dict[int, int] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)


class Failover:
    """Walks a route's chain; fails over only on retryable errors, before any audio is sent."""

    def __init__(
        self,
        settings: RoutingSettings,
        breakers: Breakers,
        timeouts: Mapping[str, float],
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._breakers = breakers
        self._timeouts = dict(timeouts)
        self._rng = rng or random.Random()  # noqa: S311 - load spreading and jitter, not secrets

    async def first_audio(
        self, request: SpeechRequest, route: Route, attempts: list[Attempt]
    ) -> Started:
        """Start `request` on the first target that makes audio; record every try in `attempts`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.deadline_seconds
        plan = _Plan(route.ordered(self._rng))
        refusals: list[RouterError] = []
        last: RouterError | None = None
        while len(attempts) < self._settings.max_attempts:
            index = self._next(plan, loop.time())
            if index is None:
                break
            wait = plan.not_before.get(index, 0.0) - loop.time()
            if loop.time() + max(wait, 0.0) >= deadline:
                break
            if wait > 0:
                await asyncio.sleep(wait)
            target = plan.order[index]
            fitted = self._admit(plan, index, request, refusals)
            if fitted is None:
                continue
            started = time.perf_counter()
            try:
                return await self._try(fitted, target, deadline - loop.time(), attempts, started)
            except ProviderError as exc:
                last = from_provider_error(exc)
                self._after_failure(plan, index, exc, loop.time())
                if not exc.retryable:
                    raise last from exc
                logger.warning("provider %s failed before audio: %s", target.provider.name, exc)
        if last is not None:
            raise last
        if refusals:
            raise refusals[0]
        raise self._all_open(route)

    def _admit(
        self, plan: _Plan, index: int, request: SpeechRequest, refusals: list[RouterError]
    ) -> SpeechRequest | None:
        """`request` in the terms of target `index`, or None if it cannot or may not take it."""
        target = plan.order[index]
        try:
            fitted = fit_request(request, target)
        except RouterError as refusal:
            refusals.append(refusal)
            plan.done.add(index)
            return None
        if not self._breakers[target.provider.name].allow():
            plan.done.add(index)  # a half-open breaker whose one probe is already out
            return None
        return fitted

    def _next(self, plan: _Plan, now: float) -> int | None:
        """The index of the target to try next: untried first in order, then the soonest due.

        A provider that is not ready (not loaded, or its upstream unreachable last time) is
        tried only once no ready one is left.
        """
        candidates: list[tuple[bool, int, float, int]] = []
        for index, target in enumerate(plan.order):
            if index in plan.done:
                continue
            if self._breakers[target.provider.name].state is BreakerState.OPEN:
                plan.done.add(index)
                continue
            candidates.append(
                (
                    not target.provider.ready(),
                    plan.tries.get(index, 0),
                    plan.not_before.get(index, now),
                    index,
                )
            )
        if not candidates:
            return None
        unready, tries, _, index = min(candidates)
        if tries == 0:
            return index
        alike = [entry for entry in candidates if entry[0] == unready]
        return min(alike, key=lambda entry: (entry[2], entry[3]))[3]

    async def _try(
        self,
        request: SpeechRequest,
        target: Target,
        remaining: float,
        attempts: list[Attempt],
        started: float,
    ) -> Started:
        breaker = self._breakers[target.provider.name]
        timeout = min(
            self._timeouts.get(target.provider.name, self._settings.attempt_timeout_seconds),
            remaining,
        )
        try:
            async with asyncio.timeout(timeout):
                stream, first = await start(request, target)
        except TimeoutError as exc:
            breaker.failed()
            error = ProviderTimeoutError(
                f"provider {target.provider.name!r} made no audio within {timeout:.3g} s"
            )
            attempts.append(_attempt(target, from_provider_error(error), started))
            raise error from exc
        except ProviderRejectedError as exc:
            breaker.abandoned()
            attempts.append(_attempt(target, from_provider_error(exc), started))
            raise
        except ProviderError as exc:
            breaker.failed()
            attempts.append(_attempt(target, from_provider_error(exc), started))
            raise
        except BaseException:
            breaker.abandoned()
            raise
        breaker.succeeded()
        attempts.append(_attempt(target, None, started))
        return Started(target, stream, first)

    def _after_failure(self, plan: _Plan, index: int, exc: ProviderError, now: float) -> None:
        tries = plan.tries.get(index, 0) + 1
        plan.tries[index] = tries
        if exc.retry_after is not None:
            if exc.retry_after > self._settings.max_retry_after_seconds:
                plan.done.add(index)
            else:
                plan.not_before[index] = now + exc.retry_after
            return
        ceiling = min(
            self._settings.max_backoff_seconds, self._settings.backoff_seconds * 2 ** (tries - 1)
        )
        plan.not_before[index] = now + self._rng.uniform(0.0, ceiling)

    def _all_open(self, route: Route) -> RouterError:
        waits = [self._breakers[t.provider.name].retry_after() for t in route.targets]
        return ServiceUnavailableError(
            f"Every provider of model `{route.model}` is failing; their circuit breakers are open.",
            code="providers_unavailable",
            retry_after=max(1.0, min(waits)),
        )


async def start(request: SpeechRequest, target: Target) -> tuple[SpeechStream, Audio | None]:
    """Ask `target` for `request` (already in its terms) and wait for its first audio."""
    chunks = target.provider.synthesize(request)
    stream = SpeechStream(chunks, SpeechUsage(len(request.input)))
    try:
        first = await anext(stream, None)
        if first is not None:
            check_encoded(first, request.response_format, target.provider.name)
    except BaseException:
        await stream.aclose()
        raise
    return stream, first


def _attempt(target: Target, error: RouterError | None, started: float) -> Attempt:
    latency = (time.perf_counter() - started) * 1000
    status, code = (200, None) if error is None else (error.status, error.error_code)
    return Attempt(target.provider.name, target.card.id, status, code, latency)

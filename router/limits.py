"""Admission: requests per minute, concurrent requests and the monthly character budget."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from router.auth import Principal
from router.errors import RateLimitError
from storage.limits import LimitStore, Take
from storage.models import utcnow

WINDOW = timedelta(minutes=1)
# A concurrency slot outlives any request; a crashed process frees its slots when they lapse.
LEASE = timedelta(minutes=15)

Undo = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class Admission:
    """An admitted request: headers to send, and what to undo or settle when it ends."""

    headers: dict[str, str] = field(default_factory=dict)
    _release: list[Undo] = field(default_factory=list)
    _refund: list[Undo] = field(default_factory=list)

    async def finish(self, *, produced_audio: bool) -> None:
        """Free the concurrency slot; refund the reserved characters if nothing was made."""
        undo = self._release + ([] if produced_audio else self._refund)
        self._release, self._refund = [], []
        for action in undo:
            await action()


class Limiter:
    """Checks a principal's limits against a shared store, in a fixed order."""

    def __init__(self, store: LimitStore) -> None:
        self._store = store

    async def admit(self, principal: Principal, request_id: str, characters: int) -> Admission:
        """Admit the request or raise RateLimitError naming the limit that was hit."""
        now = utcnow()
        admission = Admission()
        try:
            await self._requests_per_minute(principal, now, admission)
            await self._concurrency(principal, request_id, now, admission)
            await self._budget(principal, characters, now, admission)
        except RateLimitError:
            await admission.finish(produced_audio=False)
            raise
        return admission

    async def _requests_per_minute(
        self, principal: Principal, now: datetime, admission: Admission
    ) -> None:
        window = now.replace(second=0, microsecond=0)
        window_end = window + WINDOW
        stamp = window.strftime("%Y%m%dT%H%M")
        checks = [
            (f"rpm:key:{principal.key_id}:{stamp}", principal.key_limits.rpm, "key"),
            (f"rpm:tenant:{principal.tenant_id}:{stamp}", principal.tenant_limits.rpm, "tenant"),
        ]
        tightest: Take | None = None
        for key, limit, scope in checks:
            if limit is None or (scope == "key" and principal.key_id is None):
                continue
            take = await self._store.take(key, 1, limit, window_end)
            if not take.allowed:
                who = _who(principal, scope)
                msg = (
                    f"Rate limit reached for {who}: {limit} requests per minute. "
                    f"Try again in {_seconds(take.reset_at, now)}s."
                )
                raise RateLimitError(
                    msg,
                    code="requests_per_minute_exceeded",
                    retry_after=_seconds(take.reset_at, now),
                    headers=_rate_headers(take, now),
                )
            if tightest is None or take.limit - take.used < tightest.limit - tightest.used:
                tightest = take
        if tightest is not None:
            admission.headers.update(_rate_headers(tightest, now))

    async def _concurrency(
        self, principal: Principal, request_id: str, now: datetime, admission: Admission
    ) -> None:
        limit = principal.tenant_limits.concurrency
        if limit is None:
            return
        key = f"concurrency:tenant:{principal.tenant_id}"
        take = await self._store.acquire(key, request_id, limit, now + LEASE)
        if not take.allowed:
            msg = (
                f"Too many concurrent requests for {_who(principal, 'tenant')}: "
                f"the limit is {limit} at a time."
            )
            raise RateLimitError(msg, code="concurrency_limit_exceeded", retry_after=1)
        admission._release.append(lambda: self._store.release(key, request_id))

    async def _budget(
        self, principal: Principal, characters: int, now: datetime, admission: Admission
    ) -> None:
        month = now.strftime("%Y-%m")
        month_end = _next_month(now)
        checks = [
            (f"chars:key:{principal.key_id}:{month}", principal.key_limits.monthly_chars, "key"),
            (
                f"chars:tenant:{principal.tenant_id}:{month}",
                principal.tenant_limits.monthly_chars,
                "tenant",
            ),
        ]
        for key, limit, scope in checks:
            if limit is None or (scope == "key" and principal.key_id is None):
                continue
            take = await self._store.take(key, characters, limit, month_end)
            if not take.allowed:
                msg = (
                    f"Monthly character budget exhausted for {_who(principal, scope)}: "
                    f"{take.used} of {limit} characters used this month, "
                    f"and this request needs {characters}."
                )
                raise RateLimitError(
                    msg,
                    code="insufficient_quota",
                    retry_after=_seconds(month_end, now),
                    retry=False,
                )
            admission._refund.append(_giver(self._store, key, characters))


def _giver(store: LimitStore, key: str, amount: int) -> Undo:
    return lambda: store.give_back(key, amount)


def _who(principal: Principal, scope: str) -> str:
    return f"key {principal.key_id}" if scope == "key" else f"tenant '{principal.tenant_name}'"


def _seconds(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _rate_headers(take: Take, now: datetime) -> dict[str, str]:
    return {
        "x-ratelimit-limit-requests": str(take.limit),
        "x-ratelimit-remaining-requests": str(max(0, take.limit - take.used)),
        "x-ratelimit-reset-requests": f"{_seconds(take.reset_at, now)}s",
    }


def _next_month(now: datetime) -> datetime:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1, tzinfo=UTC)

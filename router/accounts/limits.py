"""Admission: requests per minute, concurrent requests and the monthly character budget."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from router.accounts.auth import Principal
from router.errors import RateLimitError, ServiceUnavailableError
from storage.limits import Claim, Counter, LimitStore, LimitStoreUnavailableError, Slot, Take
from storage.models import utcnow

logger = logging.getLogger("tts_router.limits")
WINDOW = timedelta(minutes=1)
UNAVAILABLE_RETRY_SECONDS = 5.0
# A concurrency slot outlives any request; a crashed process frees its slots when they lapse.
LEASE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class _Check:
    """One limit to claim, and how to name it when it is hit."""

    claim: Claim
    kind: str
    who: str


@dataclass(slots=True)
class Admission:
    """An admitted request: headers to send, and the claims to settle when it ends."""

    headers: dict[str, str] = field(default_factory=dict)
    store: LimitStore | None = None
    slots: list[Claim] = field(default_factory=list)
    budgets: list[Claim] = field(default_factory=list)

    async def finish(self, *, produced_audio: bool) -> None:
        """Free the concurrency slot; give back the reserved characters if nothing was made."""
        claims = self.slots + ([] if produced_audio else self.budgets)
        self.slots, self.budgets = [], []
        if claims and self.store is not None:
            try:
                await self.store.unclaim(claims)
            except LimitStoreUnavailableError as exc:
                # The slot lapses with its lease; characters kept count against the budget.
                logger.warning("could not give back the limits of a finished request: %s", exc)


class Limiter:
    """Claims all of a principal's limits from a shared store in one call.

    When the store cannot be reached, the limits are claimed from `fallback` if there is one;
    else the request is refused with a 503 `limits_unavailable`.
    """

    def __init__(self, store: LimitStore, fallback: LimitStore | None = None) -> None:
        self._store = store
        self._fallback = fallback
        self._unreachable = False

    async def admit(self, principal: Principal, request_id: str, characters: int) -> Admission:
        """Admit the request or raise RateLimitError naming the limit that was hit."""
        now = utcnow()
        checks = _checks(principal, request_id, characters, now)
        if not checks:
            return Admission()
        claims = [check.claim for check in checks]
        store = self._store
        try:
            takes = await store.claim(claims)
            self._noticed(None)
        except LimitStoreUnavailableError as exc:
            self._noticed(exc)
            if self._fallback is None:
                raise _unavailable() from exc
            store = self._fallback
            try:
                takes = await store.claim(claims)
            except LimitStoreUnavailableError as again:
                raise _unavailable() from again
        if not takes[-1].allowed:
            raise _refusal(checks[len(takes) - 1], takes[-1], characters, now)
        rates = [take for check, take in zip(checks, takes, strict=False) if check.kind == "rpm"]
        return Admission(
            headers=_rate_headers(min(rates, key=lambda t: t.limit - t.used), now) if rates else {},
            store=store,
            slots=[check.claim for check in checks if check.kind == "concurrency"],
            budgets=[check.claim for check in checks if check.kind == "budget"],
        )

    def _noticed(self, outage: LimitStoreUnavailableError | None) -> None:
        """Log once when the store becomes unreachable and once when it is back."""
        if outage is not None and not self._unreachable:
            fallback = (
                "the database" if self._fallback is not None else "nothing; refusing requests"
            )
            logger.error(
                "the limit store is unreachable (%s); falling back to %s", outage, fallback
            )
        elif outage is None and self._unreachable:
            logger.warning("the limit store is reachable again")
        self._unreachable = outage is not None


def _unavailable() -> ServiceUnavailableError:
    return ServiceUnavailableError(
        "Rate limits cannot be checked right now; retry shortly.",
        code="limits_unavailable",
        retry_after=UNAVAILABLE_RETRY_SECONDS,
    )


def _checks(principal: Principal, request_id: str, characters: int, now: datetime) -> list[_Check]:
    window = now.replace(second=0, microsecond=0)
    stamp, month = window.strftime("%Y%m%dT%H%M"), now.strftime("%Y-%m")
    key, tenant = principal.key_id, principal.tenant_id
    key_who, tenant_who = f"key {key}", f"tenant '{principal.tenant_name}'"
    keyed = key is not None
    checks: list[_Check] = []
    limits, tenant_limits = principal.key_limits, principal.tenant_limits
    if keyed and limits.rpm is not None:
        claim = Counter(f"rpm:key:{key}:{stamp}", 1, limits.rpm, window + WINDOW)
        checks.append(_Check(claim, "rpm", key_who))
    if tenant_limits.rpm is not None:
        claim = Counter(f"rpm:tenant:{tenant}:{stamp}", 1, tenant_limits.rpm, window + WINDOW)
        checks.append(_Check(claim, "rpm", tenant_who))
    if tenant_limits.concurrency is not None:
        slot = Slot(
            f"concurrency:tenant:{tenant}", request_id, tenant_limits.concurrency, now + LEASE
        )
        checks.append(_Check(slot, "concurrency", tenant_who))
    month_end = _next_month(now)
    if keyed and limits.monthly_chars is not None:
        claim = Counter(f"chars:key:{key}:{month}", characters, limits.monthly_chars, month_end)
        checks.append(_Check(claim, "budget", key_who))
    if tenant_limits.monthly_chars is not None:
        budget = tenant_limits.monthly_chars
        claim = Counter(f"chars:tenant:{tenant}:{month}", characters, budget, month_end)
        checks.append(_Check(claim, "budget", tenant_who))
    return checks


def _refusal(check: _Check, take: Take, characters: int, now: datetime) -> RateLimitError:
    wait = _seconds(take.reset_at, now)
    if check.kind == "rpm":
        msg = (
            f"Rate limit reached for {check.who}: {take.limit} requests per minute. "
            f"Try again in {wait}s."
        )
        return RateLimitError(
            msg,
            code="requests_per_minute_exceeded",
            retry_after=wait,
            headers=_rate_headers(take, now),
        )
    if check.kind == "concurrency":
        msg = f"Too many concurrent requests for {check.who}: the limit is {take.limit} at a time."
        return RateLimitError(msg, code="concurrency_limit_exceeded", retry_after=1)
    msg = (
        f"Monthly character budget exhausted for {check.who}: {take.used} of {take.limit} "
        f"characters used this month, and this request needs {characters}."
    )
    return RateLimitError(msg, code="insufficient_quota", retry_after=wait, retry=False)


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

"""Counters and leases behind rate, concurrency and budget limits, shared by router processes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, Update, case, delete, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import ReturningInsert

from storage.models import ConcurrencyLease, LimitCounter, utcnow

__all__ = [
    "Claim",
    "Counter",
    "DatabaseLimitStore",
    "LimitStore",
    "LimitStoreUnavailableError",
    "Slot",
    "Take",
]

logger = logging.getLogger("tts_router.limits")


class LimitStoreUnavailableError(Exception):
    """The store behind the limits cannot be reached: nothing was counted."""


@dataclass(frozen=True, slots=True)
class Take:
    """The outcome of taking from a counter or acquiring a slot."""

    allowed: bool
    used: int
    limit: int
    reset_at: datetime


@dataclass(frozen=True, slots=True)
class Counter:
    """A claim of `amount` against `limit` on the counter `key`, which lapses at `expires_at`."""

    key: str
    amount: int
    limit: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Slot:
    """A claim of one of `limit` concurrent slots of `key` for `holder`, until `lease_until`."""

    key: str
    holder: str
    limit: int
    lease_until: datetime


Claim = Counter | Slot


class LimitStore(Protocol):
    """Atomic counters and concurrency leases, exact across processes sharing the store."""

    async def take(self, key: str, amount: int, limit: int, expires_at: datetime) -> Take:
        """Add `amount` to `key` if the result stays within `limit`; else change nothing."""
        ...

    async def give_back(self, key: str, amount: int) -> None:
        """Subtract `amount` from `key`, never going below zero."""
        ...

    async def acquire(self, key: str, holder: str, limit: int, lease_until: datetime) -> Take:
        """Hold one of `limit` concurrent slots of `key` for `holder` until `lease_until`."""
        ...

    async def release(self, key: str, holder: str) -> None:
        """Free the slot `holder` holds on `key`, if any."""
        ...

    async def claim(self, claims: Sequence[Claim]) -> list[Take]:
        """All or nothing, in order: stops at the first refusal, undoing the claims before it.

        Returns one Take per claim tried; when refused, the last one is the refusal.
        """
        ...

    async def unclaim(self, claims: Sequence[Claim]) -> None:
        """Give back counters and release slots that were claimed."""
        ...

    async def close(self) -> None:
        """Release the store's connections."""
        ...


def check_amount(amount: int) -> None:
    """Refuse negative amounts, which would turn a take into an unchecked refund."""
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount}")


class DatabaseLimitStore:
    """A `LimitStore` on the SQL database, for deployments without Redis."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def claim(self, claims: Sequence[Claim]) -> list[Take]:
        """Each claim in turn; on a refusal, the ones already taken are given back."""
        try:
            return await self._claim(claims)
        except (DBAPIError, OSError) as exc:
            raise LimitStoreUnavailableError(f"the database is unreachable: {exc}") from exc

    async def unclaim(self, claims: Sequence[Claim]) -> None:
        """Give back each counter and release each slot."""
        try:
            await self._unclaim(claims)
        except (DBAPIError, OSError) as exc:
            raise LimitStoreUnavailableError(f"the database is unreachable: {exc}") from exc

    async def _claim(self, claims: Sequence[Claim]) -> list[Take]:
        takes: list[Take] = []
        for index, claim in enumerate(claims):
            if isinstance(claim, Counter):
                take = await self.take(claim.key, claim.amount, claim.limit, claim.expires_at)
            else:
                take = await self.acquire(claim.key, claim.holder, claim.limit, claim.lease_until)
            takes.append(take)
            if not take.allowed:
                await self._unclaim(claims[:index])
                break
        return takes

    async def _unclaim(self, claims: Sequence[Claim]) -> None:
        for claim in claims:
            if isinstance(claim, Counter):
                await self.give_back(claim.key, claim.amount)
            else:
                await self.release(claim.key, claim.holder)

    async def take(self, key: str, amount: int, limit: int, expires_at: datetime) -> Take:
        """Add `amount` to `key` if the result stays within `limit`, in one atomic upsert."""
        check_amount(amount)
        now = utcnow()
        async with self._sessions.begin() as session:
            if amount <= limit:
                statement = _take_statement(
                    _dialect(session), key, amount, limit=limit, expires_at=expires_at, now=now
                )
                row = (await session.execute(statement)).one_or_none()
                if row is not None:
                    return Take(True, row.value, limit, row.expires_at)
            current = await session.get(LimitCounter, key)
        if current is None or current.expires_at <= now:
            return Take(False, 0, limit, expires_at)
        return Take(False, current.value, limit, current.expires_at)

    async def give_back(self, key: str, amount: int) -> None:
        """Subtract `amount` from `key`, never going below zero."""
        check_amount(amount)
        value = case((LimitCounter.value > amount, LimitCounter.value - amount), else_=0)
        async with self._sessions.begin() as session:
            await session.execute(
                update(LimitCounter).where(LimitCounter.key == key).values(value=value)
            )

    async def acquire(self, key: str, holder: str, limit: int, lease_until: datetime) -> Take:
        """Hold one of `limit` slots of `key` for `holder`; re-acquiring extends the lease."""
        now = utcnow()
        async with self._sessions.begin() as session:
            if _dialect(session) == "postgresql":
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key}
                )
            # On SQLite this DELETE is the transaction's first statement, so it takes the write
            # lock before anything is counted: concurrent acquires queue behind it.
            await session.execute(
                delete(ConcurrencyLease).where(
                    ConcurrencyLease.key == key, ConcurrencyLease.expires_at <= now
                )
            )
            leases = await _live_leases(session, key)
            if holder in leases:
                await session.execute(_extend_lease(key, holder, lease_until))
                return Take(True, len(leases), limit, lease_until)
            if len(leases) >= limit:
                return Take(False, len(leases), limit, min(leases.values(), default=lease_until))
            session.add(ConcurrencyLease(key=key, holder=holder, expires_at=lease_until))
        return Take(True, len(leases) + 1, limit, lease_until)

    async def release(self, key: str, holder: str) -> None:
        """Free the slot `holder` holds on `key`, if any."""
        async with self._sessions.begin() as session:
            await session.execute(
                delete(ConcurrencyLease).where(
                    ConcurrencyLease.key == key, ConcurrencyLease.holder == holder
                )
            )

    async def purge_expired(self, now: datetime | None = None) -> int:
        """Delete counters and leases that expired by `now`; returns how many rows went."""
        moment = now or utcnow()
        async with self._sessions.begin() as session:
            deleted = 0
            for model in (LimitCounter, ConcurrencyLease):
                result = await session.execute(delete(model).where(model.expires_at <= moment))
                deleted += cast(CursorResult[Any], result).rowcount
        return deleted

    async def keep_purging(self, seconds: float) -> None:
        """Purge expired rows every `seconds`, until cancelled."""
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.purge_expired()
            except (DBAPIError, OSError) as exc:
                logger.warning("could not purge expired limit counters: %s", exc)

    async def close(self) -> None:
        """Nothing to release: the engine belongs to whoever made the session factory."""


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _take_statement(
    dialect: str, key: str, amount: int, *, limit: int, expires_at: datetime, now: datetime
) -> ReturningInsert[int, datetime]:
    """INSERT ... ON CONFLICT DO UPDATE ... WHERE (expired OR fits) RETURNING value, expires_at."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(LimitCounter).values(key=key, value=amount, expires_at=expires_at)
    expired = LimitCounter.expires_at <= now
    return statement.on_conflict_do_update(
        index_elements=[LimitCounter.key],
        set_={
            "value": case((expired, amount), else_=LimitCounter.value + amount),
            "expires_at": case(
                (expired, statement.excluded.expires_at), else_=LimitCounter.expires_at
            ),
        },
        where=or_(expired, LimitCounter.value + amount <= limit),
    ).returning(LimitCounter.value, LimitCounter.expires_at)


async def _live_leases(session: AsyncSession, key: str) -> dict[str, datetime]:
    query = select(ConcurrencyLease.holder, ConcurrencyLease.expires_at).where(
        ConcurrencyLease.key == key
    )
    return {row.holder: row.expires_at for row in await session.execute(query)}


def _extend_lease(key: str, holder: str, lease_until: datetime) -> Update:
    return (
        update(ConcurrencyLease)
        .where(ConcurrencyLease.key == key, ConcurrencyLease.holder == holder)
        .values(expires_at=lease_until)
    )

"""Usage records: written as a request starts and ends, read back per tenant or for everyone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import ProviderAttempt, UsageRecord, utcnow

__all__ = ["ProviderActivity", "UsageRepository", "UsageSummary", "UsageTotals"]

ERROR_STATUS = 400
# The most recent times to first byte read back per call; enough for stable percentiles.
FIRST_BYTE_SAMPLES = 10_000


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Sums over a set of usage records; in-progress ones count as requests, not errors."""

    requests: int = 0
    errors: int = 0
    input_characters: int = 0
    audio_seconds: float = 0.0
    output_bytes: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """Totals over a date range, and broken down by day, by model and (for admins) by tenant."""

    totals: UsageTotals
    by_day: list[tuple[str, UsageTotals]]
    by_model: list[tuple[str, UsageTotals]]
    by_tenant: list[tuple[str, UsageTotals]] | None = None


@dataclass(frozen=True, slots=True)
class ProviderActivity:
    """A provider's tries since some moment, and the times to first byte of requests it served."""

    attempts: int = 0
    errors: int = 0
    first_byte_ms: tuple[float, ...] = ()


class UsageRepository:
    """Stores and reads usage records and their provider attempts."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        pending_writes: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._pending_writes = pending_writes

    async def _written(self) -> None:
        """Wait for this process's queued usage writes, so a caller reads its own requests."""
        if self._pending_writes is not None:
            await self._pending_writes()

    async def add(self, record: UsageRecord) -> None:
        """Insert one finished record and commit it."""
        await self.start(record)

    async def start(self, record: UsageRecord, attempts: Sequence[ProviderAttempt] = ()) -> int:
        """Insert a record and its attempts in one transaction; returns the record's id.

        An unset `day` is the UTC date of `created_at` (itself defaulting to now).
        """
        if record.created_at is None:
            record.created_at = utcnow()
        if record.day is None:
            record.day = record.created_at.astimezone(UTC).date().isoformat()
        async with self._sessions.begin() as session:
            session.add(record)
            if attempts:
                await session.flush()
                _attach(record.id, attempts)
                session.add_all(attempts)
        return record.id

    async def finish(self, usage_id: int, **fields: Any) -> None:
        """Update a record's columns, typically its outcome and `finished_at`, and commit."""
        query = update(UsageRecord).where(UsageRecord.id == usage_id).values(**fields)
        async with self._sessions.begin() as session:
            await session.execute(query)

    async def add_attempts(self, usage_id: int, attempts: Sequence[ProviderAttempt]) -> None:
        """Attach provider attempts to a record and commit them."""
        _attach(usage_id, attempts)
        async with self._sessions.begin() as session:
            session.add_all(attempts)

    async def for_request(self, tenant_id: str, request_id: str) -> Sequence[UsageRecord]:
        """The records of one request, scoped to its tenant."""
        await self._written()
        query = select(UsageRecord).where(
            UsageRecord.tenant_id == tenant_id, UsageRecord.request_id == request_id
        )
        async with self._sessions() as session:
            return (await session.scalars(query)).all()

    async def summarize(
        self, tenant_id: str | None, start_day: date, end_day: date
    ) -> UsageSummary:
        """Totals for days in [start_day, end_day): one tenant's, or everyone's if None."""
        await self._written()
        where = _in_scope(tenant_id, start_day, end_day)
        totals = select(*_TOTALS).where(*where)
        async with self._sessions() as session:
            overall = _totals((await session.execute(totals)).one())
            by_day = await _grouped(session, UsageRecord.day, where)
            by_model = await _grouped(session, UsageRecord.requested_model, where)
            by_tenant = None
            if tenant_id is None:
                by_tenant = await _grouped(session, UsageRecord.tenant_id, where)
        return UsageSummary(overall, by_day, by_model, by_tenant)

    async def latest(self, tenant_id: str | None, limit: int) -> Sequence[UsageRecord]:
        """The newest `limit` records, newest first: one tenant's, or everyone's if None."""
        await self._written()
        query = select(UsageRecord).order_by(UsageRecord.id.desc()).limit(limit)
        if tenant_id is not None:
            query = query.where(UsageRecord.tenant_id == tenant_id)
        async with self._sessions() as session:
            return (await session.scalars(query)).all()

    async def provider_activity(self, since: datetime) -> dict[str, ProviderActivity]:
        """Per provider, for requests since `since`: tries, failed tries, times to first byte."""
        await self._written()
        recent = UsageRecord.created_at >= since
        tries = (
            select(
                ProviderAttempt.provider,
                func.count(ProviderAttempt.id),
                func.coalesce(
                    func.sum(case((ProviderAttempt.status >= ERROR_STATUS, 1), else_=0)), 0
                ),
            )
            .join(UsageRecord, UsageRecord.id == ProviderAttempt.usage_id)
            .where(recent)
            .group_by(ProviderAttempt.provider)
        )
        first_bytes = (
            select(UsageRecord.provider, UsageRecord.time_to_first_byte_ms)
            .where(
                recent,
                UsageRecord.provider.is_not(None),
                UsageRecord.time_to_first_byte_ms.is_not(None),
                UsageRecord.status < ERROR_STATUS,
            )
            .order_by(UsageRecord.id.desc())
            .limit(FIRST_BYTE_SAMPLES)
        )
        async with self._sessions() as session:
            counts = {row[0]: (int(row[1]), int(row[2])) for row in await session.execute(tries)}
            samples: dict[str, list[float]] = {}
            for provider, milliseconds in await session.execute(first_bytes):
                if provider is not None and milliseconds is not None:
                    samples.setdefault(provider, []).append(milliseconds)
        return {
            name: ProviderActivity(*counts.get(name, (0, 0)), tuple(samples.get(name, ())))
            for name in counts.keys() | samples.keys()
        }

    async def rows(
        self, tenant_id: str | None, start_day: date, end_day: date, *, page_size: int = 1000
    ) -> AsyncIterator[UsageRecord]:
        """Records for days in [start_day, end_day), in id order, read a page at a time."""
        await self._written()
        where = _in_scope(tenant_id, start_day, end_day)
        after = 0
        while True:
            query = (
                select(UsageRecord)
                .where(*where, UsageRecord.id > after)
                .order_by(UsageRecord.id)
                .limit(page_size)
            )
            # A short session per page: a slow reader never holds a connection or a snapshot.
            async with self._sessions() as session:
                page = (await session.scalars(query)).all()
            for record in page:
                yield record
            if len(page) < page_size:
                return
            after = page[-1].id


_TOTALS = (
    func.count(UsageRecord.id),
    func.coalesce(func.sum(case((UsageRecord.status >= ERROR_STATUS, 1), else_=0)), 0),
    func.coalesce(func.sum(UsageRecord.input_characters), 0),
    func.coalesce(func.sum(UsageRecord.audio_seconds), 0.0),
    func.coalesce(func.sum(UsageRecord.output_bytes), 0),
    func.coalesce(func.sum(UsageRecord.cost_usd), 0.0),
)


def _attach(usage_id: int, attempts: Sequence[ProviderAttempt]) -> None:
    for attempt in attempts:
        attempt.usage_id = usage_id


def _in_scope(tenant_id: str | None, start_day: date, end_day: date) -> list[ColumnElement[bool]]:
    where = [UsageRecord.day >= start_day.isoformat(), UsageRecord.day < end_day.isoformat()]
    if tenant_id is not None:
        where.append(UsageRecord.tenant_id == tenant_id)
    return where


async def _grouped(
    session: AsyncSession, column: InstrumentedAttribute[str], where: list[ColumnElement[bool]]
) -> list[tuple[str, UsageTotals]]:
    query = select(column, *_TOTALS).where(*where).group_by(column).order_by(column)
    return [(row[0], _totals(row[1:])) for row in await session.execute(query)]


def _totals(row: Sequence[Any]) -> UsageTotals:
    # PostgreSQL sums BIGINT columns as NUMERIC, which asyncpg returns as Decimal.
    requests, errors, characters, seconds, output_bytes, cost = row
    return UsageTotals(
        int(requests), int(errors), int(characters), float(seconds), int(output_bytes), float(cost)
    )

"""Usage metering on a real database: writing records, summaries and export."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import IN_PROGRESS, ProviderAttempt, UsageRecord
from storage.usage_records import UsageRepository, UsageTotals
from tests.support.databases import sessions

MARCH_1 = date(2026, 3, 1)
MARCH_2 = date(2026, 3, 2)
MARCH_3 = date(2026, 3, 3)


def run(
    url: str,
    body: Callable[[UsageRepository, async_sessionmaker[AsyncSession]], Awaitable[None]],
) -> None:
    """Run `body` with a usage repository on `url` and its sessions."""

    async def main() -> None:
        async with sessions(url) as factory:
            await body(UsageRepository(factory), factory)

    asyncio.run(main())


def record(
    tenant_id: str,
    day: date,
    *,
    model: str = "tts-1",
    status: int = 200,
    characters: int = 10,
    seconds: float = 1.0,
    output_bytes: int = 100,
    cost: float = 0.5,
) -> UsageRecord:
    """A usage row created at noon UTC on `day`."""
    return UsageRecord(
        request_id=f"req_{secrets.token_hex(12)}",
        created_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        dialect="openai",
        tenant_id=tenant_id,
        requested_model=model,
        input_characters=characters,
        audio_seconds=seconds,
        output_bytes=output_bytes,
        status=status,
        cost_usd=cost,
    )


async def seed(usage: UsageRepository) -> None:
    """Rows for tenants A and B over three days, one of them still in progress."""
    await usage.start(record("ten_a", MARCH_1, characters=10, output_bytes=2**33))
    await usage.start(record("ten_a", MARCH_1, model="tts-hd", status=502, cost=0.0))
    await usage.start(record("ten_a", MARCH_2, status=IN_PROGRESS, seconds=0.0, cost=0.0))
    await usage.start(record("ten_a", MARCH_3, characters=1000))
    await usage.start(record("ten_b", MARCH_1, model="tts-hd", characters=7, cost=2.25))
    await usage.start(record("ten_b", MARCH_2, status=429, cost=0.0))


def attempt(number: int, provider: str, status: int) -> ProviderAttempt:
    """One provider try."""
    return ProviderAttempt(
        attempt=number, provider=provider, upstream_model="m", status=status, latency_ms=3.0
    )


def test_start_finish_and_attempts(database_url: str) -> None:
    async def body(usage: UsageRepository, factory: async_sessionmaker[AsyncSession]) -> None:
        started = record("ten_a", MARCH_1, status=IN_PROGRESS)
        usage_id = await usage.start(started, [attempt(1, "a", 503)])
        finished_at = datetime(2026, 3, 1, 12, 0, 2, tzinfo=UTC)
        await usage.finish(usage_id, status=200, latency_ms=12.5, finished_at=finished_at)
        await usage.add_attempts(usage_id, [attempt(2, "b", 200)])
        (stored,) = await usage.for_request("ten_a", started.request_id)
        assert (stored.id, stored.day, stored.status) == (usage_id, "2026-03-01", 200)
        assert (stored.latency_ms, stored.finished_at) == (12.5, finished_at)
        assert (stored.failovers, stored.output_bytes) == (0, 100)
        assert await usage.for_request("ten_b", started.request_id) == []
        query = select(ProviderAttempt).order_by(ProviderAttempt.attempt)
        async with factory() as session:
            attempts = (await session.scalars(query)).all()
        assert [(a.usage_id, a.provider, a.status) for a in attempts] == [
            (usage_id, "a", 503),
            (usage_id, "b", 200),
        ]

    run(database_url, body)


def test_day_defaults_to_the_utc_date_of_creation(database_url: str) -> None:
    async def body(usage: UsageRepository, _factory: async_sessionmaker[AsyncSession]) -> None:
        late = record("ten_a", MARCH_1)
        late.created_at = datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
        await usage.add(late)
        (stored,) = await usage.for_request("ten_a", late.request_id)
        assert stored.day == "2026-03-02"

    run(database_url, body)


def test_summary_for_one_tenant(database_url: str) -> None:
    async def body(usage: UsageRepository, _factory: async_sessionmaker[AsyncSession]) -> None:
        await seed(usage)
        summary = await usage.summarize("ten_a", MARCH_1, MARCH_3)
        assert summary.totals == UsageTotals(
            requests=3,
            errors=1,
            input_characters=30,
            audio_seconds=2.0,
            output_bytes=2**33 + 200,
            cost_usd=0.5,
        )
        assert summary.by_day == [
            ("2026-03-01", UsageTotals(2, 1, 20, 2.0, 2**33 + 100, 0.5)),
            ("2026-03-02", UsageTotals(1, 0, 10, 0.0, 100, 0.0)),
        ]
        assert summary.by_model == [
            ("tts-1", UsageTotals(2, 0, 20, 1.0, 2**33 + 100, 0.5)),
            ("tts-hd", UsageTotals(1, 1, 10, 1.0, 100, 0.0)),
        ]
        assert summary.by_tenant is None

    run(database_url, body)


def test_summary_for_every_tenant(database_url: str) -> None:
    async def body(usage: UsageRepository, _factory: async_sessionmaker[AsyncSession]) -> None:
        await seed(usage)
        summary = await usage.summarize(None, MARCH_1, date(2026, 4, 1))
        assert (summary.totals.requests, summary.totals.errors) == (6, 2)
        assert summary.totals.input_characters == 10 + 10 + 10 + 1000 + 7 + 10
        assert summary.totals.cost_usd == pytest.approx(3.25)
        assert summary.by_tenant == [
            ("ten_a", UsageTotals(4, 1, 1030, 3.0, 2**33 + 300, 1.0)),
            ("ten_b", UsageTotals(2, 1, 17, 2.0, 200, 2.25)),
        ]
        assert [day for day, _ in summary.by_day] == ["2026-03-01", "2026-03-02", "2026-03-03"]

    run(database_url, body)


def test_summary_of_an_empty_range(database_url: str) -> None:
    async def body(usage: UsageRepository, _factory: async_sessionmaker[AsyncSession]) -> None:
        await seed(usage)
        summary = await usage.summarize("ten_b", MARCH_3, date(2026, 4, 1))
        assert summary.totals == UsageTotals()
        assert (summary.by_day, summary.by_model) == ([], [])

    run(database_url, body)


def test_rows_stream_in_order_within_scope(database_url: str) -> None:
    async def body(usage: UsageRepository, _factory: async_sessionmaker[AsyncSession]) -> None:
        await seed(usage)
        for day in (MARCH_2, MARCH_2, MARCH_2):
            await usage.start(record("ten_a", day))
        scoped = [row async for row in usage.rows("ten_a", MARCH_2, MARCH_3, page_size=2)]
        assert [row.tenant_id for row in scoped] == ["ten_a"] * 4
        assert {row.day for row in scoped} == {"2026-03-02"}
        ids = [row.id for row in scoped]
        assert ids == sorted(ids)
        everyone = [row async for row in usage.rows(None, MARCH_1, date(2026, 4, 1))]
        assert len(everyone) == 9
        assert [row.id for row in everyone] == sorted(row.id for row in everyone)
        assert [row async for row in usage.rows("ten_c", MARCH_1, MARCH_3)] == []

    run(database_url, body)

"""The latest requests and recent provider activity, read back on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import IN_PROGRESS, UsageRecord
from storage.usage_records import ProviderActivity, UsageRepository
from tests.storage.test_usage_repository import MARCH_1, attempt, record, run

NOON = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_latest_is_newest_first_and_scoped(database_url: str) -> None:
    async def body(usage: UsageRepository, _factory: async_sessionmaker[AsyncSession]) -> None:
        ids = [await usage.start(record(tenant, MARCH_1)) for tenant in ("ten_a", "ten_b") * 3]
        own = await usage.latest("ten_a", 2)
        assert [row.id for row in own] == [ids[4], ids[2]]
        assert {row.tenant_id for row in own} == {"ten_a"}
        everyone = await usage.latest(None, 10)
        assert [row.id for row in everyone] == ids[::-1]
        assert await usage.latest("ten_c", 10) == []

    run(database_url, body)


def served(
    provider: str, first_byte_ms: float, *, status: int = 200, hours_ago: float = 0
) -> UsageRecord:
    """A request `provider` served, made `hours_ago` before noon."""
    row = record("ten_a", MARCH_1, status=status)
    row.created_at = NOON - timedelta(hours=hours_ago)
    row.provider = provider
    row.time_to_first_byte_ms = first_byte_ms
    return row


def test_provider_activity_in_the_window(database_url: str) -> None:
    async def body(usage: UsageRepository, _factory: async_sessionmaker[AsyncSession]) -> None:
        await usage.start(served("a", 100.0), [attempt(1, "b", 503), attempt(2, "a", 200)])
        await usage.start(served("a", 300.0), [attempt(1, "a", 200)])
        await usage.start(served("b", 50.0, status=IN_PROGRESS), [attempt(1, "b", 200)])
        await usage.start(served("a", 9.0, status=500), [attempt(1, "a", 500)])
        await usage.start(served("a", 1.0, hours_ago=3), [attempt(1, "a", 200)])
        activity = await usage.provider_activity(NOON - timedelta(hours=1))
        assert set(activity) == {"a", "b"}
        assert (activity["a"].attempts, activity["a"].errors) == (3, 1)
        assert sorted(activity["a"].first_byte_ms) == [100.0, 300.0]
        assert activity["b"] == ProviderActivity(attempts=2, errors=1, first_byte_ms=(50.0,))
        assert await usage.provider_activity(NOON + timedelta(hours=1)) == {}

    run(database_url, body)

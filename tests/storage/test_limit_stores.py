"""Every limit store: counters, refunds, leases, and exactness under concurrent callers."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine, session_factory
from storage.limits import Claim, Counter, DatabaseLimitStore, LimitStore, Slot
from storage.models import ConcurrencyLease, LimitCounter, utcnow
from storage.redis_limits import RedisLimitStore
from tests.support.databases import migrated_database

pytestmark = pytest.mark.anyio

REDIS_URL = os.environ.get("TTS_ROUTER_TEST_REDIS", "redis://127.0.0.1:6379/0")
SHORT = timedelta(milliseconds=300)
AFTER_SHORT = 0.35

OpenStore = Callable[[], LimitStore]


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "redis"])
def store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database (or the Redis server) per store kind, shared by this module's tests."""
    kind = str(request.param)
    if kind == "redis":
        yield REDIS_URL
        return
    with migrated_database(kind, tmp_path_factory.mktemp(kind)) as url:
        yield url


@pytest.fixture
async def open_store(store_url: str) -> AsyncIterator[OpenStore]:
    """Opens independent stores on one backend, as separate router processes would."""
    prefix = f"tts-router-test:{secrets.token_hex(6)}:"
    stores: list[LimitStore] = []
    engines: list[AsyncEngine] = []

    def open_one() -> LimitStore:
        store: LimitStore
        if store_url.startswith("redis"):
            store = RedisLimitStore.from_url(store_url, prefix)
        else:
            engines.append(create_engine(store_url))
            store = DatabaseLimitStore(session_factory(engines[-1]))
        stores.append(store)
        return store

    yield open_one
    for store in stores:
        await store.close()
    for engine in engines:
        await engine.dispose()
    if store_url.startswith("redis"):
        client = Redis.from_url(store_url)
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
def store(open_store: OpenStore) -> LimitStore:
    """One store."""
    return open_store()


@pytest.fixture
def key() -> str:
    """A key no other test uses, since databases are shared across the module."""
    return f"test:{secrets.token_hex(6)}"


def window_end() -> datetime:
    """The end of a window long enough for any test."""
    return utcnow() + timedelta(minutes=1)


def same_moment(first: datetime, second: datetime) -> bool:
    """Equal to Redis's millisecond precision."""
    return abs(first - second) < timedelta(milliseconds=1)


async def test_take_admits_until_the_limit_then_refuses_without_counting(
    store: LimitStore, key: str
) -> None:
    end = window_end()
    taken = [await store.take(key, 1, 3, end) for _ in range(3)]
    assert [take.used for take in taken] == [1, 2, 3]
    assert all(take.allowed for take in taken)
    refused = await store.take(key, 1, 3, end)
    assert (refused.allowed, refused.used, refused.limit) == (False, 3, 3)
    assert same_moment(refused.reset_at, end)
    assert (await store.take(key, 0, 3, end)).used == 3


async def test_a_refused_big_amount_leaves_room_for_a_small_one(
    store: LimitStore, key: str
) -> None:
    end = window_end()
    assert (await store.take(key, 60, 100, end)).used == 60
    refused = await store.take(key, 50, 100, end)
    assert (refused.allowed, refused.used) == (False, 60)
    assert (await store.take(key, 40, 100, end)).used == 100
    assert not (await store.take(key, 1, 100, end)).allowed


async def test_an_amount_over_the_limit_is_refused_on_a_new_counter(
    store: LimitStore, key: str
) -> None:
    end = window_end()
    refused = await store.take(key, 101, 100, end)
    assert (refused.allowed, refused.used) == (False, 0)
    assert same_moment(refused.reset_at, end)
    assert (await store.take(key, 100, 100, end)).allowed


async def test_negative_amounts_are_rejected(store: LimitStore, key: str) -> None:
    with pytest.raises(ValueError, match="negative"):
        await store.take(key, -1, 10, window_end())
    with pytest.raises(ValueError, match="negative"):
        await store.give_back(key, -1)


async def test_an_expired_counter_counts_as_zero(store: LimitStore, key: str) -> None:
    assert (await store.take(key, 5, 5, utcnow() + SHORT)).allowed
    assert not (await store.take(key, 1, 5, window_end())).allowed
    await asyncio.sleep(AFTER_SHORT)
    end = window_end()
    renewed = await store.take(key, 5, 5, end)
    assert (renewed.allowed, renewed.used) == (True, 5)
    assert same_moment(renewed.reset_at, end)


async def test_give_back_refunds_but_never_below_zero(store: LimitStore, key: str) -> None:
    end = window_end()
    await store.take(key, 10, 100, end)
    await store.give_back(key, 4)
    assert (await store.take(key, 0, 100, end)).used == 6
    await store.give_back(key, 50)
    assert (await store.take(key, 0, 100, end)).used == 0
    assert (await store.take(key, 100, 100, end)).allowed


async def test_give_back_on_a_missing_counter_does_nothing(store: LimitStore, key: str) -> None:
    await store.give_back(key, 5)
    assert (await store.take(key, 0, 100, window_end())).used == 0


async def test_acquire_holds_slots_until_released(store: LimitStore, key: str) -> None:
    first_end = window_end()
    assert (await store.acquire(key, "a", 2, first_end)).used == 1
    assert (await store.acquire(key, "b", 2, first_end + timedelta(seconds=5))).used == 2
    refused = await store.acquire(key, "c", 2, window_end())
    assert (refused.allowed, refused.used, refused.limit) == (False, 2, 2)
    assert same_moment(refused.reset_at, first_end)
    await store.release(key, "a")
    await store.release(key, "nobody")
    assert (await store.acquire(key, "c", 2, window_end())).allowed
    extended = await store.acquire(key, "b", 2, window_end())
    assert (extended.allowed, extended.used) == (True, 2)


async def test_an_expired_lease_frees_its_slot(store: LimitStore, key: str) -> None:
    assert (await store.acquire(key, "a", 1, utcnow() + SHORT)).allowed
    assert not (await store.acquire(key, "b", 1, window_end())).allowed
    await asyncio.sleep(AFTER_SHORT)
    taken = await store.acquire(key, "b", 1, window_end())
    assert (taken.allowed, taken.used) == (True, 1)


@pytest.mark.parametrize("instances", [1, 2])
async def test_concurrent_takes_admit_exactly_the_limit(
    open_store: OpenStore, key: str, instances: int
) -> None:
    stores = [open_store() for _ in range(instances)]
    end = window_end()
    results = await asyncio.gather(
        *(stores[index % instances].take(key, 1, 20, end) for index in range(50))
    )
    assert sum(result.allowed for result in results) == 20
    assert (await stores[0].take(key, 0, 20, end)).used == 20


@pytest.mark.parametrize("instances", [1, 2])
async def test_concurrent_acquires_admit_exactly_the_limit(
    open_store: OpenStore, key: str, instances: int
) -> None:
    stores = [open_store() for _ in range(instances)]
    end = window_end()
    results = await asyncio.gather(
        *(stores[index % instances].acquire(key, f"h{index}", 20, end) for index in range(50))
    )
    assert sum(result.allowed for result in results) == 20
    assert max(result.used for result in results) == 20


async def test_claim_is_all_or_nothing(store: LimitStore, key: str) -> None:
    end = window_end()
    rate, budget = Counter(f"{key}:rate", 1, 5, end), Counter(f"{key}:budget", 30, 50, end)
    slot = Slot(f"{key}:slots", "holder-1", 1, end)
    first = await store.claim([rate, slot, budget])
    assert [take.allowed for take in first] == [True, True, True]
    assert [take.used for take in first] == [1, 1, 30]
    # The budget refuses the second claim, so its rate count and slot are undone.
    second = await store.claim([rate, Slot(f"{key}:slots", "holder-2", 2, end), budget])
    assert [take.allowed for take in second] == [True, True, False]
    assert second[-1].used == 30
    assert (await store.take(f"{key}:rate", 0, 5, end)).used == 1
    assert (await store.acquire(f"{key}:slots", "holder-3", 2, end)).used == 2
    await store.unclaim([slot, budget])
    assert (await store.take(f"{key}:budget", 0, 50, end)).used == 0
    assert (await store.acquire(f"{key}:slots", "holder-4", 2, end)).allowed


@pytest.mark.parametrize("instances", [1, 2])
async def test_concurrent_claims_admit_exactly_the_limit(
    open_store: OpenStore, key: str, instances: int
) -> None:
    stores = [open_store() for _ in range(instances)]
    end = window_end()
    claims: list[list[Claim]] = [
        [Counter(f"{key}:rate", 1, 20, end), Slot(f"{key}:slots", f"h{index}", 100, end)]
        for index in range(50)
    ]
    results = await asyncio.gather(
        *(stores[index % instances].claim(claim) for index, claim in enumerate(claims))
    )
    assert sum(all(take.allowed for take in takes) for takes in results) == 20
    assert (await stores[0].take(f"{key}:rate", 0, 20, end)).used == 20
    assert (await stores[0].acquire(f"{key}:slots", "probe", 100, end)).used == 21


async def test_purge_expired_deletes_only_what_expired(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    store = DatabaseLimitStore(sessions)
    past = utcnow() - timedelta(seconds=1)
    await store.take("old", 1, 10, past)
    await store.take("live", 1, 10, window_end())
    await store.acquire("old slots", "old", 10, past)
    await store.acquire("live slots", "live", 10, window_end())
    assert await store.purge_expired() == 2
    async with sessions() as session:
        assert list(await session.scalars(select(LimitCounter.key))) == ["live"]
        assert list(await session.scalars(select(ConcurrencyLease.holder))) == ["live"]
    await store.close()
    await engine.dispose()


async def test_redis_claims_survive_a_script_flush(key: str) -> None:
    store = RedisLimitStore.from_url(REDIS_URL, f"tts-router-test:{secrets.token_hex(6)}:")
    end = window_end()
    assert (await store.take(key, 1, 5, end)).used == 1
    client = Redis.from_url(REDIS_URL)
    await client.script_flush()
    await client.aclose()
    assert (await store.take(key, 1, 5, end)).used == 2
    await store.close()

"""The speech job queue on a real database: leases, results, retention and exactness."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine, session_factory
from storage.jobs import (
    COMPLETED,
    ERROR,
    PROCESSING,
    QUEUED,
    WORKER_LOST,
    JobRepository,
    QueueFullError,
)
from storage.models import SpeechJob, utcnow
from storage.tenants import TenantRepository
from tests.support.databases import BACKENDS, migrated_database

pytestmark = pytest.mark.anyio

LEASE = timedelta(minutes=5)
# A lease that has already run out, as if its worker died right after claiming.
LAPSED = timedelta(seconds=-1)
MAX_ATTEMPTS = 3
ROOMY = 1000

OpenJobs = Callable[[], JobRepository]


@pytest.fixture(scope="module", params=BACKENDS)
def queue_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One migrated database per backend, shared by this module's tests."""
    kind = str(request.param)
    with migrated_database(kind, tmp_path_factory.mktemp(kind)) as url:
        yield url


@pytest.fixture
async def open_jobs(queue_database: str) -> AsyncIterator[OpenJobs]:
    """Opens repositories on separate engines, as separate router processes would.

    The queue is emptied first: claims take the oldest job of any test.
    """
    engines: list[AsyncEngine] = []

    def open_one() -> JobRepository:
        engines.append(create_engine(queue_database))
        return JobRepository(session_factory(engines[-1]))

    cleaner = create_engine(queue_database)
    async with session_factory(cleaner).begin() as session:
        await session.execute(delete(SpeechJob))
    await cleaner.dispose()
    yield open_one
    for engine in engines:
        await engine.dispose()


@pytest.fixture
def jobs(open_jobs: OpenJobs) -> JobRepository:
    """One repository."""
    return open_jobs()


@pytest.fixture
async def tenant_id(queue_database: str) -> str:
    """A tenant of its own for each test."""
    engine = create_engine(queue_database)
    tenant = await TenantRepository(session_factory(engine)).create(f"t-{secrets.token_hex(6)}")
    await engine.dispose()
    return tenant.id


async def enqueue(
    jobs: JobRepository, tenant_id: str, *, max_queued: int = ROOMY, text: str = "hello"
) -> str:
    """Queue a job for `tenant_id`; returns its id."""
    job = await jobs.enqueue(
        job_id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        key_id=None,
        dialect="openai",
        model="tts-1",
        request={"input": text, "voice": "alloy"},
        max_queued=max_queued,
    )
    return job.id


async def fetch(jobs: JobRepository, tenant_id: str, job_id: str) -> SpeechJob:
    """The job, which must exist."""
    job = await jobs.get(tenant_id, job_id)
    assert job is not None
    return job


async def test_enqueue_commits_a_queued_job_visible_to_its_tenant_only(
    open_jobs: OpenJobs, tenant_id: str
) -> None:
    before = utcnow()
    job_id = await enqueue(open_jobs(), tenant_id, text="bonjour")
    elsewhere = open_jobs()
    job = await fetch(elsewhere, tenant_id, job_id)
    assert (job.status, job.dialect, job.model, job.attempts) == (QUEUED, "openai", "tts-1", 0)
    assert job.request == {"input": "bonjour", "voice": "alloy"}
    assert before <= job.created_at <= utcnow()
    assert (job.started_at, job.finished_at, job.worker, job.lease_until) == (None,) * 4
    assert await elsewhere.get("ten_someone_else", job_id) is None
    assert await elsewhere.get(tenant_id, str(uuid.uuid4())) is None
    assert await elsewhere.depth() == 1


async def test_claim_takes_the_oldest_job_first_and_none_when_empty(
    jobs: JobRepository, tenant_id: str
) -> None:
    assert await jobs.claim("w1", LEASE, MAX_ATTEMPTS) is None
    queued = [await enqueue(jobs, tenant_id) for _ in range(3)]
    before = utcnow()
    claimed = [await jobs.claim(f"w{index}", LEASE, MAX_ATTEMPTS) for index in range(3)]
    assert [job.id if job else None for job in claimed] == queued
    first = claimed[0]
    assert first is not None
    assert (first.status, first.worker, first.attempts) == (PROCESSING, "w0", 1)
    assert first.started_at is not None
    assert before <= first.started_at <= utcnow()
    assert first.lease_until is not None
    assert first.lease_until - first.started_at == LEASE
    assert await jobs.claim("w4", LEASE, MAX_ATTEMPTS) is None
    assert await jobs.depth() == 3


async def test_a_leased_job_is_not_claimed_again(open_jobs: OpenJobs, tenant_id: str) -> None:
    first, second = open_jobs(), open_jobs()
    job_id = await enqueue(first, tenant_id)
    claimed = await first.claim("w1", LEASE, MAX_ATTEMPTS)
    assert claimed is not None
    assert claimed.id == job_id
    assert await second.claim("w2", LEASE, MAX_ATTEMPTS) is None
    assert (await fetch(second, tenant_id, job_id)).worker == "w1"


async def test_an_expired_lease_passes_the_job_to_another_worker(
    jobs: JobRepository, tenant_id: str
) -> None:
    job_id = await enqueue(jobs, tenant_id)
    lost = await jobs.claim("w1", LAPSED, MAX_ATTEMPTS)
    assert lost is not None
    retaken = await jobs.claim("w2", LEASE, MAX_ATTEMPTS)
    assert retaken is not None
    assert (retaken.id, retaken.worker, retaken.attempts) == (job_id, "w2", 2)
    assert retaken.started_at == lost.started_at
    expires_at = utcnow() + LEASE
    assert not await jobs.complete(job_id, "w1", audio_id="aud_old", expires_at=expires_at)
    assert not await jobs.fail(job_id, "w1", code="late", message="late", expires_at=expires_at)
    assert (await fetch(jobs, tenant_id, job_id)).status == PROCESSING
    assert await jobs.complete(job_id, "w2", audio_id="aud_new", expires_at=expires_at)
    done = await fetch(jobs, tenant_id, job_id)
    assert (done.status, done.worker, done.audio_id, done.error_code) == (
        COMPLETED,
        "w2",
        "aud_new",
        None,
    )


async def test_a_job_out_of_attempts_becomes_an_error_and_the_next_one_is_claimed(
    jobs: JobRepository, tenant_id: str
) -> None:
    doomed = await enqueue(jobs, tenant_id)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        claimed = await jobs.claim(f"w{attempt}", LAPSED, MAX_ATTEMPTS)
        assert claimed is not None
        assert (claimed.id, claimed.attempts) == (doomed, attempt)
    waiting = await enqueue(jobs, tenant_id)
    before = utcnow()
    claimed = await jobs.claim("w9", LEASE, MAX_ATTEMPTS)
    assert claimed is not None
    assert claimed.id == waiting
    failed = await fetch(jobs, tenant_id, doomed)
    assert (failed.status, failed.error_code, failed.attempts) == (ERROR, WORKER_LOST, 3)
    assert failed.error_message
    assert failed.lease_until is None
    assert failed.finished_at is not None
    assert before <= failed.finished_at <= utcnow()
    assert failed.expires_at is not None
    assert failed.expires_at > failed.finished_at
    assert await jobs.claim("w10", LEASE, MAX_ATTEMPTS) is None
    assert await jobs.depth() == 1


async def test_only_the_holder_renews_its_lease(jobs: JobRepository, tenant_id: str) -> None:
    job_id = await enqueue(jobs, tenant_id)
    claimed = await jobs.claim("w1", timedelta(seconds=30), MAX_ATTEMPTS)
    assert claimed is not None
    assert claimed.lease_until is not None
    assert not await jobs.renew(job_id, "stranger", LEASE)
    assert (await fetch(jobs, tenant_id, job_id)).lease_until == claimed.lease_until
    assert await jobs.renew(job_id, "w1", LEASE)
    renewed = await fetch(jobs, tenant_id, job_id)
    assert renewed.lease_until is not None
    assert renewed.lease_until - claimed.lease_until >= LEASE - timedelta(seconds=30)
    assert not await jobs.renew(str(uuid.uuid4()), "w1", LEASE)


async def test_complete_and_fail_record_the_outcome_once(
    jobs: JobRepository, tenant_id: str
) -> None:
    completed, failed = await enqueue(jobs, tenant_id), await enqueue(jobs, tenant_id)
    expires_at = utcnow() + timedelta(hours=1)
    assert not await jobs.complete(completed, "w1", audio_id="aud_1", expires_at=expires_at)
    await jobs.claim("w1", LEASE, MAX_ATTEMPTS)
    await jobs.claim("w2", LEASE, MAX_ATTEMPTS)
    before = utcnow()
    assert await jobs.complete(completed, "w1", audio_id="aud_1", expires_at=expires_at)
    assert await jobs.fail(failed, "w2", code="upstream", message="x" * 5000, expires_at=expires_at)
    assert not await jobs.fail(completed, "w1", code="again", message="", expires_at=expires_at)
    assert not await jobs.complete(failed, "w2", audio_id="aud_2", expires_at=expires_at)

    done = await fetch(jobs, tenant_id, completed)
    assert (done.status, done.audio_id, done.expires_at, done.lease_until) == (
        COMPLETED,
        "aud_1",
        expires_at,
        None,
    )
    assert (done.error_code, done.error_message) == (None, None)
    assert done.finished_at is not None
    assert before <= done.finished_at <= utcnow()
    broken = await fetch(jobs, tenant_id, failed)
    assert (broken.status, broken.error_code, broken.audio_id) == (ERROR, "upstream", None)
    assert broken.error_message == "x" * 1024
    assert (broken.expires_at, broken.lease_until) == (expires_at, None)
    assert broken.finished_at is not None
    assert await jobs.depth() == 0


async def test_purge_expired_removes_only_expired_finished_jobs(
    jobs: JobRepository, tenant_id: str
) -> None:
    now = utcnow()
    past, future = now - timedelta(seconds=1), now + timedelta(hours=1)
    outcomes = {
        "old audio": ("aud_old", past),
        "old error": (None, past),
        "live audio": ("aud_live", future),
    }
    ids = {name: await enqueue(jobs, tenant_id) for name in outcomes}
    waiting = await enqueue(jobs, tenant_id)
    for name, (audio_id, expires_at) in outcomes.items():
        claimed = await jobs.claim(name, LEASE, MAX_ATTEMPTS)
        assert claimed is not None
        if audio_id is None:
            assert await jobs.fail(ids[name], name, code="x", message="x", expires_at=expires_at)
        else:
            assert await jobs.complete(ids[name], name, audio_id=audio_id, expires_at=expires_at)
    leased = await jobs.claim("leased", LAPSED, MAX_ATTEMPTS)
    assert leased is not None
    assert leased.id == waiting

    assert await jobs.purge_expired(now) == ["aud_old"]
    assert await jobs.get(tenant_id, ids["old audio"]) is None
    assert await jobs.get(tenant_id, ids["old error"]) is None
    assert await jobs.get(tenant_id, ids["live audio"]) is not None
    assert await jobs.get(tenant_id, waiting) is not None
    assert await jobs.purge_expired(now) == []
    assert await jobs.purge_expired(future) == ["aud_live"]


async def test_a_full_queue_refuses_until_a_job_finishes(
    jobs: JobRepository, tenant_id: str, queue_database: str
) -> None:
    engine = create_engine(queue_database)
    other_tenant = await TenantRepository(session_factory(engine)).create(secrets.token_hex(6))
    await engine.dispose()
    await enqueue(jobs, tenant_id, max_queued=2)
    await enqueue(jobs, other_tenant.id, max_queued=2)
    with pytest.raises(QueueFullError):
        await enqueue(jobs, tenant_id, max_queued=2)
    assert await jobs.depth() == 2
    claimed = await jobs.claim("w1", LEASE, MAX_ATTEMPTS)
    assert claimed is not None
    with pytest.raises(QueueFullError):
        await enqueue(jobs, tenant_id, max_queued=2)
    assert await jobs.complete(claimed.id, "w1", audio_id="a", expires_at=utcnow())
    await enqueue(jobs, tenant_id, max_queued=2)
    assert await jobs.depth() == 2


async def test_concurrent_enqueues_from_two_processes_admit_exactly_the_bound(
    open_jobs: OpenJobs, tenant_id: str
) -> None:
    processes = [open_jobs(), open_jobs()]
    results = await asyncio.gather(
        *(enqueue(processes[index % 2], tenant_id, max_queued=10) for index in range(30)),
        return_exceptions=True,
    )
    admitted = [result for result in results if isinstance(result, str)]
    refused = [result for result in results if isinstance(result, QueueFullError)]
    assert (len(admitted), len(refused)) == (10, 20)
    assert await processes[0].depth() == 10
    assert all([await processes[1].get(tenant_id, job_id) for job_id in admitted])


async def test_concurrent_workers_in_two_processes_complete_every_job_exactly_once(
    open_jobs: OpenJobs, tenant_id: str
) -> None:
    processes = [open_jobs(), open_jobs()]
    queued = {await enqueue(processes[0], tenant_id) for _ in range(60)}
    claims: Counter[str] = Counter()
    completions: Counter[str] = Counter()

    async def work(jobs: JobRepository, worker: str) -> None:
        while (job := await jobs.claim(worker, LEASE, MAX_ATTEMPTS)) is not None:
            claims[job.id] += 1
            await asyncio.sleep(0)
            expires_at = utcnow() + LEASE
            if await jobs.complete(job.id, worker, audio_id=f"aud_{worker}", expires_at=expires_at):
                completions[job.id] += 1

    await asyncio.gather(*(work(processes[index % 2], f"w{index}") for index in range(8)))
    assert set(claims) == queued
    assert set(claims.values()) == {1}
    assert completions == claims
    assert await processes[1].depth() == 0
    statuses = {(await fetch(processes[1], tenant_id, job_id)).status for job_id in queued}
    assert statuses == {COMPLETED}

"""Faults under load on two replicas: one killed, PostgreSQL gone a while; nothing is lost."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.replicas import Topology, topology
from tests.support.server import RunningRouter

JOBS = 100
STREAMS = 50
SLOW = {"model": "slow", "input": "Streamed.", "voice": "alloy", "response_format": "pcm"}
JOB = {"model": "Chatterbox", "input": "Queued.", "voice": "leo"}
FINAL = {"COMPLETED", "ERROR"}


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Topology]:
    with topology(tmp_path, workers=2, delay=0.1) as made:
        yield made


def _key(shared: Topology, router: RunningRouter) -> str:
    headers = {"authorization": f"Bearer {shared.admin_key}"}
    made = httpx.post(f"{router.base_url}/admin/v1/tenants/acme/keys", json={}, headers=headers)
    assert made.status_code == 201, made.text
    return str(made.json()["key"])


async def _stream(client: httpx.AsyncClient, url: str) -> str | None:
    """One streamed request; its request id if it was answered, however its body ended."""
    try:
        async with client.stream("POST", url, json=SLOW) as response:
            request_id = response.headers.get("x-request-id")
            try:
                async for _ in response.aiter_raw():
                    pass
            except httpx.HTTPError:
                pass  # cut off by the kill: answered all the same
            return request_id if response.status_code == 200 else None
    except httpx.HTTPError:
        return None  # never answered


async def _load(
    routers: list[RunningRouter], key: str, doomed: RunningRouter
) -> tuple[list[str], list[str]]:
    """JOBS jobs and STREAMS streams over both replicas, `doomed` killed in the middle."""
    headers = {"authorization": key}
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        created = await asyncio.gather(
            *(
                client.post(f"{routers[n % 2].base_url}/async/speech/create", json=JOB)
                for n in range(JOBS)
            )
        )
        assert [answer.status_code for answer in created] == [200] * JOBS
        streams = [
            asyncio.ensure_future(_stream(client, f"{routers[n % 2].base_url}/v1/audio/speech"))
            for n in range(STREAMS)
        ]
        await asyncio.sleep(1.0)
        doomed.process.send_signal(signal.SIGKILL)
        answered = [request_id for request_id in await asyncio.gather(*streams) if request_id]
    return [str(answer.json()["id"]) for answer in created], answered


async def _usage_rows(url: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return list(await connection.fetch("select request_id, status from usage_records"))
    finally:
        await connection.close()


async def _jobs(url: str) -> dict[str, str]:
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        rows = await connection.fetch("select id, status from speech_jobs")
    finally:
        await connection.close()
    return {row["id"]: row["status"] for row in rows}


def _wait(check: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_replica_killed_under_load_loses_nothing(shared: Topology) -> None:
    url = shared.env["TTS_ROUTER_DATABASE_URL"]
    with shared.replica(0) as survivor:
        with shared.replica(1) as doomed:
            key = _key(shared, survivor)
            job_ids, answered = asyncio.run(_load([survivor, doomed], key, doomed))
            doomed.process.wait()
        with shared.replica(1):  # restarted: it restores what its journal holds
            _wait(lambda: set(asyncio.run(_jobs(url)).values()) <= FINAL)
            _wait(lambda: set(job_ids + answered) <= {r[0] for r in asyncio.run(_usage_rows(url))})
    jobs = asyncio.run(_jobs(url))
    assert set(jobs) == set(job_ids)
    assert set(jobs.values()) <= FINAL
    rows = asyncio.run(_usage_rows(url))
    per_request = Counter(row["request_id"] for row in rows)
    # Exactly one row for each job and for each request that was answered, and no other.
    assert {request_id: per_request[request_id] for request_id in job_ids + answered} == (
        dict.fromkeys(job_ids + answered, 1)
    )
    assert sum(per_request.values()) == len(job_ids) + len(answered)
    statuses = {row["request_id"]: row["status"] for row in rows}
    assert all(statuses[job_id] == 200 for job_id in job_ids if jobs[job_id] == "COMPLETED")
    assert 0 not in statuses.values()
    assert len(answered) > STREAMS // 2


def test_requests_resume_when_postgresql_comes_back(shared: Topology) -> None:
    url = shared.env["TTS_ROUTER_DATABASE_URL"]
    with shared.replica(0) as first, shared.replica(1) as second:
        key = _key(shared, first)
        routers = [first, second]

        async def speak(count: int) -> list[httpx.Response]:
            headers = {"authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(headers=headers, timeout=60) as client:
                return await asyncio.gather(
                    *(
                        client.post(f"{routers[n % 2].base_url}/v1/audio/speech", json=SLOW)
                        for n in range(count)
                    )
                )

        async def through_an_outage() -> tuple[list[httpx.Response], list[httpx.Response]]:
            answers = asyncio.ensure_future(speak(20))
            await asyncio.sleep(0.5)
            shared.database.cut()
            # Past the key cache: each replica must ask the database, and cannot.
            await asyncio.sleep(2.5)
            refused = await speak(2)
            shared.database.restore()
            return await answers, refused

        during, refused = asyncio.run(through_an_outage())
        assert {answer.status_code for answer in during} == {200}
        for answer in refused:
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"]["code"] == "database_unavailable"
            assert answer.headers["retry-after"] == "2"
        after = asyncio.run(speak(4))
        assert {answer.status_code for answer in after} == {200}
        answered = [answer.headers["x-request-id"] for answer in during + after]
        _wait(lambda: set(answered) <= {r[0] for r in asyncio.run(_usage_rows(url))}, 30)
        for router in routers:
            assert "Traceback" not in router.log()
    per_request = Counter(row["request_id"] for row in asyncio.run(_usage_rows(url)))
    assert {request_id: per_request[request_id] for request_id in answered} == (
        dict.fromkeys(answered, 1)
    )

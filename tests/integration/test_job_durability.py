"""Async jobs survive SIGKILL, run exactly once across processes, and a full queue says so."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.databases import BACKENDS, postgres_database, router_database, rows_in
from tests.support.server import RunningRouter, cli, run_router
from tests.support.setups import set_up, write_config

CREATE = "/async/speech/create"
RESULT = "/async/speech/result"
BODY = {"model": "Chatterbox", "input": "Durable speech.", "voice": "leo"}


def config(chain: str, *, delay: float = 0.0, **jobs: object) -> str:
    """A router config with only the scripted provider, Chatterbox routed to `chain`."""
    settings = "\n".join(f"{key} = {value}" for key, value in jobs.items())
    return f"""
[providers.scripted]
plugin = "scripted"
options = {{ expressive_delay = {delay} }}

[[routes]]
model = "Chatterbox"
chain = [{{ provider = "scripted", model = "{chain}" }}]

[jobs]
poll_seconds = 0.1
{settings}
"""


def results(base_url: str, key: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each job's current result."""
    headers = {"authorization": key}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        return {job_id: client.post(RESULT, json={"id": job_id}).json() for job_id in ids}


def wait_until(check: Any, timeout: float = 60.0) -> None:
    """Poll `check()` until it is true."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


async def create_jobs(base_urls: list[str], key: str, count: int, **body: str) -> list[str]:
    """`count` jobs created at once, spread over the routers."""
    async with httpx.AsyncClient(headers={"authorization": key}, timeout=30) as client:
        urls = [f"{base_urls[n % len(base_urls)]}{CREATE}" for n in range(count)]
        responses = await asyncio.gather(*(client.post(url, json={**BODY, **body}) for url in urls))
    assert [response.status_code for response in responses] == [200] * count
    return [str(response.json()["id"]) for response in responses]


@pytest.mark.parametrize("backend", BACKENDS)
def test_jobs_survive_sigkill_and_complete_once(tmp_path: Path, backend: str) -> None:
    # One process: its local blob store needs no sharing, whatever its database.
    text = config("expressive", delay=1.0, workers=2, lease_seconds=2)
    text += "\n[blobs]\nshared_directory = true\n"
    with router_database(backend) as env:
        setup = set_up(tmp_path, text, env)
        key = setup.key
        with setup.router() as router:
            ids = asyncio.run(create_jobs([router.base_url], key, 6))
            wait_until(lambda: "PROCESSING" in statuses(router, key, ids))
            router.process.send_signal(signal.SIGKILL)
            router.process.wait()
        query = "select count(*) from speech_jobs where status != 'COMPLETED'"
        assert rows_in(env, setup.data, query)[0][0] >= 1
        with setup.router() as restarted:
            wait_until(lambda: set(statuses(restarted, key, ids)) == {"COMPLETED"})
            for result in results(restarted.base_url, key, ids).values():
                assert httpx.get(result["results"][0]["url"]).status_code == 200
        usage = rows_in(env, setup.data, "select request_id, status from usage_records")
        audio = rows_in(env, setup.data, "select audio_id from speech_jobs")
    assert Counter(request_id for request_id, _ in usage) == Counter(ids)
    assert {status for _, status in usage} == {200}
    assert len({audio_id for (audio_id,) in audio}) == len(ids)


def statuses(router: RunningRouter, key: str, ids: list[str]) -> list[str]:
    """Each job's status."""
    return [result["status"] for result in results(router.base_url, key, ids).values()]


@pytest.fixture
def two_routers_on_postgres(tmp_path: Path) -> Iterator[tuple[list[RunningRouter], str, str]]:
    """Two routers sharing one fresh PostgreSQL database, a key, and the database's URL."""
    # One machine: both routers share the blob directory, as replicas would a volume.
    blobs = f'\n[blobs]\ndirectory = "{tmp_path / "blobs"}"\nshared_directory = true\n'
    path, plugins = write_config(
        tmp_path, config("expressive", delay=0.05, workers=2, lease_seconds=5) + blobs
    )
    with postgres_database() as url, ExitStack() as stack:
        env = {"TTS_ROUTER_DATABASE_URL": url}
        cli("db", "upgrade", env=env)
        cli("tenants", "create", "shared", env=env)
        key = cli("keys", "create", "--tenant", "shared", env=env)[-1]
        routers = [
            stack.enter_context(
                run_router(tmp_path / f"data{n}", config=path, python_path=plugins, env=env)
            )
            for n in range(2)
        ]
        yield routers, key, url


async def job_rows(url: str) -> list[asyncpg.Record]:
    """Every job's status, attempts and worker, read straight from PostgreSQL."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows: list[asyncpg.Record] = await connection.fetch(
            "select id, status, attempts, worker, "
            "(select count(*) from usage_records where request_id = speech_jobs.id) as usage "
            "from speech_jobs"
        )
        return rows
    finally:
        await connection.close()


def test_two_processes_drain_one_queue_exactly_once(
    two_routers_on_postgres: tuple[list[RunningRouter], str, str],
) -> None:
    routers, key, url = two_routers_on_postgres
    ids = asyncio.run(create_jobs([router.base_url for router in routers], key, 40))
    wait_until(lambda: set(statuses(routers[0], key, ids)) == {"COMPLETED"})
    rows = asyncio.run(job_rows(url))
    assert sorted(row["id"] for row in rows) == sorted(ids)
    assert {(row["status"], row["attempts"], row["usage"]) for row in rows} == {("COMPLETED", 1, 1)}
    processes = Counter(row["worker"].rsplit(":", 1)[0] for row in rows)
    assert len(processes) == 2, processes


def test_a_full_queue_refuses_with_429(tmp_path: Path) -> None:
    setup = set_up(tmp_path, config("expressive", workers=0, max_queued=2))
    key = setup.key
    with setup.router() as router:
        headers = {"authorization": key}
        url = f"{router.base_url}{CREATE}"
        accepted = [httpx.post(url, json=BODY, headers=headers) for _ in range(2)]
        assert [response.status_code for response in accepted] == [200, 200]
        refused = httpx.post(f"{router.base_url}{CREATE}", json=BODY, headers=headers)
        assert refused.status_code == 429
        assert refused.json() == {
            "message": "The speech job queue is full (2 jobs waiting); try again later."
        }
        assert int(refused.headers["retry-after"]) >= 1
        ids = [response.json()["id"] for response in accepted]
        assert statuses(router, key, ids) == ["QUEUED", "QUEUED"]


def test_a_failing_provider_ends_the_job_in_error(tmp_path: Path) -> None:
    setup = set_up(tmp_path, config("unavailable", workers=1))
    key = setup.key
    with setup.router() as router:
        headers = {"authorization": key}
        body = {**BODY, "voice": "tone"}
        created = httpx.post(f"{router.base_url}{CREATE}", json=body, headers=headers)
        assert created.status_code == 200, created.text
        job_id = created.json()["id"]
        wait_until(lambda: statuses(router, key, [job_id]) == ["ERROR"])
        answer = httpx.post(f"{router.base_url}{RESULT}", json={"id": job_id}, headers=headers)
        assert answer.json()["results"] == []
        assert answer.json()["finished"] >= answer.json()["created"]
        assert answer.headers["x-job-error-code"] == "service_unavailable"
        assert "scripted provider is down" in answer.headers["x-job-error"]


def test_expired_results_and_their_blobs_are_purged(tmp_path: Path) -> None:
    text = config("expressive", workers=1, retention_seconds=2, purge_seconds=0.2)
    setup = set_up(tmp_path, text + "\n[outputs]\nurl_ttl_seconds = 2\n")
    key = setup.key
    outputs = setup.data / "blobs" / "outputs"
    with setup.router() as router:
        headers = {"authorization": key}
        sync_url = f"{router.base_url}/distribute/v1/audio/speech"
        synced = httpx.post(sync_url, json=BODY, headers=headers)
        created = httpx.post(f"{router.base_url}{CREATE}", json=BODY, headers=headers)
        job_id = created.json()["id"]
        wait_until(lambda: statuses(router, key, [job_id]) == ["COMPLETED"])
        url = results(router.base_url, key, [job_id])[job_id]["results"][0]["url"]
        assert len(list(outputs.rglob("*.wav"))) == 2
        wait_until(lambda: not list(outputs.rglob("*.wav")), timeout=10)
        gone = httpx.post(f"{router.base_url}{RESULT}", json={"id": job_id}, headers=headers)
        assert gone.status_code == 404
        assert httpx.get(url).status_code == 404
        assert httpx.get(synced.json()[0]["url"]).status_code == 404
    with sqlite3.connect(setup.database) as db:
        assert db.execute("select count(*) from speech_jobs").fetchone()[0] == 0
        assert db.execute("select count(*) from stored_audio").fetchone()[0] == 0


def test_a_stopping_router_puts_its_running_jobs_back(tmp_path: Path) -> None:
    setup = set_up(tmp_path, config("expressive", delay=30.0, workers=1))
    key = setup.key
    with setup.router() as router:
        [job_id] = asyncio.run(create_jobs([router.base_url], key, 1))
        wait_until(lambda: statuses(router, key, [job_id]) == ["PROCESSING"])
    with sqlite3.connect(setup.database) as db:
        row = db.execute("select status, attempts, worker from speech_jobs").fetchone()
    assert row == ("QUEUED", 0, None)


def test_a_job_run_again_numbers_its_attempts_after_the_first_run(tmp_path: Path) -> None:
    # `slow` makes its first audio at once and its last after 3 s: the kill comes in between,
    # once the first run's row and attempt are journaled.
    setup = set_up(tmp_path, config("slow", workers=1, lease_seconds=2))
    with setup.router() as router:
        (job_id,) = asyncio.run(create_jobs([router.base_url], setup.key, 1, voice="alloy"))
        wait_until(lambda: statuses(router, setup.key, [job_id]) == ["PROCESSING"])
        time.sleep(1.0)
        router.process.send_signal(signal.SIGKILL)
        router.process.wait()
    with setup.router() as restarted:
        wait_until(lambda: statuses(restarted, setup.key, [job_id]) == ["COMPLETED"])
    with sqlite3.connect(setup.database) as db:
        usage = db.execute("select id, status from usage_records").fetchall()
        attempts = db.execute(
            "select attempt, status from provider_attempts order by attempt"
        ).fetchall()
    assert [status for _, status in usage] == [200]
    assert attempts == [(1, 200), (2, 200)]

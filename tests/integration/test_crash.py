"""SIGKILL during streams: after a restart every answered request has exactly one usage row."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_CONFIG
from tests.support.databases import BACKENDS, router_database, rows_in
from tests.support.server import RunningRouter, cli, register_plugins, run_router
from tests.support.setups import SCRIPTED_PLUGIN

STREAMS = 6
FINISHED = 4


async def start_streams(
    router: RunningRouter, key: str, before_kill: Callable[[list[str]], None] | None = None
) -> list[str]:
    """Finish FINISHED quick requests, open STREAMS slow ones, read their first bytes, kill."""
    headers = {"authorization": f"Bearer {key}"}
    ids: list[str] = []
    async with httpx.AsyncClient(base_url=router.base_url, headers=headers, timeout=60) as client:
        for _ in range(FINISHED):
            done = await client.post("/v1/audio/speech", json=body("tone"))
            assert done.status_code == 200
            ids.append(done.headers["x-request-id"])
        streams = [
            client.stream("POST", "/v1/audio/speech", json=body("slow")) for _ in range(STREAMS)
        ]
        responses = [await stream.__aenter__() for stream in streams]
        # Kept until the kill: a reader dropped early would close its stream.
        readers = [response.aiter_raw() for response in responses]
        for response, reader in zip(responses, readers, strict=True):
            assert response.status_code == 200
            await anext(reader)
            ids.append(response.headers["x-request-id"])
        if before_kill is not None:
            before_kill(ids)
        router.process.send_signal(signal.SIGKILL)
        router.process.wait()
    return ids


def body(model: str) -> dict[str, str]:
    """A speech request for `model`."""
    return {"model": model, "input": "Hello there.", "voice": "alloy", "response_format": "pcm"}


def outcomes_in(env: dict[str, str], data: Path) -> list[tuple[str, int, str | None]]:
    """Every usage row's request id, status and error code."""
    found = rows_in(env, data, "select request_id, status, error_code from usage_records")
    return [(row[0], row[1], row[2]) for row in found]


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The environment of a router on SQLite (its default) or on a fresh PostgreSQL."""
    with router_database(request.param) as env:
        yield env


def test_usage_survives_sigkill(tmp_path: Path, database: dict[str, str]) -> None:
    plugins = register_plugins(tmp_path / "plugins", SCRIPTED_PLUGIN)
    config = tmp_path / "router.toml"
    # One process: its local blob store needs no sharing, whatever its database.
    config.write_text(TEST_CONFIG + "\n[blobs]\nshared_directory = true\n")
    data = tmp_path / "data"
    if database:
        cli("db", "upgrade", env=database)
    cli("tenants", "create", "crash", "--data-dir", str(data), env=database)
    key = cli("keys", "create", "--tenant", "crash", "--data-dir", str(data), env=database)[-1]
    with run_router(data, config=config, python_path=plugins, env=database) as router:
        ids = asyncio.run(start_streams(router, key))
    with run_router(data, config=config, python_path=plugins, env=database) as restarted:
        answer = httpx.get(
            f"{restarted.base_url}/v1/usage", headers={"authorization": f"Bearer {key}"}
        )
        assert answer.status_code == 200
        totals = answer.json()["totals"]
    found = outcomes_in(database, data)
    per_request = Counter(request_id for request_id, _, _ in found)
    assert {request_id: per_request[request_id] for request_id in ids} == dict.fromkeys(ids, 1)
    assert sum(per_request.values()) == len(ids)
    outcomes = {request_id: (status, code) for request_id, status, code in found}
    # A finished request's outcome was journaled before the kill; a stream the kill cut off
    # ended with its process.
    assert [outcomes[request_id] for request_id in ids[:FINISHED]] == [(200, None)] * FINISHED
    assert [outcomes[request_id] for request_id in ids[FINISHED:]] == (
        [(500, "interrupted")] * STREAMS
    )
    assert totals["requests"] == len(ids)
    assert totals["errors"] == STREAMS
    assert totals["input_characters"] == len(ids) * len(body("tone")["input"])


def test_a_running_router_restores_the_rows_of_one_that_died(
    tmp_path: Path, database: dict[str, str]
) -> None:
    plugins = register_plugins(tmp_path / "plugins", SCRIPTED_PLUGIN)
    config = tmp_path / "router.toml"
    restore = "\n[gateway]\nusage_restore_seconds = 0.2\n[blobs]\nshared_directory = true\n"
    config.write_text(TEST_CONFIG + restore)
    data = tmp_path / "data"
    if database:
        cli("db", "upgrade", env=database)
    cli("tenants", "create", "crash", "--data-dir", str(data), env=database)
    key = cli("keys", "create", "--tenant", "crash", "--data-dir", str(data), env=database)[-1]

    def statuses() -> dict[str, int]:
        return {request_id: status for request_id, status, _ in outcomes_in(database, data)}

    def not_taken_while_alive(ids: list[str]) -> None:
        time.sleep(0.6)  # several sweeps of the survivor
        found = statuses()
        assert [found.get(request_id) for request_id in ids[FINISHED:]] == [None] * STREAMS

    with run_router(data, config=config, python_path=plugins, env=database):
        with run_router(data, config=config, python_path=plugins, env=database) as dying:
            ids = asyncio.run(start_streams(dying, key, not_taken_while_alive))
        deadline = time.monotonic() + 20
        while not set(ids) <= set(statuses()) and time.monotonic() < deadline:
            time.sleep(0.1)
        found = statuses()
        assert [found.get(request_id) for request_id in ids[:FINISHED]] == [200] * FINISHED
        assert [found.get(request_id) for request_id in ids[FINISHED:]] == [500] * STREAMS
    assert sorted(statuses()) == sorted(ids)
    assert not list((data / "usage-journal").glob("*.jsonl"))

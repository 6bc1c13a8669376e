"""Two router processes on one PostgreSQL share their limits exactly."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_CONFIG
from tests.support.databases import REDIS_URL, postgres_database
from tests.support.server import (
    RunningRouter,
    cli,
    register_plugins,
    run_router,
    wait_for_fresh_minute,
)
from tests.support.setups import SCRIPTED_PLUGIN

RPM = 20
REQUESTS = 60
TONE = {"model": "tone", "input": "Hi.", "voice": "alloy", "response_format": "pcm"}


@pytest.fixture(params=["database", "redis"])
def counters(request: pytest.FixtureRequest) -> str:
    """Where the shared counters live."""
    return str(request.param)


@pytest.fixture
def two_routers(
    tmp_path: Path, counters: str
) -> Iterator[tuple[list[RunningRouter], str, dict[str, str]]]:
    """Two routers on one fresh PostgreSQL database, a key limited to RPM a minute, their env."""
    plugins = register_plugins(tmp_path / "plugins", SCRIPTED_PLUGIN)
    config = tmp_path / "router.toml"
    # One machine: both routers share the blob directory, as replicas would a volume.
    blobs = f'\n[blobs]\ndirectory = "{tmp_path / "blobs"}"\nshared_directory = true\n'
    config.write_text(TEST_CONFIG + blobs)
    with postgres_database() as url, ExitStack() as stack:
        env = {"TTS_ROUTER_DATABASE_URL": url}
        if counters == "redis":
            env["TTS_ROUTER_REDIS_URL"] = REDIS_URL
        cli("db", "upgrade", env=env)
        cli("tenants", "create", "shared", env=env)
        key = cli("keys", "create", "--tenant", "shared", "--rpm", str(RPM), env=env)[-1]
        routers = [
            stack.enter_context(
                run_router(tmp_path / f"data{n}", config=config, python_path=plugins, env=env)
            )
            for n in range(2)
        ]
        yield routers, key, env


async def hammer(routers: list[RunningRouter], key: str) -> list[httpx.Response]:
    """REQUESTS speech requests at once, spread over both routers."""
    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        return await asyncio.gather(
            *(
                client.post(f"{routers[n % 2].base_url}/v1/audio/speech", json=TONE)
                for n in range(REQUESTS)
            )
        )


Routers = tuple[list[RunningRouter], str, dict[str, str]]


def test_shared_rpm_limit_is_exact(two_routers: Routers) -> None:
    routers, key, _ = two_routers
    wait_for_fresh_minute()
    responses = asyncio.run(hammer(routers, key))
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: RPM, 429: REQUESTS - RPM}
    # Each router answered half; alone, each would have admitted RPM of its own.
    answered_by = Counter(str(response.url).split("/v1")[0] for response in responses)
    assert sorted(answered_by.values()) == [REQUESTS // 2, REQUESTS // 2]
    for refused in (response for response in responses if response.status_code == 429):
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["code"] == "requests_per_minute_exceeded"


def test_the_concurrency_limit_is_shared(two_routers: Routers) -> None:
    routers, _, env = two_routers
    cli("tenants", "create", "narrow", "--concurrency", "2", env=env)
    key = cli("keys", "create", "--tenant", "narrow", env=env)[-1]

    async def burst() -> list[httpx.Response]:
        slow = {**TONE, "model": "slow"}
        async with httpx.AsyncClient(headers={"authorization": f"Bearer {key}"}, timeout=60) as c:
            return await asyncio.gather(
                *(c.post(f"{routers[n % 2].base_url}/v1/audio/speech", json=slow) for n in range(6))
            )

    answers = asyncio.run(burst())
    assert Counter(answer.status_code for answer in answers) == {200: 2, 429: 4}
    refused = [answer for answer in answers if answer.status_code == 429]
    assert {answer.json()["error"]["code"] for answer in refused} == {"concurrency_limit_exceeded"}


@pytest.mark.parametrize("holder", ["key", "tenant"])
def test_the_monthly_character_budget_is_shared(two_routers: Routers, holder: str) -> None:
    routers, _, env = two_routers
    budget = ["--monthly-chars", "30"]
    cli("tenants", "create", "frugal", *(budget if holder == "tenant" else []), env=env)
    key = cli("keys", "create", "--tenant", "frugal", *(budget if holder == "key" else []), env=env)
    headers = {"authorization": f"Bearer {key[-1]}"}
    body = {**TONE, "input": "0123456789"}
    answers = [
        httpx.post(f"{routers[n % 2].base_url}/v1/audio/speech", json=body, headers=headers)
        for n in range(6)
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429, 429, 429]
    assert answers[-1].json()["error"]["code"] == "insufficient_quota"

"""Two router processes on one PostgreSQL share their limits exactly."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_CONFIG
from tests.support.databases import REDIS_URL, postgres_database
from tests.support.server import RunningRouter, cli, register_plugins, run_router
from tests.support.setups import SCRIPTED_PLUGIN

RPM = 20
REQUESTS = 60
TONE = {"model": "tone", "input": "Hi.", "voice": "alloy", "response_format": "pcm"}


@pytest.fixture(params=["database", "redis"])
def counters(request: pytest.FixtureRequest) -> str:
    """Where the shared counters live."""
    return str(request.param)


@pytest.fixture
def two_routers(tmp_path: Path, counters: str) -> Iterator[tuple[list[RunningRouter], str]]:
    """Two routers on one fresh PostgreSQL database, and a key limited to RPM per minute."""
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
        yield routers, key


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


def wait_for_fresh_minute() -> None:
    """Start early in a minute, so the burst falls in one rate window."""
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)


def test_shared_rpm_limit_is_exact(two_routers: tuple[list[RunningRouter], str]) -> None:
    routers, key = two_routers
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

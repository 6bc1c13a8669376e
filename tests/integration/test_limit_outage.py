"""Redis taken away under a running router: a clear 503 or the database, never a 500."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.databases import REDIS_URL
from tests.support.server import RunningRouter, cli, run_router, settled_usage
from tests.support.setups import write_config
from tests.support.tcp_proxy import TcpProxy, proxy_to

CONFIG = """
[gateway]
limits_fallback = "{fallback}"

[providers.scripted]
plugin = "scripted"

[[routes]]
model = "tone"
chain = [{{ provider = "scripted", model = "tone" }}]

[[routes]]
model = "slow"
chain = [{{ provider = "scripted", model = "slow" }}]
"""
TONE = {"model": "tone", "input": "Hi.", "voice": "alloy", "response_format": "pcm"}


@dataclass(frozen=True)
class Outage:
    """A router whose Redis runs through a proxy that the test can cut."""

    router: RunningRouter
    redis: TcpProxy
    key: str
    database: Path
    fallback: str

    def speak(self, **fields: object) -> httpx.Response:
        """One whole speech request."""
        headers = {"authorization": f"Bearer {self.key}"}
        url = f"{self.router.base_url}/v1/audio/speech"
        return httpx.post(url, json={**TONE, **fields}, headers=headers, timeout=30)


@pytest.fixture(params=["refuse", "database"])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outage]:
    redis = urlsplit(REDIS_URL)
    config, plugins = write_config(tmp_path, CONFIG.format(fallback=request.param))
    data = tmp_path / "data"
    cli("tenants", "create", "acme", "--data-dir", str(data))
    # A key with limits, so that every request claims counters in Redis.
    key = cli("keys", "create", "--tenant", "acme", "--rpm", "1000", "--data-dir", str(data))[-1]
    with proxy_to(redis.hostname or "127.0.0.1", redis.port or 6379) as proxy:
        env = {"TTS_ROUTER_REDIS_URL": proxy.url}
        with run_router(data, config=config, python_path=plugins, env=env) as router:
            yield Outage(router, proxy, key, data / "tts-router.sqlite3", request.param)


def test_requests_get_a_clear_503_or_the_database_while_redis_is_down(outage: Outage) -> None:
    assert outage.speak().status_code == 200
    outage.redis.cut()
    during = outage.speak()
    if outage.fallback == "refuse":
        assert during.status_code == 503
        assert during.headers["retry-after"] == "5"
        error = during.json()["error"]
        assert (error["code"], error["type"]) == ("limits_unavailable", "server_error")
    else:
        assert during.status_code == 200
    outage.redis.restore()
    assert outage.speak().status_code == 200
    assert "Traceback" not in outage.router.log()
    assert outage.router.log().count("the limit store is unreachable") == 1


def test_a_request_in_flight_when_redis_goes_is_recorded(outage: Outage) -> None:
    answers: list[httpx.Response] = []
    speaking = threading.Thread(target=lambda: answers.append(outage.speak(model="slow")))
    speaking.start()
    time.sleep(1.0)
    outage.redis.cut()
    speaking.join(timeout=30)
    (answer,) = answers
    assert answer.status_code == 200
    request_id = answer.headers["x-request-id"]
    settled_usage(outage.database, [request_id])
    with sqlite3.connect(outage.database) as db:
        row = db.execute(
            "select status, output_bytes from usage_records where request_id = ?", (request_id,)
        ).fetchone()
    assert row == (200, len(answer.content))
    assert "Traceback" not in outage.router.log()

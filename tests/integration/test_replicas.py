"""Two `tts-router serve` replicas on one PostgreSQL, one Redis and one S3 act as one service."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.integration.test_voice_files import PITCH, pitch_of_wav, recording
from tests.support.databases import postgres_database
from tests.support.replicas import topology
from tests.support.server import REPO_ROOT, RunningRouter, cli, wait_for_fresh_minute

TONE = {"model": "tone", "input": "Hi.", "voice": "alloy", "response_format": "pcm"}


@dataclass(frozen=True)
class Replicas:
    """Two routers sharing every store, and an admin key of tenant `acme`."""

    routers: list[RunningRouter]
    admin_key: str
    env: dict[str, str]

    def client(self, index: int, key: str) -> httpx.Client:
        """A client of replica `index` carrying `key`."""
        headers = {"authorization": f"Bearer {key}"}
        return httpx.Client(base_url=self.routers[index].base_url, headers=headers, timeout=60)

    def new_key(self, on: int, **options: object) -> str:
        """A key of tenant `acme`, made through the admin API of replica `on`."""
        with self.client(on, self.admin_key) as admin:
            made = admin.post("/admin/v1/tenants/acme/keys", json=options)
        assert made.status_code == 201, made.text
        return str(made.json()["key"])


def on_replica(url: str, router: RunningRouter) -> str:
    """`url` as served by `router`."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=urlsplit(router.base_url).netloc))


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    with topology(tmp_path_factory.mktemp("replicas")) as shared, ExitStack() as stack:
        routers = [stack.enter_context(shared.replica(n)) for n in range(2)]
        yield Replicas(routers, shared.admin_key, shared.env)


def test_a_key_made_on_one_replica_works_on_the_other(replicas: Replicas) -> None:
    key = replicas.new_key(on=0, name="made-on-0")
    with replicas.client(1, key) as other:
        assert other.post("/v1/audio/speech", json=TONE).status_code == 200


def test_the_per_minute_limit_holds_across_replicas(replicas: Replicas) -> None:
    key = replicas.new_key(on=1, rpm_limit=10)
    wait_for_fresh_minute()
    clients = [replicas.client(n, key) for n in range(2)]
    answers = [clients[n % 2].post("/v1/audio/speech", json=TONE) for n in range(20)]
    for client in clients:
        client.close()
    assert Counter(answer.status_code for answer in answers) == {200: 10, 429: 10}


def test_the_concurrency_limit_holds_across_replicas(replicas: Replicas) -> None:
    cli("tenants", "create", "narrow", "--concurrency", "2", env=replicas.env)
    key = cli("keys", "create", "--tenant", "narrow", env=replicas.env)[-1]
    slow = {**TONE, "model": "slow"}

    async def burst() -> list[int]:
        headers = {"authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(headers=headers, timeout=60) as client:
            answers = await asyncio.gather(
                *(
                    client.post(f"{replicas.routers[n % 2].base_url}/v1/audio/speech", json=slow)
                    for n in range(6)
                )
            )
        return [answer.status_code for answer in answers]

    assert Counter(asyncio.run(burst())) == {200: 2, 429: 4}


def test_a_voice_file_uploaded_to_one_speaks_on_the_other(replicas: Replicas) -> None:
    key = replicas.new_key(on=0)
    with replicas.client(0, key) as first, replicas.client(1, key) as second:
        uploaded = first.post(
            "/v1/files", files={"file": ("me.mp3", recording())}, data={"purpose": "voice"}
        )
        assert uploaded.status_code == 200, uploaded.text
        voice = uploaded.json()["id"]
        body = {"model": "Chatterbox", "input": "Cloned elsewhere.", "voice": voice}
        spoken = second.post("/distribute/v1/audio/speech", json=body)
        assert spoken.status_code == 200, spoken.text
        url = spoken.json()[0]["url"]
    # A Distribute URL made by one replica downloads from the other.
    downloaded = httpx.get(on_replica(url, replicas.routers[0]), timeout=30)
    assert downloaded.status_code == 200
    assert pitch_of_wav(downloaded.content) == pytest.approx(PITCH, abs=3)


def test_a_job_created_on_one_is_read_from_the_other(replicas: Replicas) -> None:
    key = replicas.new_key(on=1)
    body = {"model": "Chatterbox", "input": "Queued on one.", "voice": "leo"}
    with replicas.client(0, key) as first, replicas.client(1, key) as second:
        created = first.post("/async/speech/create", json=body)
        assert created.status_code == 200, created.text
        job_id = created.json()["id"]
        deadline = time.monotonic() + 60
        while (result := second.post("/async/speech/result", json={"id": job_id}).json())[
            "status"
        ] != "COMPLETED":
            assert time.monotonic() < deadline, result
            time.sleep(0.1)
    url = result["results"][0]["url"]
    for router in replicas.routers:
        assert httpx.get(on_replica(url, router), timeout=30).status_code == 200


def test_a_replica_refuses_a_shared_database_with_local_blobs(tmp_path: Path) -> None:
    with postgres_database() as url:
        result = subprocess.run(
            [sys.executable, "-m", "router", "serve", "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env={**os.environ, "TTS_ROUTER_DATABASE_URL": url, "PYTHONPATH": str(REPO_ROOT)},
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert "a shared database with a local blob store" in result.stderr
    assert "shared_directory = true" in result.stderr

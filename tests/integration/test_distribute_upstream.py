"""The `distribute` provider: a router in front of another tts-router speaking Distribute.AI.

Router B serves the scripted `expressive` model as `Chatterbox`; routers A reach it through the
`distribute` provider in sync and in async mode, and reach a fake Distribute upstream on
loopback that fails on purpose, with the scripted provider as their backup.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.api import BuiltinVoice, ProviderContext, SpeechRequest
from providers.errors import ProviderRejectedError
from providers.upstream.distribute import DistributeProvider
from tests.integration.test_distribute import wav_seconds_and_pitch
from tests.plugins.scripted import expressive_hz, expressive_seconds
from tests.support.distribute_upstream import GARBAGE_PATH, FakeDistribute, serving
from tests.support.server import RunningRouter, recorded_attempts
from tests.support.setups import Setup, set_up, write_config

UPSTREAM_KEY = "dai-upstream-key-4f2a"
MODES = ("sync", "async")
ROUTER_B = """
[jobs]
poll_seconds = 0.05

[providers.scripted]
plugin = "scripted"

[[routes]]
model = "Chatterbox"
chain = [{ provider = "scripted", model = "expressive" }]
"""


def _router_a(mode: str, router_b: str, key: str, fake: str) -> str:
    """Route `Chatterbox` to router B in `mode`, and `fallible` to the fake, then the backup."""
    real, failing = ("distribute", "fake") if mode == "sync" else ("distribute-async", "fake-async")
    shared = f'mode = "{mode}"\npoll_interval_seconds = 0.02\nmax_wait_seconds = 10\n'
    return f"""
[routing]
backoff_seconds = 0.01

[providers.{real}]
plugin = "distribute"
[providers.{real}.options]
base_url = "{router_b}/distribute"
api_key = "{key}"
{shared}
[providers.{failing}]
plugin = "distribute"
breaker = {{ enabled = false }}
[providers.{failing}.options]
base_url = "{fake}"
api_key = "{UPSTREAM_KEY}"
{shared}
[providers.backup]
plugin = "scripted"

[[routes]]
model = "Chatterbox"
chain = [{{ provider = "{real}", model = "Chatterbox" }}]

[[routes]]
model = "fallible"
chain = [
  {{ provider = "{failing}", model = "Chatterbox" }},
  {{ provider = "backup", model = "expressive" }},
]
"""


@dataclass(frozen=True)
class RouterA:
    """A router whose providers speak Distribute.AI, in one mode."""

    mode: str
    router: RunningRouter
    key: str

    @property
    def database(self) -> Path:
        """Its embedded SQLite database."""
        return self.router.data_dir / "tts-router.sqlite3"

    def speak(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST `body` to `path` with the raw key, as Distribute's clients send it."""
        headers = {"authorization": self.key}
        return httpx.post(f"{self.router.base_url}{path}", json=body, headers=headers, timeout=30)

    def fallible(self) -> httpx.Response:
        """An OpenAI-dialect request for the route that starts at the fake upstream."""
        body = {"model": "fallible", "input": "Hello there.", "voice": "leo"}
        return self.speak("/v1/audio/speech", {**body, "response_format": "wav"})

    def attempts(self, response: httpx.Response) -> list[tuple[str, int, str | None]]:
        """(provider, status, error code) of each try recorded for `response`."""
        return recorded_attempts(self.database, response.headers["x-request-id"])


@dataclass(frozen=True)
class Rig:
    """Router B, the fake upstream, and a router A per mode."""

    router_b: RunningRouter
    fake: FakeDistribute
    fake_url: str
    routers: dict[str, RouterA]

    def jobs_on_b(self) -> int:
        """How many async jobs router B was given."""
        with sqlite3.connect(self.router_b.data_dir / "tts-router.sqlite3") as db:
            count: int = db.execute("select count(*) from speech_jobs").fetchone()[0]
            return count


def _sharing_data(setup: Setup, directory: Path, config: str) -> Setup:
    """Another router set up on a copy of `setup`'s data: the same tenant and key."""
    path, plugins = write_config(directory, config)
    shutil.copytree(setup.data, directory / "data")
    return Setup(path, plugins, directory / "data", setup.key)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    fake = FakeDistribute()
    b = set_up(tmp_path_factory.mktemp("router-b"), ROUTER_B)
    with serving(fake) as fake_url, b.router() as router_b:
        configs = {mode: _router_a(mode, router_b.base_url, b.key, fake_url) for mode in MODES}
        setups = {
            mode: _sharing_data(b, tmp_path_factory.mktemp(f"router-a-{mode}"), configs[mode])
            for mode in MODES
        }
        with setups["sync"].router() as sync, setups["async"].router() as async_:
            routers = {
                "sync": RouterA("sync", sync, b.key),
                "async": RouterA("async", async_, b.key),
            }
            yield Rig(router_b, fake, fake_url, routers)


@pytest.fixture
def fresh(rig: Rig) -> Rig:
    """The rig with the fake upstream answering again and no calls counted."""
    rig.fake.reset()
    return rig


@pytest.mark.parametrize("mode", MODES)
def test_controls_reach_the_upstream_and_its_audio_comes_back(fresh: Rig, mode: str) -> None:
    router_a = fresh.routers[mode]
    jobs_before = fresh.jobs_on_b()
    temperature, exaggeration = (0.3, 0.25) if mode == "sync" else (0.6, 0.75)
    body = {
        "model": "Chatterbox",
        "input": "Relayed twice.",
        "voice": "nora",
        "temperature": temperature,
        "exaggeration": exaggeration,
    }
    response = router_a.speak("/distribute/v1/audio/speech", body)
    assert response.status_code == 200, response.text
    [output] = response.json()
    seconds, pitch = wav_seconds_and_pitch(httpx.get(output["url"], timeout=10).content)
    assert seconds == pytest.approx(expressive_seconds(temperature), abs=0.02)
    assert pitch == pytest.approx(expressive_hz(exaggeration), abs=5)
    provider = "distribute" if mode == "sync" else "distribute-async"
    assert router_a.attempts(response) == [(provider, 200, None)]
    with sqlite3.connect(router_a.database) as db:
        row = db.execute(
            "select provider, upstream_model, audio_seconds from usage_records"
            " where request_id = ?",
            (response.headers["x-request-id"],),
        ).fetchone()
    assert row[:2] == (provider, "Chatterbox")
    assert row[2] == pytest.approx(expressive_seconds(temperature), abs=0.02)
    assert fresh.jobs_on_b() - jobs_before == (1 if mode == "async" else 0)


def test_garbage_audio_fails_over_and_the_key_stays_off_the_audio_url(fresh: Rig) -> None:
    response = fresh.routers["sync"].fallible()
    assert response.status_code == 200, response.text
    assert response.headers["x-tts-router-provider"] == "backup"
    assert fresh.routers["sync"].attempts(response) == [
        ("fake", 502, "provider_bad_response"),
        ("backup", 200, None),
    ]
    speech, download = fresh.fake.calls
    assert (speech.method, speech.path, speech.authorization) == (
        "POST",
        "/v1/audio/speech",
        UPSTREAM_KEY,
    )
    assert speech.body == {
        "model": "Chatterbox",
        "input": "Hello there.",
        "voice": "leo",
        "response_format": "wav",
    }
    assert (download.method, download.path, download.authorization) == ("GET", GARBAGE_PATH, None)


def test_job_ending_in_error_fails_over(fresh: Rig) -> None:
    response = fresh.routers["async"].fallible()
    assert response.status_code == 200, response.text
    assert fresh.routers["async"].attempts(response) == [
        ("fake-async", 503, "service_unavailable"),
        ("backup", 200, None),
    ]
    assert fresh.fake.paths() == [
        ("POST", "/async/speech/create"),
        ("POST", "/async/speech/result"),
        ("POST", "/async/speech/result"),
    ]
    assert "response_format" not in fresh.fake.calls[0].body


@pytest.mark.parametrize("mode", MODES)
def test_refused_key_is_a_bad_gateway_without_retry(fresh: Rig, mode: str) -> None:
    fresh.fake.refuse_key = True
    response = fresh.routers[mode].fallible()
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "provider_auth_failed"
    assert response.headers["x-tts-router-attempts"] == "1"
    assert len(fresh.fake.calls) == 1
    assert UPSTREAM_KEY not in response.text


def test_controls_beyond_distribute_ranges_are_refused_before_calling(fresh: Rig) -> None:
    options = {"base_url": fresh.fake_url, "api_key": UPSTREAM_KEY}
    provider = DistributeProvider(ProviderContext("direct", Path(), options))
    request = SpeechRequest(
        model="Chatterbox",
        input="Too hot.",
        voice=BuiltinVoice(name="leo"),
        response_format="pcm",
        temperature=1.5,
    )

    async def speak() -> None:
        await provider.start()
        try:
            async for _ in provider.synthesize(request):
                pass
        finally:
            await provider.close()

    with pytest.raises(ProviderRejectedError) as refused:
        asyncio.run(speak())
    assert refused.value.param == "temperature"
    assert fresh.fake.calls == []


def test_upstream_validation_error_names_its_field_and_is_not_retried(fresh: Rig) -> None:
    body = {"model": "Chatterbox", "input": "x", "voice": "leo", "response_format": "wav"}
    response = fresh.routers["sync"].speak("/v1/audio/speech", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "body/input must NOT have fewer than 2 characters"
    assert error["param"] == "input"
    assert fresh.routers["sync"].attempts(response) == [("distribute", 400, "invalid_value")]

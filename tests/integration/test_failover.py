"""Failover against real HTTP upstreams on loopback that fail on purpose."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest

from tests.support.audio import decode
from tests.support.server import RunningRouter, free_port, recorded_attempts, settled_usage
from tests.support.setups import set_up
from tests.support.upstream import (
    AUDIO,
    TONE_SECONDS,
    Answer,
    FakeUpstream,
    error,
    serving,
    tone_bytes,
)

HANG_TIMEOUT = 0.5
OPEN_SECONDS = 1.5


def _config(flaky: str, backup: str, dead: str, tripping: str) -> str:
    def provider(name: str, url: str, extra: str = "") -> str:
        return (
            f'[providers.{name}]\nplugin = "openai-compatible"\n{extra}\n'
            f'[providers.{name}.options]\nbase_url = "{url}"\napi_key = "sk-upstream-secret"\n'
            'models = ["tts-1"]\n'
        )

    def route(model: str, *providers: str) -> str:
        chain = ", ".join(f'{{ provider = "{name}", model = "tts-1" }}' for name in providers)
        return f'[[routes]]\nmodel = "{model}"\nchain = [{chain}]\n'

    return "\n".join(
        [
            "[routing]\nbackoff_seconds = 0.01\nmax_retry_after_seconds = 2.0\n"
            "deadline_seconds = 3.0\nmax_attempts = 3\n",
            provider(
                "flaky", flaky, f"timeout_seconds = {HANG_TIMEOUT}\nbreaker = {{ enabled = false }}"
            ),
            provider("backup", backup),
            provider("dead", dead, "breaker = { enabled = false }"),
            provider(
                "tripping",
                tripping,
                f"breaker = {{ consecutive_failures = 2, open_seconds = {OPEN_SECONDS} }}",
            ),
            route("chain", "flaky", "backup"),
            route("solo", "flaky"),
            route("dead-chain", "dead", "backup"),
            route("guarded", "tripping", "backup"),
        ]
    )


@dataclass(frozen=True)
class Rig:
    """The router and the upstreams behind it."""

    router: RunningRouter
    database: Path
    key: str
    flaky: FakeUpstream
    backup: FakeUpstream
    tripping: FakeUpstream

    def speak(self, model: str, **fields: Any) -> httpx.Response:
        """POST one speech request and read the whole answer."""
        body = {"model": model, "input": "Hello there.", "voice": "alloy", **fields}
        headers = {"authorization": f"Bearer {self.key}"}
        return httpx.post(
            f"{self.router.base_url}/v1/audio/speech", json=body, headers=headers, timeout=30
        )

    def attempts(self, response: httpx.Response) -> list[tuple[str, int, str | None]]:
        """(provider, status, error code) of each try recorded for `response`."""
        return recorded_attempts(self.database, response.headers["x-request-id"])

    def usage(self, response: httpx.Response) -> tuple[Any, ...]:
        """(status, error code, failovers, provider, audio seconds) of `response`'s usage row."""
        request_id = response.headers["x-request-id"]
        settled_usage(self.database, [request_id])
        with sqlite3.connect(self.database) as db:
            row: tuple[Any, ...] = db.execute(
                "select status, error_code, failovers, provider, audio_seconds"
                " from usage_records where request_id = ?",
                (request_id,),
            ).fetchone()
            return row


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    flaky, backup, tripping = FakeUpstream(), FakeUpstream(), FakeUpstream()
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with serving(flaky) as flaky_url, serving(backup) as backup_url, serving(tripping) as trip_url:
        setup = set_up(
            tmp_path_factory.mktemp("failover"), _config(flaky_url, backup_url, dead, trip_url)
        )
        with setup.router() as router:
            yield Rig(router, setup.database, setup.key, flaky, backup, tripping)


@pytest.fixture
def fresh(rig: Rig) -> Rig:
    """The rig with every upstream back to answering audio, and no calls counted."""
    for upstream in (rig.flaky, rig.backup, rig.tripping):
        upstream.script.clear()
        upstream.calls.clear()
        upstream.default = AUDIO
    return rig


def _seconds(response: httpx.Response, fmt: str) -> float:
    samples, rate, _ = decode(response.content, fmt)
    return len(samples) / rate


@pytest.mark.parametrize(
    "answer",
    [error(500), error(503), Answer("garbage"), Answer("hang")],
    ids=["500", "503", "garbage", "hang"],
)
def test_failure_before_audio_fails_over(fresh: Rig, answer: Answer) -> None:
    fresh.flaky.answer_next(answer)
    response = fresh.speak("chain", response_format="mp3")
    assert response.status_code == 200
    assert response.headers["x-tts-router-attempts"] == "2"
    assert response.headers["x-tts-router-provider"] == "backup"
    assert _seconds(response, "mp3") == pytest.approx(TONE_SECONDS, abs=0.1)
    failed, served = fresh.attempts(response)
    assert failed in {
        ("flaky", 503, "service_unavailable"),
        ("flaky", 502, "provider_bad_response"),
        ("flaky", 504, "timeout"),
    }
    assert served == ("backup", 200, None)
    assert fresh.usage(response)[:4] == (200, None, 1, "backup")
    assert len(fresh.flaky.calls) == len(fresh.backup.calls) == 1


def test_refused_connection_fails_over(fresh: Rig) -> None:
    response = fresh.speak("dead-chain", response_format="wav")
    assert response.status_code == 200
    assert [attempt[:2] for attempt in fresh.attempts(response)] == [
        ("dead", 503),
        ("backup", 200),
    ]


def test_retry_after_within_the_cap_is_waited_for(fresh: Rig) -> None:
    fresh.flaky.answer_next(error(429, retry_after="1"))
    began = time.monotonic()
    response = fresh.speak("solo", response_format="wav")
    assert response.status_code == 200
    assert time.monotonic() - began >= 1.0
    assert [attempt[:2] for attempt in fresh.attempts(response)] == [
        ("flaky", 429),
        ("flaky", 200),
    ]


def test_retry_after_beyond_the_cap_is_not_waited_for(fresh: Rig) -> None:
    fresh.flaky.answer_next(error(429, retry_after="30"))
    response = fresh.speak("solo")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "provider_rate_limited"
    assert len(fresh.flaky.calls) == 1


def test_server_error_is_retried_with_backoff_until_it_passes(fresh: Rig) -> None:
    fresh.flaky.answer_next(error(500), error(502))
    response = fresh.speak("solo", response_format="flac")
    assert response.status_code == 200
    assert response.headers["x-tts-router-attempts"] == "3"
    assert [attempt[1] for attempt in fresh.attempts(response)] == [503, 503, 200]


@pytest.mark.parametrize(("status", "caller_status"), [(401, 502), (400, 400), (404, 400)])
def test_client_errors_are_neither_retried_nor_failed_over(
    fresh: Rig, status: int, caller_status: int
) -> None:
    fresh.flaky.default = error(status)
    response = fresh.speak("chain")
    assert response.status_code == caller_status
    assert response.headers["x-tts-router-attempts"] == "1"
    assert len(fresh.flaky.calls) == 1
    assert fresh.backup.calls == []
    assert "sk-upstream-secret" not in response.text
    assert fresh.usage(response)[0] == caller_status
    if status == 401:
        assert response.json()["error"]["code"] == "provider_auth_failed"


def test_upstream_that_hangs_everywhere_ends_at_the_deadline(fresh: Rig) -> None:
    fresh.flaky.default = Answer("hang")
    began = time.monotonic()
    response = fresh.speak("solo")
    elapsed = time.monotonic() - began
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "timeout"
    assert HANG_TIMEOUT <= elapsed < 3.0 + 1.0
    assert [attempt[1] for attempt in fresh.attempts(response)] == [504, 504, 504]


def test_drop_after_the_first_byte_ends_the_stream_without_failover(fresh: Rig) -> None:
    fresh.flaky.answer_next(Answer("drop"))
    body = {"model": "chain", "input": "Hello there.", "voice": "alloy", "response_format": "pcm"}
    headers = {"authorization": f"Bearer {fresh.key}"}
    url = f"{fresh.router.base_url}/v1/audio/speech"
    with httpx.stream("POST", url, json=body, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()
    assert fresh.backup.calls == []
    status, code, failovers, provider, _ = fresh.usage(response)
    assert (status, failovers, provider) == (503, 0, "flaky")
    assert code == "service_unavailable"


def test_native_format_is_passed_through_byte_for_byte(fresh: Rig) -> None:
    response = fresh.speak("solo", response_format="opus")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/opus"
    assert response.content == tone_bytes("opus")
    assert fresh.flaky.calls[0]["response_format"] == "opus"
    assert fresh.usage(response)[4] == pytest.approx(TONE_SECONDS, abs=0.05)


@pytest.mark.parametrize("fmt", ["mp3", "pcm"])
def test_audio_sent_as_an_event_stream_is_taken_as_audio(fresh: Rig, fmt: str) -> None:
    # Aqueduct streams its audio with Content-Type text/event-stream, whatever the format.
    fresh.flaky.default = Answer(content_type="text/event-stream")
    response = fresh.speak("solo", response_format=fmt)
    assert response.status_code == 200, response.text
    if fmt == "mp3":
        assert response.content == tone_bytes("mp3")
    samples = (
        np.frombuffer(response.content, "<i2") if fmt == "pcm" else decode(response.content, fmt)[0]
    )
    assert len(samples) / 24_000 == pytest.approx(TONE_SECONDS, abs=0.1)


def test_real_events_where_audio_was_asked_for_fail_over(fresh: Rig) -> None:
    fresh.flaky.answer_next(Answer("events"))
    response = fresh.speak("chain", response_format="pcm")
    assert response.status_code == 200
    assert [attempt[:2] for attempt in fresh.attempts(response)] == [
        ("flaky", 502),
        ("backup", 200),
    ]


def test_upstream_audio_streams_through_as_it_comes(fresh: Rig) -> None:
    fresh.flaky.default = Answer(chunks=8, gap_seconds=0.15)
    headers = {"authorization": f"Bearer {fresh.key}"}
    body = {"model": "solo", "input": "Hello there.", "voice": "alloy", "response_format": "mp3"}
    started = time.perf_counter()
    arrivals: list[float] = []
    with httpx.stream(
        "POST", f"{fresh.router.base_url}/v1/audio/speech", json=body, headers=headers, timeout=30
    ) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            if chunk:
                arrivals.append(time.perf_counter() - started)
    # The upstream takes over a second to send its eight chunks; the first is passed on at once.
    assert arrivals[-1] > 1.0
    assert arrivals[0] < 0.3 * arrivals[-1]


def test_sdk_streams_through_the_router(fresh: Rig) -> None:
    client = openai.OpenAI(base_url=f"{fresh.router.base_url}/v1", api_key=fresh.key, max_retries=0)
    fresh.flaky.default = Answer(chunks=4, gap_seconds=0.02)
    with client.audio.speech.with_streaming_response.create(
        model="solo", voice="alloy", input="Hi.", response_format="wav"
    ) as response:
        data = response.read()
    samples, rate, _ = decode(data, "wav")
    assert len(samples) / rate == pytest.approx(TONE_SECONDS, abs=0.05)


def _breaker(rig: Rig, provider: str) -> str:
    health = httpx.get(f"{rig.router.base_url}/health", timeout=10).json()
    return str(health["providers"][provider]["breaker"])


def _metric(rig: Rig, series: str) -> float:
    """The value of one series; a counter never incremented is absent, which is 0."""
    text = httpx.get(f"{rig.router.base_url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_breaker_opens_skips_the_provider_and_recovers_after_a_probe(fresh: Rig) -> None:
    fresh.tripping.default = error(500)
    for _ in range(2):
        response = fresh.speak("guarded", response_format="wav")
        assert response.headers["x-tts-router-provider"] == "backup"
    assert len(fresh.tripping.calls) == 2
    assert _breaker(fresh, "tripping") == "open"
    assert _metric(fresh, 'tts_router_breaker_state{provider="tripping"}') == 1
    ready = httpx.get(f"{fresh.router.base_url}/health/ready", timeout=10)
    assert ready.status_code == 200  # `guarded` is still served by its backup

    skipped = fresh.speak("guarded", response_format="wav")
    assert skipped.status_code == 200
    assert skipped.headers["x-tts-router-attempts"] == "1"
    assert len(fresh.tripping.calls) == 2
    assert fresh.attempts(skipped) == [("backup", 200, None)]

    fresh.tripping.default = AUDIO
    time.sleep(OPEN_SECONDS + 0.1)
    assert _breaker(fresh, "tripping") == "half-open"
    probe = fresh.speak("guarded", response_format="wav")
    assert probe.headers["x-tts-router-provider"] == "tripping"
    assert len(fresh.tripping.calls) == 3
    assert _breaker(fresh, "tripping") == "closed"
    assert _metric(fresh, 'tts_router_breaker_state{provider="tripping"}') == 0


def test_failed_probe_opens_the_breaker_again(fresh: Rig) -> None:
    fresh.tripping.default = error(503)
    for _ in range(2):
        fresh.speak("guarded")
    assert _breaker(fresh, "tripping") == "open"
    time.sleep(OPEN_SECONDS + 0.1)
    probe = fresh.speak("guarded")
    assert probe.status_code == 200
    assert [attempt[0] for attempt in fresh.attempts(probe)] == ["tripping", "backup"]
    assert _breaker(fresh, "tripping") == "open"
    fresh.tripping.default = AUDIO
    time.sleep(OPEN_SECONDS + 0.1)
    assert fresh.speak("guarded").headers["x-tts-router-provider"] == "tripping"


def test_metrics_count_attempts_and_failovers(fresh: Rig) -> None:
    before = _metric(fresh, 'tts_router_failovers_total{model="chain"}')
    fresh.flaky.answer_next(error(500))
    assert fresh.speak("chain").status_code == 200
    assert _metric(fresh, 'tts_router_failovers_total{model="chain"}') == before + 1
    assert _metric(fresh, 'tts_router_provider_attempts_total{provider="flaky",status="503"}') >= 1
    assert _metric(fresh, 'tts_router_audio_seconds_total{provider="backup"}') > 0
    assert _metric(fresh, 'tts_router_time_to_first_byte_seconds_count{model="chain"}') >= 1

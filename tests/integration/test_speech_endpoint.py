"""The speech endpoint, served by a Litestar ASGI handler, answers as Litestar's own routes do."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.plugins.scripted import INSTANT_SECONDS
from tests.support.audio import decode

INSTANT = {"model": "instant", "input": "Hello there.", "voice": "alloy", "response_format": "wav"}
SPEECH, WITH_SLASH = "/v1/audio/speech", "/v1/audio/speech/"
# Headers whose values differ between any two answers.
PER_REQUEST = {"x-request-id", "date"}
# `max_body_bytes` of the embedded defaults, which the test router keeps.
BODY_LIMIT = 1024 * 1024


def _answer(http: httpx.Client, path: str, body: dict[str, str]) -> httpx.Response:
    response = http.post(path, json=body)
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("stream_format", ["audio", "sse"])
def test_speech_is_streamed_with_litestars_headers(http: httpx.Client, stream_format: str) -> None:
    body = {**INSTANT, "stream_format": stream_format}
    answer = _answer(http, SPEECH, body)
    expected_type = "audio/wav" if stream_format == "audio" else "text/event-stream; charset=utf-8"
    assert answer.headers["content-type"] == expected_type
    assert answer.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in answer.headers
    assert answer.headers["x-request-id"].startswith("req_")
    assert answer.headers["x-tts-router-attempts"] == "1"
    if stream_format == "audio":
        samples, rate, _ = decode(answer.content, "wav")
        assert len(samples) == round(rate * INSTANT_SECONDS)
    else:
        assert answer.text.startswith("data: ")
        assert '"type":"speech.audio.done"' in answer.text


def test_a_trailing_slash_reaches_the_same_endpoint(http: httpx.Client) -> None:
    plain, slashed = _answer(http, SPEECH, INSTANT), _answer(http, WITH_SLASH, INSTANT)
    assert plain.headers["x-request-id"] != slashed.headers["x-request-id"]
    assert {k: v for k, v in plain.headers.items() if k not in PER_REQUEST} == {
        k: v for k, v in slashed.headers.items() if k not in PER_REQUEST
    }
    assert plain.content == slashed.content


def test_errors_are_worded_in_the_dialect(http: httpx.Client) -> None:
    bad = {**INSTANT, "speed": 9}
    for path in (SPEECH, WITH_SLASH):
        response = http.post(path, json=bad)
        assert response.status_code == 400
        assert response.headers["x-request-id"].startswith("req_")
        assert response.json()["error"]["param"] == "speed"
    dedalus = http.post("/dedalus/v1/audio/speech", json=bad)
    assert dedalus.status_code == 422
    assert dedalus.headers["x-request-id"].startswith("req_")
    assert dedalus.json()["detail"][0]["loc"][-1] == "speed"


def test_an_announced_body_over_the_limit_is_refused(http: httpx.Client) -> None:
    huge = {**INSTANT, "input": "a" * (BODY_LIMIT * 2)}
    response = http.post(SPEECH, json=huge)
    assert response.status_code == 413
    assert response.headers["x-request-id"].startswith("req_")
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_a_chunked_body_over_the_limit_is_refused(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model": "instant", "voice": "alloy", "input": "'
        for _ in range(BODY_LIMIT // 10_000 + 1):
            yield b"a" * 10_000
        yield b'"}'

    response = http.post(SPEECH, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_a_body_under_the_limit_is_read_whole_from_chunks(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model": "instant", "voice": "alloy", '
        yield b'"response_format": "wav", "input": "Hello there."}'

    response = http.post(SPEECH, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    samples, rate, _ = decode(response.content, "wav")
    assert len(samples) == round(rate * INSTANT_SECONDS)


def test_a_bad_host_header_is_refused(http: httpx.Client) -> None:
    response = http.post(SPEECH, json=INSTANT, headers={"host": "evil.example/path"})
    assert response.status_code == 400
    assert response.headers["x-request-id"].startswith("req_")
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("path", [SPEECH, "/distribute/v1/audio/speech"])
def test_other_methods_are_refused_in_the_dialect(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 405
    assert response.headers["x-request-id"].startswith("req_")
    body = response.json()
    assert body["error"]["type"] == "invalid_request_error" if path == SPEECH else body["message"]

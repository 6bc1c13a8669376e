"""Speech requests served without Litestar's routing answer exactly as Litestar would."""

from __future__ import annotations

import httpx
import pytest

from tests.plugins.scripted import INSTANT_SECONDS
from tests.support.audio import decode

INSTANT = {"model": "instant", "input": "Hello there.", "voice": "alloy", "response_format": "wav"}
# Only exact speech paths are served directly; Litestar answers the same path with a
# trailing slash through its own routing and response layers.
DIRECT, THROUGH_LITESTAR = "/v1/audio/speech", "/v1/audio/speech/"
# Headers whose values differ between any two answers.
PER_REQUEST = {"x-request-id", "date"}


def _answer(http: httpx.Client, path: str, body: dict[str, str]) -> httpx.Response:
    response = http.post(path, json=body)
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("stream_format", ["audio", "sse"])
def test_direct_answer_has_litestars_headers(http: httpx.Client, stream_format: str) -> None:
    body = {**INSTANT, "stream_format": stream_format}
    direct = _answer(http, DIRECT, body)
    through = _answer(http, THROUGH_LITESTAR, body)
    assert direct.headers["x-request-id"].startswith("req_")
    assert direct.headers["x-request-id"] != through.headers["x-request-id"]
    shared = {name: value for name, value in direct.headers.items() if name not in PER_REQUEST}
    assert shared == {
        name: value for name, value in through.headers.items() if name not in PER_REQUEST
    }
    expected_type = "audio/wav" if stream_format == "audio" else "text/event-stream; charset=utf-8"
    assert direct.headers["content-type"] == expected_type
    assert direct.headers["transfer-encoding"] == "chunked"
    assert direct.content == through.content
    if stream_format == "audio":
        samples, rate, _ = decode(direct.content, "wav")
        assert len(samples) == round(rate * INSTANT_SECONDS)


def test_direct_errors_are_worded_in_the_dialect(http: httpx.Client) -> None:
    bad = {**INSTANT, "speed": 9}
    for path in (DIRECT, THROUGH_LITESTAR):
        response = http.post(path, json=bad)
        assert response.status_code == 400
        assert response.headers["x-request-id"].startswith("req_")
        assert response.json()["error"]["param"] == "speed"
    dedalus = http.post("/dedalus/v1/audio/speech", json=bad)
    assert dedalus.status_code == 422
    assert dedalus.headers["x-request-id"].startswith("req_")
    assert dedalus.json()["detail"][0]["loc"][-1] == "speed"


def test_body_limit_holds_on_the_direct_path(http: httpx.Client) -> None:
    huge = {**INSTANT, "input": "a" * 2_000_000}
    response = http.post(DIRECT, json=huge)
    assert response.status_code == 413
    assert response.headers["x-request-id"].startswith("req_")
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_a_bad_host_header_is_refused(http: httpx.Client) -> None:
    response = http.post(DIRECT, json=INSTANT, headers={"host": "evil.example/path"})
    assert response.status_code == 400
    assert response.headers["x-request-id"].startswith("req_")

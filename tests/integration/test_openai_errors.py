"""Every invalid request gets OpenAI's status and error envelope, never a 500."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import httpx
import pytest

from tests.support.audio import decode
from tests.support.server import RunningRouter, settled_usage

VALID = {"model": "tts-1", "input": "Hello there.", "voice": "alloy"}


def assert_openai_error(
    response: httpx.Response, status: int, param: str | None, code: str | None
) -> str:
    """Status, envelope with explicit nulls, param and code; returns the message."""
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"].startswith("req_")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str)
    assert error["message"]
    assert (error["param"], error["code"]) == (param, code)
    return str(error["message"])


def with_changes(**changes: Any) -> dict[str, Any]:
    """The valid body with some fields set (or removed, with None)."""
    body = {**VALID, **changes}
    return {key: value for key, value in body.items() if value is not None}


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        (with_changes(model=None), "model", "missing_required_parameter"),
        (with_changes(input=None), "input", "missing_required_parameter"),
        (with_changes(voice=None), "voice", "missing_required_parameter"),
        (with_changes(extra=1), "extra", "unknown_parameter"),
        (with_changes(speed="fast"), "speed", "invalid_type"),
        (with_changes(speed=True), "speed", "invalid_type"),
        (with_changes(speed=5), "speed", "decimal_above_max_value"),
        (with_changes(speed=0.1), "speed", "decimal_below_min_value"),
        (with_changes(input=5), "input", "invalid_type"),
        (with_changes(model=["tts-1"]), "model", "invalid_type"),
        (with_changes(voice=5), "voice", "invalid_type"),
        (with_changes(voice={"id": 3}), "voice", "invalid_type"),
        (with_changes(voice={"name": "x"}), "voice", "invalid_type"),
        (with_changes(voice="nobody"), "voice", "invalid_value"),
        (with_changes(response_format="ogg"), "response_format", "invalid_value"),
        (with_changes(stream_format="sse"), "stream_format", "unsupported_value"),
        (with_changes(model="tts-1-hd", stream_format="sse"), "stream_format", "unsupported_value"),
        (with_changes(stream_format="chunks"), "stream_format", "invalid_value"),
        (with_changes(input="x" * 4097), "input", "string_above_max_length"),
        (with_changes(instructions="x" * 4097), "instructions", "string_above_max_length"),
        (with_changes(input=""), "input", "string_below_min_length"),
        (with_changes(input=" \n\t "), "input", "string_below_min_length"),
    ],
)
def test_invalid_values_get_400(
    http: httpx.Client, body: dict[str, Any], param: str, code: str
) -> None:
    assert_openai_error(http.post("/v1/audio/speech", json=body), 400, param, code)


@pytest.mark.parametrize("raw", [b"{bad", b"", b"[]", b'"text"', b"null", b"1", b"\xff\xfe"])
def test_malformed_bodies_get_400(http: httpx.Client, raw: bytes) -> None:
    response = http.post(
        "/v1/audio/speech", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert assert_openai_error(response, 400, None, response.json()["error"]["code"])


def test_unknown_model_is_404(http: httpx.Client) -> None:
    message = assert_openai_error(
        http.post("/v1/audio/speech", json=with_changes(model="tts-9")),
        404,
        "model",
        "model_not_found",
    )
    assert "tts-9" in message
    assert_openai_error(http.get("/v1/models/tts-9"), 404, "model", "model_not_found")


def test_oversize_body_is_413(http: httpx.Client) -> None:
    body = json.dumps(with_changes(input="x" * (2 * 1024 * 1024)))
    response = http.post(
        "/v1/audio/speech", content=body, headers={"content-type": "application/json"}
    )
    assert_openai_error(response, 413, None, "request_too_large")


def test_accept_header_is_ignored(http: httpx.Client) -> None:
    response = http.post(
        "/v1/audio/speech",
        json=with_changes(response_format="wav"),
        headers={"accept": "application/xml"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"


def test_unknown_path_and_method(http: httpx.Client) -> None:
    assert_openai_error(http.get("/v1/nowhere"), 404, None, "not_found")
    assert_openai_error(http.get("/v1/audio/speech"), 405, None, "method_not_allowed")


def test_provider_down_is_503_with_retry_after(http: httpx.Client) -> None:
    response = http.post("/v1/audio/speech", json=with_changes(model="down"))
    assert_openai_error(response, 503, None, "service_unavailable")
    assert int(response.headers["retry-after"]) >= 1


def test_failover_before_first_byte(http: httpx.Client) -> None:
    response = http.post(
        "/v1/audio/speech", json=with_changes(model="failover", response_format="wav")
    )
    assert response.status_code == 200
    samples, rate, _ = decode(response.content, "wav")
    assert len(samples) / rate == pytest.approx(2.0, abs=0.01)


def test_router_changes_speed_when_provider_cannot(http: httpx.Client) -> None:
    response = http.post(
        "/v1/audio/speech", json=with_changes(model="tone", speed=2.0, response_format="wav")
    )
    samples, rate, _ = decode(response.content, "wav")
    assert len(samples) / rate == pytest.approx(1.0, rel=0.05)


def test_failure_after_first_byte_aborts_audio_stream(http: httpx.Client) -> None:
    body = with_changes(model="broken-midway", response_format="pcm")
    with http.stream("POST", "/v1/audio/speech", json=body) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()


def test_failure_after_first_byte_ends_sse_with_error_event(http: httpx.Client) -> None:
    body = with_changes(model="broken-midway", stream_format="sse", response_format="pcm")
    with http.stream("POST", "/v1/audio/speech", json=body) as response:
        assert response.status_code == 200
        events = [
            json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")
        ]
    assert [event["type"] for event in events] == ["speech.audio.delta", "error"]
    assert set(events[-1]["error"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [("broken-midway", 502, "provider_error"), ("crash-midway", 500, "internal_error")],
)
def test_failure_after_first_byte_is_recorded_as_what_it_was(
    http: httpx.Client, router: RunningRouter, model: str, status: int, code: str
) -> None:
    with http.stream("POST", "/v1/audio/speech", json=with_changes(model=model)) as response:
        assert response.status_code == 200
        request_id = response.headers["x-request-id"]
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()
    database = router.data_dir / "tts-router.sqlite3"
    settled_usage(database, [request_id])
    with sqlite3.connect(database) as db:
        row = db.execute(
            "select status, error_code from usage_records where request_id = ?", (request_id,)
        ).fetchone()
    assert row == (status, code)

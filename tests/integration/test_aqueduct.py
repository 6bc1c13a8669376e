"""Aqueduct's dialect, driven by the official `openai` SDK on each of its paths."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.support.audio import decode, dominant_frequency


@pytest.mark.parametrize("base", ["", "/aqueduct", "/aqueduct/v1"])
def test_openai_sdk_speaks_on_every_aqueduct_path(router_url: str, api_key: str, base: str) -> None:
    with openai.OpenAI(base_url=f"{router_url}{base}", api_key=api_key, max_retries=0) as client:
        response = client.audio.speech.create(
            model="tone",
            input="Hello from Aqueduct.",
            voice="alloy",
            response_format="wav",
            instructions="Speak cheerfully.",
            extra_body={"user_id": "u-42", "metadata": {"team": "a"}},
        )
    samples, rate, _ = decode(response.read(), "wav")
    assert len(samples) / rate == pytest.approx(2.0, abs=0.05)
    assert dominant_frequency(samples, rate) == pytest.approx(440, abs=3)


def test_streaming_response_to_file(router_url: str, api_key: str, tmp_path: object) -> None:
    with (
        openai.OpenAI(base_url=f"{router_url}/aqueduct", api_key=api_key, max_retries=0) as client,
        client.audio.speech.with_streaming_response.create(
            model="tone", input="Hi.", voice="alloy", response_format="mp3"
        ) as response,
    ):
        data = b"".join(response.iter_bytes())
    assert response.headers["content-type"] == "audio/mpeg"
    assert len(decode(data, "mp3")[0]) > 0


@pytest.mark.parametrize(
    ("body", "message", "param"),
    [
        ({"model": "tone", "input": "hi"}, "voice: Field required", "voice"),
        (
            {"model": "tone", "input": "hi", "voice": "alloy", "response_format": "ogg"},
            "response_format: Input should be 'mp3', 'opus', 'aac', 'flac', 'wav' or 'pcm'",
            "response_format",
        ),
        (
            {"model": "tone", "input": "hi", "voice": "alloy", "speed": "fast"},
            "speed: Input should be a valid number, unable to parse string as a number",
            "speed",
        ),
        ({"input": "hi"}, "model: Field required, voice: Field required", "model"),
    ],
)
def test_validation_failures_are_400s(
    router_url: str, api_key: str, body: dict[str, object], message: str, param: str
) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    response = httpx.post(f"{router_url}/audio/speech", json=body, headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": "invalid_value",
        }
    }


def test_sdk_raises_bad_request(router_url: str, api_key: str) -> None:
    with (
        openai.OpenAI(base_url=f"{router_url}/aqueduct", api_key=api_key, max_retries=0) as client,
        pytest.raises(openai.BadRequestError) as raised,
    ):
        client.audio.speech.create(model="tone", input="hi", voice="alloy", speed=9)
    assert raised.value.message.startswith("Error code: 400")


def test_body_format_errors(router_url: str, api_key: str) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    as_text = httpx.post(
        f"{router_url}/audio/speech",
        content=b"hello",
        headers={**headers, "content-type": "text/plain"},
    )
    assert as_text.status_code == 415
    assert as_text.json()["error"]["message"] == "Unsupported Content-Type: text/plain"
    broken = httpx.post(
        f"{router_url}/audio/speech",
        content=b"{nope",
        headers={**headers, "content-type": "application/json"},
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["message"].startswith("Invalid JSON: ")


def test_errors_leave_out_empty_fields(router_url: str, api_key: str) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    body = {"model": "nope", "input": "hi", "voice": "alloy"}
    missing = httpx.post(f"{router_url}/aqueduct/v1/audio/speech", json=body, headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found_error"
    unauthorized = httpx.post(f"{router_url}/audio/speech", json=body)
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {
        "error": {
            "message": unauthorized.json()["error"]["message"],
            "type": "invalid_request_error",
            "code": "missing_api_key",
        }
    }

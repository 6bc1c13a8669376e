"""Dedalus Labs' dialect, driven by the official `dedalus-labs` SDK and checked against seed 004."""

from __future__ import annotations

import json
from typing import Any

import dedalus_labs
import httpx
import pytest

from tests.integration.test_voice_files import PITCH, pitch_of_wav, recording
from tests.support.audio import decode, dominant_frequency
from tests.support.seeds import DEDALUS, validator
from tests.support.tenants import tenant_key

SPEECH = "/v1/audio/speech"
REQUEST = validator(DEDALUS, SPEECH, "requestBody")
INVALID = validator(DEDALUS, SPEECH, "responses", "422")
PATH = f"/dedalus{SPEECH}"


def sdk(
    router_url: str, api_key: str | None = None, x_api_key: str | None = None
) -> dedalus_labs.Dedalus:
    """The Dedalus SDK pointed at the router's Dedalus prefix (the SDK adds `/v1`)."""
    return dedalus_labs.Dedalus(
        base_url=f"{router_url}/dedalus", api_key=api_key, x_api_key=x_api_key, max_retries=0
    )


def checked(**body: Any) -> dict[str, Any]:
    """`body`, after checking it is valid by Dedalus's own schema."""
    REQUEST.validate(body)
    return body


@pytest.mark.parametrize("model", ["openai/tone", "tone"])
@pytest.mark.parametrize("sent", ["bearer", "x-api-key", "both"])
def test_sdk_speaks_with_prefixed_and_bare_models(
    router_url: str, api_key: str, model: str, sent: str
) -> None:
    bearer = api_key if sent in ("bearer", "both") else None
    header = api_key if sent in ("x-api-key", "both") else None
    body = checked(model=model, input="Hello from Dedalus.", voice="alloy", response_format="wav")
    with sdk(router_url, bearer, header) as client:
        response = client.audio.speech.create(**body)
    samples, rate, _ = decode(response.read(), "wav")
    assert len(samples) / rate == pytest.approx(2.0, abs=0.05)
    assert dominant_frequency(samples, rate) == pytest.approx(440, abs=3)


def test_provider_prefixed_openai_model_reaches_its_route(router_url: str, api_key: str) -> None:
    body = checked(model="openai/tts-1", input="Hi.", voice="alloy", response_format="mp3")
    with sdk(router_url, api_key=api_key) as client:
        response = client.audio.speech.create(**body)
    assert response.headers["content-type"] == "audio/mpeg"
    samples, _, _ = decode(response.read(), "mp3")
    assert len(samples) > 0


def test_empty_bearer_beside_x_api_key_is_tolerated(router_url: str, api_key: str) -> None:
    headers = {"authorization": "Bearer", "x-api-key": api_key, "accept": "audio/mpeg"}
    body = checked(model="tone", input="Hi.", voice="alloy", response_format="wav")
    response = httpx.post(f"{router_url}{PATH}", json=body, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"


def test_sse_stream_format(router_url: str, api_key: str) -> None:
    body = checked(
        model="tone", input="Hi.", voice="alloy", response_format="pcm", stream_format="sse"
    )
    response = httpx.post(f"{router_url}{PATH}", json=body, headers={"x-api-key": api_key})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [
        json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")
    ]
    assert {event["type"] for event in events} == {"speech.audio.delta", "speech.audio.done"}


def test_voice_object_clones_an_uploaded_voice_file(router_url: str, api_key: str) -> None:
    headers = {"x-api-key": api_key}
    uploaded = httpx.post(
        f"{router_url}/dedalus/v1/files",
        files={"file": ("me.mp3", recording())},
        data={"purpose": "voice"},
        headers=headers,
    )
    assert uploaded.status_code == 200, uploaded.text
    body = checked(
        model="Chatterbox",
        input="Mine.",
        voice={"id": uploaded.json()["id"]},
        response_format="wav",
    )
    with sdk(router_url, x_api_key=api_key) as client:
        response = client.audio.speech.create(**body)
    assert pitch_of_wav(response.read()) == pytest.approx(PITCH, abs=3)


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (
            {"model": "tts-1", "input": "hi"},
            {
                "type": "missing",
                "loc": ["body", "voice"],
                "msg": "Field required",
                "input": {"model": "tts-1", "input": "hi"},
            },
        ),
        (
            {"model": "tone", "input": "hi", "voice": "alloy", "speed": 5},
            {
                "type": "less_than_equal",
                "loc": ["body", "speed"],
                "msg": "Input should be less than or equal to 4",
                "input": 5,
                "ctx": {"le": 4.0},
            },
        ),
        (
            {"model": "tone", "input": "hi", "voice": "alloy", "response_format": "ogg"},
            {
                "type": "literal_error",
                "loc": ["body", "response_format"],
                "msg": "Input should be 'mp3', 'opus', 'aac', 'flac', 'wav' or 'pcm'",
                "input": "ogg",
                "ctx": {"expected": "'mp3', 'opus', 'aac', 'flac', 'wav' or 'pcm'"},
            },
        ),
        (
            {"model": "tone", "input": "x" * 4097, "voice": "alloy"},
            {
                "type": "string_too_long",
                "loc": ["body", "input"],
                "msg": "String should have at most 4096 characters",
                "input": "x" * 4097,
                "ctx": {"max_length": 4096},
            },
        ),
        (
            "{bad json",
            {
                "type": "json_invalid",
                "loc": ["body", 1],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": "Expecting property name enclosed in double quotes"},
            },
        ),
    ],
)
def test_validation_errors_are_fastapi_422s(
    router_url: str, api_key: str, raw: dict[str, Any] | str, detail: dict[str, Any]
) -> None:
    content = raw if isinstance(raw, str) else json.dumps(raw)
    headers = {"authorization": f"Bearer {api_key}", "content-type": "application/json"}
    response = httpx.post(f"{router_url}{PATH}", content=content, headers=headers)
    assert response.status_code == 422
    INVALID.validate(response.json())
    assert response.json() == {"detail": [detail]}


def test_sdk_raises_unprocessable_with_the_whole_body(router_url: str, api_key: str) -> None:
    with (
        sdk(router_url, api_key=api_key) as client,
        pytest.raises(dedalus_labs.UnprocessableEntityError) as raised,
    ):
        client.audio.speech.create(model="tone", input="hi", voice="alloy", speed=9)
    body: Any = raised.value.body
    INVALID.validate(body)


def test_other_errors_are_a_detail_string(router_url: str, api_key: str) -> None:
    with (
        sdk(router_url, api_key=api_key) as client,
        pytest.raises(dedalus_labs.NotFoundError) as raised,
    ):
        client.audio.speech.create(model="openai/nope", input="hi", voice="alloy")
    assert raised.value.body == {
        "detail": "The model `nope` does not exist or you do not have access to it."
    }
    with (
        sdk(router_url, api_key="tr-wrong") as wrong,
        pytest.raises(dedalus_labs.AuthenticationError) as failed,
    ):
        wrong.audio.speech.create(model="tone", input="hi", voice="alloy")
    assert isinstance(failed.value.body, dict)
    assert set(failed.value.body) == {"detail"}
    assert "tr-wrong" not in str(failed.value.body)


def test_a_dedalus_key_speaks_dedalus_at_the_root(router_url: str, admin: httpx.Client) -> None:
    key = tenant_key(admin, key_options={"dialect": "dedalus"})
    response = httpx.post(
        f"{router_url}{SPEECH}", json={"model": "tone", "input": "hi"}, headers={"x-api-key": key}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "voice"]
    with dedalus_labs.Dedalus(base_url=router_url, api_key=key, max_retries=0) as client:
        audio = client.audio.speech.create(
            model="openai/tone", input="Hi.", voice="alloy", response_format="wav"
        )
    assert decode(audio.read(), "wav")[1] == 16000

"""Distribute.AI's dialect, driven as its docs show: raw `authorization`, JSON URLs, WAV files."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.conftest import Keys
from tests.plugins.scripted import expressive_hz, expressive_seconds
from tests.support.audio import decode, dominant_frequency
from tests.support.seeds import DISTRIBUTE_SYNC, validator
from tests.support.server import RunningRouter

SYNC = "/v1/audio/speech"
REQUEST = validator(DISTRIBUTE_SYNC, SYNC, "requestBody")
OK = validator(DISTRIBUTE_SYNC, SYNC, "responses", "200")
BAD = validator(DISTRIBUTE_SYNC, SYNC, "responses", "400")


@pytest.fixture(scope="module")
def distribute_key(router: RunningRouter, keys: Keys) -> str:
    """A key of tenant `acme` whose dialect on the shared root paths is Distribute's."""
    response = httpx.post(
        f"{router.base_url}/admin/v1/tenants/acme/keys",
        json={"name": "distribute client", "dialect": "distribute"},
        headers={"authorization": f"Bearer {keys.admin}"},
    )
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


@pytest.fixture
def distribute(router_url: str, distribute_key: str) -> Iterator[httpx.Client]:
    """A client as Distribute's docs show it: the raw key in `authorization`, root base URL."""
    headers = {"authorization": distribute_key, "accept": "*/*"}
    with httpx.Client(base_url=router_url, headers=headers, timeout=60.0) as client:
        yield client


def wav_seconds_and_pitch(data: bytes) -> tuple[float, float]:
    """The duration and dominant frequency of a WAV file, after checking its header is exact."""
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        frames, rate = wav.getnframes(), wav.getframerate()
        assert len(data) == 44 + frames * 2
    samples, decoded_rate, _ = decode(data, "wav")
    assert decoded_rate == rate
    return frames / rate, dominant_frequency(samples, rate)


def speak(client: httpx.Client, path: str = SYNC, **fields: Any) -> httpx.Response:
    """POST a valid sync body, after checking it against Distribute's own schema."""
    body = {"model": "Chatterbox", "input": "Hello from the router.", **fields}
    REQUEST.validate(body)
    return client.post(path, json=body)


@pytest.mark.parametrize("path", [SYNC, f"/distribute{SYNC}"])
def test_sync_speech_answers_a_url_to_a_wav_file(
    distribute: httpx.Client, path: str, router_url: str
) -> None:
    response = speak(distribute, path, voice="nora", temperature=0.5, exaggeration=0.25)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    OK.validate(response.json())
    [result] = response.json()
    url = result["url"]
    assert url.startswith(f"{router_url}/outputs/")
    fetched = httpx.get(url)  # no API key: the signed URL is the credential
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "audio/wav"
    seconds, pitch = wav_seconds_and_pitch(fetched.content)
    assert seconds == pytest.approx(expressive_seconds(0.5), abs=0.01)
    assert pitch == pytest.approx(expressive_hz(0.25), abs=5)


def test_the_bearer_form_of_the_key_works_too(
    router_url: str, distribute_key: str, distribute: httpx.Client
) -> None:
    headers = {"authorization": f"Bearer {distribute_key}"}
    response = httpx.post(
        f"{router_url}/distribute{SYNC}",
        json={"model": "Chatterbox", "input": "Hi there."},
        headers=headers,
        timeout=60.0,
    )
    assert response.status_code == 200, response.text
    seconds, _ = wav_seconds_and_pitch(httpx.get(response.json()[0]["url"]).content)
    assert seconds == pytest.approx(expressive_seconds(0.8), abs=0.01)  # the seed's default


def test_a_key_without_a_dialect_gets_openai_audio_on_the_root_path(
    http: httpx.Client,
) -> None:
    response = http.post(SYNC, json={"model": "tone", "input": "Hi.", "voice": "alloy"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"


def _tampered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()


def test_tampered_urls_are_refused(distribute: httpx.Client) -> None:
    url = speak(distribute).json()[0]["url"]
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    for bad in (
        _tampered(url, signature="A" * 43),
        _tampered(url, expires=str(expires + 3600)),
        url.split("?")[0],
        url.replace("/outputs/", "/outputs/0").replace(".wav?", ".wav?"),
    ):
        response = httpx.get(bad)
        assert response.status_code == 403, bad
        BAD.validate(response.json())
    assert httpx.get(url).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"input": "Hello"}, "body must have required property 'model'"),
        ({"model": "Chatterbox"}, "body must have required property 'input'"),
        ({"model": "Chatterbox", "input": "x"}, "body/input must NOT have fewer than 2 characters"),
        (
            {"model": "Chatterbox", "input": "x" * 4097},
            "body/input must NOT have more than 4096 characters",
        ),
        (
            {"model": "tts-1", "input": "Hello"},
            "body/model must be equal to one of the allowed values",
        ),
        (
            {"model": "Chatterbox", "input": "Hello", "response_format": "mp3"},
            "body/response_format must be equal to one of the allowed values",
        ),
        (
            {"model": "Chatterbox", "input": "Hello", "temperature": 1.5},
            "body/temperature must be <= 1",
        ),
        (
            {"model": "Chatterbox", "input": "Hello", "exaggeration": -0.1},
            "body/exaggeration must be >= 0",
        ),
        (
            {"model": "Chatterbox", "input": "Hello", "cfg_weight": "0.5"},
            "body/cfg_weight must be number",
        ),
        ({"model": "Chatterbox", "input": "Hello", "stream": "yes"}, "body/stream must be boolean"),
        (
            {"model": "Chatterbox", "input": "Hello", "speed": 2},
            "body must NOT have additional properties",
        ),
        ({"model": "Chatterbox", "input": "   "}, "body/input must contain text to speak"),
        ([], "body must be object"),
    ],
)
def test_bad_bodies_get_400_with_a_message(
    distribute: httpx.Client, body: Any, message: str
) -> None:
    if isinstance(body, dict) and body.get("input", "").strip():
        assert list(REQUEST.iter_errors(body)), "the seed's schema must refuse this body too"
    response = distribute.post(SYNC, json=body)
    assert response.status_code == 400
    BAD.validate(response.json())
    assert response.json() == {"message": message}


def test_malformed_json_gets_400(distribute: httpx.Client) -> None:
    response = distribute.post(
        SYNC, content=b'{"model": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"message": "Body is not valid JSON"}


# Without a valid key the root path cannot know the caller's dialect: it answers in the
# configured default (OpenAI's here). The dialect's own prefix always answers in its shape.
@pytest.mark.parametrize(
    ("path", "shape"), [(SYNC, {"error"}), (f"/distribute{SYNC}", {"message"})]
)
@pytest.mark.parametrize("authorization", [None, "", "wrong-key", "Bearer wrong-key", "Bearer"])
def test_bad_keys_get_401(
    router_url: str, path: str, shape: set[str], authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    response = httpx.post(
        f"{router_url}{path}",
        json={"model": "Chatterbox", "input": "Hello"},
        headers=headers,
    )
    assert response.status_code == 401
    assert set(response.json()) == shape
    assert "wrong-key" not in response.text

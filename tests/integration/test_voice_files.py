"""Voice files: uploaded once, cloned from in every dialect, private to their tenant."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator

import httpx
import numpy as np
import numpy.typing as npt
import openai
import pytest

from tests.conftest import VOICE_FILE_MAX_BYTES, Keys
from tests.integration.test_distribute_jobs import create_job, poll
from tests.support.audio import decode, dominant_frequency, encode, png_image, silence, tone
from tests.support.server import RunningRouter
from tests.support.tenants import tenant_key

PITCH = 330.0


def recording(seconds: float = 2.0, hz: float = PITCH) -> bytes:
    """A stereo 44.1 kHz MP3 of a tone, as a user might upload."""
    samples = np.tile(tone(seconds, 44100, hz), (2, 1))
    return encode(samples, 44100, "mp3", "libmp3lame")


def upload(
    http: httpx.Client, data: bytes, filename: str = "me.mp3", path: str = "/v1/files", **form: str
) -> httpx.Response:
    """POST a multipart upload the way OpenAI's Files API takes it."""
    return http.post(path, files={"file": (filename, data)}, data={"purpose": "voice", **form})


def wav_of(samples: npt.NDArray[np.float32]) -> bytes:
    """Mono 16 kHz samples (one row) as a WAV file."""
    return encode(samples, 16000, "wav", "pcm_s16le")


def pitch_of_wav(data: bytes) -> float:
    """The dominant frequency of a WAV file."""
    samples, rate, _ = decode(data, "wav")
    return dominant_frequency(samples, rate)


@pytest.fixture(scope="module")
def voice_id(router: RunningRouter, keys: Keys) -> str:
    """A voice file of tenant `acme`: two seconds at PITCH."""
    headers = {"authorization": f"Bearer {keys.user}"}
    with httpx.Client(base_url=router.base_url, headers=headers, timeout=60) as http:
        response = upload(http, recording())
    assert response.status_code == 200, response.text
    file_id: str = response.json()["id"]
    return file_id


@pytest.fixture
def stranger(router_url: str, admin: httpx.Client) -> Iterator[httpx.Client]:
    """A client of another tenant."""
    headers = {"authorization": f"Bearer {tenant_key(admin)}"}
    with httpx.Client(base_url=router_url, headers=headers, timeout=60) as client:
        yield client


def test_upload_answers_a_file_object_and_keeps_normalized_audio(
    http: httpx.Client, voice_id: str
) -> None:
    found = http.get(f"/v1/files/{voice_id}").json()
    assert voice_id.startswith("file-")
    assert len(voice_id) == len("file-") + 32
    assert found["object"] == "file"
    assert found["purpose"] == "voice"
    assert found["filename"] == "me.mp3"
    assert found["duration_seconds"] == pytest.approx(2.0, abs=0.06)
    content = http.get(f"/v1/files/{voice_id}/content")
    assert content.headers["content-type"] == "audio/wav"
    assert found["bytes"] == len(content.content)
    with wave.open(io.BytesIO(content.content)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
    assert pitch_of_wav(content.content) == pytest.approx(PITCH, abs=3)


def test_openai_sdk_lists_retrieves_and_deletes(client: openai.OpenAI, http: httpx.Client) -> None:
    created = upload(http, recording(hz=550.0), filename="other.mp3").json()
    assert created["id"] in [item.id for item in client.files.list()]
    assert client.files.retrieve(created["id"]).filename == "other.mp3"
    deleted = client.files.delete(created["id"])
    assert deleted.deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created["id"])
    assert created["id"] not in [item.id for item in client.files.list()]


def test_openai_speech_clones_from_a_voice_object(client: openai.OpenAI, voice_id: str) -> None:
    audio = client.audio.speech.create(
        model="Chatterbox", input="Say it my way.", voice={"id": voice_id}, response_format="wav"
    )
    assert pitch_of_wav(audio.read()) == pytest.approx(PITCH, abs=3)


def test_distribute_sync_and_async_clone_from_the_file_id(
    router_url: str, api_key: str, voice_id: str
) -> None:
    headers = {"authorization": api_key}
    with httpx.Client(base_url=router_url, headers=headers, timeout=60) as distribute:
        body = {"model": "Chatterbox", "input": "Say it my way.", "voice": voice_id}
        synced = distribute.post("/distribute/v1/audio/speech", json=body)
        assert synced.status_code == 200, synced.text
        assert pitch_of_wav(httpx.get(synced.json()[0]["url"]).content) == pytest.approx(
            PITCH, abs=3
        )
        job_id = create_job(distribute, voice=voice_id)
        result = poll(distribute, job_id).json()
        assert result["status"] == "COMPLETED"
        fetched = httpx.get(result["results"][0]["url"]).content
        assert pitch_of_wav(fetched) == pytest.approx(PITCH, abs=3)


def test_a_model_that_cannot_clone_refuses_the_voice(http: httpx.Client, voice_id: str) -> None:
    body = {"model": "tone", "input": "Hi.", "voice": {"id": voice_id}}
    response = http.post("/v1/audio/speech", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["message"]) == (
        "voice",
        "Model `tone` does not support custom voices.",
    )


@pytest.mark.parametrize("model", ["tone", "Chatterbox"])
def test_an_unknown_voice_file_is_404(http: httpx.Client, model: str) -> None:
    body = {"model": model, "input": "Hi.", "voice": {"id": "file-" + "0" * 32}}
    response = http.post("/v1/audio/speech", json=body)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"No voice file with id `file-{'0' * 32}`."


def test_another_tenant_cannot_see_use_or_delete_a_voice_file(
    stranger: httpx.Client, http: httpx.Client, voice_id: str
) -> None:
    missing = {"message": f"No voice file with id `{voice_id}`."}
    for response in (
        stranger.get(f"/v1/files/{voice_id}"),
        stranger.get(f"/v1/files/{voice_id}/content"),
        stranger.delete(f"/v1/files/{voice_id}"),
        stranger.post(
            "/v1/audio/speech",
            json={"model": "Chatterbox", "input": "Hi.", "voice": {"id": voice_id}},
        ),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["message"] == missing["message"]
    assert voice_id not in stranger.get("/v1/files").text
    assert http.get(f"/v1/files/{voice_id}").status_code == 200


def test_another_tenant_cannot_queue_a_job_with_a_voice_file(
    router_url: str, admin: httpx.Client, voice_id: str
) -> None:
    headers = {"authorization": tenant_key(admin)}
    body = {"model": "Chatterbox", "input": "Hi there.", "voice": voice_id}
    response = httpx.post(f"{router_url}/async/speech/create", json=body, headers=headers)
    assert response.status_code == 404
    assert response.json() == {"message": f"No voice file with id `{voice_id}`."}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"definitely not audio" * 100, "The file could not be read as audio."),
        (png_image(), "The file could not be read as audio."),
        (b"ffconcat version 1.0\nfile /etc/passwd\n", "The file could not be read as audio."),
        (
            encode(silence(3.0, 16000), 16000, "wav", "pcm_s16le"),
            "The recording contains no sound.",
        ),
        (
            wav_of(tone(0.3, 16000)[np.newaxis]),
            "The recording is shorter than 1 second.",
        ),
    ],
)
def test_unfit_uploads_are_refused(http: httpx.Client, data: bytes, message: str) -> None:
    before = http.get("/v1/files").json()["data"]
    response = upload(http, data)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["message"]) == ("file", message)
    assert http.get("/v1/files").json()["data"] == before


def test_a_decompression_bomb_is_refused(http: httpx.Client) -> None:
    bomb = encode(silence(20 * 60, 8000), 8000, "flac", "flac")
    assert len(bomb) < VOICE_FILE_MAX_BYTES
    response = upload(http, bomb)
    assert response.status_code == 400
    assert "longer than" in response.json()["error"]["message"]


@pytest.mark.parametrize("size", [VOICE_FILE_MAX_BYTES + 1, VOICE_FILE_MAX_BYTES * 3])
def test_oversized_uploads_are_refused(http: httpx.Client, size: int) -> None:
    response = upload(http, b"\0" * size)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_a_path_in_the_filename_is_dropped(http: httpx.Client) -> None:
    response = upload(http, recording(), filename="../../../etc/passwd\u202emp3.wav")
    assert response.status_code == 200, response.text
    assert response.json()["filename"] == "passwdmp3.wav"


@pytest.mark.parametrize(
    ("form", "files", "param"),
    [
        ({"purpose": "assistants"}, True, "purpose"),
        ({}, True, "purpose"),
        ({"purpose": "voice"}, False, "file"),
    ],
)
def test_malformed_uploads_name_the_field(
    http: httpx.Client, form: dict[str, str], files: bool, param: str
) -> None:
    parts = {"file": ("me.mp3", recording())} if files else {"other": ("x", b"x")}
    response = http.post("/v1/files", data=form, files=parts)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_a_json_body_is_not_an_upload(http: httpx.Client) -> None:
    response = http.post("/v1/files", json={"purpose": "voice"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "purpose"


@pytest.mark.parametrize("path", ["/distribute/v1/files", "/v1/files"])
def test_distribute_keys_get_distribute_errors(
    router_url: str, admin: httpx.Client, path: str
) -> None:
    key = tenant_key(admin, key_options={"dialect": "distribute"})
    response = httpx.post(
        f"{router_url}{path}",
        files={"file": ("x.bin", b"garbage" * 50)},
        data={"purpose": "voice"},
        headers={"authorization": key},
    )
    assert response.status_code == 400
    assert response.json() == {"message": "The file could not be read as audio."}

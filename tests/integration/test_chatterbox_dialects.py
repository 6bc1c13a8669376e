"""Every dialect, voice files, the sampling controls and jobs, served by the real Chatterbox."""

# The model is Chatterbox with random weights and a two-layer T3 (tests/plugins/tiny_chatterbox),
# on the CPU: its audio is noise, but every request runs the real conditioning, T3 decoding,
# S3Gen and watermark. Pieces stop after MAX_NEW_TOKENS speech tokens, 0.04 s each.

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dedalus_labs
import httpx
import numpy as np
import numpy.typing as npt
import openai
import pytest

from tests.integration.test_distribute import wav_seconds_and_pitch
from tests.integration.test_distribute_jobs import create_job, poll
from tests.integration.test_voice_files import recording, upload
from tests.support.audio import decode
from tests.support.chatterbox_weights import (
    TINY_PLUGIN,
    tiny_checkpoint,
    tiny_router_config,
    tone_wav,
)
from tests.support.server import RunningRouter, cli, register_plugins, run_router

MAX_NEW_TOKENS = 16
TOKEN_SECONDS = 0.04
TEXT = "Hello there."
CONTROLS: dict[str, Any] = {"temperature": 0.6, "exaggeration": 0.7, "cfg_weight": 0.4, "seed": 21}


@pytest.fixture(scope="module")
def checkpoint(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The random checkpoint, in pytest's cache so that later runs reuse it."""
    cache: pytest.Cache | None = getattr(request.config, "cache", None)
    root = cache.mkdir("chatterbox-weights") if cache else tmp_path_factory.mktemp("weights")
    return tiny_checkpoint(root)


@pytest.fixture(scope="module")
def root(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Config, plugin registration and a tenant with a user and an admin key."""
    root = tmp_path_factory.mktemp("chatterbox-router")
    clip = tone_wav(root / "clip.wav", 1.0, 220.0)
    register_plugins(root / "plugins", {"chatterbox-tiny": TINY_PLUGIN})
    voices = {"leo": clip, "nora": clip}
    config = tiny_router_config(
        checkpoint, voices, max_new_tokens=MAX_NEW_TOKENS, model="Chatterbox"
    )
    (root / "router.toml").write_text(config)
    data = str(root / "data")
    cli("tenants", "create", "acme", "--data-dir", data)
    for name, flags in [("user", []), ("admin", ["--admin"])]:
        key = cli("keys", "create", "--tenant", "acme", *flags, "--data-dir", data)[-1]
        (root / f"{name}.key").write_text(key)
    return root


@pytest.fixture(scope="module")
def chatterbox(root: Path) -> Iterator[RunningRouter]:
    """The router, with `Chatterbox` served by the tiny model."""
    with run_router(
        root / "data", config=root / "router.toml", python_path=root / "plugins"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def key(root: Path) -> str:
    return (root / "user.key").read_text()


@pytest.fixture
def client(chatterbox: RunningRouter, key: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{chatterbox.base_url}/v1", api_key=key, max_retries=0, timeout=120
    )


@pytest.fixture
def distribute(chatterbox: RunningRouter, key: str) -> Iterator[httpx.Client]:
    """Distribute's client: the raw key in `authorization`, on the router's Distribute prefix."""
    headers = {"authorization": key}
    base = f"{chatterbox.base_url}/distribute"
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def voice_id(chatterbox: RunningRouter, key: str) -> str:
    """A voice file of tenant `acme`."""
    headers = {"authorization": f"Bearer {key}"}
    with httpx.Client(base_url=chatterbox.base_url, headers=headers, timeout=60) as http:
        response = upload(http, recording(hz=180.0))
    assert response.status_code == 200, response.text
    file_id: str = response.json()["id"]
    return file_id


def samples_of(wav: bytes) -> npt.NDArray[np.float64]:
    """The samples of a 24 kHz mono WAV file that holds some sound."""
    samples, rate, channels = decode(wav, "wav")
    assert (rate, channels) == (24_000, 1)
    assert 0 < len(samples) / rate <= MAX_NEW_TOKENS * TOKEN_SECONDS
    assert np.abs(samples).max() > 0
    return samples


def openai_speech(client: openai.OpenAI, voice: Any = "leo", **controls: Any) -> bytes:
    """WAV bytes from the OpenAI SDK, the controls in its extra_body."""
    response = client.audio.speech.create(
        model="Chatterbox", input=TEXT, voice=voice, response_format="wav", extra_body=controls
    )
    return response.read()


def test_openai_sdk_speaks_and_a_seed_reproduces_it(client: openai.OpenAI) -> None:
    heard = samples_of(openai_speech(client, **CONTROLS))
    assert np.array_equal(samples_of(openai_speech(client, **CONTROLS)), heard)
    other_seed = samples_of(openai_speech(client, **{**CONTROLS, "seed": 22}))
    assert not np.array_equal(other_seed, heard)


@pytest.mark.parametrize(("control", "value"), [("temperature", 1.3), ("cfg_weight", 1.0)])
def test_a_control_alone_changes_the_audio(
    client: openai.OpenAI, control: str, value: float
) -> None:
    heard = samples_of(openai_speech(client, **CONTROLS))
    changed = samples_of(openai_speech(client, **{**CONTROLS, control: value}))
    assert not np.array_equal(changed, heard)


@pytest.mark.parametrize("voice", ["leo", "voice file"])
def test_dedalus_sdk_speaks_a_builtin_or_uploaded_voice(
    chatterbox: RunningRouter, key: str, voice_id: str, voice: str
) -> None:
    with dedalus_labs.Dedalus(
        base_url=f"{chatterbox.base_url}/dedalus", x_api_key=key, max_retries=0, timeout=120
    ) as dedalus:
        response = dedalus.audio.speech.create(
            model="Chatterbox",
            input=TEXT,
            voice={"id": voice_id} if voice == "voice file" else voice,
            response_format="wav",
        )
    samples_of(response.read())


def test_a_voice_file_clones_in_every_dialect(
    chatterbox: RunningRouter, client: openai.OpenAI, distribute: httpx.Client, voice_id: str
) -> None:
    cloned = samples_of(openai_speech(client, {"id": voice_id}, **CONTROLS))
    assert np.array_equal(samples_of(openai_speech(client, {"id": voice_id}, **CONTROLS)), cloned)
    assert not np.array_equal(cloned, samples_of(openai_speech(client, **CONTROLS)))
    synced = distribute.post(
        "/v1/audio/speech", json={"model": "Chatterbox", "input": TEXT, "voice": voice_id}
    )
    assert synced.status_code == 200, synced.text
    samples_of(httpx.get(synced.json()[0]["url"]).content)
    job_id = create_job(distribute, voice=voice_id, input=TEXT)
    result = poll(distribute, job_id, timeout=120).json()
    assert result["status"] == "COMPLETED", result
    samples_of(httpx.get(result["results"][0]["url"]).content)


def test_distribute_controls_and_jobs_are_metered_by_the_audio_made(
    chatterbox: RunningRouter, distribute: httpx.Client, root: Path
) -> None:
    fields = {k: v for k, v in CONTROLS.items() if k != "seed"}
    synced = distribute.post(
        "/v1/audio/speech", json={"model": "Chatterbox", "input": TEXT, "voice": "nora", **fields}
    )
    assert synced.status_code == 200, synced.text
    job_id = create_job(distribute, voice="leo", input=TEXT, **fields)
    result = poll(distribute, job_id, timeout=120).json()
    assert result["status"] == "COMPLETED", result
    seconds = {
        synced.headers["x-request-id"]: wav_seconds(synced.json()[0]["url"]),
        job_id: wav_seconds(result["results"][0]["url"]),
    }
    admin = {"authorization": f"Bearer {(root / 'admin.key').read_text()}"}
    export = httpx.get(f"{chatterbox.base_url}/admin/v1/usage/export", headers=admin).text
    rows = {row["request_id"]: row for row in csv.DictReader(io.StringIO(export))}
    for request_id, made in seconds.items():
        row = rows[request_id]
        assert (row["dialect"], row["status"], row["provider"]) == (
            "distribute",
            "200",
            "chatterbox",
        )
        assert int(row["input_characters"]) == len(TEXT)
        assert float(row["audio_seconds"]) == pytest.approx(made, abs=0.01)


def wav_seconds(url: str) -> float:
    """The length of the WAV file at a signed output URL."""
    fetched = httpx.get(url)
    assert fetched.status_code == 200
    samples_of(fetched.content)
    return wav_seconds_and_pitch(fetched.content)[0]

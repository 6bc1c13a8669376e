"""The OpenAI SDK against the real router and the real offline Kokoro model."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from pathlib import Path

import httpx
import numpy as np
import numpy.typing as npt
import openai
import pytest

from tests.support.audio import decode, median_pitch, spectral_distance
from tests.support.server import RunningRouter, settled_usage

SENTENCES = (
    "The quick brown fox jumps over the lazy dog. "
    "It was a bright cold day in April, and the clocks were striking thirteen."
)
CONTAINERS = {"mp3": "mp3", "opus": "ogg", "aac": "aac", "flac": "flac", "wav": "wav"}
# Plausible English speech: between 40 and 150 ms of audio per character.
MIN_SECONDS_PER_CHAR, MAX_SECONDS_PER_CHAR = 0.04, 0.15


def assert_plausible_speech(samples: np.ndarray, rate: int, text: str) -> None:
    """Long enough for the text, not absurdly long, and not silence."""
    seconds = len(samples) / rate
    assert MIN_SECONDS_PER_CHAR * len(text) < seconds < MAX_SECONDS_PER_CHAR * len(text)
    scale = 32768.0 if np.abs(samples).max() > 1.5 else 1.0
    assert np.sqrt(np.mean((samples / scale) ** 2)) > 0.01


@pytest.mark.parametrize("response_format", sorted(CONTAINERS))
def test_each_format_decodes_to_speech(client: openai.OpenAI, response_format: str) -> None:
    response = client.audio.speech.create(
        model="tts-1",
        voice="alloy",
        input=SENTENCES,
        response_format=response_format,  # type: ignore[arg-type]
    )
    samples, rate, channels = decode(response.content, CONTAINERS[response_format])
    assert channels == 1
    assert rate == (48_000 if response_format == "opus" else 24_000)
    assert_plausible_speech(samples, rate, SENTENCES)


def test_pcm_is_raw_s16le_mono_24k(client: openai.OpenAI) -> None:
    pcm = client.audio.speech.create(
        model="tts-1", voice="echo", input=SENTENCES, response_format="pcm"
    )
    wav = client.audio.speech.create(
        model="tts-1", voice="echo", input=SENTENCES, response_format="wav"
    )
    assert pcm.response.headers["content-type"] == "audio/pcm"
    assert len(pcm.content) % 2 == 0
    raw = np.frombuffer(pcm.content, dtype="<i2")
    from_wav, rate, channels = decode(wav.content, "wav")
    assert (rate, channels) == (24_000, 1)
    # The same deterministic audio: pcm is exactly the WAV's samples without the header.
    np.testing.assert_array_equal(raw, from_wav.astype(np.int16))
    assert_plausible_speech(raw.astype(np.float64), 24_000, SENTENCES)


def test_stream_to_file(client: openai.OpenAI, tmp_path: Path) -> None:
    path = tmp_path / "speech.mp3"
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="nova", input=SENTENCES
    ) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        assert response.headers["x-request-id"].startswith("req_")
        response.stream_to_file(path)
    samples, rate, _ = decode(path.read_bytes(), "mp3")
    assert_plausible_speech(samples, rate, SENTENCES)


def test_sse_stream(http: httpx.Client) -> None:
    body = {
        "model": "gpt-4o-mini-tts",
        "voice": "coral",
        "input": SENTENCES,
        "stream_format": "sse",
        "response_format": "wav",
    }
    with http.stream("POST", "/v1/audio/speech", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [
            json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")
        ]
    deltas, done = events[:-1], events[-1]
    assert deltas
    assert {event["type"] for event in deltas} == {"speech.audio.delta"}
    assert done["type"] == "speech.audio.done"
    usage = done["usage"]
    assert usage["input_tokens"] == len(SENTENCES)
    assert usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    audio = b"".join(base64.b64decode(event["audio"]) for event in deltas)
    samples, rate, _ = decode(audio, "wav")
    assert_plausible_speech(samples, rate, SENTENCES)


def _pcm_seconds(client: openai.OpenAI, text: str) -> float:
    response = client.audio.speech.create(
        model="kokoro", voice="alloy", input=text, response_format="pcm"
    )
    return len(response.content) / 2 / 24_000


def test_long_text_loses_no_sentence(client: openai.OpenAI) -> None:
    passage = " ".join(
        f"Paragraph {word} has its own short sentence about the weather, the sea and the hills."
        for word in (
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        )
    )
    long_text = " ".join([passage] * 4)
    assert 3_900 < len(long_text) <= 4_096
    short, long = _pcm_seconds(client, passage), _pcm_seconds(client, long_text)
    # Each of the 48 sentences is over 2% of the long audio: losing one would break the ratio.
    assert long / short == pytest.approx(4.0, rel=0.015)


def test_usage_is_recorded(client: openai.OpenAI, router: RunningRouter) -> None:
    response = client.audio.speech.create(
        model="tts-1", voice="fable", input="Count me.", response_format="wav"
    )
    request_id = response.response.headers["x-request-id"]
    samples, rate, _ = decode(response.content, "wav")
    settled_usage(router.data_dir / "tts-router.sqlite3", [request_id])
    with sqlite3.connect(router.data_dir / "tts-router.sqlite3") as db:
        row = db.execute(
            "select requested_model, provider, voice, input_characters, audio_seconds,"
            " output_bytes, status "
            "from usage_records where request_id = ?",
            (request_id,),
        ).fetchone()
    model, provider, voice, characters, seconds, output_bytes, status = row
    assert (model, provider, voice, characters, status) == ("tts-1", "kokoro", "fable", 9, 200)
    assert seconds == pytest.approx(len(samples) / rate, abs=0.01)
    assert output_bytes == len(response.content)


def test_control_characters_and_numbers_are_spoken(client: openai.OpenAI) -> None:
    text = "Call 555-0100\x00 at 3:30\x07 pm, Dr.\tSmith owes $1,234.56!"
    response = client.audio.speech.create(
        model="tts-1", voice="onyx", input=text, response_format="flac"
    )
    samples, rate, _ = decode(response.content, "flac")
    # Numbers are read out in words, so this text speaks far longer than its length suggests.
    assert 4.0 < len(samples) / rate < 20.0
    assert np.sqrt(np.mean((samples / 32768.0) ** 2)) > 0.01


def test_punctuation_only_input_gives_valid_audio(client: openai.OpenAI) -> None:
    response = client.audio.speech.create(
        model="tts-1", voice="alloy", input="?!...", response_format="wav"
    )
    samples, rate, _ = decode(response.content, "wav")
    assert 0 < len(samples) / rate < 2.0


def _speak(client: openai.OpenAI, voice: str, text: str) -> tuple[npt.NDArray[np.float64], int]:
    audio = client.audio.speech.create(
        model="tts-1", voice=voice, input=text, response_format="wav"
    )
    samples, rate, _ = decode(audio.content, "wav")
    return samples, rate


def test_onyx_and_nova_are_a_male_and_a_female_english_voice(client: openai.OpenAI) -> None:
    text = "Good morning. The weather today is bright and clear, with a gentle breeze."
    onyx, rate = _speak(client, "onyx", text)
    nova, _ = _speak(client, "nova", text)
    male, female = median_pitch(onyx, rate), median_pitch(nova, rate)
    assert 60 < male < 150
    assert 140 < female < 300
    assert female > 1.4 * male
    # Each is a voice of its own, not one voice at another pitch.
    assert spectral_distance(onyx, nova, rate) > 0.3
    again, _ = _speak(client, "onyx", text)
    assert spectral_distance(onyx, again, rate) < 0.01


def test_models_and_voices(client: openai.OpenAI, http: httpx.Client) -> None:
    names = {model.id for model in client.models.list()}
    assert {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "kokoro"} <= names
    assert client.models.retrieve("tts-1").id == "tts-1"
    voices = http.get("/v1/audio/voices", params={"model": "tts-1"}).json()["data"]
    assert [entry["model"] for entry in voices] == ["tts-1"]
    ids = {voice["id"] for voice in voices[0]["voices"]}
    openai_voices = {
        "alloy",
        "ash",
        "ballad",
        "coral",
        "echo",
        "fable",
        "onyx",
        "nova",
        "sage",
        "shimmer",
        "verse",
        "marin",
        "cedar",
    }
    assert openai_voices <= ids


def test_health(http: httpx.Client) -> None:
    response = http.get("/health")
    assert response.status_code == 200
    assert response.json()["providers"]["kokoro"]["ready"] is True


def test_normalize_is_a_request_field(http: httpx.Client) -> None:
    body = {"model": "tts-1", "input": "Call 555-0134.", "voice": "alloy", "response_format": "wav"}
    spoken = http.post("/v1/audio/speech", json=body)
    written = http.post("/v1/audio/speech", json={**body, "normalize": False})
    assert spoken.status_code == written.status_code == 200
    assert spoken.content != written.content
    refused = http.post("/v1/audio/speech", json={**body, "normalize": "no"})
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "normalize"


def test_a_voice_blend_speaks(http: httpx.Client) -> None:
    body = {"model": "tts-1", "input": "Two voices as one.", "response_format": "wav"}
    blend = http.post("/v1/audio/speech", json={**body, "voice": "nova(2)+onyx(1)"})
    nova = http.post("/v1/audio/speech", json={**body, "voice": "nova"})
    assert blend.status_code == nova.status_code == 200
    assert blend.content != nova.content
    samples, rate, _ = decode(blend.content, "wav")
    assert len(samples) > rate // 2


@pytest.mark.parametrize(
    ("voice", "named"),
    [
        ("nova(2)+af_nobody", "`af_nobody` (in the blend `nova(2)+af_nobody`)"),
        ("nova(0)+onyx", "weight of `nova`"),
        ("nova(-2)+onyx", "weight of `nova`"),
        ("nova++onyx", "empty part"),
        ("nova(two)+onyx", "`nova(two)`"),
    ],
)
def test_a_bad_blend_is_refused_in_each_dialect(http: httpx.Client, voice: str, named: str) -> None:
    body = {"model": "tts-1", "input": "Hello.", "voice": voice}
    openai_answer = http.post("/v1/audio/speech", json=body)
    assert openai_answer.status_code == 400
    assert openai_answer.json()["error"]["param"] == "voice"
    assert named in openai_answer.json()["error"]["message"]
    dedalus = http.post("/dedalus/v1/audio/speech", json=body)
    assert dedalus.status_code == 400
    assert named in dedalus.text


def _kokoro_queue(http: httpx.Client) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith('tts_router_queue_depth{queue="kokoro"} '):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no queue depth for kokoro")


def test_kokoro_reports_its_queue_depth(http: httpx.Client) -> None:
    body = {"model": "kokoro", "voice": "alloy", "input": SENTENCES * 3, "response_format": "pcm"}
    with http.stream("POST", "/v1/audio/speech", json=body) as response:
        assert response.status_code == 200
        chunks = response.iter_bytes()
        next(chunks)
        assert _kokoro_queue(http) == 1.0
        for _ in chunks:
            pass
    assert _kokoro_queue(http) == 0.0


def test_long_input_streams_its_first_audio_well_before_its_last(http: httpx.Client) -> None:
    body = {"model": "kokoro", "voice": "alloy", "input": SENTENCES * 4, "response_format": "pcm"}
    started = time.perf_counter()
    arrivals: list[float] = []
    with http.stream("POST", "/v1/audio/speech", json=body) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            if chunk:
                arrivals.append(time.perf_counter() - started)
    # Eight sentences are made one after another; the first is sent as soon as it is made.
    assert arrivals[0] < 0.5 * arrivals[-1]

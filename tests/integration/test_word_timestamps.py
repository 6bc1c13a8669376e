"""Word timestamps over HTTP, checked against the real offline Kokoro model's audio."""

from __future__ import annotations

import base64
import datetime
import io
import itertools
import json
import sqlite3
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import pytest
import srt
import webvtt

from tests.support.audio import decode, speech_regions
from tests.support.server import RunningRouter, settled_usage

# Long enough for three of Kokoro's 300-character pieces.
LONG_TEXT = (
    "The quick brown fox jumps over the lazy dog, and then it runs into the woods. "
    "It was a bright cold day in April, and the clocks were striking thirteen. "
    "Call me at noon on Friday, and we will talk about the plans for the garden. "
    "Far out in the uncharted backwaters of the unfashionable end of the western spiral arm "
    "of the galaxy lies a small unregarded yellow sun. "
    "Orbiting this at a distance of roughly ninety-two million miles is an utterly "
    "insignificant little blue green planet. "
    "Its ape-descended life forms are so amazingly primitive that they still think "
    "digital watches are a pretty neat idea."
)
SHORT_TEXT = "Hello, world! Call me at noon, and we will talk about it then."
SAMPLE_RATE = 24_000
# How far the last word may end from the end of the audio.
END_TOLERANCE = 0.05
WordList = list[dict[str, Any]]


def _sse_events(http: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    with http.stream("POST", "/v1/audio/speech", json=body) as response:
        assert response.status_code == 200, response.read()
        return [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]


def _timed_sse(http: httpx.Client, text: str, **fields: Any) -> tuple[npt.NDArray[Any], WordList]:
    body = {
        "model": "kokoro",
        "voice": "alloy",
        "input": text,
        "response_format": "pcm",
        "stream_format": "sse",
        "timestamps": "word",
        **fields,
    }
    events = _sse_events(http, body)
    assert events[-1]["type"] == "speech.audio.done"
    pcm = b"".join(
        base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta"
    )
    words = [w for e in events if e["type"] == "speech.audio.timestamps" for w in e["words"]]
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768, words


def assert_words_fit_the_audio(samples: npt.NDArray[Any], words: WordList, text: str) -> None:
    """Every word starts while something is heard, in order, and the last ends with the audio."""
    assert len(words) == len(text.split())
    regions = speech_regions(samples, SAMPLE_RATE)
    for word in words:
        assert 0 <= word["start"] < word["end"]
        assert any(start <= word["start"] < end for start, end in regions), word
    starts = [word["start"] for word in words]
    assert starts == sorted(starts)
    assert all(a["end"] <= b["start"] + 1e-9 for a, b in itertools.pairwise(words))
    assert abs(words[-1]["end"] - len(samples) / SAMPLE_RATE) <= END_TOLERANCE


def test_sse_sends_the_words_of_each_piece_as_it_is_sent(http: httpx.Client) -> None:
    events = _sse_events(
        http,
        {
            "model": "kokoro",
            "voice": "nova",
            "input": LONG_TEXT,
            "response_format": "pcm",
            "stream_format": "sse",
            "timestamps": "word",
        },
    )
    kinds = [event["type"] for event in events]
    timed = [index for index, kind in enumerate(kinds) if kind == "speech.audio.timestamps"]
    # One event per piece, each after the audio it times and before the next piece's audio.
    assert len(timed) >= 3
    assert kinds[timed[0] - 1] == "speech.audio.delta"
    assert timed[0] < max(i for i, kind in enumerate(kinds) if kind == "speech.audio.delta")
    assert kinds[-1] == "speech.audio.done"
    samples, words = _timed_sse(http, LONG_TEXT, voice="nova")
    assert_words_fit_the_audio(samples, words, LONG_TEXT)
    assert words[0]["word"] == "The"
    assert words[-1]["word"] == "idea."


@pytest.mark.parametrize("speed", [0.8, 1.6])
def test_timestamps_follow_the_speed(http: httpx.Client, speed: float) -> None:
    normal, normal_words = _timed_sse(http, LONG_TEXT)
    changed, changed_words = _timed_sse(http, LONG_TEXT, speed=speed)
    assert_words_fit_the_audio(changed, changed_words, LONG_TEXT)
    ratio = normal_words[-1]["end"] / changed_words[-1]["end"]
    assert ratio == pytest.approx(speed, rel=0.1)
    assert len(normal) / len(changed) == pytest.approx(speed, rel=0.1)


def test_words_are_the_spoken_form(http: httpx.Client) -> None:
    samples, words = _timed_sse(http, "Meet me at 3:30 pm.")
    said = " ".join(word["word"] for word in words).lower()
    assert "three thirty" in said
    assert_words_fit_the_audio(samples, words, said)


def test_captions_return_the_audio_with_its_words(http: httpx.Client) -> None:
    body = {"model": "kokoro", "voice": "onyx", "input": SHORT_TEXT, "response_format": "wav"}
    response = http.post("/v1/audio/captions", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["object"], answer["format"], answer["model"]) == (
        "audio.captions",
        "wav",
        "kokoro",
    )
    samples, rate, _ = decode(base64.b64decode(answer["audio"]), "wav")
    assert rate == SAMPLE_RATE
    assert_words_fit_the_audio(samples / 32768, answer["words"], SHORT_TEXT)
    assert [word["word"] for word in answer["words"]][:2] == ["Hello,", "world!"]
    mp3 = http.post("/v1/audio/captions", json={**body, "response_format": "mp3"}).json()
    assert mp3["words"] == answer["words"]
    decoded, _, _ = decode(base64.b64decode(mp3["audio"]), "mp3")
    assert len(decoded) / SAMPLE_RATE == pytest.approx(len(samples) / SAMPLE_RATE, abs=0.1)


def test_captions_as_subrip_and_webvtt(http: httpx.Client) -> None:
    body = {"model": "kokoro", "voice": "alloy", "input": LONG_TEXT}
    words = http.post("/v1/audio/captions", json=body).json()["words"]
    subrip = http.post("/v1/audio/captions", json={**body, "response_format": "srt"})
    assert subrip.headers["content-type"].startswith("application/x-subrip")
    cues = list(srt.parse(subrip.text))
    assert " ".join(cue.content for cue in cues) == " ".join(word["word"] for word in words)
    assert cues[0].start == datetime.timedelta(seconds=words[0]["start"])
    assert cues[-1].end == datetime.timedelta(seconds=words[-1]["end"])
    assert all(len(cue.content) <= 42 for cue in cues)
    assert any(cue.content.endswith("thirteen.") for cue in cues)
    vtt = http.post("/v1/audio/captions", json={**body, "response_format": "vtt"})
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT")
    captions = webvtt.from_buffer(io.StringIO(vtt.text)).captions
    assert [caption.text for caption in captions] == [cue.content for cue in cues]
    last_end = datetime.timedelta(seconds=words[-1]["end"])
    assert captions[-1].end == srt.timedelta_to_srt_timestamp(last_end).replace(",", ".")


def test_captions_are_metered(http: httpx.Client, router: RunningRouter) -> None:
    body = {
        "model": "kokoro",
        "voice": "alloy",
        "input": "Metered words.",
        "response_format": "srt",
    }
    response = http.post("/v1/audio/captions", json=body)
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    database = router.data_dir / "tts-router.sqlite3"
    settled_usage(database, [request_id])
    with sqlite3.connect(database) as db:
        row = db.execute(
            "select status, input_characters, audio_seconds, response_format"
            " from usage_records where request_id = ?",
            (request_id,),
        ).fetchone()
    assert row[:2] == (200, len(body["input"]))
    assert row[2] > 0.5
    assert row[3] == "pcm"


@pytest.mark.parametrize(
    ("path", "param_of"),
    [
        ("/v1/audio/speech", lambda body: body["error"]["param"]),
        ("/aqueduct/v1/audio/speech", lambda body: body["error"]["param"]),
        (
            "/dedalus/v1/audio/speech",
            lambda body: "timestamps" if "timestamps" in body["detail"] else None,
        ),
    ],
)
def test_models_that_cannot_time_words_refuse_the_field(
    http: httpx.Client, path: str, param_of: Any
) -> None:
    body = {"model": "tone", "voice": "alloy", "input": "Hello.", "stream_format": "sse"}
    refused = http.post(path, json={**body, "timestamps": "word"})
    assert refused.status_code == 400
    assert param_of(refused.json()) == "timestamps"
    assert http.post(path, json=body).status_code == 200


@pytest.mark.parametrize("model", ["tone", "Chatterbox"])
def test_captions_refuse_models_that_cannot_time_words(http: httpx.Client, model: str) -> None:
    body = {"model": model, "voice": "alloy", "input": "Hello there."}
    refused = http.post("/v1/audio/captions", json=body)
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "timestamps"


def test_timestamps_need_an_event_stream(http: httpx.Client) -> None:
    body = {"model": "kokoro", "voice": "alloy", "input": "Hello.", "timestamps": "word"}
    refused = http.post("/v1/audio/speech", json=body)
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "timestamps"
    wrong = http.post("/v1/audio/speech", json={**body, "timestamps": "phoneme"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["param"] == "timestamps"


def test_captions_refuse_bad_bodies_in_the_callers_dialect(http: httpx.Client) -> None:
    body = {"model": "kokoro", "voice": "alloy", "input": "Hello."}
    bad_format = http.post("/v1/audio/captions", json={**body, "response_format": "txt"})
    assert bad_format.status_code == 400
    assert bad_format.json()["error"]["param"] == "response_format"
    blank = http.post("/dedalus/v1/audio/captions", json={**body, "input": "  "})
    assert blank.status_code == 400
    assert "input" in blank.json()["detail"]
    unknown = http.post("/aqueduct/v1/audio/captions", json={**body, "stream_format": "sse"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["param"] == "stream_format"

"""The OpenAI dialect takes the sampling controls some models honour, as the SDK's extra_body."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.plugins.scripted import expressive_hz, expressive_seconds
from tests.support.audio import decode, dominant_frequency


def seconds_and_pitch(wav: bytes) -> tuple[float, float]:
    """The length and dominant frequency of a WAV file."""
    samples, rate, _ = decode(wav, "wav")
    return len(samples) / rate, dominant_frequency(samples, rate)


def test_extra_body_reaches_a_model_that_honours_it(client: openai.OpenAI) -> None:
    audio = client.audio.speech.create(
        model="Chatterbox",
        input="With feeling.",
        voice="leo",
        response_format="wav",
        extra_body={"temperature": 0.5, "exaggeration": 0.25, "cfg_weight": 0.3},
    )
    seconds, pitch = seconds_and_pitch(audio.read())
    assert seconds == pytest.approx(expressive_seconds(0.5), abs=0.01)
    assert pitch == pytest.approx(expressive_hz(0.25), abs=5)


def test_a_model_without_the_controls_serves_without_them(http: httpx.Client) -> None:
    body = {"model": "tone", "input": "Hi.", "voice": "alloy", "temperature": 1.5, "seed": 7}
    response = http.post("/v1/audio/speech", json=body)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("field", "value"), [("temperature", 2.5), ("cfg_weight", -0.1), ("seed", 1.5)]
)
def test_a_control_out_of_range_is_refused(http: httpx.Client, field: str, value: float) -> None:
    body = {"model": "Chatterbox", "input": "Hi.", "voice": "leo", field: value}
    response = http.post("/v1/audio/speech", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == field

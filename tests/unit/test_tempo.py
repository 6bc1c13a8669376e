"""TempoFilter changes duration, keeps pitch and streams."""

from __future__ import annotations

import math

import numpy as np
import pytest

from providers.api import PcmAudio
from router.speech.audio import TempoFilter
from router.speech.audio.tempo import atempo_stages
from tests.support.audio import chunks, dominant_frequency, tone

RATE = 24000


def run(speed: float, parts: list[PcmAudio]) -> tuple[list[PcmAudio], PcmAudio]:
    tempo = TempoFilter(speed, RATE)
    return [tempo.process(part) for part in parts], tempo.flush()


@pytest.mark.parametrize("speed", [0.25, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 4.0])
def test_speed_scales_duration_and_keeps_pitch(speed: float) -> None:
    processed, tail = run(speed, chunks(tone(2.0, RATE), RATE, 4))

    samples = np.concatenate([part.samples for part in [*processed, tail]])

    assert samples.dtype == np.float32
    assert len(samples) / RATE == pytest.approx(2.0 / speed, rel=0.05)
    assert dominant_frequency(samples.astype(np.float64), RATE) == pytest.approx(440.0, rel=0.03)


@pytest.mark.parametrize("speed", [0.25, 2.0, 4.0])
def test_audio_streams_out_before_flush(speed: float) -> None:
    processed, tail = run(speed, chunks(tone(2.0, RATE), RATE, 4))

    assert all(part.samples.size for part in processed)
    assert len(tail.samples) < 0.25 * sum(len(part.samples) for part in processed)


@pytest.mark.parametrize("speed", [0.0, 0.2, 4.5, -1.0])
def test_speed_out_of_range_is_refused(speed: float) -> None:
    with pytest.raises(ValueError, match="outside"):
        TempoFilter(speed, RATE)


def test_other_sample_rate_is_refused() -> None:
    tempo = TempoFilter(2.0, RATE)

    with pytest.raises(ValueError, match="Hz"):
        tempo.process(PcmAudio(tone(0.1, 16000), 16000))


@pytest.mark.parametrize("speed", [0.25, 0.3, 0.5, 0.9, 1.0, 2.0, 2.5, 4.0])
def test_stages_stay_in_the_blending_range(speed: float) -> None:
    stages = atempo_stages(speed)

    assert math.prod(stages) == pytest.approx(speed)
    assert all(0.5 - 1e-9 <= stage <= 2.0 + 1e-9 for stage in stages)

"""Words timed from the times of their phonemes, and fitted to the sound."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from providers.api import WordTime
from providers.kokoro.timing import fit_to_sound, phoneme_text, word_times

RATE = 24_000


@dataclass
class _Token:
    text: str
    phonemes: str | None
    whitespace: str


def _times(phonemes: str, step: float = 0.1) -> np.ndarray:
    """Each symbol takes `step` seconds in turn; spaces are not spoken."""
    times = np.full((len(phonemes), 2), np.nan)
    clock = 0.0
    for index, symbol in enumerate(phonemes):
        if symbol != " ":
            times[index] = (clock, clock + step)
            clock += step
    return times


def test_punctuation_joins_the_word_it_touches() -> None:
    tokens = [
        _Token("Hello", "hɛlO", ""),
        _Token(",", ",", " "),
        _Token("(", "(", ""),
        _Token("see", "si", ""),
        _Token(")", ")", " "),
        _Token("—", None, " "),
        _Token("ok", "OK", ""),
        _Token(".", ".", ""),
    ]
    phonemes = phoneme_text(tokens)
    assert phonemes == "hɛlO, (si)  OK."
    words = word_times(tokens, _times(phonemes))
    assert [word.word for word in words] == ["Hello,", "(see)", "—ok."]
    # A word runs from its first sound to the end of the pause its punctuation makes.
    assert words[0].start == 0.0
    assert words[0].end == pytest.approx(0.5)
    assert words[1].start == pytest.approx(0.6)
    assert words[2].end == pytest.approx(1.2)


def test_a_word_without_sound_is_left_out() -> None:
    tokens = [_Token("one", "wʌn", " "), _Token("zzz", None, " "), _Token("two", "tu", "")]
    words = word_times(tokens, _times(phoneme_text(tokens)))
    assert [word.word for word in words] == ["one", "two"]


def test_a_start_in_silence_moves_to_the_sound() -> None:
    samples = np.zeros(RATE, dtype=np.float32)
    samples[int(0.30 * RATE) : int(0.60 * RATE)] = 0.2
    words = [WordTime("early", 0.2, 0.5), WordTime("heard", 0.5, 0.7)]
    fitted = fit_to_sound(words, samples, RATE)
    assert 0.30 <= fitted[0].start < 0.32
    assert fitted[0].end == 0.5
    assert fitted[1].start == 0.5
    # The last word ends with the audio, its pause included.
    assert fitted[1].end == 1.0


def test_a_word_with_no_sound_before_the_next_stays_put() -> None:
    samples = np.zeros(RATE, dtype=np.float32)
    samples[int(0.50 * RATE) :] = 0.2
    words = [WordTime("lost", 0.1, 0.2), WordTime("next", 0.3, 0.9)]
    fitted = fit_to_sound(words, samples, RATE)
    assert fitted[0] == words[0]
    assert 0.50 <= fitted[1].start < 0.52

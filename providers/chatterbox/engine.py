"""One loaded Chatterbox model: text and a voice's conditioning in, watermarked 24 kHz audio out."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyloudnorm
import torch
import torch.nn.functional as F  # noqa: N812 (torch's own spelling)
from chatterbox import tts, tts_turbo
from chatterbox.models.s3gen.const import S3GEN_SIL
from chatterbox.models.s3tokenizer import SPEECH_VOCAB_SIZE, drop_invalid_tokens

from providers.chatterbox.conditioning import VoiceConditioning, compute_conditioning
from providers.chatterbox.decoding import Sampling, decode, decode_turbo
from providers.chatterbox.options import TURBO_MIN_REFERENCE_SECONDS, ModelId
from providers.errors import ProviderRejectedError

__all__ = ["SAMPLE_RATE", "Engine", "Settings", "load_engine", "resolve_device"]

SAMPLE_RATE = 24_000
SILENCE_SECONDS = 0.2
# S3Gen draws its noise from torch's global generators, which every thread shares: each
# seeded decode holds this lock, so another model's worker cannot draw in between.
_GLOBAL_RNG = threading.Lock()


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """The sampling controls of one request, by name only; None takes the model's default."""

    temperature: float | None = None
    exaggeration: float | None = None
    cfg_weight: float | None = None


def resolve_device(device: str) -> str:
    """The torch device `device` means ("auto": CUDA when available, else CPU)."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: this torch build sees no CUDA device")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps': not available on this machine")
    return device


class Engine:
    """The original Chatterbox (T3 with classifier-free guidance, 10-step S3Gen)."""

    model_class: Any = tts.ChatterboxTTS
    min_reference_seconds = 0.0
    default_flow_steps = 10

    def __init__(self, model: Any, *, max_new_tokens: int, flow_steps: int | None) -> None:
        self.model = model
        self.max_new_tokens = max_new_tokens
        self.flow_steps = flow_steps or self.default_flow_steps
        self.builtin = VoiceConditioning.of(model.conds) if model.conds is not None else None

    def conditioning(self, reference: npt.NDArray[np.float32]) -> VoiceConditioning:
        """The conditioning of the voice in `reference`, 24 kHz mono samples."""
        seconds = len(reference) / SAMPLE_RATE
        if seconds <= self.min_reference_seconds:
            raise ProviderRejectedError(
                f"the reference clip lasts {seconds:.1f} s; this model needs more than "
                f"{self.min_reference_seconds:g} s",
                param="voice",
            )
        with torch.inference_mode():
            return compute_conditioning(self.model, self.prepare_reference(reference))

    def prepare_reference(self, reference: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The reference as this model's conditioning expects it."""
        return reference

    def speak(
        self, text: str, voice: VoiceConditioning, settings: Settings, seed: int
    ) -> npt.NDArray[np.float32]:
        """Watermarked audio of `text` in `voice`, the same for the same `seed`."""
        t3_cond, gen = voice.for_call(self.exaggeration(settings))
        generator = torch.Generator(device=self.model.device).manual_seed(seed)
        with torch.inference_mode():
            tokens = self.speech_tokens(text, t3_cond, settings, generator)
            if tokens.numel() == 0:
                return np.zeros(round(SILENCE_SECONDS * SAMPLE_RATE), dtype=np.float32)
            with _GLOBAL_RNG:
                torch.manual_seed(seed)
                wav, _sources = self.model.s3gen.inference(
                    speech_tokens=tokens, ref_dict=gen, n_cfm_timesteps=self.flow_steps
                )
        samples = wav.squeeze(0).detach().cpu().numpy()
        marked = self.model.watermarker.apply_watermark(samples, sample_rate=SAMPLE_RATE)
        return np.clip(np.nan_to_num(np.asarray(marked, dtype=np.float32)), -1.0, 1.0)

    def exaggeration(self, settings: Settings) -> float | None:
        """The emotion exaggeration to condition T3 on, if this model has the control."""
        return 0.5 if settings.exaggeration is None else settings.exaggeration

    def speech_tokens(
        self, text: str, cond: Any, settings: Settings, generator: torch.Generator
    ) -> torch.Tensor:
        """S3 speech tokens (N,) for `text`, only those S3Gen can voice."""
        hp = self.model.t3.hp
        text_tokens = self.model.tokenizer.text_to_tokens(tts.punc_norm(text))
        text_tokens = F.pad(text_tokens, (1, 0), value=hp.start_text_token)
        text_tokens = F.pad(text_tokens, (0, 1), value=hp.stop_text_token)
        sampling = Sampling(
            temperature=0.8 if settings.temperature is None else settings.temperature,
            cfg_weight=0.5 if settings.cfg_weight is None else settings.cfg_weight,
            max_new_tokens=self.max_new_tokens,
        )
        decoded = decode(self.model.t3, cond, text_tokens, sampling, generator)
        tokens: torch.Tensor = drop_invalid_tokens(decoded[0])
        return tokens[tokens < SPEECH_VOCAB_SIZE]


class TurboEngine(Engine):
    """Chatterbox Turbo (GPT-2 T3 without guidance or exaggeration, 2-step mean-flow S3Gen)."""

    model_class = tts_turbo.ChatterboxTurboTTS
    min_reference_seconds = TURBO_MIN_REFERENCE_SECONDS
    default_flow_steps = 2
    target_loudness = -27.0

    def prepare_reference(self, reference: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The reference at -27 LUFS, as `ChatterboxTurboTTS.prepare_conditionals` sets it."""
        loudness = pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(reference)
        gain = 10.0 ** ((self.target_loudness - loudness) / 20.0)
        if not math.isfinite(gain) or gain <= 0.0:
            return reference
        # In float32: S3Gen's tokenizer refuses the float64 that numpy 2 would make of this.
        return (reference * np.float32(gain)).astype(np.float32)

    def exaggeration(self, settings: Settings) -> float | None:
        """None: Turbo has no exaggeration control."""
        return None

    def speech_tokens(
        self, text: str, cond: Any, settings: Settings, generator: torch.Generator
    ) -> torch.Tensor:
        """S3 speech tokens (N,) for `text`, then the three silence tokens stock Turbo appends."""
        encoded = self.model.tokenizer(
            tts_turbo.punc_norm(text), return_tensors="pt", padding=True, truncation=True
        )
        sampling = Sampling(
            temperature=0.8 if settings.temperature is None else settings.temperature,
            max_new_tokens=self.max_new_tokens,
            top_p=0.95,
        )
        tokens = decode_turbo(self.model.t3, cond, encoded.input_ids, sampling, generator)[0]
        tokens = tokens[tokens < SPEECH_VOCAB_SIZE]
        if tokens.numel() == 0:
            return tokens
        silence = torch.full((3,), S3GEN_SIL, dtype=tokens.dtype, device=tokens.device)
        return torch.cat([tokens, silence])


ENGINES: dict[ModelId, type[Engine]] = {"chatterbox": Engine, "chatterbox-turbo": TurboEngine}


def load_engine(
    model_id: ModelId,
    checkpoint: Path | None,
    device: str,
    *,
    max_new_tokens: int,
    flow_steps: int | None,
) -> Engine:
    """Load `model_id` from `checkpoint`, or from the Hugging Face Hub without one."""
    engine_class = ENGINES[model_id]
    if checkpoint is None:
        model = engine_class.model_class.from_pretrained(device)
    else:
        model = engine_class.model_class.from_local(checkpoint, device)
    return engine_class(model, max_new_tokens=max_new_tokens, flow_steps=flow_steps)

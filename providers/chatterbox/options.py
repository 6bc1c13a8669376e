"""The options a Chatterbox provider accepts, checked once when it is built."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import soundfile
from pydantic import BaseModel, ConfigDict, Field, field_validator

from providers.options import options_error
from providers.options import parse_options as read_options

__all__ = ["BUILTIN_VOICES", "ChatterboxOptions", "ModelId", "parse_options"]

ModelId = Literal["chatterbox", "chatterbox-turbo"]
# Voices every model offers; one without a clip in `voices` speaks with the model's own voice.
BUILTIN_VOICES = ("default", "leo", "nora")
# 25 speech tokens per second and at most 1000 per call: 40 seconds.
MAX_NEW_TOKENS = 1000
# About 20 seconds of English speech: each piece stays well inside the 40 second cap.
PIECE_CHARS = 300
VOICE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
# The files `from_local` reads; a missing `conds.pt` only takes away the model's own voice.
CHECKPOINT_FILES: Mapping[ModelId, tuple[str, ...]] = {
    "chatterbox": ("ve.safetensors", "t3_cfg.safetensors", "s3gen.safetensors", "tokenizer.json"),
    "chatterbox-turbo": ("ve.safetensors", "t3_turbo_v1.safetensors", "s3gen_meanflow.safetensors"),
}
BUILTIN_CONDITIONALS = "conds.pt"
# ChatterboxTurboTTS.prepare_conditionals refuses shorter reference clips.
TURBO_MIN_REFERENCE_SECONDS = 5.0


class ChatterboxOptions(BaseModel):
    """The `options` a Chatterbox provider accepts in its configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: tuple[ModelId, ...] = Field(default=("chatterbox",), min_length=1)
    # Local checkpoints for `from_local`; without one, the model comes from the Hugging Face Hub.
    checkpoint_dir: Path | None = None
    turbo_checkpoint_dir: Path | None = None
    device: str = Field(default="auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")
    # With `device = "auto"` on a host without a GPU: load on the CPU (slow), or stay unloaded
    # so the routes fail over to their next provider.
    load_on_cpu: bool = True
    voices: dict[str, Path] = Field(default_factory=dict)
    max_queue: int = Field(default=8, ge=0)
    max_new_tokens: int = Field(default=MAX_NEW_TOKENS, ge=1, le=MAX_NEW_TOKENS)
    piece_chars: int = Field(default=PIECE_CHARS, ge=16, le=400)
    # Flow-matching steps of S3Gen; by default the model's own (10, or 2 for Turbo).
    flow_steps: int | None = Field(default=None, ge=1, le=50)
    voice_cache_size: int = Field(default=64, ge=1)

    @field_validator("models")
    @classmethod
    def _distinct(cls, models: tuple[ModelId, ...]) -> tuple[ModelId, ...]:
        if len(set(models)) != len(models):
            raise ValueError("each model may be named once")
        return models

    @field_validator("voices")
    @classmethod
    def _voice_names(cls, voices: dict[str, Path]) -> dict[str, Path]:
        for name in voices:
            if not re.match(VOICE_NAME_PATTERN, name):
                raise ValueError(f"voice name {name!r} must match {VOICE_NAME_PATTERN}")
        return voices

    def checkpoint(self, model: ModelId) -> Path | None:
        """The local checkpoint directory of `model`, if one is configured."""
        return self.checkpoint_dir if model == "chatterbox" else self.turbo_checkpoint_dir

    def voice_names(self) -> tuple[str, ...]:
        """The built-in voice names, then the other configured ones in sorted order."""
        extra = sorted(name for name in self.voices if name not in BUILTIN_VOICES)
        return (*BUILTIN_VOICES, *extra)


def parse_options(name: str, options: Mapping[str, Any]) -> ChatterboxOptions:
    """Validate `options` and the paths they name, raising ValueError naming the bad field."""
    parsed = read_options(ChatterboxOptions, name, options, kind="Chatterbox")
    problem = _checkpoint_problem(parsed) or _clip_problem(parsed)
    if problem:
        raise ValueError(f"{options_error(name, 'Chatterbox')}: {problem}")
    return parsed


def _checkpoint_problem(options: ChatterboxOptions) -> str | None:
    """What is wrong with the checkpoint directories, if anything."""
    fields: tuple[tuple[str, ModelId], ...] = (
        ("checkpoint_dir", "chatterbox"),
        ("turbo_checkpoint_dir", "chatterbox-turbo"),
    )
    unvoiced = [name for name in options.voice_names() if name not in options.voices]
    for field, model in fields:
        directory = getattr(options, field)
        if directory is None:
            continue
        if model not in options.models:
            return f"{field}: set, but model {model!r} is not in models"
        if not directory.is_dir():
            return f"{field}: no directory {directory}"
        missing = [file for file in CHECKPOINT_FILES[model] if not (directory / file).is_file()]
        if missing:
            return f"{field}: {directory} lacks {', '.join(missing)}"
        if unvoiced and not (directory / BUILTIN_CONDITIONALS).is_file():
            return (
                f"{field}: {directory} has no {BUILTIN_CONDITIONALS} (the model's own voice), "
                f"so voices {', '.join(unvoiced)} need clips in `voices`"
            )
    return None


def _clip_problem(options: ChatterboxOptions) -> str | None:
    """What is wrong with the voice clips, if anything."""
    for voice, clip in options.voices.items():
        if not clip.is_file():
            return f"voices.{voice}: no file {clip}"
        try:
            seconds = soundfile.info(str(clip)).duration
        except (OSError, RuntimeError) as exc:
            return f"voices.{voice}: {clip} is no audio file soundfile can read: {exc}"
        if "chatterbox-turbo" in options.models and seconds <= TURBO_MIN_REFERENCE_SECONDS:
            return (
                f"voices.{voice}: {clip} lasts {seconds:.1f} s; "
                f"chatterbox-turbo needs more than {TURBO_MIN_REFERENCE_SECONDS:g} s"
            )
    return None

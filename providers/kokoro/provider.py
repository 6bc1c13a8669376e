"""The Kokoro-82M provider: English text to 24 kHz speech on the local CPU or GPU."""

from __future__ import annotations

import functools
import threading
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.to_thread
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from providers.api import ModelCard, PcmAudio, ProviderContext, SpeechRequest, WordTime
from providers.errors import (
    ProviderError,
    ProviderOverloadedError,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from providers.kokoro.engine import SAMPLE_RATE, BatchingEngine, Device
from providers.kokoro.g2p import EnglishG2P
from providers.kokoro.onnx_engine import OnnxEngine
from providers.kokoro.timing import Token, fit_to_sound, phoneme_text, word_times
from providers.kokoro.voices import VoiceCatalog, is_british, load_styles, read_voice_names
from providers.options import options_error
from providers.options import parse_options as read_options
from providers.text import split_text, spoken_input
from providers.voice_blend import BlendError, BlendPart, is_blend, parse_blend

__all__ = ["KokoroOptions", "KokoroProvider"]

MODEL_ID = "kokoro"
MAX_INPUT_CHARS = 4096
# Well under the model's 510 phonemes: English runs at about one phoneme per character.
PIECE_CHARS = 300
SILENCE_SECONDS = 0.2
_UNTIMED = "This Kokoro model file gives no durations, so it cannot time words."
# The voices a request speaks with, and their shares: one voice, or a blend.
Mix = tuple[BlendPart, ...]
_ENGINE_ONLY = {"onnx": ("threads",), "torch": ("config_path", "device")}


class KokoroOptions(BaseModel):
    """The `options` a Kokoro provider accepts in its configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engine: Literal["onnx", "torch"] = "onnx"
    model_path: Path | None = None
    voices_path: Path | None = None
    threads: int | None = Field(default=None, ge=1)
    config_path: Path | None = None
    device: Device = "auto"
    workers: int = Field(default=1, ge=1)
    max_queue: int = Field(default=32, ge=0)


def parse_options(name: str, options: Mapping[str, Any]) -> KokoroOptions:
    """Validate `options`, raising ValueError that names the provider and the bad fields."""
    parsed = read_options(KokoroOptions, name, options, kind="Kokoro")
    problem = _engine_mismatch(parsed) or _missing_file(parsed)
    if problem:
        raise ValueError(f"{options_error(name, 'Kokoro')}: {problem}")
    return parsed


def _engine_mismatch(options: KokoroOptions) -> str | None:
    """The first option given that the chosen engine does not take."""
    other = "onnx" if options.engine == "torch" else "torch"
    for field in _ENGINE_ONLY[other]:
        if field in options.model_fields_set:
            return f"{field}: applies only to engine = {other!r}"
    return None


def _missing_file(options: KokoroOptions) -> str | None:
    """The first path option that names nothing on disk."""
    for field in ("model_path", "config_path"):
        path = getattr(options, field)
        if path is not None and not path.is_file():
            return f"{field}: no file {path}"
    voices = options.voices_path
    if voices is not None and not (voices.is_file() or voices.is_dir()):
        return f"voices_path: no file or directory {voices}"
    return None


def _load_engine(options: KokoroOptions) -> BatchingEngine:
    if options.engine == "torch":
        # Imported here so that the ONNX engine works without torch installed.
        from providers.kokoro.torch_engine import TorchEngine  # noqa: PLC0415

        return TorchEngine(options.model_path, options.config_path, options.device)
    return OnnxEngine(options.model_path, threads=options.threads)


class _Runtime:
    """The loaded G2P, voices and engine, used from worker threads."""

    def __init__(self, options: KokoroOptions) -> None:
        self.g2p = EnglishG2P()
        self.british_g2p = EnglishG2P(british=True)
        self.styles = load_styles(options.voices_path)
        self.engine = _load_engine(options)
        # misaki's spaCy pipeline and espeak-ng (one global C state) are not thread-safe.
        self._g2p_lock = threading.Lock()

    def tokens(self, text: str, voice: str) -> list[Token]:
        """misaki's tokens of `text` with their phonemes, in the accent of `voice`."""
        g2p = self.british_g2p if is_british(voice) else self.g2p
        with self._g2p_lock:
            return g2p.read(text)

    def style(self, mix: Mix) -> npt.NDArray[np.float32]:
        """The style of one voice, or the voices of a blend mixed by their shares."""
        if len(mix) == 1:
            return self.styles[mix[0].voice]
        mixed = sum(part.share * self.styles[part.voice] for part in mix)
        return np.asarray(mixed, dtype=np.float32)

    def speak(self, text: str, mix: Mix, speed: float, *, timed: bool = False) -> PcmAudio:
        """Audio for one piece of text, its words timed if asked; silence if nothing to say."""
        # A blend is read in the accent of its largest share.
        tokens = self.tokens(text, max(mix, key=lambda part: part.share).voice)
        phonemes = phoneme_text(tokens)
        if any(symbol.isalpha() for symbol in phonemes):
            if not timed:
                audio = self.engine.synthesize(phonemes, self.style(mix), speed)
                words: tuple[WordTime, ...] = ()
            else:
                audio, times = self.engine.synthesize_timed(phonemes, self.style(mix), speed)
                if times is None:
                    raise ProviderRejectedError(_UNTIMED, param="timestamps")
                words = fit_to_sound(word_times(tokens, times), audio, SAMPLE_RATE)
            if audio.size:
                return PcmAudio(samples=audio, sample_rate=SAMPLE_RATE, words=words)
        silence = np.zeros(int(SILENCE_SECONDS * SAMPLE_RATE), dtype=np.float32)
        return PcmAudio(samples=silence, sample_rate=SAMPLE_RATE)


class KokoroProvider:
    """Kokoro-82M on onnxruntime or PyTorch, with misaki G2P, for English speech."""

    def __init__(self, context: ProviderContext) -> None:
        self.name = context.name
        self._options = parse_options(context.name, context.options)
        try:
            self._catalog = VoiceCatalog(read_voice_names(self._options.voices_path))
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"Kokoro provider {self.name!r}: unreadable voice pack: {exc}"
            ) from exc
        self._card = ModelCard(
            id=MODEL_ID,
            voices=tuple(self._catalog.cards()),
            sample_rate=SAMPLE_RATE,
            max_input_chars=MAX_INPUT_CHARS,
            streaming=True,
            native_speed=True,
            voice_cloning=False,
            instructions=False,
            sampling_controls=frozenset(),
            voice_blends=True,
            word_timestamps=True,
        )
        self._limiter = anyio.CapacityLimiter(self._options.workers)
        self._capacity = self._options.workers + self._options.max_queue
        self._in_flight = 0
        self._runtime: _Runtime | None = None

    def models(self) -> Sequence[ModelCard]:
        """The single Kokoro model card."""
        return (self._card,)

    async def start(self) -> None:
        """Load the G2P, the voices and the engine in a worker thread."""
        if self._runtime is not None:
            return
        try:
            self._runtime = await anyio.to_thread.run_sync(_Runtime, self._options)
        except Exception as exc:
            raise ProviderUnavailableError(f"Kokoro failed to load: {exc}") from exc

    async def close(self) -> None:
        """Drop the loaded model; `start` may load it again."""
        self._runtime = None

    def ready(self) -> bool:
        """Whether the model is loaded."""
        return self._runtime is not None

    def queue_depth(self) -> int:
        """Requests speaking or waiting for the model."""
        return self._in_flight

    async def synthesize(self, request: SpeechRequest) -> AsyncGenerator[PcmAudio, None]:
        """Yield audio piece by piece, each as soon as it is made."""
        voice = self._resolve_voice(request)
        runtime = self._runtime
        if runtime is None:
            raise ProviderUnavailableError(f"Kokoro provider {self.name!r} is not started")
        if self._in_flight >= self._capacity:
            raise ProviderOverloadedError(
                f"Kokoro provider {self.name!r} already has {self._in_flight} requests in flight",
                retry_after=1.0,
            )
        self._in_flight += 1
        try:
            # Blank input still gets its short silence, like punctuation alone does.
            for piece in split_text(spoken_input(request), PIECE_CHARS) or [""]:
                yield await self._run(
                    functools.partial(
                        runtime.speak,
                        piece,
                        voice,
                        request.speed,
                        timed=request.word_timestamps,
                    )
                )
        finally:
            self._in_flight -= 1

    def phonemes(self, text: str, voice: str) -> str:
        """The phonemes the model reads for `text` in `voice` (a native or OpenAI voice name)."""
        if self._runtime is None:
            raise ProviderUnavailableError(f"Kokoro provider {self.name!r} is not started")
        native = self._catalog.resolve(voice)
        if native is None:
            raise ProviderRejectedError(f"Kokoro has no voice {voice!r}", param="voice")
        return phoneme_text(self._runtime.tokens(text, native))

    def _resolve_voice(self, request: SpeechRequest) -> Mix:
        if request.voice.kind == "uploaded":
            raise ProviderRejectedError("Kokoro does not support voice cloning", param="voice")
        name = request.voice.name
        try:
            parts = parse_blend(name) if is_blend(name) else (BlendPart(name, 1.0),)
        except BlendError as exc:
            raise ProviderRejectedError(str(exc), param="voice") from None
        mix = []
        for part in parts:
            native = self._catalog.resolve(part.voice)
            if native is None:
                raise ProviderRejectedError(f"Kokoro has no voice {part.voice!r}", param="voice")
            mix.append(BlendPart(native, part.share))
        return tuple(mix)

    async def _run(self, speak: Callable[[], PcmAudio]) -> PcmAudio:
        # The limiter is taken per piece, so concurrent requests take turns on the model.
        try:
            return await anyio.to_thread.run_sync(speak, limiter=self._limiter)
        except ProviderError:
            raise
        except Exception as exc:
            raise ProviderError(f"Kokoro failed to synthesize speech: {exc}") from exc

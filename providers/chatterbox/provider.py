"""The Chatterbox provider: Resemble AI's Chatterbox and Chatterbox Turbo, with voice cloning."""

from __future__ import annotations

import functools
import secrets
from collections.abc import AsyncGenerator, Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import anyio.to_thread
import numpy as np
import torch

from providers.api import (
    MAX_INPUT_CHARS,
    ModelCard,
    PcmAudio,
    ProviderContext,
    SamplingControl,
    SpeechRequest,
    UploadedVoice,
    VoiceCard,
)
from providers.chatterbox.conditioning import (
    ConditioningCache,
    VoiceConditioning,
    read_reference,
)
from providers.chatterbox.engine import (
    SAMPLE_RATE,
    SILENCE_SECONDS,
    Engine,
    Settings,
    load_engine,
    resolve_device,
)
from providers.chatterbox.options import ModelId, parse_options
from providers.chatterbox.worker import ModelWorker
from providers.errors import (
    ProviderError,
    ProviderOverloadedError,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from providers.options import options_error
from providers.text import split_text, spoken_input

__all__ = ["ChatterboxProvider"]

T = TypeVar("T")

_CONTROLS: dict[ModelId, frozenset[SamplingControl]] = {
    "chatterbox": frozenset({"temperature", "exaggeration", "cfg_weight", "seed"}),
    # Turbo has no guidance and no exaggeration; stock Turbo ignores both.
    "chatterbox-turbo": frozenset({"temperature", "seed"}),
}
_OWN = "The model's own voice"
_CLONED = "Cloned from a reference clip in the configuration"


@dataclass
class _Model:
    """One served model: its card, and once started, its engine, worker and voice cache."""

    card: ModelCard
    worker: ModelWorker
    cache: ConditioningCache
    engine: Engine | None = None


@dataclass(frozen=True, slots=True)
class _Voice:
    """Where a request's voice comes from: a cache key and the reference clip, if any."""

    key: Hashable
    reference: bytes | Path | None


class ChatterboxProvider:
    """Chatterbox models on local torch, one inference thread per model."""

    def __init__(self, context: ProviderContext) -> None:
        self.name = context.name
        self._options = parse_options(context.name, context.options)
        try:
            self._device = resolve_device(self._options.device)
        except ValueError as exc:
            raise ValueError(f"{options_error(self.name, 'Chatterbox')}: {exc}") from exc
        voices = tuple(
            VoiceCard(name, _CLONED if name in self._options.voices else _OWN)
            for name in self._options.voice_names()
        )
        self._models: dict[str, _Model] = {
            model_id: _Model(
                card=ModelCard(
                    id=model_id,
                    voices=voices,
                    sample_rate=SAMPLE_RATE,
                    max_input_chars=MAX_INPUT_CHARS,
                    streaming=True,
                    native_speed=False,
                    voice_cloning=True,
                    sampling_controls=_CONTROLS[model_id],
                ),
                worker=ModelWorker(f"{self.name}/{model_id}", 1 + self._options.max_queue),
                cache=ConditioningCache(self._options.voice_cache_size),
            )
            for model_id in self._options.models
        }

    def models(self) -> Sequence[ModelCard]:
        """One card per configured model."""
        return tuple(model.card for model in self._models.values())

    async def start(self) -> None:
        """Load every model in a worker thread and start its inference thread."""
        if self._device == "cpu" and not self._options.load_on_cpu:
            msg = f"Chatterbox provider {self.name!r} found no GPU and is set not to load on CPU"
            raise ProviderUnavailableError(msg)
        for model_id in self._options.models:
            model = self._models[model_id]
            if model.engine is not None:
                continue
            load = functools.partial(
                load_engine,
                model_id,
                self._options.checkpoint(model_id),
                self._device,
                max_new_tokens=self._options.max_new_tokens,
                flow_steps=self._options.flow_steps,
            )
            try:
                model.engine = await anyio.to_thread.run_sync(load)
            except Exception as exc:
                raise ProviderUnavailableError(
                    f"Chatterbox {model_id} failed to load: {exc}"
                ) from exc
            model.worker.start()

    async def close(self) -> None:
        """Stop the inference threads and drop the models; `start` may load them again."""
        for model in self._models.values():
            await anyio.to_thread.run_sync(model.worker.stop)
            model.engine = None
            model.cache.clear()
        if self._device.startswith("cuda"):
            torch.cuda.empty_cache()

    def ready(self) -> bool:
        """Whether every model is loaded and its thread running."""
        return all(
            model.engine is not None and model.worker.alive for model in self._models.values()
        )

    def queue_depth(self) -> int:
        """Requests running or waiting, over every model."""
        return sum(model.worker.admitted for model in self._models.values())

    def conditionings_computed(self, model_id: str) -> int:
        """How many voice conditionings `model_id` has computed since it was built."""
        return self._models[model_id].cache.computed

    async def synthesize(self, request: SpeechRequest) -> AsyncGenerator[PcmAudio, None]:
        """Yield the audio of each piece of the text as soon as it is made."""
        model = self._models.get(request.model)
        if model is None:
            raise ProviderRejectedError(f"Chatterbox has no model {request.model!r}", param="model")
        voice = self._voice(request)
        engine = model.engine
        if engine is None:
            raise ProviderUnavailableError(f"Chatterbox provider {self.name!r} is not started")
        with model.worker.admit():
            conditioning = await self._run(
                model, functools.partial(self._conditioning, model, voice)
            )
            settings = Settings(
                temperature=request.temperature,
                exaggeration=request.exaggeration,
                cfg_weight=request.cfg_weight,
            )
            pieces = split_text(spoken_input(request), self._options.piece_chars)
            if not pieces:
                silence = np.zeros(round(SILENCE_SECONDS * SAMPLE_RATE), dtype=np.float32)
                yield PcmAudio(silence, SAMPLE_RATE)
                return
            seeds = np.random.SeedSequence(
                secrets.randbits(64) if request.seed is None else request.seed
            ).generate_state(len(pieces), dtype=np.uint64)
            for piece, seed in zip(pieces, seeds, strict=True):
                speak = functools.partial(engine.speak, piece, conditioning, settings, int(seed))
                yield PcmAudio(await self._run(model, speak), SAMPLE_RATE)

    def _voice(self, request: SpeechRequest) -> _Voice:
        voice = request.voice
        if isinstance(voice, UploadedVoice):
            if voice.wav is None:
                raise ProviderRejectedError(
                    f"voice file {voice.file_id} arrived without its audio", param="voice"
                )
            return _Voice(("file", voice.file_id), voice.wav)
        if voice.name not in self._options.voice_names():
            raise ProviderRejectedError(f"Chatterbox has no voice {voice.name!r}", param="voice")
        clip = self._options.voices.get(voice.name)
        return _Voice(("clip", voice.name) if clip else ("builtin",), clip)

    def _conditioning(self, model: _Model, voice: _Voice) -> VoiceConditioning:
        """The voice's conditioning for `model`, from the cache if it is there; on the worker."""
        engine = model.engine
        if engine is None:
            raise ProviderUnavailableError(f"Chatterbox provider {self.name!r} is closed")
        if voice.reference is None:
            if engine.builtin is None:
                raise ProviderRejectedError("this model has no voice of its own", param="voice")
            return engine.builtin
        reference = voice.reference

        def compute() -> VoiceConditioning:
            try:
                samples = read_reference(reference)
            except Exception as exc:
                if isinstance(reference, Path):  # checked when the provider was built
                    raise ProviderError(f"reference clip {reference}: {exc}") from exc
                raise ProviderRejectedError(f"unreadable voice file: {exc}", param="voice") from exc
            return engine.conditioning(samples)

        return model.cache.get(voice.key, compute)

    async def _run(self, model: _Model, job: Callable[[], T]) -> T:
        """Run `job` on the model's thread, translating what escapes it into provider errors."""
        try:
            return await model.worker.run(job)
        except ProviderError:
            raise
        except torch.OutOfMemoryError as exc:
            raise ProviderOverloadedError(
                f"Chatterbox {model.card.id} ran out of memory", retry_after=1.0
            ) from exc
        except Exception as exc:
            raise ProviderError(f"Chatterbox {model.card.id} failed: {exc}") from exc

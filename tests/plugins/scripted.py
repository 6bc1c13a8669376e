"""A provider plugin for tests whose models behave as their names say; registered by entry point."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator, Sequence

import anyio
import anyio.lowlevel
import numpy as np

from providers.api import (
    ModelCard,
    PcmAudio,
    ProviderContext,
    SpeechRequest,
    UploadedVoice,
    VoiceCard,
)
from providers.errors import ProviderError, ProviderUnavailableError

SAMPLE_RATE = 16_000
TONE_HZ = 440.0
CHUNK_SECONDS = 0.5
CHUNKS = 4

_VOICES = (VoiceCard("alloy"), VoiceCard("tone"))


def tone(seconds: float, sample_rate: int = SAMPLE_RATE, hz: float = TONE_HZ) -> PcmAudio:
    """A sine tone of `seconds`."""
    t = np.arange(round(seconds * sample_rate), dtype=np.float32) / sample_rate
    return PcmAudio((0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32), sample_rate)


SLOW_CHUNKS = 10
SLOW_PAUSE_SECONDS = 0.3
INSTANT_SECONDS = 0.01
MODELS = ("tone", "broken-midway", "crash-midway", "unavailable", "slow", "instant")
# `expressive` honours the sampling controls and shows them in its audio: it lasts 1 s plus
# `temperature` seconds, at 200 Hz plus 400 Hz per unit of `exaggeration`. With a voice file,
# it says the reference recording back.
EXPRESSIVE = ModelCard(
    id="expressive",
    voices=(VoiceCard("leo"), VoiceCard("nora")),
    sample_rate=SAMPLE_RATE,
    sampling_controls=frozenset({"temperature", "exaggeration", "cfg_weight"}),
    voice_cloning=True,
)


def expressive_seconds(temperature: float) -> float:
    """How long `expressive` speaks at `temperature`."""
    return 1.0 + temperature


def expressive_hz(exaggeration: float) -> float:
    """The pitch of `expressive` at `exaggeration`."""
    return 200.0 + 400.0 * exaggeration


def reference_audio(voice: UploadedVoice) -> PcmAudio:
    """The recording the router attached to a voice file."""
    if voice.wav is None:
        raise ProviderError(f"voice file {voice.file_id} arrived without its audio")
    with wave.open(io.BytesIO(voice.wav)) as reader:
        frames = reader.readframes(reader.getnframes())
        rate = reader.getframerate()
    samples = (np.frombuffer(frames, dtype="<i2") / 32768).astype(np.float32)
    return PcmAudio(samples, rate)


class ScriptedProvider:
    """Models `tone` (2 s in 4 chunks), `broken-midway` (fails after a chunk), `crash-midway`
    (a bug after a chunk), `unavailable`, `slow` (10 chunks, 0.3 s apart), `instant` (10 ms at
    once) and `expressive`."""

    def __init__(self, context: ProviderContext) -> None:
        self.name = context.name
        self._started = False
        # Option `expressive_delay`: seconds `expressive` thinks before it speaks.
        self._expressive_delay = float(context.options.get("expressive_delay", 0.0))
        # Option `fail_start`: the provider cannot load, like a model whose weights are missing.
        self._fail_start = bool(context.options.get("fail_start", False))

    def models(self) -> Sequence[ModelCard]:
        """Models at 16 kHz without native speed, so the router changes speed itself."""
        plain = (ModelCard(id=name, voices=_VOICES, sample_rate=SAMPLE_RATE) for name in MODELS)
        return (*plain, EXPRESSIVE)

    async def start(self) -> None:
        """Nothing to load, unless told to fail."""
        if self._fail_start:
            raise ProviderUnavailableError("scripted provider was told not to start")
        self._started = True

    async def close(self) -> None:
        """Nothing to release."""
        self._started = False

    def ready(self) -> bool:
        """Ready once started."""
        return self._started

    async def synthesize(self, request: SpeechRequest) -> AsyncIterator[PcmAudio]:
        """Yield per the model's script."""
        if not self._started:
            raise ProviderUnavailableError(f"scripted provider {self.name!r} is not started")
        if request.model == "unavailable":
            raise ProviderUnavailableError("scripted provider is down")
        if request.model == EXPRESSIVE.id:
            seconds = expressive_seconds(request.temperature or 0.0)
            await anyio.sleep(self._expressive_delay)
            if isinstance(request.voice, UploadedVoice):
                yield reference_audio(request.voice)
                return
            yield tone(seconds, hz=expressive_hz(request.exaggeration or 0.0))
            return
        if request.model == "instant":
            yield tone(INSTANT_SECONDS)
            return
        if request.model == "slow":
            for _ in range(SLOW_CHUNKS):
                yield tone(CHUNK_SECONDS)
                await anyio.sleep(SLOW_PAUSE_SECONDS)
            return
        for index in range(CHUNKS):
            if index == 1:
                _fail_midway(request.model)
            yield tone(CHUNK_SECONDS)
            await anyio.lowlevel.checkpoint()


def _fail_midway(model: str) -> None:
    """Fail the way `model` fails after its first chunk, if it does."""
    if model == "broken-midway":
        raise ProviderError("scripted failure after the first chunk")
    if model == "crash-midway":
        raise RuntimeError("scripted bug after the first chunk")

"""The internal speech schema, capability data and the provider plugin protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, get_args, runtime_checkable

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

AudioFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
AUDIO_FORMATS: tuple[AudioFormat, ...] = get_args(AudioFormat)
StreamMode = Literal["audio", "sse"]
SamplingControl = Literal["temperature", "exaggeration", "cfg_weight", "seed"]
SAMPLING_CONTROLS: tuple[SamplingControl, ...] = get_args(SamplingControl)

MAX_INPUT_CHARS = 4096
MIN_SPEED = 0.25
MAX_SPEED = 4.0


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BuiltinVoice(_Frozen):
    """A voice the model ships with, by name (`alloy`, `leo`, `af_heart`, ...)."""

    kind: Literal["builtin"] = "builtin"
    name: str = Field(min_length=1, max_length=128)


class UploadedVoice(_Frozen):
    """A voice file a tenant uploaded for cloning; providers get its audio in `wav`."""

    kind: Literal["uploaded"] = "uploaded"
    file_id: str = Field(min_length=1, max_length=128)
    wav: bytes | None = Field(default=None, exclude=True, repr=False)
    """The reference recording as a 24 kHz mono 16-bit WAV file, attached by the router."""


Voice = Annotated[BuiltinVoice | UploadedVoice, Field(discriminator="kind")]


class SpeechRequest(_Frozen):
    """One speech request, whatever dialect it arrived in."""

    model: str = Field(min_length=1, max_length=256)
    input: str = Field(min_length=1, max_length=MAX_INPUT_CHARS)
    voice: Voice
    response_format: AudioFormat = "mp3"
    speed: float = Field(default=1.0, ge=MIN_SPEED, le=MAX_SPEED)
    instructions: str | None = Field(default=None, max_length=MAX_INPUT_CHARS)
    stream: StreamMode = "audio"
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    exaggeration: float | None = Field(default=None, ge=0.0, le=2.0)
    cfg_weight: float | None = Field(default=None, ge=0.0, le=1.0)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    # Read numbers, times, URLs and the like as a person would say them, for models that
    # turn text into phonemes themselves.
    normalize: bool = True
    # Time every spoken word, for models whose card has `word_timestamps`.
    word_timestamps: bool = False

    def sampling(self) -> dict[SamplingControl, float | int]:
        """The sampling controls this request sets."""
        values = {name: getattr(self, name) for name in SAMPLING_CONTROLS}
        return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True, slots=True)
class WordTime:
    """A spoken word and when it is said, in seconds from the start of its audio."""

    word: str
    start: float
    end: float

    def shifted(self, offset: float, speed: float = 1.0) -> WordTime:
        """The same word, played `speed` times faster and starting `offset` seconds later."""
        return WordTime(self.word, offset + self.start / speed, offset + self.end / speed)


@dataclass(frozen=True, slots=True)
class PcmAudio:
    """Mono float32 samples in [-1, 1] at a sample rate, with the words said in them if timed."""

    samples: npt.NDArray[np.float32]
    sample_rate: int
    words: tuple[WordTime, ...] = ()

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True, slots=True)
class EncodedAudio:
    """Audio already in the requested format, passed through to the caller byte for byte.

    A provider yields these only when the request's format is one of its model's
    `native_formats`; the router measures their duration itself.
    """

    data: bytes


Audio = PcmAudio | EncodedAudio


@dataclass(slots=True)
class SpeechUsage:
    """What one request consumed and produced."""

    input_characters: int
    audio_seconds: float = 0.0


class SpeechStream:
    """Audio as a provider makes it, counting the seconds produced into its usage."""

    def __init__(self, chunks: AsyncIterator[Audio], usage: SpeechUsage) -> None:
        self._chunks = chunks
        self.usage = usage

    def __aiter__(self) -> SpeechStream:
        return self

    async def __anext__(self) -> Audio:
        chunk = await anext(self._chunks)
        if isinstance(chunk, PcmAudio):
            self.usage.audio_seconds += chunk.seconds
        return chunk

    async def aclose(self) -> None:
        """Stop the provider's generator early."""
        close = getattr(self._chunks, "aclose", None)
        if close is not None:
            await close()


@dataclass(frozen=True, slots=True)
class VoiceCard:
    """A voice a model serves."""

    id: str
    description: str = ""
    # As a person would name them: "American English", "female".
    language: str | None = None
    gender: str | None = None


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What a provider's model can do, declared as data for the router to act on."""

    id: str
    voices: tuple[VoiceCard, ...]
    sample_rate: int
    max_input_chars: int = MAX_INPUT_CHARS
    native_formats: frozenset[AudioFormat] = frozenset()
    streaming: bool = True
    native_speed: bool = False
    voice_cloning: bool = False
    instructions: bool = False
    sampling_controls: frozenset[SamplingControl] = frozenset()
    # Takes blends of its voices, as in `af_bella(2)+af_sky(1)`.
    voice_blends: bool = False
    # Times every word it speaks (`PcmAudio.words`) when a request asks for it.
    word_timestamps: bool = False

    def __post_init__(self) -> None:
        # Audio passed through untouched cannot have its speed changed by the router.
        if self.native_formats and not self.native_speed:
            raise ValueError(f"model {self.id!r}: native_formats need native_speed")

    def has_voice(self, name: str) -> bool:
        """Whether a built-in voice of this name exists."""
        return any(voice.id == name for voice in self.voices)


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """What the host hands a provider when it builds one from config."""

    name: str
    data_dir: Path
    options: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Provider(Protocol):
    """A source of speech: local model or upstream API."""

    name: str

    def models(self) -> Sequence[ModelCard]:
        """The models this provider serves, with their capabilities."""
        ...

    async def start(self) -> None:
        """Load weights or open connections; called once before serving."""
        ...

    async def close(self) -> None:
        """Release everything `start` acquired."""
        ...

    def ready(self) -> bool:
        """Whether the provider can serve requests now."""
        ...

    def synthesize(self, request: SpeechRequest) -> AsyncIterator[Audio]:
        """Yield audio for `request` as it is made; `request.model` is one of `models()`.

        Yield `PcmAudio`, or `EncodedAudio` when `request.response_format` is native.
        """
        ...


class ProviderFactory(Protocol):
    """What a `tts_router.providers` entry point must load: a callable building a provider."""

    def __call__(self, context: ProviderContext) -> Provider: ...


@runtime_checkable
class QueueReporter(Protocol):
    """A provider that can tell how many requests are queued on it or running."""

    def queue_depth(self) -> int:
        """Requests queued or in flight."""
        ...

"""The contract every provider plugin keeps; each plugin's tests subclass `ProviderContract`."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from providers.api import (
    Audio,
    BuiltinVoice,
    ModelCard,
    PcmAudio,
    Provider,
    ProviderContext,
    SpeechRequest,
    UploadedVoice,
)
from providers.errors import ProviderRejectedError, ProviderUnavailableError

SHORT_TEXT = "Hello there."


def reference_wav(seconds: float = 2.0, sample_rate: int = 24_000) -> bytes:
    """A 24 kHz mono 16-bit WAV of a gliding tone, as the router attaches to a voice file."""
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    samples = 0.3 * np.sin(2 * np.pi * (180 + 60 * t) * t)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes((samples * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


async def collect(chunks: AsyncIterator[Audio]) -> list[PcmAudio]:
    """Every chunk of a synthesis, each PCM: the contract asks for formats the router encodes."""
    collected = [chunk async for chunk in chunks]
    assert all(isinstance(chunk, PcmAudio) for chunk in collected)
    return [chunk for chunk in collected if isinstance(chunk, PcmAudio)]


def request_for(card: ModelCard, text: str = SHORT_TEXT) -> SpeechRequest:
    """A request for `card`'s first voice."""
    return SpeechRequest(model=card.id, input=text, voice=BuiltinVoice(name=card.voices[0].id))


class ProviderContract:
    """Checks a started provider (the `provider` fixture) and an unstarted one (`unstarted`)."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    def test_is_a_provider_with_models(self, provider: Provider) -> None:
        assert isinstance(provider, Provider)
        assert provider.ready()
        cards = provider.models()
        assert cards
        assert len({card.id for card in cards}) == len(cards)
        for card in cards:
            assert card.voices
            assert card.sample_rate > 0
            assert card.max_input_chars > 0

    @pytest.mark.anyio
    async def test_every_model_speaks_mono_float_audio(self, provider: Provider) -> None:
        for card in provider.models():
            chunks = await collect(provider.synthesize(request_for(card)))
            assert chunks, card.id
            for chunk in chunks:
                assert chunk.samples.dtype == np.float32
                assert chunk.samples.ndim == 1
                assert chunk.sample_rate == card.sample_rate
                assert np.all(np.isfinite(chunk.samples))
                assert np.all(np.abs(chunk.samples) <= 1.0)
            assert sum(chunk.seconds for chunk in chunks) > 0

    @pytest.mark.anyio
    async def test_unknown_voice_is_rejected_before_audio(self, provider: Provider) -> None:
        card = provider.models()[0]
        request = request_for(card).model_copy(update={"voice": BuiltinVoice(name="no-such")})
        with pytest.raises(ProviderRejectedError) as raised:
            await collect(provider.synthesize(request))
        assert raised.value.param == "voice"

    @pytest.mark.anyio
    async def test_voice_file_is_cloned_or_rejected(self, provider: Provider) -> None:
        for card in provider.models():
            voice = UploadedVoice(file_id="file-contract", wav=reference_wav())
            request = request_for(card).model_copy(update={"voice": voice})
            if card.voice_cloning:
                chunks = await collect(provider.synthesize(request))
                assert sum(chunk.seconds for chunk in chunks) > 0
            else:
                with pytest.raises(ProviderRejectedError):
                    await collect(provider.synthesize(request))

    @pytest.mark.anyio
    async def test_stopping_early_leaves_the_provider_serving(self, provider: Provider) -> None:
        card = provider.models()[0]
        chunks = provider.synthesize(request_for(card, "First sentence. Second sentence."))
        assert await anext(chunks)
        await chunks.aclose()  # type: ignore[attr-defined]
        assert await collect(provider.synthesize(request_for(card)))

    @pytest.mark.anyio
    async def test_unstarted_provider_is_unavailable(self, unstarted: Provider) -> None:
        assert not unstarted.ready()
        card = unstarted.models()[0]
        with pytest.raises(ProviderUnavailableError):
            await collect(unstarted.synthesize(request_for(card)))


def context(name: str, **options: object) -> ProviderContext:
    """A provider context for tests, with `options` as its config."""
    return ProviderContext(name=name, data_dir=Path("."), options=options)

"""The Kokoro provider on the real int8 Kokoro-82M ONNX model, offline."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt
import onnx
import pytest

from providers.api import (
    BuiltinVoice,
    PcmAudio,
    Provider,
    ProviderContext,
    ProviderFactory,
    SpeechRequest,
    UploadedVoice,
)
from providers.errors import (
    ProviderOverloadedError,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from providers.kokoro import KokoroProvider
from providers.kokoro.g2p import EnglishG2P
from providers.kokoro.onnx_engine import default_model_path, duration_frames
from providers.kokoro.voices import (
    ALIAS_VOICES,
    VoiceCatalog,
    gender_of,
    language_of,
    load_styles,
    read_voice_names,
)
from providers.normalize import normalize
from tests.providers.contract import ProviderContract, context
from tests.support.audio import spectral_distance

SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Yesterday we walked to the market and bought fresh bread, apples and cheese.",
    "Dr. Smith said the meeting starts at 3.30 in room 12, not in the main hall.",
    "Please remember to close the windows before you leave the office tonight.",
    "A gentle rain fell all afternoon, and the garden finally looked green again.",
    "Our train was delayed by twenty minutes, so we missed the opening speech.",
    "She plays the violin every morning; her neighbours have never complained.",
    "The library will be closed on Monday while the new shelves are installed.",
]


def _sentence_count(chars: int) -> int:
    """How many of the cycled SENTENCES make a text of at least `chars` characters."""
    count, length = 0, -1
    while length < chars:
        length += len(SENTENCES[count % len(SENTENCES)]) + 1
        count += 1
    return count


def _text(chars: int) -> str:
    """Distinct sentences, cycled until the text is about `chars` long."""
    count = _sentence_count(chars)
    return " ".join(SENTENCES[i % len(SENTENCES)] for i in range(count))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def provider() -> Iterator[KokoroProvider]:
    kokoro = KokoroProvider(
        ProviderContext(name="kokoro", data_dir=Path("."), options={"workers": 1, "max_queue": 1})
    )
    anyio.run(kokoro.start)
    yield kokoro
    anyio.run(kokoro.close)


def _request(text: str, voice: str = "alloy", **fields: Any) -> SpeechRequest:
    return SpeechRequest(model="kokoro", input=text, voice=BuiltinVoice(name=voice), **fields)


async def _collect(provider: KokoroProvider, request: SpeechRequest) -> list[PcmAudio]:
    return [chunk async for chunk in provider.synthesize(request)]


def _seconds(chunks: list[PcmAudio]) -> float:
    return sum(chunk.seconds for chunk in chunks)


@pytest.mark.anyio
async def test_sentence_gives_24khz_float32_speech(provider: KokoroProvider) -> None:
    text = "Hello world, this is a short test of the speech model."
    chunks = await _collect(provider, _request(text))
    assert chunks
    assert all(chunk.sample_rate == 24_000 for chunk in chunks)
    assert all(chunk.samples.dtype == np.float32 and chunk.samples.ndim == 1 for chunk in chunks)
    audio = np.concatenate([chunk.samples for chunk in chunks])
    assert np.all(np.abs(audio) <= 1.0)
    assert float(np.sqrt(np.mean(audio**2))) > 0.01  # speech, not silence
    assert 0.04 <= _seconds(chunks) / len(text) <= 0.15


@pytest.mark.anyio
async def test_speed_is_applied_by_the_model(provider: KokoroProvider) -> None:
    text = "Twice as fast takes half the time."
    normal = _seconds(await _collect(provider, _request(text, speed=1.0)))
    fast = _seconds(await _collect(provider, _request(text, speed=2.0)))
    assert fast < 0.7 * normal


@pytest.mark.anyio
@pytest.mark.parametrize(
    "text",
    [
        "Dr. Smith paid $3.14 on 12/05/2024 for 1,000 apples, i.e. a bargain.",
        "...",
        "!!!",
        "?! \u2014 \u2026",
        " \n\t ",
        "Control\x00 characters\x85 are\x1b spoken as spaces.",
    ],
)
async def test_numbers_abbreviations_and_punctuation_give_audio(
    provider: KokoroProvider, text: str
) -> None:
    chunks = await _collect(provider, _request(text, speed=4.0))
    assert _seconds(chunks) > 0.1


@pytest.mark.anyio
async def test_long_text_streams_every_sentence_in_order(provider: KokoroProvider) -> None:
    # Speed 4 keeps this affordable on two cores; every sentence becomes one piece.
    count = _sentence_count(4000)
    chunks = await _collect(provider, _request(_text(4000), speed=4.0))
    assert len(chunks) == count > len(SENTENCES)
    for index, chunk in enumerate(chunks):
        sentence = SENTENCES[index % len(SENTENCES)]
        assert 0.01 <= chunk.seconds / len(sentence) <= 0.06
    # The model is deterministic, so each repeat of a sentence sounds exactly as long.
    repeats = [chunk.seconds for chunk in chunks[len(SENTENCES) :]]
    assert repeats == [chunk.seconds for chunk in chunks[: len(repeats)]]
    # Its first sentences are a 1000-character text; the whole should last about four times as long.
    assert 3.0 <= _seconds(chunks) / _seconds(chunks[: _sentence_count(1000)]) <= 5.0


@pytest.mark.anyio
async def test_every_openai_voice_and_native_voice_speaks(provider: KokoroProvider) -> None:
    (card,) = provider.models()
    for name in (*ALIAS_VOICES, "af_heart", "bm_george"):
        assert card.has_voice(name)
        assert _seconds(await _collect(provider, _request("Yes.", voice=name, speed=4.0))) > 0


@pytest.mark.anyio
async def test_each_openai_voice_sounds_unlike_every_other(provider: KokoroProvider) -> None:
    spoken = {}
    for name in ALIAS_VOICES:
        chunks = await _collect(provider, _request("Yes, I can hear you.", voice=name, speed=1.5))
        spoken[name] = np.concatenate([chunk.samples for chunk in chunks]).astype(np.float64)
    distances = {
        (a, b): spectral_distance(spoken[a], spoken[b], 24_000)
        for a, b in itertools.combinations(spoken, 2)
    }
    # Distinct voices are 0.33 nepers apart or more; one voice against itself, 0.
    closest = min(distances, key=distances.__getitem__)
    assert distances[closest] > 0.2, closest


def test_model_card_declares_kokoro_capabilities(provider: KokoroProvider) -> None:
    factory: ProviderFactory = KokoroProvider  # mypy checks the plugin against the protocol
    assert isinstance(provider, Provider)
    assert factory is KokoroProvider
    assert provider.ready()
    (card,) = provider.models()
    assert card.id == "kokoro"
    assert card.sample_rate == 24_000
    assert card.native_speed
    assert card.streaming
    assert not card.voice_cloning
    assert not card.instructions
    assert card.sampling_controls == frozenset()
    assert card.max_input_chars == 4096
    assert [voice.id for voice in card.voices[: len(ALIAS_VOICES)]] == list(ALIAS_VOICES)


def test_openai_voices_map_onto_preferred_voices_of_the_official_pack() -> None:
    official = ("af_alloy", "af_heart", "af_nova", "af_sky", "am_echo", "am_onyx", "bm_fable")
    aliases = VoiceCatalog(official).aliases
    assert set(aliases) == set(ALIAS_VOICES)
    assert set(aliases.values()) <= set(official)
    assert (aliases["alloy"], aliases["onyx"], aliases["fable"]) == (
        "af_alloy",
        "am_onyx",
        "bm_fable",
    )
    assert all(aliases[name][1] == "m" for name in ("ash", "ballad", "echo", "verse", "cedar"))
    assert all(aliases[name][1] == "f" for name in ("coral", "nova", "sage", "shimmer", "marin"))


def test_the_default_pack_gives_each_openai_voice_its_own_english_voice() -> None:
    aliases = VoiceCatalog(read_voice_names()).aliases
    assert len(set(aliases.values())) == len(aliases)
    assert all(native[0] in "ab" for native in aliases.values())
    males = {native for native in aliases.values() if gender_of(native) == "male"}
    females = {native for native in aliases.values() if gender_of(native) == "female"}
    assert len(males) >= 5
    assert len(females) >= 5
    assert (aliases["onyx"], aliases["nova"], aliases["fable"]) == (
        "am_onyx",
        "af_nova",
        "bm_fable",
    )


def test_the_readme_voice_table_is_the_mapping() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^  \| (\w+)(?: \(Distribute\))? \| (\w+) \| ([\w ]+) \| (\w+) \|$", readme, re.M
    )
    aliases = VoiceCatalog(read_voice_names()).aliases
    assert {alias: native for alias, native, _, _ in rows} == aliases
    assert all((language_of(n), gender_of(n)) == (lang, g) for _, n, lang, g in rows)


def test_voices_are_listed_with_their_language_and_gender(provider: KokoroProvider) -> None:
    (card,) = provider.models()
    voices = {voice.id: voice for voice in card.voices}
    assert (voices["onyx"].language, voices["onyx"].gender) == ("American English", "male")
    assert (voices["bf_emma"].language, voices["bf_emma"].gender) == ("British English", "female")
    assert len([v for v in card.voices if v.id[:3] in ("af_", "am_", "bf_", "bm_")]) == 28


def test_alias_voices_map_the_same_way_in_every_process() -> None:
    # A literal, so a change of process or of hash seed cannot pass unnoticed.
    assert VoiceCatalog(
        ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
    ).aliases == {
        "alloy": "jf_tebukuro",
        "ash": "jm_kumo",
        "ballad": "jm_kumo",
        "coral": "jf_nezumi",
        "echo": "jm_kumo",
        "fable": "jm_kumo",
        "onyx": "jm_kumo",
        "nova": "jf_tebukuro",
        "sage": "jf_nezumi",
        "shimmer": "jf_alpha",
        "verse": "jm_kumo",
        "marin": "jf_alpha",
        "cedar": "jm_kumo",
        "leo": "jm_kumo",
        "nora": "jf_tebukuro",
    }


def _samples(chunks: list[PcmAudio]) -> npt.NDArray[np.float32]:
    return np.concatenate([chunk.samples for chunk in chunks])


@pytest.mark.anyio
async def test_the_spoken_form_is_what_is_read_unless_turned_off(provider: KokoroProvider) -> None:
    written = "Call 555-0134 at 3:30 pm, or see https://example.com/docs."
    spoken = normalize(written)
    assert spoken != written
    normalized = _samples(await _collect(provider, _request(written)))
    as_spoken = _samples(await _collect(provider, _request(spoken, normalize=False)))
    as_written = _samples(await _collect(provider, _request(written, normalize=False)))
    assert np.array_equal(normalized, as_spoken)
    assert not np.array_equal(normalized[: len(as_written)], as_written[: len(normalized)])


def test_british_voices_read_with_british_pronunciation(provider: KokoroProvider) -> None:
    text = "I can't find the tomato sauce in the bath."
    british = EnglishG2P(british=True).phonemize(text)
    assert british != EnglishG2P().phonemize(text)
    assert provider.phonemes(text, "bf_emma") == british
    assert provider.phonemes(text, "fable") == british
    assert provider.phonemes(text, "af_heart") != british


@pytest.mark.anyio
async def test_a_blend_mixes_the_styles_of_its_voices(provider: KokoroProvider) -> None:
    text = "A blend of two voices."
    heart = _samples(await _collect(provider, _request(text, voice="af_heart")))
    onyx = _samples(await _collect(provider, _request(text, voice="onyx")))
    alone = _samples(await _collect(provider, _request(text, voice="af_heart(3)")))
    blend = _samples(await _collect(provider, _request(text, voice="af_heart(1)+onyx(1)")))
    assert np.array_equal(alone, heart)
    assert not np.array_equal(blend[: len(heart)], heart[: len(blend)])
    assert not np.array_equal(blend[: len(onyx)], onyx[: len(blend)])
    assert provider.models()[0].voice_blends


@pytest.mark.anyio
async def test_a_blend_with_an_unknown_voice_names_it(provider: KokoroProvider) -> None:
    with pytest.raises(ProviderRejectedError, match="no voice 'af_nobody'") as caught:
        await _collect(provider, _request("Hi.", voice="af_heart+af_nobody"))
    assert caught.value.param == "voice"


@pytest.mark.anyio
async def test_unknown_voice_is_rejected(provider: KokoroProvider) -> None:
    with pytest.raises(ProviderRejectedError) as caught:
        await _collect(provider, _request("Hello.", voice="no_such_voice"))
    assert caught.value.param == "voice"


@pytest.mark.anyio
async def test_uploaded_voice_is_rejected(provider: KokoroProvider) -> None:
    request = SpeechRequest(model="kokoro", input="Hello.", voice=UploadedVoice(file_id="f1"))
    with pytest.raises(ProviderRejectedError, match="voice cloning") as caught:
        await _collect(provider, request)
    assert caught.value.param == "voice"


@pytest.mark.anyio
async def test_requests_beyond_workers_and_queue_are_refused(provider: KokoroProvider) -> None:
    first = provider.synthesize(_request("One. Two."))
    second = provider.synthesize(_request("Three. Four."))
    try:
        await anext(first)
        await anext(second)
        with pytest.raises(ProviderOverloadedError):
            await anext(provider.synthesize(_request("Five.")))
    finally:
        await first.aclose()
        await second.aclose()
    assert _seconds(await _collect(provider, _request("Six."))) > 0


@pytest.mark.anyio
async def test_unstarted_provider_is_unavailable() -> None:
    kokoro = KokoroProvider(ProviderContext(name="cold", data_dir=Path(".")))
    assert not kokoro.ready()
    with pytest.raises(ProviderUnavailableError):
        await _collect(kokoro, _request("Hello."))


@pytest.mark.parametrize(
    "options",
    [
        {"engine": "gpu"},
        {"unknown": 1},
        {"workers": 0},
        {"max_queue": -1},
        {"threads": 0},
        {"model_path": "/nonexistent/kokoro.onnx"},
        {"voices_path": "/nonexistent/voices.bin"},
    ],
)
def test_invalid_options_raise_value_error(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="invalid options for Kokoro provider 'bad'"):
        KokoroProvider(ProviderContext(name="bad", data_dir=Path("."), options=options))


def test_voices_path_loads_an_official_style_pack(tmp_path: Path) -> None:
    styles = load_styles()
    pack = tmp_path / "voices-v1.0.bin"
    with pack.open("wb") as file:
        np.savez(file, af_alloy=styles["af_heart"], am_onyx=styles["am_michael"])
    options = {"voices_path": str(pack)}
    kokoro = KokoroProvider(ProviderContext(name="pack", data_dir=tmp_path, options=options))
    (card,) = kokoro.models()
    native = [voice.id for voice in card.voices[len(ALIAS_VOICES) :]]
    assert native == ["af_alloy", "am_onyx"]
    descriptions = {voice.id: voice.description for voice in card.voices}
    assert descriptions["alloy"].endswith("af_alloy")
    assert descriptions["onyx"].endswith("am_onyx")
    assert load_styles(pack).keys() == {"af_alloy", "am_onyx"}


class TestKokoroOnnxContract(ProviderContract):
    """The ONNX engine keeps the provider contract (`provider` is the module's started one)."""

    @pytest.fixture
    def unstarted(self) -> KokoroProvider:
        return KokoroProvider(context("kokoro"))


def test_the_bundled_export_gives_its_durations() -> None:
    model = onnx.load(str(default_model_path()))
    assert duration_frames(model) == "/encoder/Cast_output_0"


@pytest.mark.anyio
async def test_words_are_timed_only_when_asked(provider: KokoroProvider) -> None:
    text = "Hello, world (see the docs)."
    (untimed,) = await _collect(provider, _request(text))
    (timed,) = await _collect(provider, _request(text, word_timestamps=True))
    assert untimed.words == ()
    np.testing.assert_array_equal(untimed.samples, timed.samples)
    assert [word.word for word in timed.words] == ["Hello,", "world", "(see", "the", "docs)."]
    assert all(a.end <= b.start for a, b in zip(timed.words, timed.words[1:], strict=False))
    assert timed.words[-1].end == pytest.approx(timed.seconds)
    assert provider.models()[0].word_timestamps

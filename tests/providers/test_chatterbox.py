"""The Chatterbox provider on the real chatterbox-tts classes with random weights, on the CPU."""

# The checkpoints have the real architecture except for a two-layer T3. Random weights rarely
# say stop, so pieces run to `MAX_NEW_TOKENS` speech tokens; S3Gen runs 2 flow steps.

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt
import openai
import pytest
import torch
from chatterbox.models.t3 import T3
from chatterbox.models.t3.llama_configs import LLAMA_CONFIGS
from chatterbox.models.t3.modules.cond_enc import T3Cond

from providers.api import (
    BuiltinVoice,
    ProviderFactory,
    SpeechRequest,
    UploadedVoice,
    Voice,
)
from providers.chatterbox import ChatterboxProvider, engine
from providers.chatterbox.conditioning import VoiceConditioning
from providers.chatterbox.decoding import Sampling, decode, decode_turbo
from providers.chatterbox.engine import Settings
from providers.errors import (
    ProviderOverloadedError,
    ProviderRejectedError,
)
from providers.text import split_text
from tests.providers.contract import ProviderContract, context
from tests.support.audio import decode as decode_file
from tests.support.chatterbox_weights import (
    TINY_PLUGIN,
    cached_checkpoint,
    random_cond,
    shallow_backbones,
    tiny_router_config,
    tone_wav,
    tone_wav_bytes,
    turbo_config,
    write_checkpoint,
    write_turbo_checkpoint,
)
from tests.support.server import cli, register_plugins, run_router

MAX_NEW_TOKENS = 8
TEXT = "Hello there."
TWO_PIECES = "One two. Three four."
LEO = (1.0, 220.0)  # seconds and pitch of the clip of voice `leo`


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def backbones() -> Iterator[None]:
    """Two-layer T3 backbones while this module runs."""
    with pytest.MonkeyPatch.context() as patch:
        for name, config in shallow_backbones().items():
            patch.setitem(LLAMA_CONFIGS, name, config)
        yield


@pytest.fixture(scope="module")
def weights(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where random checkpoints are written: pytest's cache, so later runs reuse them."""
    cache: pytest.Cache | None = getattr(request.config, "cache", None)
    return cache.mkdir("chatterbox-weights") if cache else tmp_path_factory.mktemp("weights")


@pytest.fixture(scope="module")
def checkpoint(backbones: None, weights: Path) -> Path:
    return cached_checkpoint(weights, "standard", write_checkpoint)


@pytest.fixture(scope="module")
def turbo_checkpoint(backbones: None, weights: Path) -> Path:
    return cached_checkpoint(weights, "turbo", write_turbo_checkpoint)


@pytest.fixture(scope="module")
def leo_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tone_wav(tmp_path_factory.mktemp("voices") / "leo.wav", *LEO)


def _options(checkpoint: Path, leo_clip: Path) -> dict[str, Any]:
    return {
        "checkpoint_dir": str(checkpoint),
        "device": "cpu",
        "voices": {"leo": str(leo_clip)},
        "max_new_tokens": MAX_NEW_TOKENS,
        "flow_steps": 2,
        "max_queue": 1,
    }


@pytest.fixture(scope="module")
def provider(checkpoint: Path, leo_clip: Path) -> Iterator[ChatterboxProvider]:
    chatterbox = ChatterboxProvider(context("chatterbox", **_options(checkpoint, leo_clip)))
    anyio.run(chatterbox.start)
    yield chatterbox
    anyio.run(chatterbox.close)


def _request(text: str = TEXT, voice: Voice | None = None, **fields: Any) -> SpeechRequest:
    return SpeechRequest(
        model=fields.pop("model", "chatterbox"),
        input=text,
        voice=voice or BuiltinVoice(name="default"),
        **fields,
    )


def _upload(file_id: str, wav: bytes) -> UploadedVoice:
    return UploadedVoice(file_id=file_id, wav=wav)


async def _pieces(
    provider: ChatterboxProvider, request: SpeechRequest
) -> list[npt.NDArray[np.float32]]:
    return [chunk.samples async for chunk in provider.synthesize(request)]


async def _audio(provider: ChatterboxProvider, request: SpeechRequest) -> npt.NDArray[np.float32]:
    return np.concatenate(await _pieces(provider, request))


class TestChatterboxContract(ProviderContract):
    """The provider contract, on the module's started provider."""

    @pytest.fixture
    def unstarted(self, checkpoint: Path, leo_clip: Path) -> ChatterboxProvider:
        return ChatterboxProvider(context("cold", **_options(checkpoint, leo_clip)))


def test_model_card_declares_chatterbox_capabilities(provider: ChatterboxProvider) -> None:
    factory: ProviderFactory = ChatterboxProvider  # mypy checks the plugin against the protocol
    assert factory is ChatterboxProvider
    (card,) = provider.models()
    assert card.id == "chatterbox"
    assert card.sample_rate == 24_000
    assert [voice.id for voice in card.voices] == ["default", "leo", "nora"]
    assert card.voice_cloning
    assert card.streaming
    assert not card.native_speed
    assert card.sampling_controls == {"temperature", "exaggeration", "cfg_weight", "seed"}
    # Chatterbox predicts speech tokens, not durations, so it cannot time words.
    assert not card.word_timestamps


@pytest.mark.anyio
async def test_cfg_weight_zero_speaks_without_guidance(provider: ChatterboxProvider) -> None:
    audio = await _audio(provider, _request(cfg_weight=0.0, seed=1))
    assert audio.size > 0
    assert np.all(np.isfinite(audio))


@pytest.mark.anyio
async def test_a_seed_makes_the_audio_reproducible(provider: ChatterboxProvider) -> None:
    first = await _audio(provider, _request(seed=11, exaggeration=0.9, temperature=1.1))
    again = await _audio(provider, _request(seed=11, exaggeration=0.9, temperature=1.1))
    other = await _audio(provider, _request(seed=12, exaggeration=0.9, temperature=1.1))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.anyio
async def test_each_control_reaches_t3_under_its_own_name(
    provider: ChatterboxProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached: list[tuple[float, float, float]] = []

    def spy(t3: T3, cond: T3Cond, text: torch.Tensor, sampling: Sampling, *rest: Any) -> Any:
        reached.append((float(cond.emotion_adv), sampling.temperature, sampling.cfg_weight))
        return decode(t3, cond, text, sampling, *rest)

    monkeypatch.setattr(engine, "decode", spy)
    controls: dict[str, Any] = {"temperature": 0.3, "exaggeration": 0.7, "cfg_weight": 0.4}
    heard = await _audio(provider, _request(seed=3, **controls))
    assert reached == [pytest.approx((0.7, 0.3, 0.4))]
    # Exaggeration is one conditioning position that T3's RMSNorm scales away before random
    # weights can use it, so only temperature and guidance move these tokens measurably.
    for name, value in {"temperature": 1.3, "cfg_weight": 1.0}.items():
        changed = await _audio(provider, _request(seed=3, **{**controls, name: value}))
        assert not np.array_equal(changed, heard), name
    assert np.array_equal(await _audio(provider, _request(seed=3, **controls)), heard)


def test_sampling_controls_are_passed_by_name_only() -> None:
    with pytest.raises(TypeError):
        Settings(0.8, 0.5, 0.5)  # type: ignore[call-arg]
    assert Settings(exaggeration=0.9) == Settings(temperature=None, exaggeration=0.9)


@pytest.mark.anyio
async def test_concurrent_requests_each_keep_their_own_voice(provider: ChatterboxProvider) -> None:
    other = tone_wav_bytes(1.0, 420.0)
    # The same clips under other keys, conditioned afresh, one request at a time.
    alone = {
        "leo": await _audio(
            provider, _request(voice=_upload("f-leo", tone_wav_bytes(*LEO)), seed=5)
        ),
        "other": await _audio(provider, _request(voice=_upload("f-alone", other), seed=5)),
    }
    together: dict[str, npt.NDArray[np.float32]] = {}

    async def speak(name: str, voice: Voice) -> None:
        together[name] = await _audio(provider, _request(voice=voice, seed=5))

    # The model's thread conditions both voices before it speaks either: stock Chatterbox,
    # which keeps the voice on the model, would speak both in the second voice.
    async with anyio.create_task_group() as group:
        group.start_soon(speak, "leo", BuiltinVoice(name="leo"))
        group.start_soon(speak, "other", _upload("f-other", other))
    assert not np.array_equal(alone["leo"], alone["other"])
    assert np.array_equal(together["leo"], alone["leo"])
    assert np.array_equal(together["other"], alone["other"])


@pytest.mark.anyio
async def test_each_voice_is_conditioned_once(provider: ChatterboxProvider) -> None:
    before = provider.conditionings_computed("chatterbox")
    voice = _upload("f-once", tone_wav_bytes(1.0, 300.0))
    async with anyio.create_task_group() as group:
        for _ in range(2):
            group.start_soon(_pieces, provider, _request(voice=voice))
    assert provider.conditionings_computed("chatterbox") == before + 1
    await _pieces(provider, _request(voice=BuiltinVoice(name="nora")))
    assert provider.conditionings_computed("chatterbox") == before + 1  # the model's own voice


@pytest.mark.anyio
async def test_long_text_is_spoken_piece_by_piece(provider: ChatterboxProvider) -> None:
    clause = " ".join(["a very long and winding clause that keeps on going"] * 4)
    text = f"First one. {clause}, and then {clause}."  # its second sentence is over 300 chars
    pieces = await _pieces(provider, _request(text, seed=2))
    assert len(pieces) == len(split_text(text, 300)) == 3
    assert all(piece.size > 0 for piece in pieces)


@pytest.mark.anyio
async def test_a_full_queue_refuses_at_once(provider: ChatterboxProvider) -> None:
    streams = [provider.synthesize(_request(seed=n)) for n in range(2)]
    firsts = [asyncio.ensure_future(anext(stream)) for stream in streams]
    await asyncio.sleep(0)  # each runs until it waits on the model, admitted by then
    assert provider.queue_depth() == 2
    with pytest.raises(ProviderOverloadedError) as refused:
        await anext(provider.synthesize(_request()))
    assert refused.value.retry_after is not None
    assert refused.value.retry_after >= 1.0
    await asyncio.gather(*firsts)
    for stream in streams:
        await stream.aclose()
    assert provider.queue_depth() == 0


@pytest.mark.anyio
async def test_unknown_model_and_unreadable_voice_file_are_rejected(
    provider: ChatterboxProvider,
) -> None:
    with pytest.raises(ProviderRejectedError) as unknown:
        await _pieces(provider, _request(model="chatterbox-turbo"))
    assert unknown.value.param == "model"
    with pytest.raises(ProviderRejectedError) as unreadable:
        await _pieces(provider, _request(voice=_upload("f-junk", b"RIFF not a wav")))
    assert unreadable.value.param == "voice"


@pytest.fixture(scope="module")
def t3(backbones: None) -> T3:
    torch.manual_seed(1)
    return T3().eval()


@pytest.mark.parametrize(("cfg_weight", "temperature"), [(0.5, 0.8), (0.0, 0.8), (0.7, 1.3)])
def test_decoding_draws_what_stock_t3_draws(t3: T3, cfg_weight: float, temperature: float) -> None:
    cond = random_cond(t3.hp.speech_cond_prompt_len)
    text = torch.tensor([[255, 7, 8, 9, 0]])
    sampling = Sampling(temperature=temperature, cfg_weight=cfg_weight, max_new_tokens=12)
    ours = decode(t3, dataclasses.replace(cond), text, sampling, torch.Generator().manual_seed(42))
    torch.manual_seed(42)
    # Two rows, as stock crashes on one; with cfg_weight 0 they are alike and the second unused.
    stock = t3.inference(
        t3_cond=dataclasses.replace(cond),
        text_tokens=text.repeat(2, 1),
        max_new_tokens=12,
        temperature=temperature,
        top_p=1.0,  # ChatterboxTTS.generate's, not T3.inference's default
        min_p=0.05,
        repetition_penalty=1.2,
        cfg_weight=cfg_weight,
    )
    assert torch.equal(ours, stock)


def test_temperature_zero_decodes_greedily(t3: T3) -> None:
    cond, text = random_cond(t3.hp.speech_cond_prompt_len), torch.tensor([[255, 7, 8, 9, 0]])
    sampling = Sampling(temperature=0.0, max_new_tokens=6)
    runs = [
        decode(t3, dataclasses.replace(cond), text, sampling, torch.Generator().manual_seed(seed))
        for seed in (1, 2)
    ]
    assert torch.equal(*runs)


def test_each_call_conditions_on_its_own_copy(t3: T3) -> None:
    cached = VoiceConditioning(random_cond(20), MappingProxyType({"embedding": torch.ones(1, 192)}))
    t3_cond, gen = cached.for_call(exaggeration=0.9)
    t3.prepare_conditioning(t3_cond)  # stores the prompt embedding on what it is given
    gen["embedding"] = torch.zeros(1, 192)  # as S3Gen re-assigns what it is given
    assert t3_cond.cond_prompt_speech_emb is not None
    assert cached.t3.cond_prompt_speech_emb is None
    assert torch.equal(cached.gen["embedding"], torch.ones(1, 192))
    assert float(t3_cond.emotion_adv) == pytest.approx(0.9)
    assert float(cached.t3.emotion_adv) == 0.5


def test_turbo_decoding_draws_what_stock_turbo_draws(backbones: None) -> None:
    torch.manual_seed(1)
    t3 = T3(turbo_config()).eval()
    cond = random_cond(20)
    text = torch.tensor([[5, 6, 7, 8]])
    torch.manual_seed(42)
    stock = t3.inference_turbo(dataclasses.replace(cond), text, max_gen_len=11)
    sampling = Sampling(top_p=0.95, max_new_tokens=12)
    ours = decode_turbo(
        t3, dataclasses.replace(cond), text, sampling, torch.Generator().manual_seed(42)
    )
    assert torch.equal(ours, stock)


@pytest.mark.anyio
async def test_turbo_speaks_clones_and_refuses_short_clips(turbo_checkpoint: Path) -> None:
    options = {
        "models": ["chatterbox-turbo"],
        "turbo_checkpoint_dir": str(turbo_checkpoint),
        "device": "cpu",
        "max_new_tokens": MAX_NEW_TOKENS,
    }
    turbo = ChatterboxProvider(context("turbo", **options))
    (card,) = turbo.models()
    assert card.id == "chatterbox-turbo"
    assert card.sampling_controls == {"temperature", "seed"}
    await turbo.start()
    try:
        request = _request(model="chatterbox-turbo", seed=3)
        assert (await _audio(turbo, request)).size > 0
        clone = request.model_copy(update={"voice": _upload("f-long", tone_wav_bytes(5.5, 250.0))})
        assert (await _audio(turbo, clone)).size > 0
        short = request.model_copy(update={"voice": _upload("f-short", tone_wav_bytes(2.0, 250.0))})
        with pytest.raises(ProviderRejectedError, match="more than 5 s") as refused:
            await _pieces(turbo, short)
        assert refused.value.param == "voice"
    finally:
        await turbo.close()


def test_openai_sdk_gets_speech_over_http(checkpoint: Path, leo_clip: Path, tmp_path: Path) -> None:
    plugins = register_plugins(tmp_path / "plugins", {"chatterbox-tiny": TINY_PLUGIN})
    config = tmp_path / "router.toml"
    config.write_text(
        tiny_router_config(
            checkpoint, {"leo": leo_clip}, max_new_tokens=MAX_NEW_TOKENS, model="chatterbox"
        )
    )
    data = tmp_path / "data"
    cli("tenants", "create", "acme", "--data-dir", str(data))
    key = cli("keys", "create", "--tenant", "acme", "--data-dir", str(data))[-1]
    with run_router(data, config=config, python_path=plugins) as router:
        client = openai.OpenAI(base_url=f"{router.base_url}/v1", api_key=key, max_retries=0)
        response = client.audio.speech.create(
            model="chatterbox", voice="leo", input=TWO_PIECES, response_format="wav", timeout=120
        )
    samples, rate, channels = decode_file(response.content, "wav")
    assert (rate, channels) == (24_000, 1)
    # Two pieces of at most 8 speech tokens, 0.04 s each; random weights make some unusable.
    assert 0 < len(samples) / rate <= 2 * MAX_NEW_TOKENS * 0.04
    assert np.abs(samples).max() > 0


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"unknown": 1}, "unknown"),
        ({"models": []}, "models"),
        ({"models": ["chatterbox", "chatterbox"]}, "models"),
        ({"models": ["kokoro"]}, "models"),
        ({"device": "tpu"}, "device"),
        ({"max_queue": -1}, "max_queue"),
        ({"max_new_tokens": 1001}, "max_new_tokens"),
        ({"voices": {"bad name": "x.wav"}}, "voices"),
        ({"voices": {"leo": "/nonexistent/leo.wav"}}, "voices.leo"),
        ({"checkpoint_dir": "/nonexistent"}, "checkpoint_dir"),
        ({"turbo_checkpoint_dir": "/nonexistent"}, "turbo_checkpoint_dir"),
    ],
)
def test_invalid_options_raise_value_error(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(
        ValueError, match=f"invalid options for Chatterbox provider 'bad': .*{problem}"
    ):
        ChatterboxProvider(context("bad", **options))


def test_a_checkpoint_without_its_files_or_own_voice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ve.safetensors").touch()
    with pytest.raises(ValueError, match=r"lacks t3_cfg\.safetensors, s3gen\.safetensors"):
        ChatterboxProvider(context("bad", checkpoint_dir=str(tmp_path)))
    for name in ("t3_cfg.safetensors", "s3gen.safetensors", "tokenizer.json"):
        (tmp_path / name).touch()
    with pytest.raises(ValueError, match=r"no conds\.pt .* voices default, leo, nora need clips"):
        ChatterboxProvider(context("bad", checkpoint_dir=str(tmp_path)))


def test_voice_clips_are_checked_when_the_provider_is_built(tmp_path: Path, leo_clip: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_text("not audio")
    with pytest.raises(ValueError, match=r"voices\.nora: .* no audio file"):
        ChatterboxProvider(context("bad", voices={"nora": str(junk)}))
    with pytest.raises(
        ValueError, match=r"voices\.leo: .* lasts 1\.0 s; chatterbox-turbo needs more"
    ):
        ChatterboxProvider(
            context("bad", models=["chatterbox-turbo"], voices={"leo": str(leo_clip)})
        )

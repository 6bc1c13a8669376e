"""The Kokoro provider's PyTorch engine: the real KModel with random weights, offline, on CPU."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt
import pytest
import torch

from providers.api import BuiltinVoice, PcmAudio, SpeechRequest
from providers.kokoro import KokoroProvider
from providers.kokoro.engine import MAX_TOKENS, Device, batch_spans, load_vocab, token_batches
from providers.kokoro.g2p import EnglishG2P
from providers.kokoro.torch_engine import TorchEngine, default_config, resolve_device
from providers.kokoro.voices import ALIAS_VOICES, load_styles
from tests.providers.contract import ProviderContract, context

# Untrained, Kokoro's duration head gives about 25 frames a token, which makes a short sentence
# take ten seconds on two cores. These weights fix that head alone (its weights zero, its bias
# such that sigmoid(bias) * max_dur = 2), so every token lasts exactly 2 frames at speed 1 and 1
# frame at speed 2 and above; every other layer keeps its random initial value.
FRAMES_PER_TOKEN = 2
FRAME_SAMPLES = 600  # the decoder makes 25 ms of 24 kHz audio of each frame
TEXT = "Hello there."
SMALL_CONTEXT = 32


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    # On a busy two-core machine torch's intra-op threads spend most of their time waiting on
    # each other; one thread runs these small models several times faster there.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = default_config()
    max_dur, hidden = config["max_dur"], config["hidden_dim"]
    bias = math.log(FRAMES_PER_TOKEN / (max_dur - FRAMES_PER_TOKEN))
    # Official checkpoints prefix each key with "module.", and KModel then loads them leniently,
    # taking the layers a checkpoint has and leaving the rest as they were built.
    predictor = {
        "module.duration_proj.linear_layer.weight": torch.zeros(max_dur, hidden),
        "module.duration_proj.linear_layer.bias": torch.full((max_dur,), bias),
    }
    path = tmp_path_factory.mktemp("kokoro-torch") / "kokoro-random.pth"
    torch.save({"predictor": predictor}, path)
    return path


def _options(weights: Path, **options: object) -> dict[str, object]:
    return {"engine": "torch", "model_path": str(weights), "device": "cpu", **options}


@pytest.fixture(scope="module")
def provider(weights: Path) -> Iterator[KokoroProvider]:
    kokoro = KokoroProvider(context("kokoro-torch", **_options(weights, max_queue=1)))
    anyio.run(kokoro.start)
    yield kokoro
    anyio.run(kokoro.close)


@pytest.fixture(scope="module")
def engine(weights: Path) -> TorchEngine:
    return TorchEngine(weights, device="cpu")


@pytest.fixture(scope="module")
def small_engine(weights: Path, tmp_path_factory: pytest.TempPathFactory) -> TorchEngine:
    """The same model with a short context, so that a short input needs several batches."""
    config = default_config()
    config["plbert"]["max_position_embeddings"] = SMALL_CONTEXT
    path = tmp_path_factory.mktemp("kokoro-small") / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return TorchEngine(weights, config_path=path, device="cpu")


@pytest.fixture(scope="module")
def style() -> npt.NDArray[np.float32]:
    return load_styles()["af_heart"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _request(text: str = TEXT, **fields: Any) -> SpeechRequest:
    return SpeechRequest(model="kokoro", input=text, voice=BuiltinVoice(name="alloy"), **fields)


async def _samples(provider: KokoroProvider, request: SpeechRequest) -> int:
    chunks: list[PcmAudio] = [chunk async for chunk in provider.synthesize(request)]
    return sum(len(chunk.samples) for chunk in chunks)


class TestKokoroTorchContract(ProviderContract):
    """The torch engine keeps the provider contract (`provider` is the module's started one)."""

    @pytest.fixture
    def unstarted(self, weights: Path) -> KokoroProvider:
        return KokoroProvider(context("kokoro-torch", **_options(weights)))


@pytest.mark.anyio
async def test_engine_torch_speaks_with_the_configured_weights(provider: KokoroProvider) -> None:
    # Only these weights last exactly FRAMES_PER_TOKEN frames for each token and both pads.
    vocab = load_vocab()
    tokens = sum(symbol in vocab for symbol in EnglishG2P().phonemize(TEXT))
    expected = (tokens + 2) * FRAMES_PER_TOKEN * FRAME_SAMPLES
    assert await _samples(provider, _request()) == expected


@pytest.mark.anyio
async def test_speed_divides_the_durations(provider: KokoroProvider) -> None:
    normal = await _samples(provider, _request(speed=1.0))
    fast = await _samples(provider, _request(speed=2.0))
    assert normal == 2 * fast > 0


def test_long_phonemes_are_cut_into_batches(
    small_engine: TorchEngine, style: npt.NDArray[np.float32]
) -> None:
    phonemes = ("hɛloʊ " * 12).strip()
    tokens = small_engine.tokenize(phonemes)
    batches = token_batches(tokens, space=small_engine.vocab[" "], limit=SMALL_CONTEXT - 2)
    assert len(tokens) > 2 * SMALL_CONTEXT
    assert len(batches) == 3
    # At speed 4 each token, the two pads of each batch included, lasts one frame.
    audio = small_engine.synthesize(phonemes, style, speed=4.0)
    assert len(audio) == sum(len(batch) + 2 for batch in batches) * FRAME_SAMPLES
    assert audio.dtype == np.float32
    assert np.all(np.abs(audio) <= 1.0)


def test_each_symbol_is_timed_across_batches(
    small_engine: TorchEngine, style: npt.NDArray[np.float32]
) -> None:
    phonemes = ("hɛloʊ " * 12).strip()
    audio, times = small_engine.synthesize_timed(phonemes, style, speed=1.0)
    assert times is not None
    frame = FRAMES_PER_TOKEN * FRAME_SAMPLES / 24_000
    tokens = small_engine.tokenize(phonemes)
    spans = batch_spans(tokens, space=small_engine.vocab[" "], limit=SMALL_CONTEXT - 2)
    # Each batch's first symbol starts after the audio of the batches before and its own pad.
    offset = 0.0
    for span in spans:
        assert times[span.start, 0] == pytest.approx(offset + frame)
        offset += (len(span) + 2) * frame
    assert offset * 24_000 == pytest.approx(len(audio))
    spoken = times[~np.isnan(times[:, 0])]
    # Only the spaces the batches were cut at go unspoken.
    assert len(spoken) == len(phonemes) - (len(spans) - 1)
    np.testing.assert_allclose(spoken[:, 1] - spoken[:, 0], frame)


def test_nothing_to_say_gives_no_audio(engine: TorchEngine, style: npt.NDArray[np.float32]) -> None:
    assert engine.synthesize("\u2603", style, speed=1.0).size == 0


def test_shipped_config_has_the_onnx_vocabulary(engine: TorchEngine) -> None:
    assert default_config()["vocab"] == load_vocab() == engine.vocab


def test_batches_fit_the_context_of_the_configured_model(
    engine: TorchEngine, small_engine: TorchEngine
) -> None:
    assert engine.max_tokens == MAX_TOKENS
    assert small_engine.max_tokens == SMALL_CONTEXT - 2


@pytest.mark.parametrize(
    ("device", "has_cuda", "expected"),
    [("auto", False, "cpu"), ("auto", True, "cuda"), ("cpu", True, "cpu"), ("cuda", True, "cuda")],
)
def test_device_is_cuda_where_there_is_one(
    monkeypatch: pytest.MonkeyPatch, device: Device, has_cuda: bool, expected: str
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: has_cuda)
    assert resolve_device(device) == torch.device(expected)


def test_cuda_without_a_gpu_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="no CUDA device"):
        resolve_device("cuda")


def test_voices_path_takes_a_directory_of_pt_voices(weights: Path, tmp_path: Path) -> None:
    styles = load_styles()
    for official, bundled in (("af_alloy", "af_heart"), ("am_onyx", "am_michael")):
        torch.save(torch.from_numpy(styles[bundled]), tmp_path / f"{official}.pt")
    (tmp_path / "README.md").write_text("not a voice", encoding="utf-8")
    kokoro = KokoroProvider(context("pt", **_options(weights, voices_path=str(tmp_path))))
    (card,) = kokoro.models()
    assert [voice.id for voice in card.voices[len(ALIAS_VOICES) :]] == ["af_alloy", "am_onyx"]
    loaded = load_styles(tmp_path)
    assert loaded.keys() == {"af_alloy", "am_onyx"}
    assert np.array_equal(loaded["am_onyx"], styles["am_michael"])


def test_directory_without_voices_is_an_error(weights: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unreadable voice pack"):
        KokoroProvider(context("empty", **_options(weights, voices_path=str(tmp_path))))


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"engine": "tensorflow"}, "engine"),
        ({"engine": "torch", "threads": 2}, "threads: applies only to engine = 'onnx'"),
        ({"config_path": "config.json"}, "config_path: applies only to engine = 'torch'"),
        ({"device": "cpu"}, "device: applies only to engine = 'torch'"),
        ({"engine": "torch", "device": "tpu"}, "device"),
        ({"engine": "torch", "model_path": "/nonexistent/kokoro.pth"}, "model_path: no file"),
        ({"engine": "torch", "config_path": "/nonexistent/config.json"}, "config_path: no file"),
        ({"engine": "torch", "voices_path": "/nonexistent/voices"}, "voices_path: no file or"),
    ],
)
def test_invalid_options_name_the_field(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"invalid options for Kokoro provider 'bad': {field}"):
        KokoroProvider(context("bad", **options))


def test_onnx_engine_works_without_torch() -> None:
    script = (
        "import sys\n"
        "sys.modules['torch'] = sys.modules['kokoro'] = None\n"  # any import of them fails
        "from providers.kokoro import KokoroProvider\n"
        "from providers.kokoro.onnx_engine import OnnxEngine\n"
        "from providers.kokoro.voices import load_styles\n"
        "from tests.providers.contract import context\n"
        "KokoroProvider(context('onnx'))\n"
        "audio = OnnxEngine().synthesize('həlO', load_styles()['af_heart'], 1.0)\n"
        "assert audio.size > 0 and 'providers.kokoro.torch_engine' not in sys.modules\n"
    )
    root = Path(__file__).parents[2]
    subprocess.run([sys.executable, "-W", "error", "-c", script], cwd=root, check=True, timeout=120)

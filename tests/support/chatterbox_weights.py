"""Chatterbox checkpoints of random weights: the real architecture with a shallow T3."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import warnings
import wave
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import torch
from chatterbox.models.s3gen import S3Gen
from chatterbox.models.t3 import T3
from chatterbox.models.t3.llama_configs import LLAMA_CONFIGS
from chatterbox.models.t3.modules.cond_enc import T3Cond
from chatterbox.models.t3.modules.t3_config import T3Config
from chatterbox.models.tokenizers import EnTokenizer
from chatterbox.models.voice_encoder import VoiceEncoder
from chatterbox.tts import ChatterboxTTS
from chatterbox.tts_turbo import ChatterboxTurboTTS
from safetensors.torch import save_file
from tokenizers import Tokenizer, models
from transformers import AutoTokenizer

__all__ = [
    "TINY_LAYERS",
    "TINY_PLUGIN",
    "cached_checkpoint",
    "mixing",
    "random_cond",
    "shallow_backbones",
    "shrink_backbones",
    "tiny_checkpoint",
    "tiny_router_config",
    "tone_wav",
    "tone_wav_bytes",
    "turbo_config",
    "write_checkpoint",
    "write_turbo_checkpoint",
]

TINY_LAYERS = 2
# The Chatterbox plugin in a process whose T3 is TINY_LAYERS deep, by its entry point.
TINY_PLUGIN = "tests.plugins.tiny_chatterbox:ChatterboxProvider"
SAMPLE_RATE = 24_000
# S3Gen's cost grows with the reference, which it decodes again before every piece.
BUILTIN_SECONDS = 1.0
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-"
# Turbo's T3 embeds text with GPT-2's vocabulary size whatever tokenizer it is given.
_TURBO_TEXT_TOKENS = 50276


def shallow_backbones(layers: int = TINY_LAYERS) -> dict[str, dict[str, Any]]:
    """Chatterbox's named T3 backbone configs, `layers` deep; the hidden size stays 1024."""
    # T3 looks its backbone up by name in `LLAMA_CONFIGS`, and `from_local` always asks for
    # the stock names, so a shallow T3 needs those entries replaced. GPT-2's own token
    # embedding is never used (Turbo deletes it after loading), so it shrinks to a few rows.
    return {
        "Llama_520M": {**LLAMA_CONFIGS["Llama_520M"], "num_hidden_layers": layers},
        "GPT2_medium": {**LLAMA_CONFIGS["GPT2_medium"], "n_layer": layers, "vocab_size": 8},
    }


def shrink_backbones(layers: int = TINY_LAYERS) -> None:
    """Make every T3 built from now on in this process `layers` deep."""
    LLAMA_CONFIGS.update(shallow_backbones(layers))


def tone_wav(path: Path, seconds: float, hz: float) -> Path:
    """A 24 kHz mono 16-bit WAV at `path` of a tone gliding up from `hz`, with a little noise."""
    path.write_bytes(tone_wav_bytes(seconds, hz))
    return path


def tone_wav_bytes(seconds: float, hz: float) -> bytes:
    """A 24 kHz mono 16-bit WAV of a tone gliding up from `hz`, with a little noise."""
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    noise = np.random.default_rng(round(hz)).normal(0.0, 0.01, t.size)
    samples = 0.3 * np.sin(2 * np.pi * (hz + 20 * t) * t) + noise
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def _save(module: torch.nn.Module, path: Path) -> None:
    """The module's state dict, floats in bfloat16: half the bytes to write and read back."""
    # Copies in any case, because safetensors refuses tensors that share storage.
    state = {
        name: value.detach().to(
            torch.bfloat16 if value.is_floating_point() else value.dtype, copy=True
        )
        for name, value in module.state_dict().items()
    }
    save_file(state, path)


@contextmanager
def _librosa_load() -> Iterator[None]:
    """Quiet the deprecations of the modules librosa.load imports through audioread."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", r"'(aifc|sunau|audioop)' is deprecated", DeprecationWarning
        )
        yield


def _char_tokenizer(special: list[str], unknown: str, size: int) -> Tokenizer:
    """A tokenizer of single characters (a BPE without merges), with `special` tokens first."""
    vocab = {token: index for index, token in enumerate([*special, *_LETTERS])}
    assert len(vocab) <= size
    tokenizer = Tokenizer(models.BPE(vocab, merges=[], unk_token=unknown))
    tokenizer.add_special_tokens(special)
    return tokenizer


def turbo_config() -> T3Config:
    """Turbo's T3 settings, as `ChatterboxTurboTTS.from_local` makes them."""
    hp = T3Config(text_tokens_dict_size=_TURBO_TEXT_TOKENS)
    hp.llama_config_name = "GPT2_medium"
    hp.speech_tokens_dict_size = 6563
    hp.input_pos_emb = None
    hp.speech_cond_prompt_len = 375
    hp.use_perceiver_resampler = False
    hp.emotion_adv = False
    return hp


def mixing(t3: T3) -> T3:
    """`t3` with its backbone's linear layers drawn to keep their inputs' variance."""
    # The backbone's own initialisation (std 0.02) leaves each layer close to the identity and
    # its attention close to uniform, so the next token depends on the last one alone: the
    # guidance pair's rows, which differ only in their text, then give the same logits.
    for module in t3.tfmr.modules():
        if isinstance(module, torch.nn.Linear):
            torch.nn.init.normal_(module.weight, std=module.in_features**-0.5)
    return t3


def write_checkpoint(directory: Path, *, seed: int = 0) -> Path:
    """A `ChatterboxTTS.from_local` directory of random weights, with a built-in voice."""
    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    t3, s3gen, voice_encoder = mixing(T3().eval()), S3Gen().eval(), VoiceEncoder().eval()
    _save(t3, directory / "t3_cfg.safetensors")
    _save(s3gen, directory / "s3gen.safetensors")
    _save(voice_encoder, directory / "ve.safetensors")
    # EnTokenizer insists on [START] and [STOP]; spaces reach the model as [SPACE].
    special = ["[STOP]", "[UNK]", "[SPACE]", "[START]"]
    tokenizer = directory / "tokenizer.json"
    _char_tokenizer(special, "[UNK]", T3Config().text_tokens_dict_size).save(str(tokenizer))
    model = ChatterboxTTS(t3, s3gen, voice_encoder, EnTokenizer(str(tokenizer)), "cpu")
    with _librosa_load():
        model.prepare_conditionals(tone_wav(directory / "builtin.wav", BUILTIN_SECONDS, 150.0))
    model.conds.save(directory / "conds.pt")
    return directory


def write_turbo_checkpoint(directory: Path, *, seed: int = 0) -> Path:
    """A `ChatterboxTurboTTS.from_local` directory of random weights, with a built-in voice."""
    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    t3 = T3(turbo_config()).eval()
    s3gen, voice_encoder = S3Gen(meanflow=True).eval(), VoiceEncoder().eval()
    _save(t3, directory / "t3_turbo_v1.safetensors")
    _save(s3gen, directory / "s3gen_meanflow.safetensors")
    _save(voice_encoder, directory / "ve.safetensors")
    _char_tokenizer(["<|endoftext|>"], "<|endoftext|>", _TURBO_TEXT_TOKENS).save(
        str(directory / "tokenizer.json")
    )
    (directory / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|endoftext|>"})
    )
    tokenizer = AutoTokenizer.from_pretrained(directory)
    model = ChatterboxTurboTTS(t3, s3gen, voice_encoder, tokenizer, "cpu")
    # Turbo refuses reference clips of 5 seconds or less. Its loudness normalisation hands
    # float64 audio on under numpy 2, which S3Gen's tokenizer refuses.
    with _librosa_load():
        clip = tone_wav(directory / "builtin.wav", 5.2, 150.0)
        model.prepare_conditionals(clip, norm_loudness=False)
    model.conds.save(directory / "conds.pt")
    return directory


def cached_checkpoint(root: Path, name: str, write: Callable[[Path], Path]) -> Path:
    """The checkpoint `write` makes, kept under `root` until this module or chatterbox changes."""
    key = hashlib.sha256(Path(__file__).read_bytes() + version("chatterbox-tts").encode())
    final = root / f"{name}-{key.hexdigest()[:16]}"
    if final.is_dir():
        return final
    for stale in root.glob(f"{name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    # Written aside and renamed into place, so a run beside this one never sees half of it.
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    write(staging)
    try:
        staging.rename(final)
    except OSError:  # another run put it there first
        shutil.rmtree(staging, ignore_errors=True)
    return final


def tiny_checkpoint(root: Path) -> Path:
    """The original model's random checkpoint with a shallow T3, kept under `root`."""
    stock = dict(LLAMA_CONFIGS)
    shrink_backbones()
    try:
        return cached_checkpoint(root, "standard", write_checkpoint)
    finally:
        LLAMA_CONFIGS.update(stock)


def random_cond(prompt_tokens: int) -> T3Cond:
    """T3 conditioning of a random speaker and `prompt_tokens` random prompt tokens."""
    generator = torch.Generator().manual_seed(0)
    return T3Cond(
        speaker_emb=torch.randn(1, 256, generator=generator),
        cond_prompt_speech_tokens=torch.randint(0, 6561, (1, prompt_tokens), generator=generator),
        emotion_adv=0.5 * torch.ones(1, 1, 1),
    )


def tiny_router_config(
    checkpoint: Path, voices: Mapping[str, Path], *, max_new_tokens: int, model: str
) -> str:
    """A router config whose route `model` is served by the plugin `chatterbox-tiny`."""
    clips = ", ".join(f'{name} = "{clip}"' for name, clip in voices.items())
    return f"""
[providers.chatterbox]
plugin = "chatterbox-tiny"

[providers.chatterbox.options]
checkpoint_dir = "{checkpoint}"
device = "cpu"
max_new_tokens = {max_new_tokens}
flow_steps = 2
voices = {{ {clips} }}

[[routes]]
model = "{model}"
chain = [{{ provider = "chatterbox", model = "chatterbox" }}]
"""

"""Kokoro voice packs, and the mapping of OpenAI voice names onto the voices a pack has."""

from __future__ import annotations

import importlib.resources
import zlib
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import numpy as np
import numpy.typing as npt

from providers.api import VoiceCard

__all__ = [
    "ALIAS_VOICES",
    "VoiceCatalog",
    "gender_of",
    "is_british",
    "language_of",
    "load_styles",
    "read_voice_names",
]

STYLE_SHAPE = (510, 1, 256)

# Each OpenAI and Distribute voice: the Kokoro voices that resemble it best, then the gender to
# fall back on.
_PREFERENCES: Mapping[str, tuple[tuple[str, ...], str]] = {
    "alloy": (("af_alloy", "af_heart"), "f"),
    "ash": (("am_adam", "am_michael"), "m"),
    "ballad": (("bm_george", "bm_lewis"), "m"),
    "coral": (("af_kore", "af_sarah"), "f"),
    "echo": (("am_echo", "am_liam"), "m"),
    "fable": (("bm_fable", "bm_daniel"), "m"),
    "onyx": (("am_onyx", "am_fenrir"), "m"),
    "nova": (("af_nova", "af_bella"), "f"),
    "sage": (("af_river", "af_jessica"), "f"),
    "shimmer": (("af_bella", "af_nicole"), "f"),
    "verse": (("am_puck", "am_eric"), "m"),
    "marin": (("af_heart", "af_aoede"), "f"),
    "cedar": (("am_michael", "am_santa"), "m"),
    "leo": (("am_liam", "am_eric"), "m"),
    "nora": (("af_sarah", "af_nicole"), "f"),
}
ALIAS_VOICES: tuple[str, ...] = tuple(_PREFERENCES)

_LANGUAGES = {
    "a": "American English",
    "b": "British English",
    "e": "Spanish",
    "f": "French",
    "h": "Hindi",
    "i": "Italian",
    "j": "Japanese",
    "p": "Brazilian Portuguese",
    "z": "Mandarin Chinese",
}
_GENDERS = {"f": "female", "m": "male"}
_ENGLISH = ("a", "b")


def _pack(path: Path | None) -> AbstractContextManager[Path]:
    if path is not None:
        return nullcontext(path)
    return importlib.resources.as_file(
        importlib.resources.files("providers.kokoro") / "english_voices.npz"
    )


def read_voice_names(path: Path | None = None) -> tuple[str, ...]:
    """The sorted voice names at `path`: an npz pack or a directory of .pt voices."""
    if path is not None and path.is_dir():
        names = tuple(sorted(voice.stem for voice in path.glob("*.pt")))
    else:
        with _pack(path) as pack, np.load(pack, allow_pickle=False) as npz:
            names = tuple(sorted(npz.files))
    if not names:
        raise ValueError(f"voice pack {path} holds no voices")
    return names


def load_styles(path: Path | None = None) -> dict[str, npt.NDArray[np.float32]]:
    """Every voice's (510, 1, 256) style array from `path` (default: the 28 English voices)."""
    if path is not None and path.is_dir():
        styles = _load_pt_styles(path)
    else:
        with _pack(path) as pack, np.load(pack, allow_pickle=False) as npz:
            styles = {name: np.asarray(npz[name], dtype=np.float32) for name in npz.files}
    for name, style in styles.items():
        if style.shape != STYLE_SHAPE:
            raise ValueError(f"voice {name!r} has shape {style.shape}, expected {STYLE_SHAPE}")
    return styles


def _load_pt_styles(directory: Path) -> dict[str, npt.NDArray[np.float32]]:
    """The voices of Hugging Face's hexgrad/Kokoro-82M layout: one tensor per `<name>.pt`."""
    import torch  # noqa: PLC0415  # an optional extra, needed only for voices in this format

    return {
        voice.stem: np.asarray(
            torch.load(voice, map_location="cpu", weights_only=True), dtype=np.float32
        )
        for voice in sorted(directory.glob("*.pt"))
    }


def _gender(name: str) -> str | None:
    return name[1] if len(name) > 2 and name[2] == "_" else None


def _fallback(alias: str, gender: str, names: tuple[str, ...]) -> str:
    """A stable choice among `names`, preferring English voices of `gender`."""
    tiers = (
        [n for n in names if _gender(n) == gender and n[0] in _ENGLISH],
        [n for n in names if _gender(n) == gender],
        [n for n in names if n[0] in _ENGLISH],
        list(names),
    )
    candidates = next(tier for tier in tiers if tier)
    # crc32, not hash(): str hashes change with every process.
    return candidates[zlib.crc32(alias.encode()) % len(candidates)]


def language_of(name: str) -> str | None:
    """The language a Kokoro voice speaks, from its name's first letter."""
    return _LANGUAGES.get(name[0]) if _gender(name) else None


def gender_of(name: str) -> str | None:
    """Whether a Kokoro voice is female or male, from its name's second letter."""
    return _GENDERS.get(_gender(name) or "")


def is_british(name: str) -> bool:
    """Whether a Kokoro voice speaks British English."""
    return name.startswith("b") and _gender(name) is not None


def _describe(name: str) -> str:
    words = ("Kokoro", language_of(name), gender_of(name), "voice")
    return " ".join(word for word in words if word)


class VoiceCatalog:
    """The voices of one pack, by native name or by OpenAI voice name."""

    def __init__(self, names: tuple[str, ...]) -> None:
        if not names:
            raise ValueError("a voice catalog needs at least one voice")
        self.names = tuple(sorted(names))
        self.aliases = {
            alias: next((n for n in preferred if n in self.names), None)
            or _fallback(alias, gender, self.names)
            for alias, (preferred, gender) in _PREFERENCES.items()
        }

    def resolve(self, voice: str) -> str | None:
        """The native voice that `voice` (native name or OpenAI alias) means, if any."""
        if voice in self.names:
            return voice
        return self.aliases.get(voice)

    def cards(self) -> list[VoiceCard]:
        """Every OpenAI voice name, then every native voice, with language and gender."""
        aliases = [
            VoiceCard(
                alias,
                f"OpenAI voice name, spoken by Kokoro voice {native}",
                language_of(native),
                gender_of(native),
            )
            for alias, native in self.aliases.items()
        ]
        natives = [
            VoiceCard(name, _describe(name), language_of(name), gender_of(name))
            for name in self.names
        ]
        return aliases + natives

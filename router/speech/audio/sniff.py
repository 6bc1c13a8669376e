"""Recognize encoded audio by its first bytes, so garbage from a provider is never relayed."""

from __future__ import annotations

from collections.abc import Callable

from providers.api import Audio, AudioFormat, EncodedAudio
from providers.errors import ProviderProtocolError

SNIFF_BYTES = 12


def _mp3(head: bytes) -> bool:
    return head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] >= 0xE0)


def _adts(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0


def _wav(head: bytes) -> bool:
    return head.startswith(b"RIFF") and head[8:12] == b"WAVE"


# The first bytes each format's streams start with, as upstream vendors and FFmpeg write them.
_SIGNATURES: dict[AudioFormat, Callable[[bytes], bool]] = {
    "mp3": _mp3,
    "aac": lambda head: _adts(head) or head[4:8] == b"ftyp",
    "opus": lambda head: head.startswith(b"OggS"),
    "flac": lambda head: head.startswith((b"fLaC", b"ID3")),
    "wav": _wav,
    "pcm": lambda head: True,  # raw samples have no signature
}


def looks_like(fmt: AudioFormat, head: bytes) -> bool:
    """Whether `head`, the first bytes of a stream, can start audio in `fmt`."""
    return bool(head) and _SIGNATURES[fmt](head[:SNIFF_BYTES])


def check_encoded(first: Audio, fmt: AudioFormat, provider: str) -> None:
    """Refuse a provider's first chunk of pass-through audio that is not in `fmt`."""
    if isinstance(first, EncodedAudio) and not looks_like(fmt, first.data):
        msg = f"provider {provider!r} sent audio that is not {fmt}"
        raise ProviderProtocolError(msg)

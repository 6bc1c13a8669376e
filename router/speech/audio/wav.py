"""Whole WAV files, with exact sizes in their headers."""

from __future__ import annotations

import io
import wave


def mono_wav(pcm: bytes, sample_rate: int) -> bytes:
    """A mono 16-bit WAV file holding `pcm` (signed 16-bit little-endian samples)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return buffer.getvalue()

"""Decoding uploaded reference audio for voice cloning into a safe, uniform WAV."""

from __future__ import annotations

import io
import os
import re
import unicodedata
from dataclasses import dataclass
from itertools import chain

import av
import numpy as np
import numpy.typing as npt
from av.audio.resampler import AudioResampler

from router.speech.audio.wav import mono_wav

SAMPLE_RATE = 24000
"""The rate every reference is converted to."""

# Demuxers as FFmpeg names them. Anything else (images, playlists, SDP, lavfi, raw data) is
# refused before its header is read: several of those open further files or network streams.
_CONTAINER_FORMATS = frozenset(
    {"wav", "mp3", "flac", "ogg", "matroska,webm", "mov,mp4,m4a,3gp,3g2,mj2", "aac"}
)
# Decoders by their FFmpeg names, so the whitelist also applies while streams are probed.
_DECODERS = frozenset(
    {
        "aac",
        "aac_fixed",
        "flac",
        "mp3",
        "mp3float",
        "opus",
        "libopus",
        "vorbis",
        "libvorbis",
        "pcm_alaw",
        "pcm_mulaw",
        "pcm_u8",
        "pcm_s16le",
        "pcm_s16be",
        "pcm_s24le",
        "pcm_s24be",
        "pcm_s32le",
        "pcm_s32be",
        "pcm_f32le",
        "pcm_f32be",
        "pcm_f64le",
        "pcm_f64be",
    }
)
_DEMUXER_OPTIONS = {
    "format_whitelist": ",".join(sorted(_CONTAINER_FORMATS)),
    "codec_whitelist": ",".join(sorted(_DECODERS)),
    # An empty list: no demuxer may open a file or URL beyond the uploaded buffer.
    "protocol_whitelist": "",
}
# -60 dBFS of 16-bit full scale.
_SILENCE_PEAK = round(32768 * 10 ** (-60 / 20))
_MAX_FILENAME = 255
# Control, format and surrogate characters: invisible, or unsafe in a stored name.
_HIDDEN = frozenset({"Cc", "Cf", "Cs"})


@dataclass(frozen=True, slots=True)
class VoiceLimits:
    """Bounds on an uploaded reference: its size in bytes and its length in seconds."""

    max_bytes: int
    min_seconds: float
    max_seconds: float


@dataclass(frozen=True, slots=True)
class ReferenceAudio:
    """A reference recording as a 24 kHz mono 16-bit WAV file."""

    wav: bytes
    duration_seconds: float
    sample_rate: int


class VoiceFileError(ValueError):
    """An upload that cannot be used as reference audio; the message is for the user."""


def normalize_reference(data: bytes, limits: VoiceLimits) -> ReferenceAudio:
    """Decode an uploaded recording into a 24 kHz mono WAV, refusing anything unsafe or unfit."""
    if len(data) > limits.max_bytes:
        raise VoiceFileError(f"The file is larger than the limit of {limits.max_bytes:,} bytes.")
    try:
        samples = _decode(data, limits.max_seconds)
    except VoiceFileError:
        raise
    except (av.FFmpegError, ValueError) as error:
        raise VoiceFileError("The file could not be read as audio.") from error
    duration = len(samples) / SAMPLE_RATE
    if duration < limits.min_seconds:
        raise VoiceFileError(f"The recording is shorter than {_seconds(limits.min_seconds)}.")
    if np.max(np.abs(samples.astype(np.int32)), initial=0) < _SILENCE_PEAK:
        raise VoiceFileError("The recording contains no sound.")
    return ReferenceAudio(
        mono_wav(samples.astype("<i2").tobytes(), SAMPLE_RATE), duration, SAMPLE_RATE
    )


def safe_filename(name: str | None) -> str:
    """The last path component of `name`, cleaned up for storing and showing, or "voice"."""
    base = re.split(r"[/\\]", name or "")[-1]
    # Format characters include the bidirectional overrides that disguise an extension.
    base = "".join(ch for ch in base if ch.isspace() or unicodedata.category(ch) not in _HIDDEN)
    base = " ".join(base.split())
    if not base.strip("."):
        return "voice"
    if len(base) <= _MAX_FILENAME:
        return base
    stem, extension = os.path.splitext(base)
    if len(extension) < _MAX_FILENAME:
        return stem[: _MAX_FILENAME - len(extension)] + extension
    return base[:_MAX_FILENAME]


def _decode(data: bytes, max_seconds: float) -> npt.NDArray[np.int16]:
    """The first audio stream as 24 kHz mono samples, refused once past `max_seconds`."""
    max_samples = round(max_seconds * SAMPLE_RATE)
    with av.open(
        io.BytesIO(data), mode="r", container_options=_DEMUXER_OPTIONS, metadata_errors="ignore"
    ) as container:
        if container.format.name not in _CONTAINER_FORMATS:
            raise VoiceFileError("The file is not in a supported audio format.")
        if not container.streams.audio:
            raise VoiceFileError("The file has no audio track.")
        stream = container.streams.audio[0]
        if stream.codec_context is None or stream.codec_context.name not in _DECODERS:
            raise VoiceFileError("The file's audio is encoded in an unsupported format.")
        resampler = AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        chunks: list[npt.NDArray[np.int16]] = []
        count = 0
        # Counting what is decoded, never the header's duration, is what bounds the work.
        for frame in chain(container.decode(stream), [None]):
            for converted in resampler.resample(frame):
                chunks.append(np.asarray(converted.to_ndarray(), dtype=np.int16).reshape(-1))
                count += converted.samples
            if count > max_samples:
                raise VoiceFileError(f"The recording is longer than {_seconds(max_seconds)}.")
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)


def _seconds(value: float) -> str:
    return f"{value:g} second" if value == 1 else f"{value:g} seconds"

"""Each response format's container, codec, media type and output sample rate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from providers.api import AudioFormat

AudioCodec = Literal["libmp3lame", "libopus", "aac", "flac", "pcm_s16le"]

EMPTY_STREAM_SAMPLE_RATE = 24000
"""The rate an encoder opens at when it finishes without ever seeing audio."""


@dataclass(frozen=True, slots=True)
class FormatSpec:
    """How one response format is muxed and encoded."""

    muxer: str
    codec: AudioCodec
    media_type: str
    sample_rate: int | None = None
    bit_rate: int | None = None
    container_options: Mapping[str, str] = field(default_factory=dict)
    # MP3, AAC and Ogg Opus streams with no audio frame are rejected by decoders.
    silence_when_empty: bool = False
    # The container states the exact length (Ogg's last granule position, WAV's size); other
    # lengths FFmpeg estimates from the bit rate, five times off for a VBR mp3 without a header.
    states_length: bool = False

    def output_rate(self, source_rate: int) -> int:
        """The sample rate this format is encoded at, given the source's rate."""
        return self.sample_rate or source_rate


FORMATS: Mapping[AudioFormat, FormatSpec] = MappingProxyType(
    {
        # Left to itself LAME picks 32 kbit/s for 24 kHz mono, audibly lossy for speech.
        "mp3": FormatSpec(
            "mp3", "libmp3lame", "audio/mpeg", bit_rate=64000, silence_when_empty=True
        ),
        "opus": FormatSpec(
            "ogg",
            "libopus",
            "audio/opus",
            sample_rate=48000,
            # Without a page duration the ogg muxer holds every page until the stream closes.
            container_options={"page_duration": "100000"},
            silence_when_empty=True,
            states_length=True,
        ),
        "aac": FormatSpec("adts", "aac", "audio/aac", silence_when_empty=True),
        "flac": FormatSpec(
            "flac",
            "flac",
            "audio/flac",
            # The default 8 KiB padding leaves room to rewrite tags in place: useless to a stream.
            container_options={"metadata_header_padding": "0"},
        ),
        "wav": FormatSpec("wav", "pcm_s16le", "audio/wav", states_length=True),
        "pcm": FormatSpec("s16le", "pcm_s16le", "audio/pcm", sample_rate=24000),
    }
)


def format_spec(fmt: AudioFormat) -> FormatSpec:
    """The container, codec and rate rule for `fmt`."""
    return FORMATS[fmt]


def media_type(fmt: AudioFormat) -> str:
    """The HTTP media type of audio in `fmt`."""
    return FORMATS[fmt].media_type

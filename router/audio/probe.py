"""The duration of encoded audio, read from its packets without decoding it."""

from __future__ import annotations

import io

import av

from providers.api import AudioFormat
from router.audio.formats import format_spec

PCM_BYTES_PER_SECOND = 24_000 * 2


def encoded_seconds(data: bytes, fmt: AudioFormat) -> float:
    """Seconds of audio in `data`, a whole stream in `fmt`; 0 if it cannot be read."""
    if fmt == "pcm":
        return len(data) / PCM_BYTES_PER_SECOND
    try:
        with av.open(io.BytesIO(data), mode="r", format=format_spec(fmt).muxer) as container:
            stream = container.streams.audio[0]
            ticks = sum(packet.duration or 0 for packet in container.demux(stream))
            return float(ticks * stream.time_base) if stream.time_base else 0.0
    except (av.FFmpegError, IndexError):
        return 0.0

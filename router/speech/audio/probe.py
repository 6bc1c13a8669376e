"""The duration of encoded audio, read from its headers or its packets, without decoding it."""

from __future__ import annotations

import io

import av

from providers.api import AudioFormat
from router.speech.audio.formats import format_spec
from router.speech.audio.mp3 import mp3_seconds

PCM_BYTES_PER_SECOND = 24_000 * 2
# Enough to find any format's stream parameters. With FFmpeg's default (5 MB) it read through
# most of a WAV stream before its size could say how long it is: 7 ms for 20 s instead of 0.3.
PROBE_BYTES = 4096


def encoded_seconds(data: bytes, fmt: AudioFormat) -> float:
    """Seconds of audio in `data`, a whole stream in `fmt`; 0 if it cannot be read."""
    if fmt == "pcm":
        return len(data) / PCM_BYTES_PER_SECOND
    if fmt == "mp3" and (counted := mp3_seconds(data)) is not None:
        return counted
    spec = format_spec(fmt)
    try:
        options = {"probesize": str(PROBE_BYTES)}
        with av.open(io.BytesIO(data), mode="r", format=spec.muxer, options=options) as container:
            if spec.states_length and container.duration is not None:
                return float(container.duration / av.time_base)
            stream = container.streams.audio[0]
            ticks = sum(packet.duration or 0 for packet in container.demux(stream))
            return float(ticks * stream.time_base) if stream.time_base else 0.0
    except (av.FFmpegError, IndexError):
        return 0.0

"""Incremental encoding of PCM chunks into one response format's bytes."""

from __future__ import annotations

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import OutputContainer

from providers.api import AudioFormat, PcmAudio
from router.speech.audio._frames import to_frame
from router.speech.audio.formats import EMPTY_STREAM_SAMPLE_RATE, format_spec

_EMPTY_SILENCE_SECONDS = 0.02


class _Sink:
    """Collects what the muxer writes; having no `seek` makes ffmpeg write a streamable file."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        return len(data)

    def drain(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


class _Pipeline:
    """An open container with one mono audio stream and the resampler feeding it."""

    def __init__(self, sink: _Sink, fmt: AudioFormat, source_rate: int) -> None:
        spec = format_spec(fmt)
        rate = spec.output_rate(source_rate)
        # Flush every muxed packet to the sink so each encode() returns what exists so far.
        options = {"flush_packets": "1", **spec.container_options}
        self.container: OutputContainer = av.open(
            sink, mode="w", format=spec.muxer, container_options=options
        )
        self.stream: AudioStream = self.container.add_stream(spec.codec, rate=rate, layout="mono")
        if spec.bit_rate:
            self.stream.codec_context.bit_rate = spec.bit_rate
        self.container.start_encoding()
        codec = self.stream.codec_context
        self.resampler = AudioResampler(
            format=codec.format, layout="mono", rate=rate, frame_size=codec.frame_size or None
        )
        self.source_rate = source_rate
        self.pts = 0

    def push(self, frame: AudioFrame | None) -> None:
        """Resample, encode and mux `frame`; None flushes everything."""
        for resampled in self.resampler.resample(frame):
            self.container.mux(self.stream.encode(resampled))
        if frame is None:
            self.container.mux(self.stream.encode(None))


class AudioEncoder:
    """Encodes mono PCM chunks into `fmt`, returning the bytes as the muxer produces them."""

    def __init__(self, fmt: AudioFormat) -> None:
        self.format = fmt
        self._sink = _Sink()
        self._pipeline: _Pipeline | None = None
        self._finished = False

    def encode(self, chunk: PcmAudio) -> bytes:
        """Encode one chunk; returns the bytes ready so far (maybe none)."""
        pipeline = self._open(chunk.sample_rate)
        if chunk.sample_rate != pipeline.source_rate:
            raise ValueError(
                f"sample rate changed from {pipeline.source_rate} to {chunk.sample_rate} Hz"
            )
        count = len(chunk.samples)
        if count:
            pipeline.push(to_frame(chunk.samples, chunk.sample_rate, pipeline.pts))
            pipeline.pts += count
        return self._sink.drain()

    def finish(self) -> bytes:
        """Flush the resampler, encoder and muxer; returns the rest of the file."""
        pipeline = self._pipeline or self._open_empty()
        try:
            pipeline.push(None)
        finally:
            self.close()
        return self._sink.drain()

    def close(self) -> None:
        """Release the codec and muxer; the encoder takes no more audio."""
        self._finished = True
        if self._pipeline is not None:
            self._pipeline.container.close()
            self._pipeline = None

    def _open(self, source_rate: int) -> _Pipeline:
        if self._finished:
            raise RuntimeError("the encoder is finished")
        if self._pipeline is None:
            self._pipeline = _Pipeline(self._sink, self.format, source_rate)
        return self._pipeline

    def _open_empty(self) -> _Pipeline:
        pipeline = self._open(EMPTY_STREAM_SAMPLE_RATE)
        if format_spec(self.format).silence_when_empty:
            silence = np.zeros(round(EMPTY_STREAM_SAMPLE_RATE * _EMPTY_SILENCE_SECONDS))
            pipeline.push(to_frame(silence, EMPTY_STREAM_SAMPLE_RATE, 0))
        return pipeline

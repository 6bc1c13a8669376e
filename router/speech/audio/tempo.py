"""Speed changes that keep pitch, through ffmpeg's `atempo` filter."""

from __future__ import annotations

import math

import av.error
import numpy as np
from av.audio.frame import AudioFrame
from av.filter import Graph
from av.filter.context import FilterContext

from providers.api import MAX_SPEED, MIN_SPEED, PcmAudio
from router.speech.audio._frames import from_frames, to_frame

_FRAME_SAMPLES = 1024


def atempo_stages(speed: float) -> list[float]:
    """Per-stage factors in [0.5, 2.0] whose product is `speed`."""
    # atempo accepts up to 100x, but above 2x it drops samples instead of blending them.
    count = math.ceil(abs(math.log2(speed)))
    return [speed ** (1 / count)] * count if count else []


class TempoFilter:
    """Changes the speed of a mono stream by `speed` while keeping its pitch."""

    def __init__(self, speed: float, sample_rate: int) -> None:
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ValueError(f"speed {speed} is outside [{MIN_SPEED}, {MAX_SPEED}]")
        self.speed = speed
        self.sample_rate = sample_rate
        self._pts = 0
        # The graph must outlive its filter contexts, which do not keep it alive.
        self._graph: Graph | None = None
        self._ends: tuple[FilterContext, FilterContext] | None = None
        stages = atempo_stages(speed)
        if stages:
            self._graph = Graph()
            self._ends = _build_graph(self._graph, stages, sample_rate)

    def process(self, chunk: PcmAudio) -> PcmAudio:
        """Filter one chunk; returns the audio ready so far (maybe none)."""
        if chunk.sample_rate != self.sample_rate:
            raise ValueError(f"expected {self.sample_rate} Hz audio, got {chunk.sample_rate} Hz")
        if self._ends is None or not len(chunk.samples):
            return chunk
        source, sink = self._ends
        # atempo emits a frame's worth of output only once the next frame arrives, so small
        # frames keep the audio it holds back short instead of a whole chunk per stage.
        for start in range(0, len(chunk.samples), _FRAME_SAMPLES):
            part = chunk.samples[start : start + _FRAME_SAMPLES]
            source.push(to_frame(part, self.sample_rate, self._pts))
            self._pts += len(part)
        return PcmAudio(from_frames(_drain(sink)), self.sample_rate)

    def flush(self) -> PcmAudio:
        """End the stream; returns the audio the filter still held."""
        if self._ends is None:
            return PcmAudio(np.zeros(0, dtype=np.float32), self.sample_rate)
        source, sink = self._ends
        source.push(None)
        return PcmAudio(from_frames(_drain(sink)), self.sample_rate)


def _build_graph(
    graph: Graph, stages: list[float], sample_rate: int
) -> tuple[FilterContext, FilterContext]:
    source = graph.add(
        "abuffer",
        sample_rate=str(sample_rate),
        sample_fmt="flt",
        channel_layout="mono",
        time_base=f"1/{sample_rate}",
    )
    tempos = [graph.add("atempo", tempo=f"{stage:.6f}") for stage in stages]
    sink = graph.add("abuffersink")
    graph.link_nodes(source, *tempos, sink)
    graph.configure()
    return source, sink


def _drain(sink: FilterContext) -> list[AudioFrame]:
    frames: list[AudioFrame] = []
    while True:
        try:
            frame = sink.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return frames
        if isinstance(frame, AudioFrame):
            frames.append(frame)

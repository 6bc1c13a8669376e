"""Conversions between numpy samples and PyAV mono float frames."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

import numpy as np
import numpy.typing as npt
from av.audio.frame import AudioFrame


def to_frame(samples: npt.NDArray[np.floating], sample_rate: int, pts: int) -> AudioFrame:
    """A mono `flt` frame holding `samples` clipped to [-1, 1], timed in samples."""
    frame = AudioFrame(format="flt", layout="mono", samples=len(samples))
    # Clipping straight into the frame's buffer makes it the only copy of the chunk.
    plane = np.frombuffer(memoryview(frame.planes[0]), dtype=np.float32, count=len(samples))
    np.clip(samples, -1.0, 1.0, out=plane)
    frame.sample_rate = sample_rate
    frame.pts = pts
    frame.time_base = Fraction(1, sample_rate)
    return frame


def from_frames(frames: Iterable[AudioFrame]) -> npt.NDArray[np.float32]:
    """The samples of mono `flt` frames, joined."""
    arrays = [np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1) for frame in frames]
    if not arrays:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(arrays)

"""Test signals and measurements shared by the audio tests."""

from __future__ import annotations

import io

import av
import numpy as np
import numpy.typing as npt

from providers.api import PcmAudio


def tone(seconds: float, sample_rate: int, frequency: float = 440.0) -> npt.NDArray[np.float32]:
    """A sine tone at half scale."""
    times = np.arange(round(seconds * sample_rate)) / sample_rate
    return (0.5 * np.sin(2 * np.pi * frequency * times)).astype(np.float32)


def chunks(samples: npt.NDArray[np.float32], sample_rate: int, count: int) -> list[PcmAudio]:
    """`samples` cut into `count` nearly equal chunks."""
    return [PcmAudio(part, sample_rate) for part in np.array_split(samples, count)]


def dominant_frequency(samples: npt.NDArray[np.float64], sample_rate: int) -> float:
    """The frequency of the strongest bin in a windowed spectrum."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum)) * sample_rate / len(samples)


def decode(data: bytes, container_format: str) -> tuple[npt.NDArray[np.float64], int, int]:
    """Decode a whole file with FFmpeg: (samples of the first channel, rate, channels)."""
    with av.open(io.BytesIO(data), mode="r", format=container_format) as container:
        codec = container.streams.audio[0].codec_context
        arrays = [frame.to_ndarray()[0] for frame in container.decode(audio=0)]
        rate, channels = codec.sample_rate, codec.channels
    samples = np.concatenate(arrays).astype(np.float64) if arrays else np.zeros(0)
    return samples, rate, channels

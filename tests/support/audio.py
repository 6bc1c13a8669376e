"""Test signals and measurements shared by the audio tests."""

from __future__ import annotations

import io

import av
import numpy as np
import numpy.typing as npt
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.video.frame import VideoFrame

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


def median_pitch(samples: npt.NDArray[np.float64], sample_rate: int) -> float:
    """The median fundamental frequency of the voiced 40 ms frames, by autocorrelation."""
    size, hop = int(0.04 * sample_rate), int(0.01 * sample_rate)
    shortest, longest = sample_rate // 400, sample_rate // 60
    frames = np.lib.stride_tricks.sliding_window_view(samples, size)[::hop]
    loud = frames[np.sqrt(np.mean(frames**2, axis=1)) > 0.02]
    pitches = []
    for frame in loud:
        centred = frame - frame.mean()
        correlation = np.correlate(centred, centred, mode="full")[size - 1 :]
        lag = shortest + int(np.argmax(correlation[shortest:longest]))
        # Voiced: the period repeats strongly.
        if correlation[lag] > 0.5 * correlation[0]:
            pitches.append(sample_rate / lag)
    return float(np.median(pitches)) if pitches else 0.0


def spectral_distance(
    first: npt.NDArray[np.float64], second: npt.NDArray[np.float64], sample_rate: int
) -> float:
    """The mean distance between two sounds' average log spectra (25 ms frames), in nepers."""

    def average_spectrum(samples: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        size = int(0.025 * sample_rate)
        frames = np.lib.stride_tricks.sliding_window_view(samples, size)[:: size // 2]
        spectra = np.abs(np.fft.rfft(frames * np.hanning(size), axis=1))
        return np.asarray(np.log(spectra.mean(axis=0) + 1e-6))

    return float(np.mean(np.abs(average_spectrum(first) - average_spectrum(second))))


def decode(data: bytes, container_format: str) -> tuple[npt.NDArray[np.float64], int, int]:
    """Decode a whole file with FFmpeg: (samples of the first channel, rate, channels)."""
    with av.open(io.BytesIO(data), mode="r", format=container_format) as container:
        codec = container.streams.audio[0].codec_context
        arrays = [frame.to_ndarray()[0] for frame in container.decode(audio=0)]
        rate, channels = codec.sample_rate, codec.channels
    samples = np.concatenate(arrays).astype(np.float64) if arrays else np.zeros(0)
    return samples, rate, channels


def silence(seconds: float, sample_rate: int, channels: int = 1) -> npt.NDArray[np.float32]:
    """Digital silence, one row per channel."""
    return np.zeros((channels, round(seconds * sample_rate)), dtype=np.float32)


def encode(samples: npt.NDArray[np.float32], sample_rate: int, muxer: str, codec: str) -> bytes:
    """`samples` (channels x samples, planar float) as a complete file."""
    layout = "stereo" if samples.shape[0] == 2 else "mono"
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=muxer) as container:
        stream = container.add_stream(codec, rate=sample_rate, layout=layout)
        assert isinstance(stream, AudioStream)
        context = stream.codec_context
        resampler = AudioResampler(
            format=context.format, layout=layout, rate=sample_rate, frame_size=context.frame_size
        )
        frame = AudioFrame.from_ndarray(samples, format="fltp", layout=layout)
        frame.sample_rate = sample_rate
        frame.pts = 0
        for part in [*resampler.resample(frame), *resampler.resample(None)]:
            container.mux(stream.encode(part))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def png_image() -> bytes:
    """A small PNG picture: a file FFmpeg can read that is not audio."""
    context = av.CodecContext.create("png", "w")
    assert isinstance(context, av.VideoCodecContext)
    context.width, context.height, context.pix_fmt = 32, 32, "rgb24"
    frame = VideoFrame.from_ndarray(np.full((32, 32, 3), 200, dtype=np.uint8), format="rgb24")
    return b"".join(bytes(packet) for packet in [*context.encode(frame), *context.encode(None)])


def speech_regions(
    samples: npt.NDArray[np.float64], sample_rate: int, *, floor: float = 0.005, bridge: float = 0.1
) -> list[tuple[float, float]]:
    """The (start, end) seconds where the sound is above `floor` of its loudest 10 ms.

    Quiet gaps shorter than `bridge` seconds, as the closure before a stop consonant, are
    part of the speech around them.
    """
    hop = sample_rate // 100
    frames = samples[: len(samples) // hop * hop].reshape(-1, hop)
    loud = np.sqrt(np.mean(frames**2, axis=1)) > floor * np.sqrt(np.mean(frames**2, axis=1)).max()
    regions: list[tuple[float, float]] = []
    for index in np.flatnonzero(loud):
        start, end = index / 100, (index + 1) / 100
        if regions and start - regions[-1][1] < bridge:
            regions[-1] = (regions[-1][0], end)
        else:
            regions.append((start, end))
    return regions

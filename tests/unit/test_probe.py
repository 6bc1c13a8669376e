"""encoded_seconds against the length FFmpeg decodes, including streams that fool an estimate."""

from __future__ import annotations

import io

import av
import numpy as np
import numpy.typing as npt
import pytest

from providers.api import AUDIO_FORMATS, AudioFormat
from router.speech.audio import AudioEncoder, format_spec
from router.speech.audio.mp3 import mp3_seconds
from router.speech.audio.probe import encoded_seconds
from tests.support.audio import chunks, decode, encode

RATE = 24000
# Half silence, half noise: the bit rate of a variable-rate codec changes halfway.
SECONDS = 7.3
# One codec frame or an Opus pre-skip, and far below any estimate's error.
TOLERANCE_SECONDS = 0.05


def silence_then_noise(seconds: float) -> npt.NDArray[np.float32]:
    """`seconds` of audio: digital silence, then white noise."""
    count = round(seconds * RATE)
    noise = np.random.default_rng(0).standard_normal(count - count // 2) * 0.3
    return np.concatenate([np.zeros(count // 2), noise]).astype(np.float32)


def decoded_seconds(data: bytes, fmt: AudioFormat) -> float:
    """The length FFmpeg decodes from `data`."""
    if fmt == "pcm":
        return len(data) / 2 / RATE
    samples, rate, _ = decode(data, format_spec(fmt).muxer)
    return len(samples) / rate


@pytest.mark.parametrize("fmt", AUDIO_FORMATS)
def test_streamed_output_measures_as_long_as_it_decodes(fmt: AudioFormat) -> None:
    encoder = AudioEncoder(fmt)
    parts = chunks(silence_then_noise(SECONDS), RATE, 12)
    data = b"".join(encoder.encode(part) for part in parts) + encoder.finish()
    assert encoded_seconds(data, fmt) == pytest.approx(
        decoded_seconds(data, fmt), abs=TOLERANCE_SECONDS
    )


def vbr_mp3(samples: npt.NDArray[np.float32]) -> bytes:
    """`samples` as a variable-rate MP3 written to an unseekable stream: no frame count header."""
    output = _Unseekable()
    with av.open(output, mode="w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=RATE, layout="mono")
        stream.codec_context.qscale = True  # variable bit rate
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return bytes(output.written)


def test_a_vbr_mp3_without_a_frame_count_is_not_measured_by_ffmpegs_estimate() -> None:
    data = vbr_mp3(silence_then_noise(8.0))
    with av.open(io.BytesIO(data), mode="r", format="mp3") as estimated:
        assert estimated.duration is not None
        assert estimated.duration / av.time_base > 2 * 8.0  # what FFmpeg's estimate says
    assert encoded_seconds(data, "mp3") == pytest.approx(decoded_seconds(data, "mp3"), abs=0.05)


@pytest.mark.parametrize("fmt", ["mp3", "opus", "wav"])
def test_bytes_that_are_not_audio_measure_zero(fmt: AudioFormat) -> None:
    assert encoded_seconds(b"<html>Service unavailable</html>" * 8, fmt) == 0.0


class _Unseekable(io.RawIOBase):
    """A write-only stream that cannot seek, as an HTTP response is."""

    def __init__(self) -> None:
        self.written = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.written += data
        return len(data)


def test_pcm_is_measured_by_its_size() -> None:
    assert encoded_seconds(bytes(2 * RATE * 3), "pcm") == 3.0


def packet_seconds(data: bytes) -> float:
    """The length of an MP3 stream by FFmpeg's packets, the reference for the frame count."""
    with av.open(io.BytesIO(data), mode="r", format="mp3") as container:
        stream = container.streams.audio[0]
        assert stream.time_base is not None
        return float(
            sum(packet.duration or 0 for packet in container.demux(stream)) * stream.time_base
        )


@pytest.mark.parametrize(
    ("rate", "channels"), [(44100, 2), (48000, 1), (32000, 2), (22050, 1), (16000, 2), (8000, 1)]
)
@pytest.mark.parametrize("id3v1", [False, True])
def test_mp3_frames_count_as_long_as_ffmpegs_packets(rate: int, channels: int, id3v1: bool) -> None:
    noise = np.random.default_rng(rate).standard_normal((channels, int(rate * 2.5))) * 0.2
    data = encode(noise.astype(np.float32), rate, "mp3", "libmp3lame")  # ID3v2 and Info frame
    data += b"TAG" + bytes(125) if id3v1 else b""
    assert mp3_seconds(data) == pytest.approx(packet_seconds(data), abs=1e-9)


def test_a_vbr_mp3_stream_counts_as_long_as_ffmpegs_packets() -> None:
    data = vbr_mp3(silence_then_noise(8.0))
    assert mp3_seconds(data) == pytest.approx(packet_seconds(data), abs=1e-9)


@pytest.mark.parametrize("damage", ["junk between frames", "layer II", "no frames", "cut short"])
def test_mp3_that_the_count_cannot_read_is_left_to_ffmpeg(damage: str) -> None:
    data = vbr_mp3(silence_then_noise(2.0))
    middle = len(data) // 2
    data = {
        "junk between frames": data[:middle] + b"\x00" * 7 + data[middle:],
        "layer II": encode(silence_then_noise(2.0).reshape(1, -1), RATE, "mp2", "mp2"),
        "no frames": b"ID3\x03\x00\x00\x00\x00\x00\x00",
        "cut short": data[:-100],
    }[damage]
    assert mp3_seconds(data) is None
    assert encoded_seconds(data, "mp3") == pytest.approx(
        packet_seconds(data) if damage != "no frames" else 0.0, abs=1e-9
    )

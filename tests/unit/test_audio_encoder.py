"""AudioEncoder and the format table, checked by decoding the output with FFmpeg."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from providers.api import AUDIO_FORMATS, AudioFormat, PcmAudio
from router.speech.audio import AudioEncoder, format_spec, media_type
from tests.support.audio import chunks, decode, dominant_frequency, tone

PCM_RATE = 24000


def expected_rate(fmt: AudioFormat, source_rate: int) -> int:
    return {"opus": 48000, "pcm": PCM_RATE}.get(fmt, source_rate)


def encode_all(fmt: AudioFormat, parts: list[PcmAudio]) -> tuple[list[bytes], bytes]:
    encoder = AudioEncoder(fmt)
    streamed = [encoder.encode(part) for part in parts]
    return streamed, encoder.finish()


def decode_output(fmt: AudioFormat, data: bytes) -> tuple[npt.NDArray[np.float64], int, int]:
    if fmt == "pcm":
        return np.frombuffer(data, dtype=np.int16).astype(np.float64), PCM_RATE, 1
    return decode(data, format_spec(fmt).muxer)


@pytest.mark.parametrize("fmt", AUDIO_FORMATS)
@pytest.mark.parametrize("source_rate", [24000, 22050])
def test_tone_survives_encoding(fmt: AudioFormat, source_rate: int) -> None:
    streamed, tail = encode_all(fmt, chunks(tone(2.0, source_rate), source_rate, 4))

    samples, rate, channels = decode_output(fmt, b"".join(streamed) + tail)

    assert rate == expected_rate(fmt, source_rate)
    assert channels == 1
    # MP3 and AAC decoders keep the encoder's priming and padding: up to 2 frames of 1152/2048.
    assert len(samples) / rate == pytest.approx(2.0, abs=0.1)
    assert dominant_frequency(samples, rate) == pytest.approx(440.0, rel=0.01)


@pytest.mark.parametrize("source_rate", [24000, 22050])
def test_pcm_is_24khz_of_the_input_length(source_rate: int) -> None:
    streamed, tail = encode_all("pcm", chunks(tone(2.0, source_rate), source_rate, 4))

    samples = np.frombuffer(b"".join(streamed) + tail, dtype=np.int16)

    if source_rate == PCM_RATE:
        assert len(samples) == 2 * PCM_RATE
    else:
        assert abs(len(samples) - 2 * PCM_RATE) <= 4


@pytest.mark.parametrize("fmt", AUDIO_FORMATS)
def test_bytes_stream_out_before_finish(fmt: AudioFormat) -> None:
    streamed, _ = encode_all(fmt, chunks(tone(2.0, 24000), 24000, 4))

    assert all(streamed[1:])
    samples, _, _ = decode_output(fmt, b"".join(streamed))
    assert len(samples) / expected_rate(fmt, 24000) > 1.0


@pytest.mark.parametrize("fmt", AUDIO_FORMATS)
def test_empty_stream_is_a_valid_file(fmt: AudioFormat) -> None:
    data = AudioEncoder(fmt).finish()

    if fmt == "pcm":
        assert data == b""
    else:
        samples, rate, channels = decode_output(fmt, data)
        assert (rate, channels) == (expected_rate(fmt, 24000), 1)
        assert len(samples) / rate < 0.1
        assert not np.any(samples)


@pytest.mark.parametrize("fmt", AUDIO_FORMATS)
def test_sample_rate_change_is_refused(fmt: AudioFormat) -> None:
    encoder = AudioEncoder(fmt)
    encoder.encode(PcmAudio(tone(0.1, 24000), 24000))

    with pytest.raises(ValueError, match="sample rate changed"):
        encoder.encode(PcmAudio(tone(0.1, 16000), 16000))


def test_loud_input_is_clipped_not_wrapped() -> None:
    encoder = AudioEncoder("pcm")
    loud = PcmAudio(np.array([2.0, -2.0, 0.0], dtype=np.float32), PCM_RATE)

    samples = np.frombuffer(encoder.encode(loud) + encoder.finish(), dtype=np.int16)

    assert samples.tolist() == [32767, -32768, 0]


def test_finished_encoder_takes_no_more_audio() -> None:
    encoder = AudioEncoder("mp3")
    encoder.finish()

    with pytest.raises(RuntimeError):
        encoder.encode(PcmAudio(tone(0.1, 24000), 24000))


def test_media_types() -> None:
    assert {fmt: media_type(fmt) for fmt in AUDIO_FORMATS} == {
        "mp3": "audio/mpeg",
        "opus": "audio/opus",
        "aac": "audio/aac",
        "flac": "audio/flac",
        "wav": "audio/wav",
        "pcm": "audio/pcm",
    }

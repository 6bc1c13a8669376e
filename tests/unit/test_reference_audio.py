"""normalize_reference and safe_filename, fed real files encoded with FFmpeg."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.video.frame import VideoFrame

from router.speech.audio import reference
from router.speech.audio.reference import (
    ReferenceAudio,
    VoiceFileError,
    VoiceLimits,
    normalize_reference,
    safe_filename,
)
from tests.support.audio import dominant_frequency, encode, png_image, silence

LIMITS = VoiceLimits(max_bytes=10_000_000, min_seconds=1.0, max_seconds=60.0)


def tone(
    seconds: float, sample_rate: int, channels: int = 2, amplitude: float = 0.5
) -> npt.NDArray[np.float32]:
    """A 440 Hz sine, one row per channel."""
    times = np.arange(round(seconds * sample_rate)) / sample_rate
    signal = (amplitude * np.sin(2 * np.pi * 440.0 * times)).astype(np.float32)
    return np.tile(signal, (channels, 1))


def wav_of(samples: npt.NDArray[np.float32], sample_rate: int) -> bytes:
    return encode(samples, sample_rate, "wav", "pcm_s16le")


def video_only_mp4() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(10):
            image = np.full((48, 64, 3), index * 20, dtype=np.uint8)
            frame = VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


@dataclass
class ReadBack:
    samples: npt.NDArray[np.int16]
    sample_rate: int
    channels: int
    sample_width: int


def read_wav(audio: ReferenceAudio) -> ReadBack:
    with wave.open(io.BytesIO(audio.wav), "rb") as wav:
        frames = wav.readframes(wav.getnframes())
        # The header's sizes must describe exactly the bytes that follow it.
        assert len(audio.wav) == 44 + 2 * wav.getnframes() == 44 + len(frames)
        return ReadBack(
            np.frombuffer(frames, dtype="<i2").astype(np.int16),
            wav.getframerate(),
            wav.getnchannels(),
            wav.getsampwidth(),
        )


def refusal(data: bytes, limits: VoiceLimits = LIMITS) -> str:
    with pytest.raises(VoiceFileError) as caught:
        normalize_reference(data, limits)
    return str(caught.value)


@pytest.mark.parametrize(
    ("muxer", "codec", "sample_rate"),
    [
        ("wav", "pcm_s16le", 44100),
        ("mp3", "libmp3lame", 44100),
        ("flac", "flac", 48000),
        ("ogg", "libopus", 48000),
        ("ipod", "aac", 44100),
        ("mp4", "aac", 48000),
        ("adts", "aac", 44100),
        ("webm", "libopus", 48000),
    ],
)
def test_common_formats_become_24khz_mono_wav(muxer: str, codec: str, sample_rate: int) -> None:
    audio = normalize_reference(encode(tone(3.0, sample_rate), sample_rate, muxer, codec), LIMITS)

    back = read_wav(audio)
    assert (back.sample_rate, back.channels, back.sample_width) == (24000, 1, 2)
    assert audio.sample_rate == 24000
    assert audio.duration_seconds == len(back.samples) / 24000
    assert audio.duration_seconds == pytest.approx(3.0, abs=0.05)
    assert dominant_frequency(back.samples.astype(np.float64), 24000) == pytest.approx(
        440, rel=0.01
    )
    assert np.max(np.abs(back.samples)) > 0.4 * 32768


def test_samples_keep_their_level() -> None:
    source = tone(3.0, 24000, channels=1, amplitude=0.25)
    data = wav_of(source, 24000)

    back = read_wav(normalize_reference(data, LIMITS))

    expected = np.frombuffer(data[-2 * source.shape[1] :], dtype="<i2")
    np.testing.assert_array_equal(back.samples, expected)


def test_quiet_speech_level_is_accepted() -> None:
    audio = normalize_reference(wav_of(tone(3.0, 24000, 1, amplitude=0.01), 24000), LIMITS)

    assert np.max(np.abs(read_wav(audio).samples)) == pytest.approx(328, abs=2)


@pytest.mark.parametrize("amplitude", [0.0, 0.0005])
def test_silence_is_refused(amplitude: float) -> None:
    data = wav_of(tone(3.0, 44100, amplitude=amplitude), 44100)

    assert refusal(data) == "The recording contains no sound."


def test_oversized_upload_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    data = wav_of(tone(3.0, 24000, 1), 24000)
    opened: list[object] = []
    monkeypatch.setattr(av, "open", lambda *args, **kwargs: opened.append(args))

    message = refusal(data, VoiceLimits(len(data) - 1, 1.0, 60.0))

    assert message == f"The file is larger than the limit of {len(data) - 1:,} bytes."
    assert opened == []


def test_upload_of_exactly_the_byte_limit_is_accepted() -> None:
    data = wav_of(tone(3.0, 24000, 1), 24000)

    assert normalize_reference(data, VoiceLimits(len(data), 1.0, 60.0)).duration_seconds == 3.0


def test_too_short_is_refused() -> None:
    assert refusal(wav_of(tone(0.3, 44100), 44100)) == "The recording is shorter than 1 second."


def test_too_long_is_refused() -> None:
    data = wav_of(tone(90.0, 16000, channels=1), 16000)

    assert refusal(data) == "The recording is longer than 60 seconds."


def test_header_only_wav_with_no_minimum_is_silent() -> None:
    data = wav_of(tone(3.0, 44100), 44100)
    header = data[: data.index(b"data") + 8]

    assert refusal(header, VoiceLimits(LIMITS.max_bytes, 0.0, 60.0)) == (
        "The recording contains no sound."
    )


def test_limits_are_inclusive() -> None:
    data = wav_of(tone(2.5, 24000, channels=1), 24000)

    audio = normalize_reference(data, VoiceLimits(LIMITS.max_bytes, 2.5, 2.5))

    assert audio.duration_seconds == 2.5


class CountingResampler:
    """An AudioResampler that records how many seconds of decoded audio it was given."""

    def __init__(self, *, format: str, layout: str, rate: int) -> None:
        self._resampler = AudioResampler(format=format, layout=layout, rate=rate)
        self.decoded_seconds = 0.0

    def resample(self, frame: AudioFrame | None) -> list[AudioFrame]:
        if frame is not None:
            self.decoded_seconds += frame.samples / frame.sample_rate
        return self._resampler.resample(frame)


@pytest.fixture(scope="module")
def flac_bomb() -> bytes:
    """Twenty minutes of silence in a couple of hundred kilobytes."""
    return encode(silence(20 * 60, 8000), 8000, "flac", "flac")


def claiming_three_seconds(flac: bytes) -> bytes:
    """`flac` with its STREAMINFO total sample count rewritten to 3 s at 8 kHz."""
    patched = bytearray(flac)
    # "fLaC", a 4-byte block header, then 13.5 bytes before the 36-bit total sample count.
    start = 4 + 4 + 13
    total = (patched[start] & 0xF0) << 32 | 3 * 8000
    patched[start : start + 5] = total.to_bytes(5, "big")
    with av.open(io.BytesIO(bytes(patched)), mode="r") as container:
        assert container.duration == 3_000_000
    return bytes(patched)


@pytest.mark.parametrize("header", ["honest", "lying"])
def test_decompression_bomb_is_refused_after_decoding_only_the_limit(
    flac_bomb: bytes, header: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = flac_bomb if header == "honest" else claiming_three_seconds(flac_bomb)
    resamplers: list[CountingResampler] = []

    def counting(*, format: str, layout: str, rate: int) -> CountingResampler:
        resamplers.append(CountingResampler(format=format, layout=layout, rate=rate))
        return resamplers[-1]

    monkeypatch.setattr(reference, "AudioResampler", counting)

    assert len(data) < LIMITS.max_bytes / 20
    assert refusal(data) == "The recording is longer than 60 seconds."
    [resampler] = resamplers
    # One FLAC frame at most past the limit: a frame here is well under a second.
    assert 60.0 < resampler.decoded_seconds < 61.0


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"Hello, this is a voice sample, honest.\n" * 50, id="text"),
        pytest.param(np.random.default_rng(7).bytes(50_000), id="random"),
        pytest.param(png_image(), id="png"),
        pytest.param(
            b"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\n"
            b"m=audio 5004 RTP/AVP 0\n",
            id="sdp",
        ),
    ],
)
def test_non_audio_is_refused(data: bytes) -> None:
    assert refusal(data) == "The file could not be read as audio."


def test_png_really_is_a_png() -> None:
    with av.open(io.BytesIO(png_image()), mode="r") as container:
        assert container.format.name == "png_pipe"


def test_playlist_cannot_read_server_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret.wav").write_bytes(wav_of(tone(3.0, 24000, 1), 24000))
    monkeypatch.chdir(tmp_path)

    assert refusal(b"ffconcat version 1.0\nfile secret.wav\n") == (
        "The file could not be read as audio."
    )


def test_playlist_is_stopped_even_if_its_format_were_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secret.wav").write_bytes(wav_of(tone(3.0, 24000, 1), 24000))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(reference._DEMUXER_OPTIONS, "format_whitelist")

    # Opening the listed file fails, so the format check after opening is never reached.
    assert refusal(b"ffconcat version 1.0\nfile secret.wav\n") == (
        "The file could not be read as audio."
    )


def test_unlisted_decoders_are_not_opened_while_probing() -> None:
    level = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as logs:
            refusal(video_only_mp4())
    finally:
        av.logging.set_level(level)

    assert any("Codec (mpeg4) not on whitelist" in message for _, _, message in logs)


def test_unlisted_format_is_refused_even_if_ffmpeg_opens_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(reference._DEMUXER_OPTIONS, "format_whitelist")

    assert refusal(png_image()) == "The file is not in a supported audio format."


def test_video_without_audio_is_refused() -> None:
    assert refusal(video_only_mp4()) == "The file has no audio track."


def test_unlisted_codec_is_refused() -> None:
    data = encode(tone(3.0, 44100, 1), 44100, "wav", "adpcm_ima_wav")

    assert refusal(data) == "The file's audio is encoded in an unsupported format."


def test_wav_cut_after_its_header_is_refused() -> None:
    data = wav_of(tone(3.0, 44100), 44100)
    header = data[: data.index(b"data") + 8]

    assert refusal(header) == "The recording is shorter than 1 second."


def test_truncated_flac_is_refused() -> None:
    data = encode(tone(3.0, 48000), 48000, "flac", "flac")

    assert refusal(data[: len(data) // 2]) == "The file could not be read as audio."


def test_stream_that_changes_layout_midway_is_refused() -> None:
    # PyAV's resampler raises a plain ValueError on the second, stereo part.
    mono = encode(tone(1.5, 44100, 1), 44100, "adts", "aac")
    stereo = encode(tone(1.5, 44100, 2), 44100, "adts", "aac")

    assert refusal(mono + stereo) == "The file could not be read as audio."


def test_chained_ogg_that_changes_layout_is_refused() -> None:
    # FFmpeg answers this one with an error that is not a ValueError.
    mono = encode(tone(1.5, 48000, 1), 48000, "ogg", "libopus")
    stereo = encode(tone(1.5, 48000, 2), 48000, "ogg", "libopus")

    assert refusal(mono + stereo) == "The file could not be read as audio."


def test_tags_that_are_not_utf8_do_not_matter() -> None:
    data = wav_of(tone(3.0, 24000, 1), 24000)
    name = b"Caf\xe9 \xff"
    info = b"INFO" + b"INAM" + len(name).to_bytes(4, "little") + name
    chunk = b"LIST" + len(info).to_bytes(4, "little") + info
    tagged = bytearray(data[:12] + chunk + data[12:])
    tagged[4:8] = (len(tagged) - 8).to_bytes(4, "little")

    assert normalize_reference(bytes(tagged), LIMITS).duration_seconds == 3.0


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, "voice"),
        ("", "voice"),
        ("..", "voice"),
        (".", "voice"),
        ("...", "voice"),
        ("uploads/", "voice"),
        ("\x00\x01\x7f", "voice"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\My Voice.wav", "My Voice.wav"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("mixed/dir\\take 1.flac", "take 1.flac"),
        ("nul\x00byte.wav", "nulbyte.wav"),
        ("bell\x07 and\x1b[31mred.mp3", "bell and[31mred.mp3"),
        ("  lots \t of\n\n space .ogg  ", "lots of space .ogg"),
        ("invoice\u202egpj.wav", "invoicegpj.wav"),
        ("Grüße ☃.m4a", "Grüße ☃.m4a"),
        (".hidden.wav", ".hidden.wav"),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert safe_filename(name) == expected


def test_long_filename_keeps_its_extension() -> None:
    name = safe_filename("a" * 300 + ".wav")

    assert name == "a" * 251 + ".wav"


def test_long_filename_without_extension_is_cut() -> None:
    assert safe_filename("b" * 300) == "b" * 255


def test_long_filename_with_a_huge_suffix_is_cut() -> None:
    assert safe_filename("c." + "d" * 300) == "c." + "d" * 253

"""The length of an MP3 stream, counted from its frame headers.

FFmpeg walks the packets exactly but slowly from Python (a Packet object each), and its quick
duration is a bit-rate estimate, five times off for a VBR stream without a Xing header. Each
Layer III frame header gives the frame's size and its sample count, so counting is a short walk.
"""

from __future__ import annotations

# Layer III bit rates in kbit/s by index, for MPEG-1 and for MPEG-2 and 2.5.
_MPEG1_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
# Sample rates by version bits (0: MPEG-2.5, 2: MPEG-2, 3: MPEG-1) and rate index.
_RATES = {0: (11025, 12000, 8000), 2: (22050, 24000, 16000), 3: (44100, 48000, 32000)}
_LAYER_III = 1
_MONO = 3
_TAG_SIZE = 10
_ID3V1 = b"TAG"
_ID3V1_SIZE = 128
_VBR_TAGS = (b"Xing", b"Info")
_VBRI_OFFSET = 36


def mp3_seconds(data: bytes) -> float | None:
    """Seconds of audio in a whole MP3 stream; None where FFmpeg must walk it instead.

    That is: any header that is not Layer III with a known bit rate and sample rate, bytes
    between frames, a change of sample rate, or a stream with no frame at all.
    """
    position = _after_id3v2(data)
    end = len(data)
    rate = samples = frames = 0
    while position + 4 <= end:
        if data[position : position + 3] == _ID3V1 and end - position == _ID3V1_SIZE:
            break
        b1, b2, b3 = data[position + 1], data[position + 2], data[position + 3]
        version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
        bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
        rates = _RATES.get(version)
        if (
            data[position] != 0xFF
            or b1 & 0xE0 != 0xE0
            or layer != _LAYER_III
            or rates is None
            or bitrate_index in (0, 15)
            or rate_index == 3
        ):
            return None
        frame_rate = rates[rate_index]
        if rate and frame_rate != rate:
            return None
        mpeg1 = version == 3
        kbps = (_MPEG1_KBPS if mpeg1 else _MPEG2_KBPS)[bitrate_index]
        size = (144 if mpeg1 else 72) * kbps * 1000 // frame_rate + ((b2 >> 1) & 1)
        if not (frames == 0 and _is_vbr_tag(data, position, mpeg1, (b3 >> 6) == _MONO)):
            samples += 1152 if mpeg1 else 576
        rate, frames, position = frame_rate, frames + 1, position + size
    if not samples or position > end:  # no frame, or the last one cut short
        return None
    return samples / rate


def _after_id3v2(data: bytes) -> int:
    """Where the audio starts: after an ID3v2 tag, if the stream opens with one."""
    if data[:3] != b"ID3" or len(data) < _TAG_SIZE:
        return 0
    size = 0
    for byte in data[6:10]:
        size = size << 7 | (byte & 0x7F)
    footer = _TAG_SIZE if data[5] & 0x10 else 0
    return _TAG_SIZE + size + footer


def _is_vbr_tag(data: bytes, position: int, mpeg1: bool, mono: bool) -> bool:
    """Whether the frame at `position` is a Xing, Info or VBRI header rather than audio."""
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    tag = data[position + 4 + side_info : position + 8 + side_info]
    return (
        tag in _VBR_TAGS or data[position + _VBRI_OFFSET : position + _VBRI_OFFSET + 4] == b"VBRI"
    )

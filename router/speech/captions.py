"""Timed words grouped into subtitle cues, written as SubRip or WebVTT."""

from __future__ import annotations

import datetime
import html
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import srt
import webvtt
from typing_extensions import TypeIs

from providers.api import WordTime

__all__ = [
    "SUBTITLE_FORMATS",
    "SUBTITLE_MEDIA_TYPES",
    "Cue",
    "SubtitleFormat",
    "cues",
    "is_subtitle_format",
    "subtitles",
]

SubtitleFormat = Literal["srt", "vtt"]
SUBTITLE_FORMATS: tuple[SubtitleFormat, ...] = get_args(SubtitleFormat)
SUBTITLE_MEDIA_TYPES: dict[SubtitleFormat, str] = {
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}
# One subtitle line as broadcasters size it, and no longer on screen than a reader needs.
MAX_CUE_CHARS = 42
MAX_CUE_SECONDS = 6.0
_SENTENCE_END = tuple(".!?\u2026")
_CLOSERS = "\"'\u201d\u2019)]}\u00bb"


def is_subtitle_format(fmt: str) -> TypeIs[SubtitleFormat]:
    """Whether `fmt` names a subtitle format rather than an audio one."""
    return fmt in SUBTITLE_FORMATS


@dataclass(frozen=True, slots=True)
class Cue:
    """A subtitle: words shown together from the first's start to the last's end."""

    start: float
    end: float
    text: str


def cues(words: Iterable[WordTime]) -> list[Cue]:
    """Words grouped into cues: a sentence's end, a full line or a long cue closes one."""
    grouped: list[list[WordTime]] = [[]]
    for word in words:
        current = grouped[-1]
        if current and (
            len(_text(current)) + 1 + len(word.word) > MAX_CUE_CHARS
            or word.end - current[0].start > MAX_CUE_SECONDS
            or current[-1].word.rstrip(_CLOSERS).endswith(_SENTENCE_END)
        ):
            grouped.append(current := [])
        current.append(word)
    return [Cue(group[0].start, group[-1].end, _text(group)) for group in grouped if group]


def _text(words: Sequence[WordTime]) -> str:
    return " ".join(word.word for word in words)


def subtitles(words: Iterable[WordTime], fmt: SubtitleFormat) -> str:
    """The words as a SubRip or WebVTT file."""
    found = cues(words)
    if fmt == "srt":
        return str(srt.compose(_subrip(found, escape=False)))
    if not found:
        return str(webvtt.WebVTT().content)
    # SubRip cues differ from WebVTT's only in their syntax, which webvtt-py converts.
    subrip = srt.compose(_subrip(found, escape=True))
    return str(webvtt.from_buffer(io.StringIO(subrip), format="srt").content)


def _subrip(found: Sequence[Cue], *, escape: bool) -> list[srt.Subtitle]:
    return [
        srt.Subtitle(
            index,
            datetime.timedelta(seconds=cue.start),
            datetime.timedelta(seconds=cue.end),
            html.escape(cue.text, quote=False) if escape else cue.text,
        )
        for index, cue in enumerate(found, start=1)
    ]

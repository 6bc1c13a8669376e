"""Timed words grouped into subtitle cues and written as SubRip and WebVTT."""

from __future__ import annotations

import datetime
import io

import pytest
import srt
import webvtt

from providers.api import WordTime
from router.speech.captions import MAX_CUE_CHARS, MAX_CUE_SECONDS, cues, subtitles


def _words(text: str, seconds_each: float = 0.3) -> list[WordTime]:
    return [
        WordTime(word, index * seconds_each, (index + 1) * seconds_each - 0.05)
        for index, word in enumerate(text.split())
    ]


def test_a_sentence_end_closes_a_cue() -> None:
    found = cues(_words('Hello there. "Is it you?" she asked.'))
    assert [cue.text for cue in found] == ["Hello there.", '"Is it you?"', "she asked."]
    assert found[0].start == 0.0
    assert found[0].end == pytest.approx(0.55)


def test_a_cue_holds_one_line_and_a_few_seconds() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    found = cues(_words(text))
    assert len(found) > 1
    assert all(len(cue.text) <= MAX_CUE_CHARS for cue in found)
    assert " ".join(cue.text for cue in found) == text
    slow = cues(_words("a b c d e f g h i j", seconds_each=1.0))
    assert all(cue.end - cue.start <= MAX_CUE_SECONDS for cue in slow)
    assert len(slow) == 2


def test_subrip_round_trips_through_its_parser() -> None:
    words = _words("Call me at noon. We will talk then.")
    parsed = list(srt.parse(subtitles(words, "srt")))
    assert [cue.content for cue in parsed] == ["Call me at noon.", "We will talk then."]
    assert parsed[1].start == datetime.timedelta(seconds=words[4].start)
    assert parsed[1].end == datetime.timedelta(seconds=words[-1].end)


def test_webvtt_escapes_markup_and_parses() -> None:
    text = subtitles(_words("Tom & Jerry <3 cheese."), "vtt")
    assert text.startswith("WEBVTT")
    assert "Tom &amp; Jerry &lt;3 cheese." in text
    (caption,) = webvtt.from_buffer(io.StringIO(text)).captions
    assert (caption.start, caption.end) == ("00:00:00.000", "00:00:01.450")


def test_no_words_give_empty_subtitles() -> None:
    assert list(srt.parse(subtitles([], "srt"))) == []
    assert subtitles([], "vtt").startswith("WEBVTT")

"""Clock times: "3:30 pm" is "three thirty p m", "7:05" is "seven oh five"."""

from __future__ import annotations

import re

from providers.normalize.patterns import glued_to_previous, period_if_sentence_ends
from providers.normalize.words import cardinal

__all__ = ["speak_times"]

# "am", "PM", "a.m.", "p.m"; the final period may also end the sentence.
_MERIDIEM = r"[ ]?(?P<meridiem>[AaPp])\.?[Mm](?![\w])\.?"
_CLOCK = re.compile(
    r"(?P<hour>[0-9][0-9]?):(?P<minute>[0-5][0-9])(?::(?P<second>[0-5][0-9]))?"
    r"(?:" + _MERIDIEM + r"|(?![\w:]|[.,][0-9]))"
)
_HOUR = re.compile(r"(?P<hour>[0-9][0-9]?)" + _MERIDIEM)
_LAST_HOUR = 23
_LAST_HOUR_BEFORE_NOON = 12


def _minutes(minute: int, has_meridiem: bool) -> str:
    """The minutes after the hour: "oh five", "thirty", and "o'clock" or nothing on the hour."""
    if minute == 0:
        return "" if has_meridiem else " o'clock"
    if minute < 10:
        return f" oh {cardinal(minute)}"
    return f" {cardinal(minute)}"


def _meridiem(match: re.Match[str]) -> str:
    """The spoken "a m" or "p m" (and a full stop if "a.m." ended the sentence), if any."""
    if not match["meridiem"]:
        return ""
    return f" {match['meridiem'].lower()} m{period_if_sentence_ends(match)}"


def _speak_clock(match: re.Match[str]) -> str:
    """A time with minutes, and perhaps seconds and "am" or "pm"."""
    hour = int(match["hour"])
    if glued_to_previous(match, ":.,") or hour > _LAST_HOUR:
        return match.group()
    spoken = cardinal(hour) + _minutes(int(match["minute"]), bool(match["meridiem"]))
    if match["second"]:
        seconds = int(match["second"])
        spoken += f" and {cardinal(seconds)} second{'' if seconds == 1 else 's'}"
    return spoken + _meridiem(match)


def _speak_hour(match: re.Match[str]) -> str:
    """An hour with "am" or "pm": "3pm" is "three p m"."""
    hour = int(match["hour"])
    if glued_to_previous(match, ":.,") or not 1 <= hour <= _LAST_HOUR_BEFORE_NOON:
        return match.group()
    return cardinal(hour) + _meridiem(match)


def speak_times(text: str) -> str:
    """`text` with its clock times read out."""
    if ":" in text:
        text = _CLOCK.sub(_speak_clock, text)
    return _HOUR.sub(_speak_hour, text)

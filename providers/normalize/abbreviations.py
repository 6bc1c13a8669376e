"""Abbreviations: "Dr. Smith" is "Doctor Smith", "Main St." is "Main Street"."""

from __future__ import annotations

import re

from providers.normalize.patterns import alternation, glued_to_previous, period_if_sentence_ends

__all__ = ["expand_abbreviations", "expand_number_abbreviations"]

# Before a name.
_TITLES = {
    "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Dr": "Doctor", "St": "Saint",
    "Prof": "Professor", "Rev": "Reverend", "Gen": "General", "Capt": "Captain",
    "Sgt": "Sergeant", "Lt": "Lieutenant", "Col": "Colonel", "Gov": "Governor",
    "Sen": "Senator", "Hon": "Honorable", "Mt": "Mount",
}  # fmt: skip
# Titles also written without their period, as in British usage.
_BARE_TITLES = frozenset({"Mr", "Mrs", "Ms", "Dr", "St"})
# Titles that are titles even when no name follows: "Mr. and Mrs. Smith".
_ALWAYS_TITLES = frozenset({"Mr", "Mrs", "Ms", "Prof"})
# After a name or a number; these may end a sentence, and then keep its full stop.
_STREETS = {
    "St": "Street", "Dr": "Drive", "Ave": "Avenue", "Blvd": "Boulevard", "Rd": "Road",
    "Ln": "Lane",
}  # fmt: skip
_SUFFIXES = {
    "Jr": "Junior", "Sr": "Senior", "Inc": "Incorporated", "Ltd": "Limited",
    "Corp": "Corporation", "etc": "et cetera",
}  # fmt: skip
_AFTER_NAME_WORDS = _STREETS | _SUFFIXES
# Read so when no name comes before them.
_UNNAMED = {"Dr": "Doctor"}
# Mid-sentence words, in lower case; a capital in the text is kept.
_WORDS = {
    "vs": "versus", "e.g": "for example", "i.e": "that is", "approx": "approximately",
    "cf": "compare", "a.k.a": "also known as", "dept": "department",
}  # fmt: skip
# Words also written without their period.
_BARE_WORDS = frozenset({"vs"})

_ALL_ABBREVIATIONS = {*_TITLES, *_AFTER_NAME_WORDS, *_WORDS, *map(str.capitalize, _WORDS)}
_ABBREVIATION = re.compile(
    rf"(?P<abbreviation>{alternation(_ALL_ABBREVIATIONS)})(?P<period>\.)?(?!\w)"
)
_NUMBER_ABBREVIATION = re.compile(r"No\.[ ]?(?=[0-9])")
# The word before an abbreviation, when it is a name ("Main") or a number ("5th").
_NAME_BEFORE = re.compile(r"(?<![\w'])(?:[A-Z][a-z]+|[0-9]+(?:st|nd|rd|th)?)[ ]+$")
_NAME_NEXT = re.compile(r"[ ]+[A-Z]")
_SENTENCE_START_BEFORE = re.compile(r"(?:^|[.!?][\"')\]]*)\s*$")
_LOOK_BEHIND = 40
# How far back before a name to look for the end of the previous sentence.
_SENTENCE_GAP = 8


def _follows_a_name(text: str, start: int) -> bool:
    """Whether a name or number, not one that starts a sentence, comes just before `start`."""
    word = _NAME_BEFORE.search(text, max(0, start - _LOOK_BEHIND), start)
    if word is None:
        return False
    before = max(0, word.start() - _SENTENCE_GAP)
    return _SENTENCE_START_BEFORE.search(text, before, word.start()) is None


def _as_title(match: re.Match[str]) -> str | None:
    """A title before a name; or, after a name, the street it abbreviates ("Main St. Louis")."""
    abbreviation = match["abbreviation"]
    if (
        match["period"]
        and abbreviation in _STREETS
        and _follows_a_name(match.string, match.start())
    ):
        return _STREETS[abbreviation] + period_if_sentence_ends(match)
    before_name = _NAME_NEXT.match(match.string, match.end()) is not None
    if match["period"] and (before_name or abbreviation in _ALWAYS_TITLES):
        return _TITLES[abbreviation]
    if before_name and abbreviation in _BARE_TITLES:
        return _TITLES[abbreviation]
    return None


def _as_after_name(match: re.Match[str]) -> str | None:
    """A street, or a suffix such as "Jr." or "etc.", keeping a full stop it stands for."""
    abbreviation = match["abbreviation"]
    if not match["period"]:
        return None
    if abbreviation in _UNNAMED and not _follows_a_name(match.string, match.start()):
        return _UNNAMED[abbreviation]
    return _AFTER_NAME_WORDS[abbreviation] + period_if_sentence_ends(match)


def _as_word(match: re.Match[str]) -> str | None:
    """A mid-sentence abbreviation such as "e.g.", in the case it was written in."""
    written = match["abbreviation"]
    if not (match["period"] or written.lower() in _BARE_WORDS):
        return None
    spoken = _WORDS[written.lower()]
    return spoken.capitalize() if written[0].isupper() else spoken


def _expand(match: re.Match[str]) -> str:
    """An abbreviation written out, if it is one here; otherwise the text as it was."""
    if glued_to_previous(match, ".@/"):
        return match.group()
    abbreviation = match["abbreviation"]
    spoken = None
    if abbreviation in _TITLES:
        spoken = _as_title(match)
    if spoken is None and abbreviation in _AFTER_NAME_WORDS:
        spoken = _as_after_name(match)
    if spoken is None and abbreviation.lower() in _WORDS:
        spoken = _as_word(match)
    return match.group() if spoken is None else spoken


def _expand_number_abbreviation(match: re.Match[str]) -> str:
    """The "No." before a number, as "Number"."""
    return match.group() if glued_to_previous(match, ".@/") else "Number "


def expand_number_abbreviations(text: str) -> str:
    """`text` with "No." before a number written out, before the rules for numbers run."""
    return _NUMBER_ABBREVIATION.sub(_expand_number_abbreviation, text) if "No." in text else text


def expand_abbreviations(text: str) -> str:
    """`text` with its other abbreviations written out."""
    return _ABBREVIATION.sub(_expand, text)

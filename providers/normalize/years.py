"""Years and decades: "in 1999" is "in nineteen ninety-nine", "1980s" "nineteen eighties"."""

from __future__ import annotations

import re

from providers.normalize.dates import MONTH_NAMES
from providers.normalize.patterns import DECADE, glued_to_previous
from providers.normalize.words import cardinal, plural, year

__all__ = ["speak_years"]

_FIRST_YEAR = 1100
_LAST_YEAR = 2099
# Words after which a four-digit number is a year.
_YEAR_CONTEXT = (
    "in", "by", "since", "from", "until", "till", "to", "through", "before", "after", "during",
    "of", "circa", "year", "around", "early", "late", "mid", "spring", "summer", "autumn",
    "fall", "winter", "copyright", "class", "vintage",
)  # fmt: skip
_CONTEXT_BEFORE = re.compile(
    r"(?:(?<!\w)(?i:{})[ -]+|©[ ]?|(?<!\w)(?:{})[ ]+)$".format(
        "|".join(_YEAR_CONTEXT), "|".join(MONTH_NAMES)
    )
)
_LONGEST_CONTEXT = 12
_FOUR_DIGITS_LONG = 4
_MAYBE_A_YEAR = re.compile(r"[12][0-9]{3}(?![\w]|[.,][0-9])")
_ERA = re.compile(r"[0-9][0-9]{0,3}[ ]?(?P<era>BCE|BC|AD|CE)\b")
_RANGE = re.compile(
    r"(?P<first>[12][0-9]{3})[-\u2013](?P<second>[0-9]{4}|[0-9]{2})(?![\w]|[-\u2013.,][0-9])"
)
# "'80s" or "1990s"; an apostrophe or a digit starts it, so the engine can skip ahead.
_DECADE = re.compile(r"['\u20190-9][0-9]*+s(?!\w)")


def _is_year(written: str) -> bool:
    """Whether four digits can be a year that a text talks about."""
    return _FIRST_YEAR <= int(written) <= _LAST_YEAR


def _speak_range(match: re.Match[str]) -> str:
    """A span of years such as "1990-1995" or "2020-21", if the second comes later."""
    first, written = match["first"], match["second"]
    if glued_to_previous(match, ".,-") or not _is_year(first):
        return match.group()
    start = int(first)
    full = len(written) == _FOUR_DIGITS_LONG
    end = int(written) if full else start // 100 * 100 + int(written)
    if end <= start or (full and not _is_year(written)):
        return match.group()
    return f"{year(start)} to {year(end) if full else cardinal(int(written))}"


def _speak_decade(match: re.Match[str]) -> str:
    """A decade such as "1980s" or "'80s", in the plural."""
    decade = match.group()[:-1].lstrip("'\u2019")
    if glued_to_previous(match) or not DECADE.fullmatch(decade):
        return match.group()
    return plural(year(int(decade)) if len(decade) == _FOUR_DIGITS_LONG else cardinal(int(decade)))


def _speak_era(match: re.Match[str]) -> str:
    """A year before or in the common era, its era spelt out: "44 BC" is "forty-four B C"."""
    if glued_to_previous(match, ".,"):
        return match.group()
    written = match.group()[: -len(match["era"])].rstrip()
    return f"{year(int(written))} {' '.join(match['era'])}"


def _speak_year_in_context(match: re.Match[str]) -> str:
    """Four digits read as a year after words such as "in", "by" or a month's name."""
    start = match.start()
    in_context = _CONTEXT_BEFORE.search(match.string, max(0, start - _LONGEST_CONTEXT), start)
    if in_context is None or glued_to_previous(match, ".,") or not _is_year(match.group()):
        return match.group()
    return year(int(match.group()))


def speak_years(text: str) -> str:
    """`text` with its years, spans of years and decades read out."""
    text = _DECADE.sub(_speak_decade, text)
    text = _RANGE.sub(_speak_range, text)
    text = _ERA.sub(_speak_era, text)
    return _MAYBE_A_YEAR.sub(_speak_year_in_context, text)

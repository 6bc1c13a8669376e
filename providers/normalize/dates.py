"""Calendar dates: "2026-12-02" and "12/02/2026" are "December second, twenty twenty-six"."""

from __future__ import annotations

import re

from providers.normalize.patterns import alternation, glued_to_previous, period_if_sentence_ends
from providers.normalize.words import ordinal, year

__all__ = ["MONTH_NAMES", "speak_dates"]

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTH_NUMBERS = {name: index for index, name in enumerate(MONTH_NAMES, start=1)} | {
    "Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "Jun": 6, "Jul": 7,
    "Aug": 8, "Sep": 9, "Sept": 9, "Oct": 10, "Nov": 11, "Dec": 12,
}  # fmt: skip
_MONTH = rf"(?P<month>{alternation(_MONTH_NUMBERS)})(?:\.|\b)"
_YEAR_AFTER = r"(?:,?[ ]+(?P<year>[0-9]{4})(?![\w]|[.,:][0-9]))?"
_ORDINAL_SUFFIX = r"(?:st|nd|rd|th)?"

# Three groups of digits joined by slashes or hyphens, of which only some are dates.
_NUMERIC = re.compile(
    r"[0-9][0-9]*+(?P<separator>[/-])[0-9]++(?P=separator)[0-9]++(?![\w]|[./-][0-9])"
)
_ISO = re.compile(r"(?P<year>[0-9]{4})-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12][0-9]|3[01])")
_MONTH_DAY_YEAR = re.compile(
    r"(?P<first>[0-9]{1,2})(?P<separator>[/-])(?P<second>[0-9]{1,2})(?P=separator)"
    r"(?P<year>[0-9]{4})"
)
_DAY_MONTH = re.compile(
    r"(?P<day>[0-9][0-9]?)" + _ORDINAL_SUFFIX + r"[ ]+(?:of[ ]+)?" + _MONTH + _YEAR_AFTER
)
_MONTH_DAY = re.compile(
    _MONTH + r"[ ]+(?P<day>[0-9][0-9]?)" + _ORDINAL_SUFFIX + r"(?![\w:]|[.,][0-9])" + _YEAR_AFTER
)
_LAST_DAY = 31
_LAST_MONTH = 12


def _month_first(month: int, day: int, year_number: int | None) -> str:
    """A date, month first: "December second, twenty twenty-six"."""
    spoken = f"{MONTH_NAMES[month - 1]} {ordinal(day)}"
    return spoken if year_number is None else f"{spoken}, {year(year_number)}"


def _day_first(month: int, day: int, year_number: int | None) -> str:
    """A date, day first: "the second of December, twenty twenty-six"."""
    spoken = f"the {ordinal(day)} of {MONTH_NAMES[month - 1]}"
    return spoken if year_number is None else f"{spoken}, {year(year_number)}"


def _optional_year(match: re.Match[str]) -> int | None:
    """The year group of `match`, if it has one."""
    return int(match["year"]) if match["year"] else None


def _speak_numeric(match: re.Match[str]) -> str:
    """ISO "2026-12-02", or "12/02/2026" month first as in the US unless that cannot be."""
    written = match.group()
    if glued_to_previous(match, "./-"):
        return written
    if iso := _ISO.fullmatch(written):
        return _month_first(int(iso["month"]), int(iso["day"]), int(iso["year"]))
    numeric = _MONTH_DAY_YEAR.fullmatch(written)
    if numeric is None:
        return written
    first, second, year_number = int(numeric["first"]), int(numeric["second"]), int(numeric["year"])
    if 1 <= first <= _LAST_MONTH and 1 <= second <= _LAST_DAY:
        return _month_first(first, second, year_number)
    if 1 <= second <= _LAST_MONTH and 1 <= first <= _LAST_DAY:
        return _day_first(second, first, year_number)
    return written


def _speak_day_month(match: re.Match[str]) -> str:
    """A date like "5 January 2026" or "the 5th of Jan"."""
    day = int(match["day"])
    if glued_to_previous(match, ".,") or not 1 <= day <= _LAST_DAY:
        return match.group()
    spoken = _day_first(_MONTH_NUMBERS[match["month"]], day, _optional_year(match))
    # "the 5th of May" already has its "the".
    if match.string[max(0, match.start() - 4) : match.start()].lower() == "the ":
        spoken = spoken.removeprefix("the ")
    return spoken + period_if_sentence_ends(match)


def _speak_month_day(match: re.Match[str]) -> str:
    """A date like "Jan 5th" or "January 5, 2026"."""
    day = int(match["day"])
    if glued_to_previous(match, ".") or not 1 <= day <= _LAST_DAY:
        return match.group()
    return _month_first(_MONTH_NUMBERS[match["month"]], day, _optional_year(match))


def speak_dates(text: str) -> str:
    """`text` with its dates read out."""
    text = _NUMERIC.sub(_speak_numeric, text)
    text = _DAY_MONTH.sub(_speak_day_month, text)
    return _MONTH_DAY.sub(_speak_month_day, text)

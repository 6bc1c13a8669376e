"""Telephone numbers, read digit by digit in their groups: "five five five, oh one three four"."""

from __future__ import annotations

import re

from providers.normalize.patterns import glued_to_previous
from providers.normalize.words import digits

__all__ = ["speak_phone_numbers"]

# "+1 555 123 4567", "+44 20 7946 0958", "+1 (555) 123-4567".
_INTERNATIONAL = re.compile(r"\+[0-9]{1,3}(?:[ .-]\(?[0-9]{1,8}\)?){1,5}(?![\w]|[.-][0-9])")
# "(555) 123-4567".
_PARENTHESISED = re.compile(r"\([0-9]{3}\)[ ]?[0-9]{3}[-. ][0-9]{4}(?![\w]|[.-][0-9])")
# Digits in groups joined by hyphens or points, of which only some are telephone numbers.
_GROUPED_DIGITS = re.compile(r"[0-9][0-9]*+(?:[-.][0-9]++)++(?!\w)")
# "555-0134", "555-123-4567", "555.123.4567", "1-800-555-0134".
_NORTH_AMERICAN = re.compile(r"(?:1[-.])?[0-9]{3}(?P<separator>[-.])[0-9]{3}(?P=separator)[0-9]{4}")
_LOCAL = re.compile(r"[0-9]{3}-[0-9]{4}")
_DIGIT_GROUP = re.compile(r"[0-9]+")
_FEWEST_DIGITS = 7
_MOST_DIGITS = 15


def _speak_groups(number: str) -> str:
    """The digit groups of `number`, each read digit by digit, a comma between groups."""
    return ", ".join(digits(group, zero="oh") for group in _DIGIT_GROUP.findall(number))


def _speak_international(match: re.Match[str]) -> str:
    """An international number, from its plus sign, unless it is too short or too long."""
    count = sum(char.isdigit() for char in match.group())
    if glued_to_previous(match, "+") or not _FEWEST_DIGITS <= count <= _MOST_DIGITS:
        return match.group()
    return f"plus {_speak_groups(match.group())}"


def _speak_parenthesised(match: re.Match[str]) -> str:
    """A number with its area code in brackets."""
    return _speak_groups(match.group())


def _speak_grouped_digits(match: re.Match[str]) -> str:
    """Grouped digits that make a North American number; anything else is left as it is."""
    written = match.group()
    if glued_to_previous(match, "+.-"):
        return written
    if _NORTH_AMERICAN.fullmatch(written) or _LOCAL.fullmatch(written):
        return _speak_groups(written)
    return written


def speak_phone_numbers(text: str) -> str:
    """`text` with its telephone numbers read digit by digit."""
    if "+" in text:
        text = _INTERNATIONAL.sub(_speak_international, text)
    if "(" in text:
        text = _PARENTHESISED.sub(_speak_parenthesised, text)
    return _GROUPED_DIGITS.sub(_speak_grouped_digits, text)

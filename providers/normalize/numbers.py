"""Numbers: signs, ordinals, fractions, decimals, versions, digit strings and cardinals."""

from __future__ import annotations

import re

from providers.normalize.patterns import glued_to_previous
from providers.normalize.words import (
    cardinal,
    integer,
    number,
    ordinal,
    whole_number,
    whole_ordinal,
)

__all__ = ["speak_numbers", "speak_signs"]

_SIGN = re.compile(r"[-\u2212+#](?=[$€£¥₹]?[0-9])")
_NUMBER_AFTER_SIGN = re.compile(r"[0-9]++(?!\w)")
_SIGN_WORDS = {"-": "minus ", "\u2212": "minus ", "+": "plus ", "#": "number "}
_ORDINAL = re.compile(r"(?P<value>[0-9][0-9]*+(?:,[0-9]{3})*+)(?:st|nd|rd|th)(?!\w)")
_FRACTION = re.compile(r"(?P<numerator>[1-9])/(?P<denominator>10|[2-9])(?![\w/]|[.,][0-9])")
# Runs of digits joined by points or commas: "7", "3.14", "1,234,567", "1.2.3", "1,2,3".
_NUMERAL = re.compile(r"[0-9][0-9]*+(?:[.,][0-9]++)*+(?!\w)")
_QUANTITY = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?")
_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+){2,}")
_FRACTION_NAMES = {2: ("half", "halves"), 4: ("quarter", "quarters")}


def _speak_sign(match: re.Match[str]) -> str:
    """A minus, plus or number sign before a number, unless it joins two things."""
    sign = match.group()
    if sign == "#":
        if glued_to_previous(match, "&") or not _NUMBER_AFTER_SIGN.match(match.string, match.end()):
            return sign
    elif glued_to_previous(match, ".,)]+-"):
        return sign
    return _SIGN_WORDS[sign]


def _speak_ordinal(match: re.Match[str]) -> str:
    """An ordinal such as "22nd": "twenty-second"."""
    if glued_to_previous(match, ".,"):
        return match.group()
    return whole_ordinal(match["value"])


def _speak_fraction(match: re.Match[str]) -> str:
    """A simple fraction such as "3/4": "three quarters"; "24/7" and the like are left."""
    numerator, denominator = int(match["numerator"]), int(match["denominator"])
    if glued_to_previous(match, "./,") or numerator >= denominator:
        return match.group()
    default = ordinal(denominator)
    one, many = _FRACTION_NAMES.get(denominator, (default, f"{default}s"))
    return f"{cardinal(numerator)} {one if numerator == 1 else many}"


def _speak_written(written: str) -> str:
    """A run of digits with points or commas, read as the kind of number it is."""
    if written.isdigit():
        return integer(written)
    if _VERSION.fullmatch(written):
        return " point ".join(whole_number(part) for part in written.split("."))
    if _QUANTITY.fullmatch(written):
        return number(written)
    # A list such as "1,2,3", or a malformed number: each piece on its own.
    return ", ".join(_speak_written(piece) for piece in written.split(","))


def _speak_numeral(match: re.Match[str]) -> str:
    """A number that no other rule has read."""
    return match.group() if glued_to_previous(match, ".,") else _speak_written(match.group())


def speak_signs(text: str) -> str:
    """`text` with minus, plus and number signs before numbers as words."""
    return _SIGN.sub(_speak_sign, text)


def speak_numbers(text: str) -> str:
    """`text` with its remaining numbers read out."""
    text = _ORDINAL.sub(_speak_ordinal, text)
    if "/" in text:
        text = _FRACTION.sub(_speak_fraction, text)
    return _NUMERAL.sub(_speak_numeral, text)

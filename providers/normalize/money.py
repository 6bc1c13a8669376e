"""Amounts of money: "$5.25" is "five dollars and twenty-five cents"."""

from __future__ import annotations

import re
from typing import NamedTuple

from providers.normalize.patterns import glued_to_previous
from providers.normalize.words import cardinal, number, whole_number

__all__ = ["speak_money"]


class Currency(NamedTuple):
    """The names of a currency and of its hundredth part, if it has one in use."""

    one: str
    many: str
    hundredth_one: str | None = None
    hundredth_many: str | None = None


_CURRENCIES = {
    "$": Currency("dollar", "dollars", "cent", "cents"),
    "€": Currency("euro", "euros", "cent", "cents"),
    "£": Currency("pound", "pounds", "penny", "pence"),
    "¥": Currency("yen", "yen"),
    "₹": Currency("rupee", "rupees", "paisa", "paise"),
}
_SCALES = {
    "k": "thousand",
    "m": "million",
    "mn": "million",
    "b": "billion",
    "bn": "billion",
    "t": "trillion",
    "tn": "trillion",
}
_AMOUNT = re.compile(
    r"(?P<symbol>[$€£¥₹])[ ]?(?P<whole>[0-9][0-9]*+(?:,[0-9]{3})*+)(?:\.(?P<fraction>[0-9]++))?+"
    r"(?:(?P<scale>[kKmMbBtT]n?)(?![\w])"
    r"|[ ](?P<scale_word>thousand|million|billion|trillion)\b"
    r"|(?![\w]|[.,][0-9]))"
)


def _scale(match: re.Match[str]) -> str | None:
    """The scale word ("million" for "$2.5M" or "$2.5 million"), or None if there is none."""
    if match["scale"]:
        return _SCALES[match["scale"].lower()]
    return match["scale_word"]


def _units_and_hundredths(currency: Currency, whole: str, hundredths: int) -> str:
    """Whole units and hundredths: "one dollar and five cents", "fifty pence"."""
    parts = []
    units = whole.replace(",", "").lstrip("0")
    if units or not hundredths:
        unit_name = currency.one if units == "1" else currency.many
        parts.append(f"{whole_number(whole)} {unit_name}")
    if hundredths:
        hundredth_name = currency.hundredth_one if hundredths == 1 else currency.hundredth_many
        parts.append(f"{cardinal(hundredths)} {hundredth_name}")
    return " and ".join(parts)


def _speak_amount(match: re.Match[str]) -> str:
    """An amount after its currency symbol."""
    if glued_to_previous(match, ".,"):
        return match.group()
    currency = _CURRENCIES[match["symbol"]]
    fraction = match["fraction"] or ""
    written = match["whole"] + (f".{fraction}" if fraction else "")
    scale = _scale(match)
    if scale:
        return f"{number(written)} {scale} {currency.many}"
    if len(fraction) > 2 or (fraction and currency.hundredth_one is None):
        return f"{number(written)} {currency.many}"
    return _units_and_hundredths(currency, match["whole"], int(fraction.ljust(2, "0")))


def speak_money(text: str) -> str:
    """`text` with its amounts of money read out."""
    return _AMOUNT.sub(_speak_amount, text)

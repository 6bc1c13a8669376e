"""Spoken-form text normalisation: English text rewritten as the words a person would say."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from providers.normalize.abbreviations import expand_abbreviations, expand_number_abbreviations
from providers.normalize.dates import speak_dates
from providers.normalize.money import speak_money
from providers.normalize.numbers import speak_numbers, speak_signs
from providers.normalize.phones import speak_phone_numbers
from providers.normalize.roman import speak_roman_numerals
from providers.normalize.times import speak_times
from providers.normalize.units import speak_percentages, speak_units
from providers.normalize.web import speak_web_addresses
from providers.normalize.years import speak_years

__all__ = ["normalize"]


class _Rule(NamedTuple):
    """One rewriting step, and whether it only ever changes text that has digits in it."""

    rewrite: Callable[[str], str]
    needs_digits: bool


def _speak_uncovered_addresses(text: str) -> str:
    """Addresses that the other rules uncovered ("Dr..com"), and abbreviations in them."""
    spoken = speak_web_addresses(text)
    return text if spoken == text else expand_abbreviations(spoken)


# In order: each rule reads only what the rules before it left as written.
_RULES = (
    _Rule(speak_web_addresses, needs_digits=False),
    _Rule(expand_number_abbreviations, needs_digits=True),
    _Rule(speak_phone_numbers, needs_digits=True),
    _Rule(speak_dates, needs_digits=True),
    _Rule(speak_times, needs_digits=True),
    _Rule(expand_abbreviations, needs_digits=False),
    _Rule(speak_signs, needs_digits=True),
    _Rule(speak_money, needs_digits=True),
    _Rule(speak_percentages, needs_digits=True),
    _Rule(speak_units, needs_digits=True),
    _Rule(speak_roman_numerals, needs_digits=False),
    _Rule(speak_years, needs_digits=True),
    _Rule(speak_numbers, needs_digits=True),
    _Rule(_speak_uncovered_addresses, needs_digits=False),
)
_DIGIT = re.compile(r"[0-9]")


def normalize(text: str) -> str:
    """`text` with URLs, numbers, dates, times, units and abbreviations as spoken words."""
    # No rule writes digits, so a text without them can skip every rule that needs them.
    has_digits = _DIGIT.search(text) is not None
    for rule in _RULES:
        if has_digits or not rule.needs_digits:
            text = rule.rewrite(text)
    return text

"""Number words in American style, from num2words: no "and", no commas."""

from __future__ import annotations

from functools import lru_cache

from num2words import num2words

__all__ = [
    "cardinal", "digits", "integer", "number", "ordinal", "plural", "whole_number",
    "whole_ordinal", "year",
]  # fmt: skip

# Longer numbers are read digit by digit: nobody says "one hundred sextillion", and Python
# will not even turn a string of more than 4,300 digits into an int.
_MOST_SPOKEN_DIGITS = 21
# Five digits or more read digit by digit, unless round: "90210", but "10000".
_LONGEST_CARDINAL = 4
_DIGIT_WORDS = {str(digit): str(num2words(digit, lang="en")) for digit in range(10)}
_THOUSAND = 1000
# "thousand", "million", ... "quintillion": the names of 1000 ** 1 to 1000 ** 6.
_SCALE_WORDS = tuple(
    str(num2words(_THOUSAND**power, lang="en")).split()[-1] for power in range(1, 7)
)


def _american(words: str) -> str:
    """`words` without the commas and the "and" that num2words puts in."""
    return words.replace(",", "").replace(" and ", " ")


def digits(text: str, zero: str = "zero") -> str:
    """The ASCII digits of `text`, one word each: "4815" is "four eight one five"."""
    return " ".join(
        zero if char == "0" else _DIGIT_WORDS[char] for char in text if char in _DIGIT_WORDS
    )


@lru_cache(maxsize=_THOUSAND)
def _below_a_thousand(value: int) -> str:
    """`value`, from 0 to 999, in words."""
    return _american(str(num2words(value, lang="en")))


@lru_cache(maxsize=4096)
def cardinal(value: int) -> str:
    """`value`, of up to 21 digits, in words: 1234 is "one thousand two hundred thirty-four"."""
    if value < _THOUSAND:
        return _below_a_thousand(value)
    # Group by group, as num2words does, but without its cost for every new number.
    groups = []
    for power in range(len(_SCALE_WORDS), -1, -1):
        group = value // _THOUSAND**power % _THOUSAND
        if group:
            scale = f" {_SCALE_WORDS[power - 1]}" if power else ""
            groups.append(_below_a_thousand(group) + scale)
    return " ".join(groups)


@lru_cache(maxsize=1024)
def ordinal(value: int) -> str:
    """`value`, of up to 21 digits, as an ordinal: 103 is "one hundred third"."""
    return _american(str(num2words(value, lang="en", to="ordinal")))


@lru_cache(maxsize=1024)
def year(value: int) -> str:
    """`value`, of up to four digits, read as a year: 1999 is "nineteen ninety-nine"."""
    return _american(str(num2words(value, lang="en", to="year"))).replace("oh-", "oh ")


def whole_number(written: str) -> str:
    """Written digits, commas allowed, as a cardinal, or digit by digit if too long to say."""
    plain = written.replace(",", "")
    return cardinal(int(plain)) if len(plain) <= _MOST_SPOKEN_DIGITS else digits(plain)


def whole_ordinal(written: str) -> str:
    """Written digits, commas allowed, as an ordinal, or digit by digit if too long to say."""
    plain = written.replace(",", "")
    return ordinal(int(plain)) if len(plain) <= _MOST_SPOKEN_DIGITS else digits(plain)


def integer(written: str) -> str:
    """A run of digits: a cardinal, or digit by digit when long or zero-padded."""
    padded = len(written) > 1 and written.startswith("0")
    round_number = written.endswith("000") and not padded
    if padded or (len(written) > _LONGEST_CARDINAL and not round_number):
        return digits(written)
    return whole_number(written)


def number(text: str) -> str:
    """A written number in words: "1,200.5" is "one thousand two hundred point five"."""
    whole, _, fraction = text.partition(".")
    spoken = whole_number(whole) if whole else ""
    if fraction:
        spoken = f"{spoken} point {digits(fraction)}".lstrip()
    return spoken


def plural(words: str) -> str:
    """The plural of a number in words, for decades: "nineteen ninety" to "nineteen nineties"."""
    return f"{words[:-1]}ies" if words.endswith("y") else f"{words}s"

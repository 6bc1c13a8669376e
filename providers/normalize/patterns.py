"""Regular-expression pieces and match helpers that several rules share."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["DECADE", "NUMBER", "alternation", "glued_to_previous", "period_if_sentence_ends"]

# A written number: "7", "3.14", "1,234,567" or "1,299.99". Like every pattern here that is
# run over a whole text, it starts with a plain character class and has no leading
# look-behind, so that the regular-expression engine can skip ahead to where a match can
# start; the rules check what comes before a match in code, with glued_to_previous.
NUMBER = r"[0-9][0-9]*+(?:,[0-9]{3})*+(?:\.[0-9]++)?+"

# The digits of a decade: "80" of "the 80s", "1990" of "the 1990s".
DECADE = re.compile(r"[1-9]0|1[1-9][0-9]0|20[0-9]0")

# What follows a period that also ends its sentence: the end of the text, or a capital.
_NEXT_SENTENCE = re.compile(r"\s*$|\s+[\"'\u201c\u2018(\[]*[A-Z]")


def alternation(words: Iterable[str]) -> str:
    """A regular-expression alternation of `words`, longest first so none is cut short."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


def glued_to_previous(match: re.Match[str], joiners: str = "") -> bool:
    """Whether `match` starts straight after a letter, digit, underscore or one of `joiners`."""
    start = match.start()
    if start == 0:
        return False
    previous = match.string[start - 1]
    return previous.isalnum() or previous == "_" or previous in joiners


def period_if_sentence_ends(match: re.Match[str]) -> str:
    """A full stop if `match` ends in a period that also ends its sentence, else nothing."""
    if not match.group().endswith("."):
        return ""
    return "." if _NEXT_SENTENCE.match(match.string, match.end()) else ""

"""Roman numerals in names and titles: "Henry VIII" is "Henry the eighth"."""

from __future__ import annotations

import re

from providers.normalize.patterns import alternation, glued_to_previous
from providers.normalize.words import cardinal, ordinal

__all__ = ["speak_roman_numerals"]

_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50}
# Words after which a numeral is counted ("World War II" is "World War two").
_COUNTED_AFTER = (
    "Chapter", "Part", "Volume", "Book", "Act", "Scene", "Section", "Article", "Appendix",
    "Phase", "Stage", "Level", "Season", "Episode", "Type", "Class", "Grade", "War", "Bowl",
    "Round", "Step", "Title", "Amendment",
)  # fmt: skip
# Capitalised words that are not names, so "The XX" or "In II" are left alone.
_NOT_NAMES = frozenset(
    {
        "A", "An", "The", "In", "On", "At", "Of", "To", "For", "By", "With", "From", "And",
        "Or", "But", "Nor", "So", "If", "As", "Is", "Are", "Was", "Were", "Be", "Use", "Get",
        "See", "Give", "Start", "Stop", "Take", "Add", "This", "That", "These", "Those",
    }
)  # fmt: skip
# I, V and X up to 89, never C, D or M, so that words like "MIX", "CIVIL" or "DC" stay words.
_NUMERAL = r"(?P<numeral>(?=[IVXL])(?:XL|L?X{0,3})(?:IX|IV|V?I{0,3}))(?![\w'\u2019-])"
_COUNTED = re.compile(rf"(?P<word>{alternation(_COUNTED_AFTER)})[ ]+{_NUMERAL}")
# After a name, only numerals of two or more letters: "Henry VIII", never the pronoun "I".
_REGNAL = re.compile(rf"(?P<name>[A-Z][a-z]+)[ ]+(?=[IVX]{{2}}){_NUMERAL}")


def _value(numeral: str) -> int:
    """The value of a well-formed numeral of I, V, X and L: "XIV" is 14."""
    total = 0
    for letter, following in zip(numeral, [*numeral[1:], ""], strict=True):
        value = _VALUES[letter]
        total += -value if following and _VALUES[following] > value else value
    return total


def _speak_counted(match: re.Match[str]) -> str:
    """A numeral after a word such as "Chapter", as a cardinal; a lone "L" is left alone."""
    numeral = match["numeral"]
    if numeral == "L" or glued_to_previous(match):
        return match.group()
    return f"{match['word']} {cardinal(_value(numeral))}"


def _speak_regnal(match: re.Match[str]) -> str:
    """A numeral after a name, as "the" and an ordinal."""
    if match["name"] in _NOT_NAMES or glued_to_previous(match, "'"):
        return match.group()
    return f"{match['name']} the {ordinal(_value(match['numeral']))}"


def speak_roman_numerals(text: str) -> str:
    """`text` with the Roman numerals in its names and titles read out."""
    text = _COUNTED.sub(_speak_counted, text)
    return _REGNAL.sub(_speak_regnal, text)

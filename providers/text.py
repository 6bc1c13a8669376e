"""The text a request speaks, split into pieces: sentences, then clauses, words, hard cuts."""

from __future__ import annotations

import itertools
import re

from providers.api import SpeechRequest
from providers.normalize import normalize

__all__ = ["split_text", "spoken_input"]

# Terminators, then any closing quotes or brackets, then whitespace or the end of the text.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]}]*(?:\s+|$)|\s*\n\s*")
# Commas, semicolons and colons followed by a space (not "3,000"), and em or en dashes.
_CLAUSE_END = re.compile(r"[,;:]+\s+|\s*[\u2014\u2013]+\s*")
_WORD_END = re.compile(r"\s+")
_LEADING_OPENERS = "\"'\u201c\u2018\u00ab([{"

# Lower-cased, without their final period; a period after these rarely ends a sentence.
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "rev", "hon", "gen", "col",
        "lt", "sgt", "capt", "cmdr", "gov", "sen", "rep", "pres", "mt", "ft", "ave",
        "blvd", "rd", "vs", "etc", "e.g", "i.e", "cf", "al", "approx", "dept", "est",
        "fig", "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun", "jul",
        "aug", "sep", "sept", "oct", "nov", "dec", "a.m", "p.m",
    }
)  # fmt: skip


def spoken_input(request: SpeechRequest) -> str:
    """The text `request` asks for, in its spoken form unless it says `normalize: false`."""
    return normalize(request.input) if request.normalize else request.input


def split_text(text: str, max_chars: int) -> list[str]:
    """Split `text` into whitespace-normalised pieces of at most `max_chars` characters.

    Every non-whitespace character of `text` appears in the pieces, in order.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    pieces: list[str] = []
    for sentence in _sentences(text):
        pieces.extend(_fit(" ".join(sentence.split()) + " ", max_chars, level=0))
    return [piece.strip() for piece in _attach_punctuation(pieces, max_chars)]


def _sentences(text: str) -> list[str]:
    """Cut `text` after each sentence end and at each line break, keeping every character."""
    cuts = [0]
    for match in _SENTENCE_END.finditer(text):
        if "\n" in match.group() or not _is_abbreviation(text, match):
            cuts.append(match.end())
    cuts.append(len(text))
    segments = (text[start:end] for start, end in itertools.pairwise(cuts))
    return [segment for segment in segments if segment.strip()]


def _is_abbreviation(text: str, match: re.Match[str]) -> bool:
    """Whether a single period ends an abbreviation or an initial rather than a sentence."""
    if not match.group().startswith(".") or match.group().startswith(".."):
        return False
    end = start = match.start()
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:end].lstrip(_LEADING_OPENERS)
    if not word:
        return False
    if len(word) == 1 and word.isalpha():
        return True  # an initial, as in "J. R. R. Tolkien"
    return word.lower() in _ABBREVIATIONS or ("." in word and word.replace(".", "").isalpha())


_LEVELS = (_CLAUSE_END, _WORD_END)


def _fit(text: str, max_chars: int, level: int) -> list[str]:
    """Pack `text` into pieces no longer than `max_chars`, each keeping its trailing space."""
    if _fits(text, max_chars):
        return [text]
    if level == len(_LEVELS):
        return _hard_cut(text, max_chars)
    pieces: list[str] = []
    current = ""
    for segment in _segments(text, _LEVELS[level]):
        if _fits(current + segment, max_chars):
            current += segment
            continue
        if current:
            pieces.append(current)
        *done, current = _fit(segment, max_chars, level + 1)
        pieces.extend(done)
    if current:
        pieces.append(current)
    return pieces


def _segments(text: str, boundary: re.Pattern[str]) -> list[str]:
    """Cut `text` after each match of `boundary`, keeping every character."""
    cuts = [0, *(match.end() for match in boundary.finditer(text)), len(text)]
    segments = (text[start:end] for start, end in itertools.pairwise(cuts))
    return [segment for segment in segments if segment]


def _hard_cut(text: str, max_chars: int) -> list[str]:
    """Cut one over-long word into `max_chars` slices, the last keeping the trailing space."""
    word = text.strip()
    slices = [word[start : start + max_chars] for start in range(0, len(word), max_chars)]
    slices[-1] += text[len(text.rstrip()) :]
    return slices


def _fits(piece: str, max_chars: int) -> bool:
    return len(piece.strip()) <= max_chars


def _has_word(piece: str) -> bool:
    return any(char.isalnum() for char in piece)


def _attach_punctuation(pieces: list[str], max_chars: int) -> list[str]:
    """Join pieces with no letters or digits onto a neighbour, where the result still fits."""
    joined: list[str] = []
    for piece in pieces:
        if joined and not _has_word(piece) and _fits(joined[-1] + piece, max_chars):
            joined[-1] += piece
        else:
            joined.append(piece)
    if len(joined) > 1 and not _has_word(joined[0]) and _fits(joined[0] + joined[1], max_chars):
        joined[:2] = [joined[0] + joined[1]]
    return joined

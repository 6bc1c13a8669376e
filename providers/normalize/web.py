"""URLs and e-mail addresses, read out the way a person dictates them."""

from __future__ import annotations

import re

from providers.normalize.patterns import glued_to_previous
from providers.normalize.words import integer

__all__ = ["speak_web_addresses"]

_TOP_LEVEL_DOMAINS = "com|org|net|edu|gov|io|dev|ai|app|co|uk|us|de|fr|eu|info|biz"
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-][A-Za-z0-9._%+-]*+@[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)*\.[A-Za-z]{2,}+"
    r"(?![\w@-])"
)
_URL_WITH_SCHEME = re.compile(r"(?:https?|ftp)://[^\s<>\"'`]++|www\.[^\s<>\"'`]++")
_TOP_LEVEL_DOMAIN = re.compile(rf"\.(?i:{_TOP_LEVEL_DOMAINS})(?![\w-])")
_URL_WITHOUT_SCHEME = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9-]*+\.(?:[A-Za-z0-9-]++\.)*"
    rf"(?i:{_TOP_LEVEL_DOMAINS})(?![\w-])(?:/[^\s<>\"'`]*+)?+"
)
# Punctuation that ends the sentence rather than the address.
_TRAILING_PUNCTUATION = re.compile(r"[.,;:!?)\]}]+$")
_SCHEME = re.compile(r"^[A-Za-z]+://")
_WWW = re.compile(r"^www\.", re.IGNORECASE)
_SYMBOL_OR_DIGITS = re.compile(r"[./:@?=&#_~+%-]|[0-9]+")
_SYMBOL_WORDS = {
    ".": "dot",
    "/": "slash",
    ":": "colon",
    "@": "at",
    "?": "question mark",
    "=": "equals",
    "&": "and",
    "#": "hash",
    "_": "underscore",
    "~": "tilde",
    "+": "plus",
    "%": "percent",
    "-": "dash",
}


def _spell_piece(match: re.Match[str]) -> str:
    """A symbol's name, or a number in words, with spaces around it."""
    piece = match.group()
    return f" {_SYMBOL_WORDS.get(piece) or integer(piece)} "


def _spell(address: str) -> str:
    """`address` with its symbols as words: "jane.doe@x.org" is "jane dot doe at x dot org"."""
    return " ".join(_SYMBOL_OR_DIGITS.sub(_spell_piece, address).split())


def _speak_email(match: re.Match[str]) -> str:
    """An e-mail address in words."""
    return match.group() if glued_to_previous(match, ".%+@-") else _spell(match.group())


def _speak_url(match: re.Match[str]) -> str:
    """A URL in words, without its scheme or final slash; a written "www." is said as letters."""
    url = match.group()
    if glued_to_previous(match, ".@/-"):
        return url
    trailing = _TRAILING_PUNCTUATION.search(url)
    tail = trailing.group() if trailing else ""
    address = _SCHEME.sub("", url[: len(url) - len(tail)], count=1).rstrip("/")
    www = _WWW.match(address)
    spoken = _spell(address[www.end() :] if www else address)
    if www and spoken:
        spoken = f"w w w dot {spoken}"
    return f"{spoken}{tail}" if spoken else url


def speak_web_addresses(text: str) -> str:
    """`text` with its e-mail addresses and URLs read out."""
    if "@" in text:
        text = _EMAIL.sub(_speak_email, text)
    if "://" in text or "www." in text:
        text = _URL_WITH_SCHEME.sub(_speak_url, text)
    if _TOP_LEVEL_DOMAIN.search(text):
        text = _URL_WITHOUT_SCHEME.sub(_speak_url, text)
    return text

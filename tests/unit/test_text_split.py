"""Properties of the shared text splitter."""

from __future__ import annotations

import random

import pytest

from providers.text import split_text

SAMPLES = [
    "Hello world. How are you? I am fine! Thanks…",
    "Dr. Smith met Mrs. Jones at St. Mary's, e.g. on Monday, i.e. yesterday, etc. and more.",
    "Pi is 3.14 and e is 2.718. J. R. R. Tolkien wrote it. The U.S. Army vs. the Navy.",
    "line one\nline two\n\n\tline three   with   spaces",
    "A clause, another clause; a third: and \u2014 a dash \u2013 and more, " * 20,
    "x" * 1000 + " tail",
    "... Hello. !!! Bye. ?",
    "   ",
    "",
]


def _squash(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("max_chars", [1, 5, 17, 80, 300])
@pytest.mark.parametrize("text", SAMPLES)
def test_no_character_lost_and_max_honoured(text: str, max_chars: int) -> None:
    pieces = split_text(text, max_chars)
    assert _squash("".join(pieces)) == _squash(text)
    assert all(0 < len(piece) <= max_chars for piece in pieces)
    assert all(piece == " ".join(piece.split()) for piece in pieces)


def test_random_text_keeps_every_character() -> None:
    rng = random.Random(1234)  # noqa: S311  # reproducible test data, not secrets
    alphabet = "ab c.,;:!?\u2026\u2014\u2013\n\t\"')(1 Mr. Dr. 3.14 "
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        max_chars = rng.randint(1, 120)
        pieces = split_text(text, max_chars)
        assert _squash("".join(pieces)) == _squash(text)
        assert all(0 < len(piece) <= max_chars for piece in pieces)


def test_sentences_split_and_words_keep_their_spaces() -> None:
    text = "Hello world. How are you?  I am fine!\nNew line"
    pieces = split_text(text, 100)
    assert pieces == ["Hello world.", "How are you?", "I am fine!", "New line"]
    assert " ".join(pieces) == " ".join(text.split())


@pytest.mark.parametrize(
    "text",
    [
        "Dr. Smith is here.",
        "Mr. and Mrs. Jones live on Oak St. in town.",
        "Fruit, e.g. apples, i.e. red ones, etc. are fine.",
        "Pi is about 3.14159 today.",
        "J. R. R. Tolkien wrote books.",
        "The U.S. Army vs. the Navy.",
        "Prices rose to $1,234.56 and fell.",
    ],
)
def test_abbreviations_numbers_and_initials_stay_whole(text: str) -> None:
    assert split_text(text, 300) == [text]


def test_quotes_and_brackets_stay_with_their_sentence() -> None:
    assert split_text('He said "Stop." Then (quietly.) Done', 300) == [
        'He said "Stop."',
        "Then (quietly.)",
        "Done",
    ]


def test_long_sentence_splits_at_clauses_before_words() -> None:
    text = "first part here, second part here; third part here: fourth \u2014 fifth"
    assert split_text(text, 20) == [
        "first part here,",
        "second part here;",
        "third part here:",
        "fourth \u2014 fifth",
    ]


def test_commas_inside_numbers_are_not_clause_boundaries() -> None:
    assert split_text("one 3,000,000 two", 15) == ["one 3,000,000", "two"]


def test_long_clause_falls_back_to_words() -> None:
    assert split_text("alpha beta gamma delta epsilon", 11) == [
        "alpha beta",
        "gamma delta",
        "epsilon",
    ]


def test_single_long_word_is_cut_hard() -> None:
    assert split_text("abcdefghij xy", 4) == ["abcd", "efgh", "ij", "xy"]
    assert split_text("abcdefghij xy", 5) == ["abcde", "fghij", "xy"]
    assert split_text("abcdefg hi", 5) == ["abcde", "fg hi"]


def test_punctuation_only_pieces_attach_to_previous() -> None:
    assert split_text("Hello. ... Bye. !!!", 300) == ["Hello. ...", "Bye. !!!"]


def test_leading_punctuation_attaches_to_next() -> None:
    assert split_text("... Hello there.", 300) == ["... Hello there."]


def test_punctuation_only_input_is_one_piece() -> None:
    assert split_text("...", 300) == ["..."]
    assert split_text("!!! ??? ...", 300) == ["!!! ??? ..."]


def test_blank_input_gives_no_pieces() -> None:
    assert split_text(" \n\t ", 10) == []


def test_max_chars_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        split_text("text", 0)

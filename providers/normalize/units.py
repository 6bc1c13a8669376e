"""Percentages and units of measure after a number: "5 km" is "five kilometers"."""

from __future__ import annotations

import re

from providers.normalize.patterns import DECADE, NUMBER, alternation, glued_to_previous
from providers.normalize.words import number

__all__ = ["speak_percentages", "speak_units"]

# Each symbol's name for one and for more than one.
_UNIT_NAMES = {
    "km": ("kilometer", "kilometers"),
    "m": ("meter", "meters"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "mi": ("mile", "miles"),
    "ft": ("foot", "feet"),
    "kg": ("kilogram", "kilograms"),
    "g": ("gram", "grams"),
    "mg": ("milligram", "milligrams"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "l": ("liter", "liters"),
    "L": ("liter", "liters"),
    "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"),
    "mph": ("mile per hour", "miles per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "m/s": ("meter per second", "meters per second"),
    "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "ºC": ("degree Celsius", "degrees Celsius"),
    "ºF": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"),
    "KB": ("kilobyte", "kilobytes"),
    "kB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"),
    "Mbps": ("megabit per second", "megabits per second"),
    "ms": ("millisecond", "milliseconds"),
    "s": ("second", "seconds"),
    "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"),
    "kW": ("kilowatt", "kilowatts"),
    "MW": ("megawatt", "megawatts"),
    "GW": ("gigawatt", "gigawatts"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
}
_SYMBOLS = alternation(_UNIT_NAMES)
_MEASURE = re.compile(rf"(?P<amount>{NUMBER})(?P<space>[ \u00a0]?)(?P<unit>{_SYMBOLS})(?![\w°º])")
_PERCENTAGE = re.compile(rf"(?P<amount>{NUMBER})[ \u00a0]?%")


def _speak_measure(match: re.Match[str]) -> str:
    """A number and its unit, the unit's name singular only after exactly one."""
    amount, unit = match["amount"], match["unit"]
    # "1990s" and "80s" are decades, not seconds; the rules for years read them.
    decade = unit == "s" and not match["space"] and DECADE.fullmatch(amount)
    if decade or glued_to_previous(match, ".,"):
        return match.group()
    one, many = _UNIT_NAMES[unit]
    return f"{number(amount)} {one if amount == '1' else many}"


def _speak_percentage(match: re.Match[str]) -> str:
    """A number and its percent sign."""
    if glued_to_previous(match, ".,"):
        return match.group()
    return f"{number(match['amount'])} percent"


def speak_percentages(text: str) -> str:
    """`text` with its percentages read out."""
    return _PERCENTAGE.sub(_speak_percentage, text) if "%" in text else text


def speak_units(text: str) -> str:
    """`text` with the units of measure after its numbers read out."""
    return _MEASURE.sub(_speak_measure, text)

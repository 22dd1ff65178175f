"""Measures: a number with a unit ("5 km", "20°C", "50%", "2.5MB", "12KG", "1 mbps"), squared and cubed
units ("m²", "m2", "km³"), magnitudes ("100 million kg"), compound units and rates ("km/h", "45.6 MB/s",
"12kg/kg", "6.5 L/100 km", "12/kg"), feet and inches ("5'10\""), and dimensions ("10 x 20 cm" -> "ten
by twenty centimeters", "2x faster")."""

from __future__ import annotations

import re
from types import MappingProxyType

from .. import lexicon as lx
from ._context import CONTEXT, Match, attributive, ends_sentence, needs_digit, spaced, sub
from .cardinal import NUM, is_proper_fraction, say_number


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_UNIT = rf"(?:{_alternation(lx.UNITS)}|(?i:{_alternation(lx.UNITS_ANY_CASE)}))"
_POWER_UNIT = rf"(?:{_alternation(lx.POWER_UNITS)})"
_WORD_UNIT = rf"(?:{_alternation(u for u in lx.UNITS if u[0].isalpha())}|(?i:{_alternation(lx.UNITS_ANY_CASE)}))"
PER_WORD = rf"(?:{_WORD_UNIT}|(?i:{_alternation(lx.RATE_WORDS)})s?)"  # after "/" or "per": no symbols
_POWERS = MappingProxyType({"²": "square", "2": "square", "³": "cubic", "3": "cubic"})
_MAGNITUDE_WORDS = "thousand|million|billion|trillion"


def unit_names(unit: str, power: str | None = None) -> tuple[str, str] | None:
    """'kg' -> ('kilogram', 'kilograms'); 'KG' too (any case where that is unambiguous); 'm', '2' ->
    ('square meter', 'square meters'); None for an unknown unit."""
    if power:
        base = lx.UNITS.get(unit) or lx.UNITS.get({"in": "in."}.get(unit, unit))
        if base is None:
            return None
        return f"{_POWERS[power]} {base[0]}", f"{_POWERS[power]} {base[1]}"
    names = lx.UNITS.get(unit)
    if names is None and unit.lower() in lx.UNITS_ANY_CASE:
        names = lx.UNITS[lx.UNITS_ANY_CASE[unit.lower()]]
    return names


def per_name(word: str) -> str | None:
    """The singular after "per": 'kg' -> 'kilogram', 'mo' -> 'month', 'hrs' -> 'hour'."""
    names = unit_names(word)
    if names is not None:
        return names[0]
    low = word.lower()
    return lx.RATE_WORDS.get(low) or (lx.RATE_WORDS.get(low[:-1]) if low.endswith("s") else None)


def say_per(word: str, number: str | None = None, power: str | None = None) -> str:
    """'per kilogram', 'per hundred kilometers' ("L/100 km": a round 100 or 1000 after "per" is "hundred")."""
    if number:
        names = unit_names(word, power)
        many = names[1] if names else word
        n = int(number)
        count = {100: "hundred", 1000: "thousand"}.get(n) or say_number(number)
        return f"per {count} {many if n != 1 else names[0] if names else word}"
    names = unit_names(word, power)
    return "per " + (names[0] if names else per_name(word) or word)


def _article(noun: str) -> str:
    return "an" if noun[:1] in "aeiou" or noun.startswith("hour") else "a"


def _say_measure(number: str, names: tuple[str, str], adjective: bool = False, magnitude: str | None = None) -> str:
    """`adjective`: the measure qualifies a noun, so the unit is singular ("a five kilometer run")."""
    one, many = names
    if magnitude:
        return f"{say_number(number)} {magnitude.lower()} {many}"
    if is_proper_fraction(number):
        num, den = (int(x) for x in number.split("/"))
        if (num, den) == (1, 2):
            return f"half {_article(one)} {one}"
        return f"{say_number(number)} of {_article(one)} {one}"
    return f"{say_number(number)} {one if number == '1' or adjective else many}"


def unit_at(s: str, pos: int) -> bool:
    """Does a unit follow at `pos` ("1980-1970 kg")?"""
    return bool(_UNIT_AHEAD.match(s, pos))


_UNIT_AHEAD = re.compile(rf"\s?{_UNIT}(?![A-Za-z0-9])", re.ASCII)


def _measure(m: Match) -> str:
    unit, power = (m.group("punit"), m.group("power")) if m.group("punit") else (m.group("unit"), None)
    names = unit_names(unit, power)
    if names is None:
        return m.group(0)
    words = _say_measure(m.group(1), names, attributive(m) and not m.group("per"), m.group("mag"))
    if m.group("per"):
        words += " " + say_per(m.group("per"), m.group("pernum"), m.group("perpower"))
    elif unit == "in." and ends_sentence(m.string, m.end()):
        words += "."
    return spaced(m, words)


# "1/2 inch", "3/4 mile", "1/2 hour": a proper fraction before a unit written out
_UNIT_WORDS = frozenset(one for one, _ in lx.UNITS.values() if one.isalpha()) | {
    "hour", "minute", "second", "day", "week", "month", "year", "teaspoon", "tablespoon", "cup", "stick", "pint",
    "quart", "acre", "block", "lap", "dozen", "bottle", "glass", "page", "slice", "loaf"}


def _fraction_of_unit(m: Match) -> str:
    num, den, word = int(m.group(1)), int(m.group(2)), m.group(3)
    if not (0 < num < den) or word.lower() not in _UNIT_WORDS:
        return m.group(0)
    return spaced(m, _say_measure(f"{num}/{den}", (word.lower(), word.lower() + "s"), attributive(m)))


def _number_per_unit(m: Match) -> str:
    """'12/kg' -> 'twelve per kilogram'."""
    return spaced(m, f"{say_number(m.group(1))} {say_per(m.group(2))}")


def _feet_inches(m: Match) -> str:
    return spaced(m, f"{_say_measure(m.group(1), lx.UNITS['ft'])} {_say_measure(m.group(2), lx.UNITS['in.'])}")


_OPENING_SINGLE_QUOTE = re.compile(r"(?:^|(?<=\s))'", re.ASCII)


def _is_closing_quote(s: str, start: int, mark: str) -> bool:
    """Is the mark after a number the end of a quotation ("he said "12"") rather than feet/inches?"""
    line = s[max(0, start - CONTEXT) : start].rpartition("\n")[2]
    if mark == '"':
        return line.count('"') % 2 == 1
    return len(_OPENING_SINGLE_QUOTE.findall(line)) % 2 == 1


def _foot_or_inch_mark(m: Match) -> str:
    """'6'' -> 'six feet', '12"' -> 'twelve inches' (not after an opening quote)."""
    mark = m.group(2)
    if _is_closing_quote(m.string, m.start(), mark[0]):
        return m.group(0)
    unit = "ft" if mark == "'" else "in."
    return spaced(m, _say_measure(m.group(1), lx.UNITS[unit], attributive(m)))


_MEASURES = (
    sub(r"°\s(?=[CF]\b)", "°"),
    *needs_digit(sub(r"(?<![\w.])(\d+)'\s?(\d+(?:\.\d+)?)(?:\"|'')", _feet_inches),
    sub(r"(?<![\w.])(\d+)\s?ft\.?\s(\d+(?:\.\d+)?)\s?(?:in\b\.?|\")", _feet_inches),
    sub(r"(?<![\w.'\"])(\d+(?:\.\d+)?)(''|'|\")(?![\w'\"])", _foot_or_inch_mark),
    sub(rf"(?<![\w.]){NUM}(?:\s?(?P<mag>{_MAGNITUDE_WORDS})\b)?\s?"
        rf"(?:(?P<punit>{_POWER_UNIT})(?P<power>[²³23])|(?P<unit>{_UNIT}))"
        rf"(?:(?:\s?/\s?|\s+per\s+)(?:(?P<pernum>\d+)\s?)?(?P<per>{PER_WORD})(?P<perpower>(?<=[a-z])[²³23])?)?"
        rf"(?![A-Za-z0-9²³])", _measure),
    sub(r"(?<![\w./])(\d+)/(\d+) ([A-Za-z]+)\b(?![-'])", _fraction_of_unit),
    sub(rf"(?<![\w.]){NUM}(in)\b(?!')", lambda m: spaced(m, _say_measure(m.group(1), lx.UNITS["in."]))),
    sub(rf"(?<![\w./])(\d+(?:\.\d+)?)\s?/\s?({_WORD_UNIT})(?![A-Za-z0-9/])", _number_per_unit)),
)


def _dimension(m: Match) -> str:
    ahead = m.string[m.end() : m.end() + CONTEXT]
    word = "times" if "=" in ahead.split("\n", 1)[0] else "by"
    return f"{m.group(1)} {word} "


_DIMENSIONS = (
    *needs_digit(sub(r"(?<![\w.])(?!0x[0-9a-fA-F])(\d+(?:\.\d+)?)\s?[x×]\s?(?=\d)", _dimension),
                 sub(r"(?<![\w.])(\d+(?:\.\d+)?)[x×](?![\w])", lambda m: f"{m.group(1)} times")),
    sub(r"×", " times "),
)

DIMENSIONS = _DIMENSIONS
RULES = _MEASURES

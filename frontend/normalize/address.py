"""Addresses: street addresses, unit numbers, highways, US states after a city, ZIP codes.

* A house number, an optional direction, a street name and a street type: "2788 San Tomas Expy" ->
  "twenty-seven eighty-eight San Tomas expressway", "708 N 1st St" -> "seven oh eight north 1st street",
  "1600 Pennsylvania Ave NW" -> "sixteen hundred Pennsylvania avenue northwest". House numbers are read
  in pairs as people say them (123 -> "one twenty-three", 1600 -> "sixteen hundred"), five digits digit
  by digit. A street type without a house number is read after a street name ("Vassar St, Cambridge",
  "5th St and Main"); "St" before a name is "saint" (abbreviations).
* Unit designators: "Apt 4B" -> "apartment four b", "Suite 210" -> "suite two ten", "Rm 1204".
* Highways: "Hwy 101" -> "highway one oh one", "Route 66", "I-405" -> "i four oh five".
* A US state code after a city, when a ZIP code follows or the text before the city is an address:
  "Santa Clara, CA 95051" -> "Santa Clara, california nine five zero five one" ("DC" stays letters).
"""

from __future__ import annotations

import re
from types import MappingProxyType

from .. import lexicon as lx
from .. import numbers as nw
from ._context import CONTEXT, Match, ends_sentence, needs_digit, spaced, sub


def house_number(digits: str) -> str:
    """'708' -> 'seven oh eight', '123' -> 'one twenty-three', '1600' -> 'sixteen hundred', '2005' ->
    'twenty oh five'; one or two digits as a cardinal, five or more (or a leading zero) digit by digit."""
    n = int(digits)
    if len(digits) > 4 or (len(digits) > 1 and digits[0] == "0"):
        return nw.digits(digits)
    if len(digits) <= 2 or n % 1000 == 0 or (len(digits) == 3 and n % 100 == 0):
        return nw.cardinal(n)
    high, low = divmod(n, 100)
    if low == 0:
        return f"{nw.cardinal(high)} hundred"
    if low < 10:
        return f"{nw.cardinal(high)} oh {nw.cardinal(low)}"
    return f"{nw.cardinal(high)} {nw.cardinal(low)}"


def _alternation(words) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


# abbreviations in any case ("Expy", "hwy", "ST"); whole words capitalized ("Street", "STREET"), as "drive"
# in "a 512 GB drive" is no street
_TYPE = (rf"(?:(?i:{_alternation(t for t, word in lx.STREET_TYPES.items() if t != word)})"
         rf"|{_alternation({f(w) for w in lx.STREET_TYPES.values() for f in (str.capitalize, str.upper)})})")
# after a street name without a house number only the abbreviations count ("Oak Ln", "Vassar St,")
_TITLE_TYPE = _alternation({t.capitalize() for t, word in lx.STREET_TYPES.items() if t != word} - {"St", "Dr"})
_DIR = r"(?:NE|NW|SE|SW|N|S|E|W|North|South|East|West)"
_NAME_WORD = r"(?:[A-Z][A-Za-z'-]*|\d+(?:st|nd|rd|th))"


def _compass(word: str | None) -> str:
    return " " + lx.COMPASS[word.lower()] if word else ""


def _street(m: Match) -> str:
    name = m.group("name")
    if name.split()[0] in lx.SENTENCE_STARTERS or any(w in lx.UNITS or w.lower() in lx.UNITS_ANY_CASE
                                                      for w in name.split()):
        return m.group(0)  # "in 1995 The Court ruled", "a 512 GB Drive"
    words = (f"{house_number(m.group('num'))}{_compass(m.group('dir'))} {name} "
             f"{lx.STREET_TYPES[m.group('type').lower()]}{_compass(m.group('dir2'))}")
    if m.group("dot") and ends_sentence(m.string, m.end()):
        words += "."
    return spaced(m, words)


def _named_street(m: Match) -> str:
    """'Vassar St,' / '5th St and' / 'Oak Ln': a street type after a street name, no house number."""
    if m.group("name") in lx.SENTENCE_STARTERS:
        return m.group(0)
    words = lx.STREET_TYPES[m.group("type").lower()] + _compass(m.group("dir"))
    return m.group("name") + " " + spaced(m, words, start=m.start("type"))


def _unit_id(token: str) -> str:
    """'4B' -> 'four b', '210' -> 'two ten', 'B12' -> 'b twelve'."""
    pieces = re.findall(r"\d+|[A-Za-z]+", token)
    return " ".join(house_number(p) if p.isdigit() else " ".join(p.lower()) for p in pieces)


def _unit(m: Match) -> str:
    return spaced(m, f"{lx.UNIT_DESIGNATORS[m.group(1).lower()]} {_unit_id(m.group(2))}")


_HIGHWAYS = MappingProxyType({"hwy": "highway", "rte": "route", "us": "u s", "sr": "state route"})


def _highway(m: Match) -> str:
    kind = m.group(1)
    word = _HIGHWAYS.get(kind.lower(), kind.lower())
    return spaced(m, f"{word} {house_number(m.group(2))}")


_ADDRESS_BEFORE = re.compile(
    rf"(?:\d|\b(?:{_alternation(set(lx.STREET_TYPES.values()) | set(lx.UNIT_DESIGNATORS.values()))}))\b[^.!?\n]*,\s*"
    r"[A-Z][A-Za-z.'-]*(?:\s+[A-Z][A-Za-z.'-]*){0,2}$", re.ASCII)


def _state(m: Match) -> str:
    code, zip5, zip4 = m.group("state"), m.group("zip"), m.group("zip4")
    before = m.string[max(0, m.start() - 2 * CONTEXT) : m.start()]
    if not (zip5 or _ADDRESS_BEFORE.search(before)):
        return m.group(0)
    words = code if code == "DC" else lx.US_STATES[code]
    if zip5:
        words += m.group("zipsep").replace(" ", "") + " " + nw.digits(zip5)
        if zip4:
            words += " dash " + nw.digits(zip4)
    return m.group("comma") + spaced(m, words, start=m.start("state"))


RULES = (
    *needs_digit(sub(rf"(?<![\w.,$#/:-])(?P<num>\d{{1,5}})\s+(?:(?P<dir>{_DIR})\.?\s+)?(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}}?)"
        rf"\s+(?P<type>{_TYPE})\b(?P<dot>\.)?(?:\s+(?P<dir2>NE|NW|SE|SW|N|S|E|W)\b\.?)?(?![\w'-])", _street)),
    # "N. Main St.", "SW Oak Ave": a direction before a street name is a compass word
    sub(rf"\b(NE|NW|SE|SW|N|S|E|W)\.?\s+(?=(?:{_NAME_WORD}\s+){{1,3}}{_TYPE}\b)",
        lambda m: lx.COMPASS[m.group(1).lower()] + " "),
    sub(rf"\b(?P<name>{_NAME_WORD}) (?P<type>{_TITLE_TYPE})\b(?!\.)(?:\s+(?P<dir>NE|NW|SE|SW)\b)?(?![\w'-])"
        r"(?!\s+(?:[A-Z][a-z]|\d))", _named_street),  # "Take Hwy 101" is a highway
    # "St" and "Dr" are also titles: a street only before a comma, the end or "and" ("5th St and Main")
    sub(rf"\b(?P<name>{_NAME_WORD}) (?P<type>St|Dr)\b(?P<dir>)(?=\s*(?:[,;]|$|\s(?:and|&|between|at|near)\b))",
        _named_street),
    *needs_digit(sub(r"\b((?i:apt|apartment|suite|ste|unit|rm|room|bldg|building)|Fl|Floor)\.?\s*#?\s*([A-Za-z]?\d{1,5}[A-Za-z]?)(?![\w'-])",
        _unit),
    sub(r"\b(Hwy|Highway|Route|Rte|Interstate|SR)\.?\s+(\d{1,4})\b(?![.,]\d)", _highway),
    sub(r"\b(I|US)-(\d{1,3})\b(?![.,-]\d)", _highway)),
    sub(rf"(?P<comma>,)\s+(?P<state>{'|'.join(lx.US_STATES)}|DC)\b(?:(?P<zipsep>,?\s+)(?P<zip>\d{{5}})(?:-(?P<zip4>\d{{4}}))?)?"
        r"(?![\w-])", _state),
)

"""English text normalization: written text -> the words a reader would say.

`normalize(text, date_order="mdy")` classifies spans of the text by semiotic class and reads each
with that class's verbalizer. One module per class, each with its recognizers (patterns plus the
context checks that decide the class) and its readings:

    electronic (URLs, e-mail)  whitelist (C++, 24/7, 401(k))  address (streets, units, states, ZIP)
    times (clock, duration, zone)  dates  telephone  codes (digit strings, IPs, versions)
    abbreviations  cardinal (signs, integers, decimals)  money  ranges  measure (units, rates,
    dimensions)  years (years, decades)  ordinal  fraction  roman  letters (initialisms, acronyms)
    math_symbols  -- plus characters (Unicode -> ASCII, list items), limits (degenerate text) and
    cleanup (lower case, punctuation).

The classes run in a fixed order (`_pipeline`), which is their priority: a class whose spans contain
digits or symbols another class would read differently comes first (an address before a year, a
time before a ratio, a date before a fraction, a telephone number before a range, money before a
plain number). Every reading is lower-case words, which no later recognizer matches, so a span is
read once, by the first class that claims it; that also makes `normalize` idempotent. Rules marked
`needs_digit` are skipped for text without digits (most prose). ARPAbet blocks `{HH AH0 L OW1}` are
cut out first and passed through unchanged; other braces are dropped with a warning.

Documented reading choices (tables in tests/test_frontend_normalize.py and tests/test_normalize_*.py;
each class module's docstring has the details):
* Numbers: American style without "and" (101 -> "one hundred one"); decimals digit by digit
  after "point"; digit strings longer than nine digits or with a leading zero digit by digit.
* A 4-digit number 1100-2099 is read as a year ("nineteen ninety-five") unless a lower-case word
  that is not a function word follows ("1500 people" -> "one thousand five hundred people");
  after "in", "since", "from", "until", "during", "year", "circa", seasons, it is always a year.
  After a determiner or possessive ("a", "the", "his", "this"...) it is a year unless the next
  word looks plural: "a 2019 study" -> "a twenty nineteen study", "the 1500 people" stays a count
  (the trade-off: "the 1500 meter race" -> "the fifteen hundred meter race", still fine speech).
  1000-1099 are years only after such a cue word.
* Money: "$3.50" -> "three dollars and fifty cents"; "$1.2 million" -> "one point two million
  dollars"; three or more decimals -> "point" unless the extra ones are zeros ("$20.500");
  "$3-4 million" -> "three to four million dollars"; "$20/mo" -> "twenty dollars per month";
  "$10 USD" names one currency, "US$5" reads "five u s dollars". "5M users" -> "five million
  users", "3bn" -> "three billion" (so "3M" the company reads "three million"); "K" stays a letter.
* After "a"/"an" and before a noun, an amount or measure is an adjective with a singular unit:
  "a $20 bill" -> "a twenty dollar bill", "a 5 km run" -> "a five kilometer run".
* Ranges of numbers, times, days and weekdays use "to": "9am-5pm", "June 1-5" -> "june first to
  fifth", "Mon-Fri" -> "monday to friday"; "1-2=5" is a subtraction.
* Lines starting with "*", "-", "+" or "1." / "2)" are list items: each ends a sentence and its
  number is a label ("1. Apples" -> "one, apples.").
* Roman numerals: regnal ordinals after known monarchs' names or a title ("Charles I", "King Tut
  II"), numbers after other names ("Rocky II" -> "rocky two") and after cue words ("Chapter XII").
* Times: "10:00" -> "ten o'clock", "18:00" -> "eighteen hundred", "12:05" -> "twelve oh five",
  "3:30 pm" -> "three thirty p m", "6.30pm" too; H:MM:SS is a duration ("one hour two minutes and
  three seconds") unless am/pm follows or "at"/"by" precedes; zones are spelled ("e s t").
* Dates: days are ordinals in every order ("june twentieth, twenty fourteen", "the twentieth of
  june twenty fourteen"); an ambiguous numeric date follows `date_order` (default "mdy", US: month
  first, read "november fifth, twenty twenty-three"; "dmy": "the eleventh of may twenty
  twenty-three"); a date that cannot exist is read as numbers ("31/02/2020").
* Telephone numbers and codes are read digit by digit in groups ("five five five, zero one nine
  nine"), as are numbers after a code word ("PIN", "order #", "card ending in"), IP addresses and
  ZIP codes; house numbers in pairs ("twenty-seven eighty-eight San Tomas expressway").
* All-caps words: known initialisms are spelled ("f b i"), known acronyms read as words
  ("nasa"); otherwise words of four or more letters that look pronounceable, and any
  pronounceable word next to another all-caps word (shouted text), are read as words; the rest
  are spelled.
"""

from __future__ import annotations

import re
from types import MappingProxyType

from . import (
    abbreviations,
    address,
    cardinal,
    characters,
    cleanup,
    codes,
    dates,
    electronic,
    fraction,
    letters,
    limits,
    math_symbols,
    measure,
    money,
    ordinal,
    ranges,
    roman,
    telephone,
    times,
    whitelist,
    years,
)
from ._context import Rule
from .cardinal import say_number
from .dates import DATE_ORDERS
from .letters import pronounceable
from .money import say_money
from .roman import roman_value

__all__ = ["ARPABET_BLOCK", "normalize", "pronounceable", "roman_value", "say_money", "say_number"]

# ARPAbet passthrough: upper-case phone-shaped tokens in braces. Anything else in braces is text.
ARPABET_BLOCK = re.compile(r"\{\s*([A-Z]{1,2}[0-2]?(?:\s+[A-Z]{1,2}[0-2]?)*)\s*\}", re.ASCII)

def _pipeline(date_order: str) -> tuple[Rule, ...]:
    """The rules in order. The order is the priority between classes: a class that needs digits or
    symbols another class would read differently comes first (a time before a ratio, a date before a
    fraction, money before a range); each rule's output is lower-case words no later rule reads."""
    return (
        *electronic.RULES,
        whitelist.specials,
        characters.MISSING_SPACE,
        characters.UNDERSCORE,
        *address.RULES,
        *times.RULES,
        *dates.rules(date_order),
        *telephone.RULES,
        *codes.RULES,
        abbreviations.BEFORE_NUMBER,
        *cardinal.SIGNS,
        *money.RANGES,
        *ranges.RULES,
        *money.RULES,
        *measure.DIMENSIONS,
        *years.DECADES,
        *measure.RULES,
        fraction.SUFFIXED,
        *ordinal.RULES,
        *years.RULES,
        *fraction.RULES,
        *cardinal.RULES,
        *abbreviations.RULES,
        letters.DOTTED,
        *roman.RULES,
        *letters.RULES,
        *math_symbols.RULES,
    )


# per date order: (all rules, the rules that can change a text without digits)
_PIPELINES = MappingProxyType({
    order: (rules, tuple(rule for rule in rules if not getattr(rule, "needs_digit", False)))
    for order, rules in ((order, _pipeline(order)) for order in DATE_ORDERS)
})
_DIGIT = re.compile(r"\d", re.ASCII)


def normalize(text: str, date_order: str = "mdy") -> str:
    """Turn written English into the words a reader would say (see the module docstring).

    `date_order` decides an ambiguous numeric date: "mdy" (default, US) reads 11/05/2023 as "november
    fifth, twenty twenty-three", "dmy" as "the eleventh of may twenty twenty-three".
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    pipelines = _PIPELINES.get(date_order)
    if pipelines is None:
        raise ValueError(f"date_order must be one of {', '.join(map(repr, DATE_ORDERS))}, got {date_order!r}")
    parts = limits.drop_braces(ARPABET_BLOCK.split(text))
    if len(parts) == 1:
        return _normalize_plain(parts[0], pipelines)
    out: list[str] = []
    for i, part in enumerate(parts):
        if i % 2:
            piece = "{" + " ".join(part.split()) + "}"
        elif i + 1 < len(parts):
            piece = _normalize_before_block(part, pipelines, first=not out)
        else:
            piece = _normalize_plain(part, pipelines, first=not out)
        if not piece:
            continue
        if out and piece[0] not in ",.;:!?)":
            out.append(" ")
        out.append(piece)
    return "".join(out)


_STAND_IN = "Qzx"  # a name-like word no rule reads


def _normalize_before_block(text: str, pipelines: tuple[tuple[Rule, ...], tuple[Rule, ...]], first: bool) -> str:
    """Normalize the text before an ARPAbet block with a stand-in name where the block is, so the
    rules see that a word follows: "Dr. {S M IH1 TH}" -> "doctor {...}", not "doctor. {...}"."""
    if not text.strip():
        return _normalize_plain(text, pipelines, first)
    stand_in = " " + _STAND_IN.lower()
    words = _normalize_plain(text + " " + _STAND_IN, pipelines, first)
    if words == stand_in[1:]:
        return ""
    if words.endswith(stand_in):
        return words[: -len(stand_in)]
    return _normalize_plain(text, pipelines, first)


def _normalize_plain(text: str, pipelines: tuple[tuple[Rule, ...], tuple[Rule, ...]], first: bool = True) -> str:
    text = characters.to_ascii(characters.list_items(text, at_line_start=first))  # before line breaks become spaces
    text = limits.shorten(text)
    if first:  # leading punctuation is dropped at the end anyway; drop it before rules see it
        text = cleanup.LEADING_JUNK.sub("", text)
    for rule in pipelines[0] if _DIGIT.search(text) else pipelines[1]:
        text = rule(text)
    return cleanup.finish(text, strip_leading_punctuation=first)


"""Telephone numbers, read digit by digit in groups separated by commas.

Shapes: North American numbers with or without parentheses and a country code ("(555) 123-4567",
"(123)-123-5678", "+1(123) 123-5678", "1-800-555-0199", "555.555.5555"), with an extension ("ext. 204",
"x204", or a fourth group "123-123-5678-1111"); international numbers after "+" ("+44 20 7946 0958",
"+44 7700 900123"); local numbers ("555-1234"); US social security numbers ("111-11-1111"); vanity
numbers ("1-800-GO-U-HAUL": "one, eight hundred, go u haul", the letters read as words later).
"""

from __future__ import annotations

import re

from .. import numbers as nw
from ._context import Match, needs_digit, spaced, sub

_SEPARATORS = re.compile(r"[^\d+]+", re.ASCII)
_EXTENSION = r"(?:,?\s*(?:ext\.?|x|extension)\s*(?P<ext>\d{1,6}))"


def say_groups(groups: list[str]) -> str:
    """['+1', '555', '0199'] -> 'plus one, five five five, zero one nine nine'."""
    return ", ".join(("plus " + nw.digits(g)) if g.startswith("+") else nw.digits(g) for g in groups if g)


def _phone(m: Match) -> str:
    number = m.group("number")
    words = say_groups(_SEPARATORS.split(number))
    ext = m.groupdict().get("ext")
    if ext:
        words += " extension " + nw.digits(ext)
    return spaced(m, words, end=m.end())


def _vanity(m: Match) -> str:
    """'1-800-GO-U-HAUL' -> 'one, eight hundred, GO U HAUL' (the letters are read by the letter rules)."""
    head = ("one, " if m.group(1) else "") + nw.cardinal(int(m.group(2)))
    rest = " ".join(part for part in m.group(3).split("-") if part)
    rest = re.sub(r"\d+", lambda d: nw.digits(d.group(0)), rest)
    return spaced(m, f"{head}, {rest}")


_NANP = (r"(?P<number>(?:\+?1[-. ]?)?(?:\(\d{3}\)[-. ]?|\d{3}[-.])\d{3}[-.]\d{4}(?:-\d{1,4}(?![\d-]))?)"
         rf"{_EXTENSION}?")
RULES = needs_digit(
    # "+44 20 7946 0958", "+1 212 555 0147", "+44 7700 900123": a country code and 2-5 groups
    sub(rf"(?<![\w+-])(?P<number>\+\d{{1,3}}(?:[ -.]\(?\d{{1,6}}\)?){{2,5}}){_EXTENSION}?(?![\w-]|\.\d)", _phone),
    sub(rf"(?<![\w+-]){_NANP}(?![\w-]|\.\d)", _phone),
    # NANP with spaces only after "+1" or parentheses: "+1 (123) 123 5678", "(123) 123 5678"
    sub(rf"(?<![\w+(-])(?P<number>(?:\+?1[-. ]?)?\(\d{{3}}\)\s?\d{{3}}[- ]\d{{4}}){_EXTENSION}?(?![\w-])", _phone),
    sub(r"(?<![\w+-])(?:(1)-)?(8\d\d|900)-((?:[A-Z]+-|\d+-)*[A-Z]{2,}(?:-[A-Z0-9]+)*)(?![\w-])", _vanity),
    sub(r"(?<![\w.,-])(?P<number>\d{3}-\d{2}-\d{4})(?![\w-]|\.\d)", _phone),  # social security numbers
    sub(rf"(?<![\w.,-])(?P<number>\d{{3}}-\d{{4}}){_EXTENSION}?(?![\w-]|\.\d)", _phone),
)

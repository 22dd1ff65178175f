"""Fractions: "3/4" -> "three quarters", "123/456" -> "... over ...", mixed numbers "2 1/2" -> "two and
a half" (also improper ones: "3 5/2" -> "three and five halves"), and fractions written with an ordinal
suffix ("1/4th" -> "one quarter", "1/3RD" -> "one third")."""

from __future__ import annotations

from .. import numbers as nw
from ._context import Match, needs_digit, spaced, sub
from .cardinal import say_number


def _fraction(m: Match) -> str:
    return spaced(m, say_number(m.group(0)))


def _suffixed(m: Match) -> str:
    num, den = int(m.group(1)), int(m.group(2))
    if den == 0:
        return m.group(0)
    return spaced(m, nw.fraction(num, den))


def _mixed(m: Match) -> str:
    num, den = int(m.group(2)), int(m.group(3))
    if num == 0 or den == 0:
        return f"{m.group(1)} {m.group(2)}/{m.group(3)}"
    return spaced(m, nw.mixed_fraction(int(m.group(1)), num, den))


# before the ordinals, which would read "4th" in "1/4th"
(SUFFIXED,) = needs_digit(sub(r"(?<![\w./])(\d+)/(\d+)(?:st|nd|rd|th|ST|ND|RD|TH)(?![A-Za-z0-9])", _suffixed))
RULES = needs_digit(
    sub(r"(?<![\w./])(\d+) (\d+)/(\d+)(?![\w/]|\.\d)", _mixed),
    sub(r"(?<![\w./])\d+/\d+(?![\w/]|\.\d)", _fraction),
)

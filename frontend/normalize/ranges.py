"""Ranges: "10-20" -> "ten to twenty", years ("1990-95"), quantities ("1980-1970 kg"), "50-50", and
"10 - 5 = 5" / "1-2=5" as subtraction."""

from __future__ import annotations

from .. import numbers as nw
from ._context import Match, needs_digit, spaced, sub
from .cardinal import say_number
from .measure import unit_at


def _year_range(m: Match) -> str | None:
    a, b = m.group(1), m.group(3)
    if len(a) == 4 and a.isdigit() and 1000 <= int(a) <= 2099:
        if len(b) == 2 and b.isdigit():
            b = a[:2] + b
        if len(b) == 4 and b.isdigit() and int(b) > int(a):
            return f"{nw.year(int(a))} to {nw.year(int(b))}"
    return None


def _range(m: Match) -> str:
    years = _year_range(m)
    if years:
        return spaced(m, years)
    if m.group(1) == m.group(3) and not m.group(2) and "-" in m.group(0):  # "50-50"
        words = say_number(m.group(1))
        return spaced(m, f"{words}-{words}")
    if unit_at(m.string, m.end()):  # "1980-1970 kg": quantities, not years
        return spaced(m, f"{say_number(m.group(1))} to ", end=m.start(2)) + m.group(2) + m.group(3)
    return f"{m.group(1)} to {m.group(2)}{m.group(3)}"


def _spaced_minus(m: Match) -> str:
    return f"{m.group(1)} minus {m.group(2)}"


_RANGES = needs_digit(
    # "10 - 5 = 5", "1-2=5" and "x = 7-3" are arithmetic; "10-20" and "10 - 20" are ranges
    sub(r"(?<![\w.,])(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)(?=\s*=)", _spaced_minus),
    sub(r"(?<==)(\s*\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)(?![\d.])", _spaced_minus),
    sub(r"(?<![\w.,/:-])(\d+(?:\.\d+)?|\d{1,3}(?:,\d{3})+)\s?-\s?([$£€¥]?)(\d+(?:\.\d+)?|\d{1,3}(?:,\d{3})+)(?![\d-]|\.\d|/\d)", _range),
)

RULES = _RANGES

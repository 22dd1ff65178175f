"""Cardinals and decimals ("1,234", "3.14", ".5"), signs before numbers ("-7", "~5", "#1", "c. 1850"),
and `say_number`, the reading of any number token that other classes use."""

from __future__ import annotations

from .. import numbers as nw
from ._context import Match, needs_digit, spaced, sub

_SIGNS = needs_digit(
    sub(r"(?:(?<=^)|(?<=[\s(\[{=<>:;,/]))[-](?=[$£€¥₹₩₽]?\.?\d)", " minus "),
    sub(r"~\s?(?=[$£€¥₹₩₽]?\d)", "about "),
    sub(r"#\s?(?=\d)", " number "),
    sub(r"(?<![\w.])(?:ca?)\.\s?(?=\d)", "circa "),
)

NUM = r"(\d+ \d+/\d+|\d+/\d+|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"


def say_number(s: str) -> str:
    """Any number token: '1,234', '3.14', '.5', '3/4', '2 1/2'."""
    if " " in s:
        whole, frac = s.split(" ", 1)
        num, den = (int(x) for x in frac.split("/"))
        return nw.mixed_fraction(int(whole), num, den)
    if "/" in s:
        num, den = (int(x) for x in s.split("/"))
        return nw.fraction(num, den)
    if "." in s:
        return nw.decimal(s)
    return nw.integer(s)


def is_proper_fraction(s: str) -> bool:
    if "/" not in s or " " in s:
        return False
    num, den = (int(x) for x in s.split("/"))
    return 0 < num < den



def _decimal(m: Match) -> str:
    return spaced(m, nw.decimal(m.group(0)))


def _integer(m: Match) -> str:
    return spaced(m, nw.integer(m.group(0)))


SIGNS = _SIGNS
RULES = needs_digit(
    sub(r"(?<!\d)(?:\d{1,3}(?:,\d{3})+|\d+)?\.\d+", _decimal),
    sub(r"\d{1,3}(?:,\d{3})+(?!\d)|\d+", _integer),
)

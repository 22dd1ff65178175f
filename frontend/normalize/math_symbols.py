"""Symbols and math: operators ("+", "=", "<=", "^", "*"), "/" as "per" before a unit word, "#",
currency and degree signs left without a number, and the dot between words ("file.txt")."""

from __future__ import annotations

import re
from types import MappingProxyType

from ._context import Match, sub

_SYMBOL_WORDS = MappingProxyType({
    "&": " and ", "+": " plus ", "==": " equals ", "=": " equals ", "<=": " less than or equal to ",
    ">=": " greater than or equal to ", "!=": " not equal to ", "<>": " not equal to ", "->": " to ",
    "=>": " implies ", "<": " less than ", ">": " greater than ", "^": " to the power of ",
    "@": " at ", "%": " percent ", "/": " slash ", "\\": " ", "|": " ", "_": " ", '"': " ",
    "`": " ", "~": " ", "[": " (", "]": ") ", "{": " (", "}": ") ", "$": " dollars ", "£": " pounds ",
    "€": " euros ", "¥": " yen ", "¢": " cents ", "₹": " rupees ", "₩": " won ", "₽": " rubles ",
    "°": " degrees ", "²": " squared ", "³": " cubed ", "µ": " mu ", "×": " times ",
})
_SYMBOLS = re.compile("|".join(re.escape(k) for k in sorted(_SYMBOL_WORDS, key=len, reverse=True)))


def _symbol(m: Match) -> str:
    return _SYMBOL_WORDS[m.group(0)]


_PER_UNITS = "hour|hr|day|week|month|year|yr|night|person|head|unit|piece|item|kg|lb|mile|km|gallon|liter|litre|minute|min|second|sec|page|word|share|ticket"
_SYMBOL_RULES = (
    sub(rf"(?<=[A-Za-z])\s?/\s?(?=(?:{_PER_UNITS})s?\b)", " per "),  # "$5/hour" -> "five dollars per hour"
    sub(r"(?<=[A-Za-z0-9])[ \t]*\*[ \t]*(?=[A-Za-z0-9])", " times "),  # not across a line break
    sub(r"\*", " "),
    sub(r"(?<![\w#])#(?=[A-Za-z])(?![A-Za-z0-9_]*#)", " hashtag "),  # "#mytext#" is no hashtag
    sub(r"#", " hash "),
    sub(r"-{2,}", " - "),
    lambda t: _SYMBOLS.sub(_symbol, t),
    sub(r"(?<=[A-Za-z])\.(?=[A-Za-z])", " dot "),  # "file.txt" -> "file dot txt"
)

RULES = _SYMBOL_RULES

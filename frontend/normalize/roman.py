"""Roman numerals: regnal ordinals after monarchs' names or titles ("Louis XIV" -> "louis the
fourteenth", "King Tut II"), cardinals after cue words ("Chapter XII") and other names ("Rocky II"),
and the pronoun "I" left alone."""

from __future__ import annotations

import re
from types import MappingProxyType

from .. import lexicon as lx
from .. import numbers as nw
from ._context import CONTEXT, Match, next_word, prev_word, spaced, sub

_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})", re.ASCII)
_ROMAN_VALUES = MappingProxyType({"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000})


def roman_value(numeral: str) -> int | None:
    if not numeral or not _ROMAN.fullmatch(numeral):
        return None
    total = 0
    for a, b in zip(numeral, numeral[1:] + " "):
        v = _ROMAN_VALUES[a]
        total += -v if b != " " and _ROMAN_VALUES[b] > v else v
    return total


_PRONOUN_FOLLOWERS = frozenset(
    """
    am was have had think know will would can could do did don't didn't want said say see saw
    went got love like need mean guess hope feel believe should must just also really never
    """.split()
)


# Verb forms only "I" takes, never a king: "Henry I think" is the pronoun, "Charles I was" the king.
_FIRST_PERSON_VERBS = frozenset("am have do don't think know want love like need mean guess hope feel believe see say".split())
_NAME_BEFORE_NUMERAL = re.compile(r"(?:([A-Za-z]+) +)?([A-Z][A-Za-z]*) +$", re.ASCII)


def _is_regnal(s: str, start: int) -> bool:
    """A monarch's name right before the numeral at `start`: a known regnal name ("Charles I"),
    or any name after a title ("King Tut II")."""
    m = _NAME_BEFORE_NUMERAL.search(s, max(0, start - CONTEXT), start)
    if not m:
        return False
    return m.group(2).lower() in lx.REGNAL_NAMES or (m.group(1) or "").lower() in lx.REGNAL_TITLES


def _roman(m: Match) -> str:
    """Roman numerals after a cue word are numbers, after a monarch's name regnal ordinals, after
    another name ("Rocky II", "Star Trek II") sequel numbers; one letter elsewhere is untouched."""
    numeral, suffix = m.group(1), m.group(2) or ""
    value = roman_value(numeral)
    if value is None:
        return m.group(0)
    prev = prev_word(m.string, m.start())
    regnal = _is_regnal(m.string, m.start())
    nxt = next_word(m.string, m.end()).lower()
    if numeral == "I" and nxt in _PRONOUN_FOLLOWERS and not (regnal and nxt not in _FIRST_PERSON_VERBS):
        return m.group(0)  # "Henry I think", "chapter I was reading" are the pronoun
    if prev.lower() in lx.ROMAN_CARDINAL_CUES and (len(numeral) > 1 or prev.lower() != "number"):
        return spaced(m, nw.cardinal(value) + suffix)
    if not (prev.isalpha() and prev[:1].isupper()) or prev in lx.SENTENCE_STARTERS or set(numeral) - set("IVX"):
        return m.group(0)
    if regnal:
        return spaced(m, "the " + nw.ordinal(value) + suffix)
    if (prev.isupper() and len(prev) > 1) or len(numeral) == 1:
        return m.group(0)  # shouted text ("DO IT"); "Vitamin C", "Malcolm X", "plan B"
    return spaced(m, nw.cardinal(value) + suffix)


RULES = (sub(r"(?<![\w'-])([IVXLCDM]+)('s)?(?![\w]|-(?!-))", _roman),)  # "Francis I--" is before a dash

"""Abbreviations: titles ("Dr. Smith", "Mr Jones"), places ("Baker St.", "5th Ave."), Latin ("e.g.",
"etc."), post-nominals ("Jr."), abbreviations read before a number ("No. 5", "p. 12", "Fig. 3") and
month/weekday abbreviations outside a date ("in Jan. and Feb.")."""

from __future__ import annotations

import re
from collections.abc import Callable

from .. import lexicon as lx
from ._context import (
    AT_END,
    Match,
    ends_sentence,
    is_name,
    next_word,
    prev_word,
    spaced,
    sub,
)


def _before_number(m: Match) -> str:
    return spaced(m, lx.BEFORE_NUMBER[m.group(1).lower()] + " ", end=m.end())


_BEFORE_NUMBER = sub(
    r"(?<![\w.])(" + "|".join(sorted(lx.BEFORE_NUMBER, key=len, reverse=True)) + r")\.\s*(?=#?\d|(?-i:(?:[IVXLC]{2,}|[VX])\b))",
    _before_number,
    re.IGNORECASE,
)


def _latin(m: Match) -> str:
    key = m.group(1).lower()
    key = key if key.endswith(".") else key + "."
    words = lx.LATIN.get(key)
    if words is None:
        return m.group(0)
    if m.group(0).endswith(".") and ends_sentence(m.string, m.end()):
        words += "."
    return spaced(m, words)


_LATIN_RE = sub(r"(?<![\w.])(e\.g|i\.e|a\.k\.a|n\.b|p\.s|r\.i\.p|et al)\.?(?![\w])", _latin, re.IGNORECASE)


def _abbreviation(m: Match) -> str:
    """A word followed by a period: expand it if it is a known abbreviation."""
    word = m.group(1)
    key = word.lower()
    s = m.string
    nxt = next_word(s, m.end())
    next_is_name = is_name(nxt) or (nxt.isupper() and nxt.isalpha() and len(nxt) > 1)
    if key in lx.TITLE_OR_PLACE:
        title, place = lx.TITLE_OR_PLACE[key]
        prev = prev_word(s, m.start())
        prev_is_place = (prev[:1].isupper() and prev not in lx.SENTENCE_STARTERS) or prev[:1].isdigit()
        if nxt[:1].isupper() and not (prev_is_place and nxt in lx.SENTENCE_STARTERS):
            return spaced(m, title)  # "Dr. Who", "St. Louis"; but "Baker St. The ..."
        if not (prev_is_place or key == "st"):
            return spaced(m, title + ("." if AT_END.match(s, m.end()) else ""))
        words = place
    elif key in lx.TITLES:
        if key in lx.BARE_TITLES or next_is_name:
            return spaced(m, lx.TITLES[key])
        return m.group(0)
    elif key in lx.POST_NOMINALS:
        words = lx.POST_NOMINALS[key]
    elif _month_outside_date(word, s, m.start()):
        words = lx.PLAIN_ABBREVIATIONS[key]
    elif key in lx.PLAIN_ABBREVIATIONS and not (key in lx.MONTH_BY_NAME or key in _WEEKDAYS):
        words = lx.PLAIN_ABBREVIATIONS[key]
    elif word in ("Vs", "V", "v") and next_is_name:
        return "versus"
    else:
        return m.group(0)
    if ends_sentence(s, m.end()):
        words += "."
    return spaced(m, words)


# "Mar." can be the verb and "Jan." a name: a month abbreviation outside a date is read only with
# a capital and after a word that introduces a time ("in Jan. and Feb.").
_RISKY_MONTHS = frozenset({"mar", "may"})
_MONTH_CUES = frozenset(
    "in of since until till from to by during before after through between and or early late mid last next this every".split()
)


def _month_outside_date(word: str, s: str, start: int) -> bool:
    key = word.lower()
    if key not in lx.MONTH_BY_NAME or key not in lx.PLAIN_ABBREVIATIONS or key in _RISKY_MONTHS:
        return False
    return word[:1].isupper() and prev_word(s, start).lower() in _MONTH_CUES


def _dotted_fixed(words: str) -> Callable[[Match], str]:
    def repl(m: Match) -> str:
        ends = m.group(0).endswith(".") and ends_sentence(m.string, m.end())
        return spaced(m, words + ("." if ends else ""))

    return repl


_WEEKDAYS = frozenset({"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri"})


def _bare_title(m: Match) -> str:
    key = m.group(1).lower()
    if key in lx.TITLE_OR_PLACE:
        return lx.TITLE_OR_PLACE[key][0]
    return lx.TITLES[key]


def _bare_word(m: Match) -> str:
    key = m.group(1).lower()
    return lx.PLAIN_ABBREVIATIONS.get(key) or lx.POST_NOMINALS[key]


def _bare_post_nominal(m: Match) -> str:
    """'Smith Jr' / 'Smith, Sr' -> 'junior' / 'senior'."""
    return m.group(1) + lx.POST_NOMINALS[m.group(2).lower()]


def _title_alternation() -> str:
    forms = set()
    for key in lx.BARE_TITLES:
        forms.update({key.capitalize(), key.upper()})
    return "|".join(sorted(forms, key=len, reverse=True))


_ABBREVIATIONS = (
    _LATIN_RE,
    sub(r"\bPh\.D\.?(?=\W|$)", _dotted_fixed("p h d")),
    sub(r"(?<!\w)([A-Za-z]+)\.(?!\d)", _abbreviation),
    sub(rf"\b({_title_alternation()})\b(?!\.)(?=\s+[A-Z])", _bare_title),
    sub(rf"\b({'|'.join(sorted(lx.BARE_PLAIN))})\b(?![.'])", _bare_word, re.IGNORECASE),
    sub(r"(?<=[A-Za-z])(,?\s)([JS]r)\b(?!\.)(?![\w])", _bare_post_nominal),
)


BEFORE_NUMBER = _BEFORE_NUMBER
RULES = _ABBREVIATIONS

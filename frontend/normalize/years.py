"""Years and decades: a 4-digit number read as a year or as a count by its context ("in 1995",
"a 2019 study", "1500 people"), "'95", and decades ("the 1990s", "the '80s", "100s of people", "1960s-80s")."""

from __future__ import annotations

from .. import lexicon as lx
from .. import numbers as nw
from ._context import Match, needs_digit, next_word, prev_word, spaced, sub


def _decade(m: Match) -> str:
    digits = m.group(1) or m.group(2)
    n = int(digits)
    if n == 0:  # "the '00s"
        return spaced(m, "two thousands")
    words = nw.plural(nw.year(n) if len(digits) == 4 else nw.cardinal(n))
    if words.startswith("one "):  # "100s" -> "hundreds", "1000s" -> "thousands"
        words = words[4:]
    return spaced(m, words)


def _looks_plural(word: str) -> bool:
    if word in lx.IRREGULAR_PLURALS:
        return True
    return word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")) and word not in lx.S_SINGULARS


def _year_or_number(m: Match) -> str:
    s = m.string
    n = int(m.group(1))
    if not 1000 <= n <= 2099:
        return spaced(m, nw.integer(m.group(1)))
    prev = prev_word(s, m.start()).lower()
    strong_cue = prev in lx.YEAR_CUES
    nxt = next_word(s, m.end())
    if 1000 <= n < 1100 and not strong_cue and nxt.lower() not in ("ad", "bc", "bce", "ce"):
        return spaced(m, nw.integer(m.group(1)))
    between = s[m.end() : m.end() + 2]
    followed_by_word = bool(nxt) and nxt[0].islower() and nxt.isalpha() and (between[:1] == " ")
    # "a 2019 study", "his 1995 album": after a determiner only a plural noun makes it a count
    adjective_year = prev in lx.YEAR_DETERMINERS and not _looks_plural(nxt)
    if followed_by_word and not (strong_cue or adjective_year) and nxt not in lx.YEAR_FOLLOWERS:
        return spaced(m, nw.integer(m.group(1)))
    return spaced(m, nw.year(n))


def _apostrophe_year(m: Match) -> str:
    return spaced(m, nw.two_digit_year(m.group(1)))


_DECADE = r"(?:'\d0|\d{2,3}0|\d0)'?s(?![\w'])"
DECADES = needs_digit(
    sub(rf"(?<![\w.,'])({_DECADE})\s?-\s?(?={_DECADE})", r"\1 to "),  # "1960s-80s" -> "... to ..."
    sub(r"(?<![\w.,'])(?:'(\d0)|(\d{3}0|\d{2}0|\d0))'?s(?![\w'])", _decade),
)
RULES = needs_digit(
    sub(r"(?<![\w.,$-])(\d{4})(?![\w]|[.,]\d)", _year_or_number),
    sub(r"(?<![\w'])'(\d{2})(?![\w'])", _apostrophe_year),
)

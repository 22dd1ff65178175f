"""Helpers every semiotic-class module shares: building a rule, spacing a reading, looking at the words
around a match.

A rule is a function `str -> str` (a compiled pattern's `sub`); the pattern recognizes a span of one
class and its replacement function reads it. Context is looked at only within `CONTEXT` characters of
the match, which keeps every rule linear in the length of the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .. import lexicon as lx

Match = re.Match
Rule = Callable[[str], str]

CONTEXT = 48  # characters of context the rules look at; keeps every rule linear in the text


def sub(pattern: str, repl: Callable[[Match], str] | str, flags: int = 0) -> Rule:
    """A rule: every match of `pattern` replaced by `repl`."""
    # ASCII: the kept symbols (² µ £ ...) are not word characters for \w, \b, \d
    compiled = re.compile(pattern, flags | re.ASCII)
    return lambda text: compiled.sub(repl, text)


def needs_digit(*rules: Rule) -> tuple[Rule, ...]:
    """Mark rules that can only change a text holding a digit: `normalize` skips them for text without
    digits (most prose), which keeps it fast. Rules never add digits, so the check is made once.
    tests/test_normalize_properties.py checks the marks."""
    for rule in rules:
        rule.needs_digit = True  # type: ignore[attr-defined]
    return rules


def spaced(m: Match, words: str, start: int | None = None, end: int | None = None) -> str:
    """`words` with a space on a side where the replaced text touched a letter or digit."""
    s = m.string
    start = m.start() if start is None else start
    end = m.end() if end is None else end
    left = " " if start > 0 and s[start - 1].isalnum() else ""
    right = " " if end < len(s) and s[end].isalnum() else ""
    return left + words + right


_NEXT_WORD = re.compile(r"[\s\"'(]*([A-Za-z0-9][\w'-]*)", re.ASCII)
_PREV_WORD = re.compile(r"([A-Za-z0-9][\w'-]*)[\s\"',]*$", re.ASCII)


def next_word(s: str, end: int) -> str:
    m = _NEXT_WORD.match(s, end, min(len(s), end + CONTEXT))
    return m.group(1) if m else ""


def prev_word(s: str, start: int) -> str:
    m = _PREV_WORD.search(s, max(0, start - CONTEXT), start)
    return m.group(1) if m else ""


_WORD_BEFORE = re.compile(r"([A-Za-z0-9][\w'-]*)[\s\"',():.#]*$", re.ASCII)


def prev_words(s: str, start: int, n: int = 2) -> list[str]:
    """Up to `n` words before `start`, nearest first, across spaces, quotes, parentheses and ",:.#"."""
    words: list[str] = []
    pos = start
    for _ in range(n):
        m = _WORD_BEFORE.search(s, max(0, pos - CONTEXT), pos)
        if not m:
            break
        words.append(m.group(1))
        pos = m.start()
    return words


AT_END = re.compile(r"[\s\"')\]]*$", re.ASCII)


def ends_sentence(s: str, end: int) -> bool:
    """After an abbreviation's period at `end`: does the sentence end there?"""
    if AT_END.match(s, end):
        return True
    nxt = next_word(s, end)
    return nxt in lx.SENTENCE_STARTERS and s[end : end + 1].isspace()


def is_name(word: str) -> bool:
    return bool(word) and word[0].isupper() and word.isalpha() and word not in lx.SENTENCE_STARTERS


_WORD_AFTER = re.compile(r" +([a-z][a-z'-]*)", re.ASCII)
_NOT_NOUNS = frozenset("and or nor of to in on at for per each a an the than but".split())


def attributive(m: Match) -> bool:
    """'a $20 bill', 'a 5 km run': after "a"/"an" and before a noun the amount is an adjective,
    and the unit or currency is said in the singular."""
    if prev_word(m.string, m.start()).lower() not in ("a", "an"):
        return False
    after = _WORD_AFTER.match(m.string, m.end())
    return bool(after) and after.group(1) not in _NOT_NOUNS

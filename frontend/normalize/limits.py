"""Degenerate text: what no reader would say in full is shortened, with a warning.

* A run of more than `MAX_RUN` of one letter or symbol ("aaaa...a", "$$$$$$$$$$$$") is cut to three
  (emphasis such as "Nooooo" is left alone); punctuation runs are tidied by the final clean-up anyway.
* A run of more than `MAX_DIGITS` digits is cut to its first `MAX_DIGITS` (400 digits would take over
  a minute and a half to say).
* A token (characters between spaces) longer than `MAX_TOKEN` is cut to its first `MAX_TOKEN`
  characters; a URL or e-mail address is further read only up to about 300 characters of speech
  (`electronic.MAX_READING`): a 3,000-character URL takes well under 30 s to say.
* Braces that do not enclose an ARPAbet block (`{{{...}}}`, "{not phones}") are dropped.
Each kind of shortening logs one warning per call through the "frontend" logger.
"""

from __future__ import annotations

import re

from ..reports import warn

MAX_RUN = 10
MAX_DIGITS = 40
MAX_TOKEN = 120

_RUN = re.compile(r"([^\d\s.,;:!?'\"()\[\]-])\1{%d,}" % MAX_RUN)
_DIGITS = re.compile(r"\d{%d,}" % (MAX_DIGITS + 1))
_TOKEN = re.compile(r"\S{%d,}" % (MAX_TOKEN + 1))
_BRACE = re.compile(r"[{}]")


def shorten(text: str) -> str:
    """Cut repeated-character runs, digit runs and tokens that are too long (see the module docstring)."""
    text, runs = _RUN.subn(lambda m: m.group(1) * 3, text)
    if runs:
        warn("normalize: shortened %d run(s) of one repeated character to three", runs)
    text, digit_runs = _DIGITS.subn(lambda m: m.group(0)[:MAX_DIGITS], text)
    if digit_runs:
        warn("normalize: cut %d run(s) of more than %d digits to the first %d", digit_runs, MAX_DIGITS,
                       MAX_DIGITS)
    longest = 0

    def cut(m: re.Match) -> str:
        nonlocal longest
        longest = max(longest, len(m.group(0)))
        return m.group(0)[:MAX_TOKEN]

    text, tokens = _TOKEN.subn(cut, text)
    if tokens:
        warn("normalize: cut %d token(s) of up to %d characters to their first %d", tokens, longest,
                       MAX_TOKEN)
    return text


def drop_braces(parts: list[str]) -> list[str]:
    """Braces left in the text between ARPAbet blocks are no block: dropped (they used to be read as
    parentheses), with one warning."""
    dropped = 0
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0 and ("{" in part or "}" in part):
            part, n = _BRACE.subn(" ", part)
            dropped += n
        out.append(part)
    if dropped:
        warn("normalize: dropped %d brace(s) that enclose no ARPAbet block; ARPAbet blocks hold "
                       "upper-case phones, e.g. '{HH AH0 L OW1}'", dropped)
    return out

"""Fixed readings of mixed-case words and symbol combinations ("C++", "AT&T", "24/7", "w/o")."""

from __future__ import annotations

import re

from .. import lexicon as lx
from ._context import Match, spaced

# one leading look-behind for the whole alternation (a look-behind per branch is 5x slower)
_SPECIALS = re.compile(
    r"(?<!\w)(?:" + "|".join(re.escape(k) for k in sorted(lx.SPECIAL_WORDS, key=len, reverse=True)) + ")", re.ASCII
)


def specials(text: str) -> str:
    def repl(m: Match) -> str:
        key, end = m.group(0), m.end()
        if key[-1].isalnum() and end < len(m.string) and (m.string[end].isalnum() or m.string[end] == "_"):
            return key  # "9/11th", "PhDx": not the special word
        return spaced(m, lx.SPECIAL_WORDS[key])

    return _SPECIALS.sub(repl, text)

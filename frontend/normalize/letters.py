"""Initialisms and acronyms: known initialisms spelled ("FBI" -> "f b i", "U.S.A."), known acronyms
read as words ("NASA"), other all-caps words by whether they look pronounceable; initials ("J. Smith")."""

from __future__ import annotations

import re

from .. import lexicon as lx
from ._context import Match, ends_sentence, next_word, prev_word, spaced, sub

_VOWELS = frozenset("aeiouy")
_ONSETS = frozenset(
    """
    b bl br c ch chr cl cr d dr dw f fl fr g gl gn gr gu h j k kh kl kn kr l m n p ph pl pr ps qu
    r rh s sc sch scr sh shr sk sl sm sn sp sph spl spr squ st str sw t th thr tr ts tw v w wh wr
    x y z zh
    """.split()
)
_CODA_TRIPLES = frozenset("rld nds nts rst rts ght nch tch sts rch lds rds nks ngs rms lts mps nth ngth".split())
# final pairs that take a plural "s": "STOCKS", "WORKS", "FACTS"
_CODA_PAIRS = frozenset("ck ct ft ld lf lk lm lp lt mp nd ng nk nt pt rb rd rf rg rk rl rm rn rp rt sk sp st th ph gh".split())
_VOWEL_RUN = re.compile(r"[aeiouy]+", re.ASCII)


def _valid_coda(coda: str) -> bool:
    if len(coda) <= 2 or coda in _CODA_TRIPLES:
        return True
    base = coda[:-1]
    return coda.endswith("s") and (base in _CODA_PAIRS or base in _CODA_TRIPLES)


def pronounceable(word: str) -> bool:
    """Rough check that an all-caps token can be read as a word (NASA, SCUBA) rather than spelled."""
    w = word.lower()
    if len(w) < 2 or not _VOWELS.intersection(w.lstrip("y")):
        return False
    runs = [r for r in re.split(r"[aeiou]+|(?<=[^aeiou])y", w)]
    onset, coda = runs[0], runs[-1]
    if onset and onset not in _ONSETS:
        return False
    if not _valid_coda(coda):
        return False
    if any(len(r) > 3 for r in runs[1:-1]):
        return False
    return all(len(v) <= 2 for v in _VOWEL_RUN.findall(w.replace("y", "a")))


def _spell(word: str) -> str:
    return " ".join(word.lower())


def _dotted(m: Match) -> str:
    letters = m.group(1).replace(".", "")
    words = _spell(letters)
    if m.group(0).endswith(".") and ends_sentence(m.string, m.end()):
        words += "."
    return spaced(m, words)

def _initial(m: Match) -> str:
    nxt = next_word(m.string, m.end())
    if nxt in lx.SENTENCE_STARTERS:
        return m.group(0)
    return m.group(1)


def _shouted(s: str, start: int, end: int) -> bool:
    prev = prev_word(s, start)
    nxt = next_word(s, end)
    return any(w.isupper() and w.isalpha() and len(w) > 1 for w in (prev, nxt))


def _acronym(m: Match) -> str:
    word, suffix = m.group(1), m.group(2) or ""
    if word in lx.ACRONYM_WORDS:
        words = lx.ACRONYM_WORDS[word]
        spelled = " " in words and len(words) == 2 * len(word) - 1
    elif word in lx.INITIALISMS and not (_shouted(m.string, m.start(), m.end()) and word in ("IT", "US", "AM")):
        words, spelled = _spell(word), True
    elif pronounceable(word) and (len(word) >= 4 or _shouted(m.string, m.start(), m.end())):
        words, spelled = word.lower(), False
    else:
        words, spelled = _spell(word), True
    if suffix == "s":
        suffix = "'s" if spelled else "s"
    return spaced(m, words + suffix.lower())


DOTTED = sub(r"(?<![\w.])((?:[A-Za-z]\.)+[A-Za-z])\.?(?![\w])", _dotted)
RULES = (
    sub(r"(?<![\w.])([A-Z])\.(?=\s+[A-Z])", _initial),
    sub(r"(?<![\w'])([A-Z]{2,})('[sS]|s)?(?![\w'])", _acronym),
)

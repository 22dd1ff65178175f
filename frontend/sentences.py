"""Split long text into chunks Tacotron 2 can read: sentences, then clauses, then words.

Works on raw and on normalized text. Abbreviations ("Dr.", "e.g.", "U.S.A.") and decimals do
not end sentences; `{ARPAbet}` blocks are kept whole; a line starting with a bullet or a list
number ("1. Apples") starts a chunk, and its "1." is no sentence end. Chunks keep every word of the input in
order (whitespace collapsed); only a single word longer than `max_chars` is cut.
"""

from __future__ import annotations

import re

from . import lexicon as lx

_PARAGRAPHS = re.compile(r"\n[ \t]*\n\s*")
# a line that starts with a bullet or a list number ("1.", "2)") starts a new chunk
_LIST_ITEM_LINE = re.compile(r"\n(?=[ \t]*(?:[*+\-\u2022]|\d{1,2}[.)])[ \t]+\S)")
_LIST_NUMBER = re.compile(r"\d{1,2}[.)]")
_TOKEN = re.compile(r"(?:\{[^{}]*\}|[^\s{])+|\{")
_CLOSERS = "\"')]}"
_OPENERS = "\"'([{"
# Abbreviations that never end a sentence (titles, "e.g.", "No. 5")
_NEVER_END = frozenset(
    {*lx.TITLES, *lx.BEFORE_NUMBER, "e.g", "i.e", "vs", "v", "cf", "viz", "approx", "ca", "c", "al",
     "mr", "mrs", "ms", "prof", "a.k.a"}
) - {"no", "ed", "art", "ref", "op", "ep", "sec", "pt", "fr", "rep", "gen", "col", "det", "maj", "hon"}
_MAYBE_END = frozenset({*lx.PLAIN_ABBREVIATIONS, *lx.POST_NOMINALS, "dr", "st"})
_DOTTED = re.compile(r"(?:[A-Za-z]\.)*[A-Za-z]")
_CLAUSE_END = re.compile(r"[,;:][\"')\]]*$")


def _core(token: str) -> str:
    return token.rstrip(_CLOSERS)


def _ends_sentence(token: str, nxt: str | None) -> bool:
    if nxt is None:
        return True
    core = _core(token)
    if core.endswith(("!", "?")):
        return True
    if not core.endswith(".") or core.endswith(".."):
        return core.endswith("...")
    word = core[:-1].lstrip(_OPENERS)
    key = word.lower()
    next_word = nxt.lstrip(_OPENERS)
    if key in _NEVER_END or (key in lx.BEFORE_NUMBER and next_word[:1].isdigit()):
        return False
    if key in _MAYBE_END:
        return next_word[:1].isupper() and (key not in ("dr", "st") or next_word in lx.SENTENCE_STARTERS)
    if len(word) == 1 and word.isupper() or ("." in word and _DOTTED.fullmatch(word)):
        return next_word in lx.SENTENCE_STARTERS  # "J. K. Rowling", "the U.S. Army" vs "in the U.S. The"
    return True


def _sentences(tokens: list[str], list_item: bool = False) -> list[list[str]]:
    """`list_item`: the tokens are one line of a list, so a leading "1." is its label, no sentence end."""
    out: list[list[str]] = []
    current: list[str] = []
    for i, token in enumerate(tokens):
        current.append(token)
        if i == 0 and list_item and _LIST_NUMBER.fullmatch(token) and len(tokens) > 1:
            continue
        if _ends_sentence(token, tokens[i + 1] if i + 1 < len(tokens) else None):
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _clauses(tokens: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    current: list[str] = []
    for token in tokens:
        if current and (token.startswith("(") or token in ("-", "--")):
            out.append(current)
            current = []
        current.append(token)
        if _CLAUSE_END.search(token) or token.endswith(")") or token in ("-", "--"):
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _cut_word(word: str, max_chars: int) -> list[str]:
    """A single word longer than max_chars: ARPAbet blocks split between phones, others hard."""
    if word.startswith("{") and word.endswith("}") and max_chars >= 3:
        pieces, current = [], []
        for phone in word[1:-1].split():
            if current and len(" ".join(current + [phone])) + 2 > max_chars:
                pieces.append("{" + " ".join(current) + "}")
                current = []
            current.append(phone)
        pieces.append("{" + " ".join(current) + "}")
        if all(len(p) <= max_chars for p in pieces):
            return pieces
    return [word[i : i + max_chars] for i in range(0, len(word), max_chars)]


def _pack(groups: list[list[str]], max_chars: int) -> list[str]:
    """Greedily join groups of tokens into chunks of at most max_chars."""
    chunks: list[str] = []
    current = ""
    for group in groups:
        text = " ".join(group)
        if len(text) > max_chars:
            if current:
                chunks.append(current)
                current = ""
            if len(group) > 1:
                chunks += _pack([[t] for t in group], max_chars)
            else:
                chunks += _cut_word(text, max_chars)
            continue
        candidate = f"{current} {text}" if current else text
        if len(candidate) <= max_chars:
            current = candidate
        else:
            chunks.append(current)
            current = text
    if current:
        chunks.append(current)
    return chunks


def split_sentences(text: str, max_chars: int = 180) -> list[str]:
    """Split text into sentences; sentences longer than max_chars into clause/word chunks."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    chunks: list[str] = []
    blocks = [(block, i > 0 or bool(_LIST_NUMBER.match(block.lstrip())))
              for paragraph in _PARAGRAPHS.split(text)
              for i, block in enumerate(_LIST_ITEM_LINE.split(paragraph))]
    for block, list_item in blocks:
        for sentence in _sentences(_TOKEN.findall(block), list_item):
            joined = " ".join(sentence)
            if len(joined) <= max_chars:
                chunks.append(joined)
            else:
                chunks += _pack(_clauses(sentence), max_chars)
    return chunks

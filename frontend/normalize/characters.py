"""Characters: Unicode -> ASCII (keeping or spelling out the symbols the class rules read), list-item
markers at line starts, and separators ("_", a missing space after a period)."""

from __future__ import annotations

import re
import unicodedata
from types import MappingProxyType

from unidecode import unidecode

from ..reports import warn
from ._context import CONTEXT, Match, sub

_KEEP = "£€¥₹₩₽¢°²³µ×"
_CHAR_MAP = MappingProxyType({
    **{c: c for c in _KEEP},
    "μ": "µ", "−": " minus ", "–": "-", "‒": "-", "‐": "-", "‑": "-", "—": " - ", "―": " - ",
    "…": "...", "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"',
    "‟": '"', "″": '"', "«": '"', "»": '"', "÷": " divided by ", "±": " plus or minus ",
    "∓": " minus or plus ", "≈": " approximately ", "≠": " not equal to ",
    "≤": " less than or equal to ", "≥": " greater than or equal to ", "∞": " infinity ",
    "√": " square root of ", "→": " to ", "⇒": " implies ", "←": " from ", "‰": " per mille ",
    "©": " copyright ", "®": " ", "™": " ", "§": " section ", "¶": " paragraph ", "•": ", ",
    "·": " ", "◦": ", ", "▪": ", ", "●": ", ", "†": " ", "‡": " ", "№": " number ",
    "℃": "°C", "℉": "°F", "Ω": " ohms ", "\u00a0": " ", "¡": " ", "¿": " ",
    **{c: f"^{d}" for c, d in zip("⁰¹⁴⁵⁶⁷⁸⁹", "01456789")},  # ² and ³ are kept: "m²", "x³"
})
_NON_ASCII = re.compile(r"[^\x00-\x7f]+", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", re.ASCII)
_PARAGRAPH = re.compile(r"(?<=[A-Za-z0-9)])[ \t]*\n[ \t]*\n\s*", re.ASCII)
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+(?=[,;:!?]|\.(?!\d))", re.ASCII)
_WEAK_BEFORE_STRONG = re.compile(r"[,;:]+(?=[.!?])", re.ASCII)  # "word,." -> "word."
_GREEK = "GREEK SMALL LETTER ", "GREEK CAPITAL LETTER "


def _greek_name(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    for prefix in _GREEK:
        if name.startswith(prefix) and " " not in name[len(prefix) :]:
            return name[len(prefix) :].lower()
    return None


def to_ascii(text: str) -> str:
    """Fold to ASCII: kept symbols stay, lone Greek letters are named, unreadable characters become
    spaces (logged), control characters spaces, a blank line a sentence end."""
    unreadable: list[str] = []

    def run(m: Match) -> str:
        s = m.string
        out = []
        for i in range(m.start(), m.end()):
            ch = s[i]
            mapped = _CHAR_MAP.get(ch)
            if mapped is not None:
                out.append(mapped)
                continue
            greek = _greek_name(ch)
            if greek is not None and not (i > 0 and s[i - 1].isalpha()) and not (i + 1 < len(s) and s[i + 1].isalpha()):
                out.append(f" {greek} ")  # a lone Greek letter is a symbol: "π" -> "pi"
                continue
            ascii_ = unidecode(ch)
            if ascii_ and ascii_ != "[?]":
                out.append(ascii_)
            elif unicodedata.category(ch)[0] in "MC" or unicodedata.category(ch) == "Zs":
                out.append("" if unicodedata.category(ch)[0] in "MC" else " ")
            else:
                unreadable.append(ch)
                out.append(" ")
        return "".join(out)

    text = _NON_ASCII.sub(run, text)
    if unreadable:
        shown = "".join(dict.fromkeys(unreadable))[:40]
        warn("normalize: cannot read %d character(s) %r; replaced by spaces", len(unreadable), shown)
    text = _CONTROL.sub(" ", text)
    text = _PARAGRAPH.sub(". ", text)
    # "Mr ." reads as "Mr.": the final clean-up would glue them, so glue them before the rules
    text = _SPACE_BEFORE_PUNCTUATION.sub("", text)
    return _WEAK_BEFORE_STRONG.sub("", text)


# ------------------------------------------------------------------------------------------------
# List items: "* milk" / "- milk" / "1. milk" / "2) eggs" at the start of a line

_LIST_MARKER = r"[ \t]*(?:[*+-]|(\d{1,2})[.)])[ \t]+(?=\S)"  # group 1: the item's number
_LIST_ITEM = re.compile(r"^" + _LIST_MARKER, re.ASCII | re.MULTILINE)
_LIST_ITEM_AFTER_NEWLINE = re.compile(r"(?<=\n)" + _LIST_MARKER, re.ASCII)
_LAST_CHARACTER = re.compile(r"(\S)\s*$", re.ASCII)


def _list_item(m: Match) -> str:
    """Each item is its own sentence, and its number is a label: "1. Apples" -> "1, Apples"
    ("one, apples"), not "one. apples"; a bullet is silent (and never "times")."""
    before = _LAST_CHARACTER.search(m.string, max(0, m.start() - CONTEXT), m.start())
    new_paragraph = before and m.string.count("\n", before.end(1), m.start()) > 1  # gets its stop later
    stop = ". " if before and before.group(1).isalnum() and not new_paragraph else " "
    return stop + (m.group(1) + ", " if m.group(1) else "")


def list_items(text: str, at_line_start: bool) -> str:
    """`at_line_start`: the text starts a line (a piece after an ARPAbet block does not)."""
    return (_LIST_ITEM if at_line_start else _LIST_ITEM_AFTER_NEWLINE).sub(_list_item, text)


# "end.Next" (after URLs are read); outside addresses "_" only separates words ("\w" rules must not see it)
MISSING_SPACE = sub(r"(?<=[a-z])\.(?=[A-Z][a-z])", ". ")
UNDERSCORE = sub(r"_+", " ")

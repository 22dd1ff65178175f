"""Text <-> symbol ids for NVIDIA's Tacotron 2 (148 symbols, no EOS).

`{...}` blocks are ARPAbet: each whitespace-separated token is looked up as `@TOKEN`
(case-sensitive). Unlike NVIDIA's code, an unknown token is an error instead of being dropped,
and a character outside the table becomes a space (logged) instead of vanishing and merging
the words around it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .normalize import normalize as _normalize
from .reports import warn
from .symbols import LETTERS, SPACE_ID, SYMBOL_TO_ID, symbols


class NothingToSay(ValueError):
    """The text is empty or has nothing to speak (no letter, digit or phone): a pause at most."""


_BRACES = re.compile(r"\{([^{}]*)\}")
_SPEAKABLE_IDS = frozenset(SYMBOL_TO_ID[c] for c in LETTERS) | frozenset(range(64, len(symbols)))


def _arpabet_ids(content: str) -> list[int]:
    tokens = content.split()
    if not tokens:
        raise ValueError("empty ARPAbet block '{}'")
    ids = []
    for token in tokens:
        i = SYMBOL_TO_ID.get("@" + token)
        if i is None:
            raise ValueError(
                f"unknown ARPAbet symbol {token!r} in '{{{content}}}'; ARPAbet blocks hold upper-case "
                "CMUdict phones with optional stress digits, e.g. '{HH AH0 L OW1}'"
            )
        ids.append(i)
    return ids


def _char_ids(text: str) -> list[int]:
    ids = []
    unknown = []
    for ch in text:
        i = SYMBOL_TO_ID.get(ch)
        if i is None or ch == "_":  # "_" is the pad symbol, never text
            unknown.append(ch)
            i = SPACE_ID
        ids.append(i)
    if unknown:
        warn("text_to_sequence: %r not in the symbol table; encoded as spaces", "".join(dict.fromkeys(unknown)))
    return ids


_UNCLOSED = re.compile(r"\{([^{}\n]*)")  # once the closed blocks are cut out: a "{" that no "}" closes
_TOKEN_EDGES = "\"'.,;:!?()[]"


def _looks_like_arpabet(content: str) -> bool:
    """Do the words after an unclosed "{" read as phones? All of them are ARPAbet symbols, or the leading
    ones are and one carries a stress digit ("{HH AH0", "{HH AH0 L OW1 world"). Ordinary text after a
    stray brace ("{a", "{The end") is not: normalization reads such a brace as a parenthesis."""
    tokens = [t.strip(_TOKEN_EDGES) for t in content.split()]
    leading = []
    for token in tokens:
        if "@" + token not in SYMBOL_TO_ID:
            break
        leading.append(token)
    return bool(leading) and (len(leading) == len(tokens) or any(t[-1].isdigit() for t in leading))


def check_arpabet(text: str) -> None:
    """Raise ValueError for a malformed, unknown or unclosed `{ARPAbet}` block in raw text.

    Call it before normalization, which would otherwise read a bad block as words in parentheses.
    An unclosed "{" followed by phones ("{HH AH0") is an error too; a stray "{" or "}" in ordinary
    text is left to normalization (read as a parenthesis).
    """
    for m in _BRACES.finditer(text):
        _arpabet_ids(m.group(1))
    for m in _UNCLOSED.finditer(_BRACES.sub(" ", text)):
        if _looks_like_arpabet(m.group(1)):
            block = " ".join(m.group(1).split())
            raise ValueError(
                f"unclosed ARPAbet block '{{{block}': add the closing '}}', e.g. '{{HH AH0 L OW1}}'"
            )


def text_to_sequence(text: str, normalize: bool = True, date_order: str = "mdy") -> list[int]:
    """Encode text as symbol ids; `normalize=False` encodes the characters as they are.

    `date_order` ("mdy" or "dmy") is passed to `normalize` (how an ambiguous 11/05/2023 is read).

    Raises `NothingToSay` (a ValueError) for empty text or text with nothing speakable (no letter
    or phone), and a plain ValueError for malformed or unknown ARPAbet blocks.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not text.strip():
        raise NothingToSay("text is empty")
    check_arpabet(text)
    original = text
    if normalize:
        text = _normalize(text, date_order=date_order)
    ids: list[int] = []
    pos = 0
    for m in _BRACES.finditer(text):
        ids += _char_ids(text[pos : m.start()])
        ids += _arpabet_ids(m.group(1))
        pos = m.end()
    ids += _char_ids(text[pos:])
    if not _SPEAKABLE_IDS.intersection(ids):
        raise NothingToSay(f"nothing speakable in {original!r} (no letters or ARPAbet phones)")
    return ids


def sequence_to_text(ids: Iterable[int]) -> str:
    """Decode ids; runs of ARPAbet symbols become one `{...}` block."""
    out: list[str] = []
    phones: list[str] = []
    for raw in ids:
        i = int(raw)
        if not 0 <= i < len(symbols):
            raise ValueError(f"symbol id {i} out of range 0..{len(symbols) - 1}")
        s = symbols[i]
        if s.startswith("@"):
            phones.append(s[1:])
            continue
        if phones:
            out.append("{" + " ".join(phones) + "}")
            phones = []
        out.append(s)
    if phones:
        out.append("{" + " ".join(phones) + "}")
    return "".join(out)

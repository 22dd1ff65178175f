"""Opt-in, exact reproduction of NVIDIA Tacotron 2's text processing.

NVIDIA/tacotron2 turns text into symbol ids with `english_cleaners` followed by
`text_to_sequence`. Its published checkpoints were trained on exactly that, so a user who wants
NVIDIA's outputs id for id needs the same readings, including the odd ones. This module
reproduces them on purpose; the project's own `frontend.normalize` / `frontend.text_to_sequence`
remain the default and are not affected.

Reproduced quirks (all deliberate; see tests/test_frontend_nvidia.py for the measured table):

* unidecode runs before anything else, so "£2" becomes "pstwo" (the pound rule never fires),
  "€20" becomes "eurtwenty" and "—" becomes "--".
* 1001-2999 read like years ("1234" -> "twelve thirty-four"); other integers keep inflect's
  group commas ("12345" -> "twelve thousand, three hundred forty-five").
* The part of a decimal after the point is read as an integer ("3.14159" -> "three point
  fourteen thousand, one hundred fifty-nine").
* Ordinals keep inflect's "and" ("101st" -> "one hundred and first"); cardinals do not.
* Abbreviations need their period and "St." is always "saint".
* Whitespace runs become one space but the ends are not stripped; characters outside the symbol
  table vanish without leaving a space ("a % b" -> two spaces in a row).
* `{...}` ARPAbet blocks are looked up case-sensitively, unknown phones are dropped silently, and
  the block matching does not cross a line break (see `nvidia_text_to_sequence`).

Outputs are the same as NVIDIA's code run with the `inflect` and `unidecode` versions installed
here; NVIDIA pinned inflect 0.2.5 / Unidecode 1.0.22, which gave the same text on every case we
measured.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import inflect
from unidecode import unidecode

from .symbols import SYMBOL_TO_ID

__all__ = ["english_cleaners", "nvidia_text_to_sequence"]

# --- numbers -----------------------------------------------------------------------------------

# inflect's number_to_words keeps its keyword arguments on the engine for the duration of a call,
# so an engine shared between threads could mix up `andword`/`zero`: every call of english_cleaners
# makes its own (half a microsecond), and the passes below receive it.
Engine = inflect.engine


def _drop_commas(m: re.Match[str], _: Engine) -> str:
    # "1,000,000" -> "1000000"; also "1,5" -> "15" (any comma between digits goes).
    return m.group(0).replace(",", "")


def _dollars(m: re.Match[str], _: Engine) -> str:
    """"$3.50" -> "3 dollars, 50 cents" (digits are read later by the integer pass)."""
    amount = m.group(1)
    parts = amount.split(".")
    if len(parts) > 2:
        # NVIDIA's "unexpected format" branch: "$1.2.3" -> "1.2.3 dollars", whose digits the
        # decimal and integer passes then read as "one point two.three dollars".
        return f"{amount} dollars"
    try:
        whole = int(parts[0]) if parts[0] else 0
        cents = int(parts[1]) if len(parts) > 1 and parts[1] else 0
    except ValueError:
        # A comma the comma pass left behind ("$,5", "$1.,5"): NVIDIA's code dies here too.
        raise ValueError(f"NVIDIA's english_cleaners cannot read the amount '${amount}'") from None
    dollar_word = "dollar" if whole == 1 else "dollars"
    cent_word = "cent" if cents == 1 else "cents"
    if whole and cents:
        return f"{whole} {dollar_word}, {cents} {cent_word}"
    if whole:
        return f"{whole} {dollar_word}"
    if cents:
        return f"{cents} {cent_word}"
    return "zero dollars"


def _decimal(m: re.Match[str], _: Engine) -> str:
    # Only the point becomes a word; both sides stay digits for the integer pass.
    return m.group(0).replace(".", " point ")


def _pounds(m: re.Match[str], _: Engine) -> str:
    return f"{m.group(1)} pounds"  # never fires after unidecode ("£" is "PS" by then); kept as NVIDIA has it


def _ordinal(m: re.Match[str], engine: Engine) -> str:
    # inflect is given the digits with their suffix and no andword: "101st" -> "one hundred and first".
    return engine.number_to_words(m.group(0))


def _integer(m: re.Match[str], engine: Engine) -> str:
    n = int(m.group(0))
    if not 1000 < n < 3000:
        # inflect's own grouping commas stay: "twelve thousand, three hundred forty-five".
        return engine.number_to_words(n, andword="")
    if n == 2000:
        return "two thousand"
    if 2000 < n < 2010:
        return "two thousand " + engine.number_to_words(n % 100)
    if n % 100 == 0:
        return engine.number_to_words(n // 100) + " hundred"  # 1900 -> "nineteen hundred"
    # Pairs of digits, a zero said "oh": 1001 -> "ten oh one", 1995 -> "nineteen ninety-five".
    return engine.number_to_words(n, andword="", zero="oh", group=2).replace(", ", " ")


# The passes run in this order over the whole text; each one sees what the previous ones left.
_NUMBER_PASSES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], Engine], str]], ...] = (
    (re.compile(r"[0-9][0-9,]+[0-9]"), _drop_commas),
    (re.compile(r"£([0-9,]*[0-9]+)"), _pounds),
    (re.compile(r"\$([0-9.,]*[0-9]+)"), _dollars),
    (re.compile(r"[0-9]+\.[0-9]+"), _decimal),
    (re.compile(r"[0-9]+(?:st|nd|rd|th)"), _ordinal),
    (re.compile(r"[0-9]+"), _integer),
)


def _expand_numbers(text: str) -> str:
    engine = Engine()
    for pattern, expand in _NUMBER_PASSES:
        text = pattern.sub(lambda m: expand(m, engine), text)
    return text


# --- abbreviations -------------------------------------------------------------------------------

# NVIDIA's list and order. Each needs its period; "mrs" is tried before "mr", and "dr" cannot
# match inside "drs." (the letter after "dr" is not a period), so the order is harmless.
_ABBREVIATIONS = tuple(
    (re.compile(rf"\b{short}\.", re.IGNORECASE), long)
    for short, long in (
        ("mrs", "misess"), ("mr", "mister"), ("dr", "doctor"), ("st", "saint"), ("co", "company"),
        ("jr", "junior"), ("maj", "major"), ("gen", "general"), ("drs", "doctors"),
        ("rev", "reverend"), ("lt", "lieutenant"), ("hon", "honorable"), ("sgt", "sergeant"),
        ("capt", "captain"), ("esq", "esquire"), ("ltd", "limited"), ("col", "colonel"),
        ("ft", "fort"),
    )
)

_WHITESPACE = re.compile(r"\s+")


def english_cleaners(text: str) -> str:
    """NVIDIA's `english_cleaners`: unidecode, lower case, numbers, abbreviations, whitespace.

    Reproduces NVIDIA's readings exactly, quirks included (see the module docstring): "£2" ->
    "pstwo", "1990s" -> "nineteen ninetys", "101st" -> "one hundred and first". Whitespace runs
    become single spaces but leading/trailing spaces are kept. Raises ValueError only where
    NVIDIA's code fails too (a dollar amount with a stray comma, "$,5"); inflect's own error for
    numbers beyond its scale names (about 10**36) passes through, as it does in NVIDIA's code.
    """
    text = unidecode(text).lower()
    text = _expand_numbers(text)
    for pattern, replacement in _ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    return _WHITESPACE.sub(" ", text)


# --- ids -----------------------------------------------------------------------------------------

# Text before a brace block, the block's content (at least one character), the rest. `.` does not
# match a line break, as in NVIDIA's pattern.
_BRACE_BLOCK = re.compile(r"(.*?)\{(.+?)\}(.*)")
_NEVER_KEPT = frozenset("_~")


def _char_ids(cleaned: str) -> list[int]:
    return [SYMBOL_TO_ID[ch] for ch in cleaned if ch in SYMBOL_TO_ID and ch not in _NEVER_KEPT]


def _phone_ids(content: str) -> list[int]:
    return [SYMBOL_TO_ID["@" + phone] for phone in content.split() if "@" + phone in SYMBOL_TO_ID]


def nvidia_text_to_sequence(text: str) -> list[int]:
    """NVIDIA's `text_to_sequence(text, ['english_cleaners'])`, id for id; no EOS is appended.

    Text outside `{...}` goes through `english_cleaners` and each character in the symbol table
    becomes its id; everything else is dropped silently (no error, no space). Brace content is not
    cleaned: it is split on whitespace and each token looked up as "@TOKEN", case-sensitively,
    unknown tokens dropped ("{hh aw1}" -> []). The result may be empty.

    Quirks of NVIDIA's brace matching, reproduced: a block is found only if no line break comes
    before its closing brace; the text after a block is kept only up to the next line break (the
    rest is lost, as in NVIDIA's loop); an unclosed "{" or an empty "{}" is plain text whose braces
    vanish ("{HH AH0" -> "hh ahzero").

    The pad "_" (and "~") in the text is dropped. That is what NVIDIA's `_should_keep_symbol`
    intends and does on CPython 3.6-3.10 and 3.13; its `is not '_'` identity test keeps the "_"
    (id 0) on CPython 3.11 and 3.12. We follow the intended behaviour on every Python.
    """
    ids: list[int] = []
    while text:
        m = _BRACE_BLOCK.match(text)
        if m is None:
            ids += _char_ids(english_cleaners(text))
            break
        before, phones, text = m.groups()
        ids += _char_ids(english_cleaners(before))
        ids += _phone_ids(phones)
    return ids

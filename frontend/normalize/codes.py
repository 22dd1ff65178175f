"""Codes: numbers that name rather than count, read digit by digit.

* After a word that introduces a code (code, PIN, OTP, ZIP, account, order, flight, card ending in,
  confirmation, reference, tracking, ticket, invoice, ...), within a few filler words ("number", "#",
  "is", ":"): "your code is 482913" -> "four eight two nine one three", "order #48213" -> "order number
  four eight two one three", "your otp is ab9453" -> "a b nine four five three".
* Long digit runs inside serials joined by "/" or "-" ("123/261788/2021", "MIG-25/235212-asdg").
* IPv4 addresses, octet by octet ("192.168.0.1" -> "one nine two dot one six eight dot zero dot one"),
  and version numbers ("v2.0.1" -> "version two point oh point one").
Numbers with a leading zero or more than nine digits are read digit by digit wherever they stand
(`numbers.integer`).
"""

from __future__ import annotations

import re

from .. import numbers as nw
from ._context import Match, needs_digit, prev_words, spaced, sub


def _version(m: Match) -> str:
    parts = m.group(2).split(".")
    words = " point ".join("oh" if p == "0" else nw.integer(p) for p in parts)
    return spaced(m, ("version " if m.group(1) else "") + words)


def _ip_address(m: Match) -> str:
    return spaced(m, " dot ".join(nw.digits(p) for p in m.group(0).split(".")))


CODE_WORDS = frozenset(
    """code codes pin pins otp passcode password zip zipcode postcode account acct order flight confirmation
    reference ref tracking ticket invoice serial booking reservation member membership policy routing claim
    transaction ssn extension ext sku voucher coupon receipt customer badge locker ending ends""".split()
)
# words that may stand between the code word and the code: "order number 5", "code: 12", "ending in 4417"
_FILLERS = frozenset("number no num nr is was are # : id code your my will be =".split())


def _spell_code(token: str) -> str:
    """'ab9453' -> 'a b nine four five three'."""
    return " ".join(nw.digits(piece) if piece.isdigit() else " ".join(piece.lower())
                    for piece in re.findall(r"\d+|[A-Za-z]+", token))


def _code(m: Match) -> str:
    """A number (maybe with letters) after a code word, read digit by digit."""
    token = m.group("code")
    before = prev_words(m.string, m.start(), 4)
    words = [w.lower() for w in before]
    for i, word in enumerate(words):
        if word in CODE_WORDS:
            return spaced(m, ("number " if m.group("hash") else "") + _spell_code(token))
        ending_in = word == "in" and i + 1 < len(words) and words[i + 1] in ("ending", "ends")
        if not (word in _FILLERS or ending_in or (before[i].isupper() and len(word) <= 3 and word.isalpha())):
            break  # "flight UA 227": a short all-caps word (an airline) may stand between
    return m.group(0)


_LONG_RUN = re.compile(r"\d{5,}", re.ASCII)


def _serial(m: Match) -> str:
    """A chain of three or more parts, or one with letters: its runs of five or more digits are codes."""
    chain = m.group(0)
    if chain.count("/") + chain.count("-") < 2 and not re.search(r"[A-Za-z]", chain):
        return chain
    return _LONG_RUN.sub(lambda d: " " + nw.digits(d.group(0)) + " ", chain)


RULES = needs_digit(
    sub(r"(?<![\w.])(\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)", _ip_address),
    sub(r"(?<![\w.])([vV])?(\d+(?:\.\d+){2,})(?![\w]|\.\d)", _version),
    sub(r"(?<![\w.])([vV])(\d+(?:\.\d+)?)(?![\w]|\.\d)", _version),
    sub(r"(?<![\w.,$£€¥-])(?P<hash>(?:#|\b(?:[Nn]o|NO|[Nn]r|[Nn]um)\.)\s?)?"
        r"(?P<code>[A-Za-z]{0,4}\d{3,}[A-Za-z0-9]*)(?![\w$%°]|[.,:/-]\d)", _code),
    sub(r"(?<![\w/.-])[A-Za-z0-9]+(?:[/-][A-Za-z0-9]+)+(?![\w/-])", _serial),
)

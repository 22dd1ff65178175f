"""Ordinals: "1st", "22nd", "101st", "1,000th"."""

from __future__ import annotations

from .. import numbers as nw
from ._context import Match, needs_digit, spaced, sub


def _ordinal(m: Match) -> str:
    return spaced(m, nw.ordinal(int(m.group(1).replace(",", ""))))


RULES = needs_digit(sub(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th|ST|ND|RD|TH)(?![A-Za-z])", _ordinal),)

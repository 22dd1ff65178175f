"""Money: amounts with a currency symbol or code ("$3.50", "£2", "20€", "USD 100", "US$5", "$1.2
million", "50¢"), rates ("$20/mo", "$25/hr", "$3.89/gal" -> "... per gallon"), money ranges ("$3-4
million"), and magnitudes without a currency ("5M users", "3bn").

Readings: "$3.50" -> "three dollars and fifty cents"; more than two decimals are read with "point"
("$20.506") unless the extra digits are zeros ("$20.500" is "$20.50"); "US$" names the US dollar ("u s
dollars") while "USD" next to an amount only confirms the dollar sign ("$10 USD" -> "ten dollars").
"""

from __future__ import annotations

from types import MappingProxyType

from .. import lexicon as lx
from .. import numbers as nw
from ._context import Match, attributive, needs_digit, spaced, sub
from .cardinal import say_number
from .measure import PER_WORD, say_per


def say_money(amount: str, symbol: str, magnitude: str | None = None, prefix: str = "", adjective: bool = False) -> str:
    """'3.50', '$' -> 'three dollars and fifty cents'; with a magnitude, '1.2', 'million' -> '... million dollars'.

    `adjective`: the amount qualifies a noun ("a $20 bill"), so a whole amount takes the singular
    ("a twenty dollar bill"); amounts with cents keep the plain reading.
    """
    one, many, sub_one, sub_many = lx.CURRENCIES[symbol]
    if adjective and (magnitude or not amount.partition(".")[2].strip("0")):
        many = one
    if magnitude:
        return f"{say_number(amount)} {lx.MAGNITUDES[magnitude.lower()]} {prefix}{many}"
    whole, _, frac = amount.partition(".")
    if len(frac) > 2 and not frac[2:].strip("0"):  # "$20.500" is "$20.50"
        frac = frac[:2]
        amount = f"{whole}.{frac}"
    whole_n = int(whole.replace(",", "") or "0")
    if frac and (len(frac) > 2 or sub_one is None):
        return f"{nw.decimal(amount)} {prefix}{many}"
    cents = int(frac.ljust(2, "0")) if frac else 0
    main = f"{nw.integer(whole) if whole else 'zero'} {prefix}{one if whole_n == 1 else many}"
    if not cents:
        return main
    cents_words = f"{nw.cardinal(cents)} {sub_one if cents == 1 else sub_many}"
    return cents_words if whole_n == 0 else f"{main} and {cents_words}"


def _rate(m: Match) -> str:
    per = m.group("per")
    return " " + say_per(per) if per else ""


def _money(m: Match) -> str:
    prefix = lx.CURRENCY_PREFIX.get((m.group(1) or "").lower(), "")
    adjective = attributive(m) and not m.group("per")
    return spaced(m, say_money(m.group(3), m.group(2), m.group(4), prefix, adjective) + _rate(m))


def _money_range(m: Match) -> str:
    """'$3-4 million' -> 'three to four million dollars', '$20-30' -> 'twenty to thirty dollars'."""
    prefix = lx.CURRENCY_PREFIX.get((m.group(1) or "").lower(), "")
    symbol, low, high, magnitude = m.group(2), m.group(3), m.group(4), m.group(5)
    high_words = say_money(high, symbol, magnitude, prefix, attributive(m) and not m.group("per")) + _rate(m)
    if not magnitude and "." in low + high:  # "$3.50-4.50": each amount with its cents
        return spaced(m, f"{say_money(low, symbol, None, prefix)} to {high_words}")
    return spaced(m, f"{say_number(low)} to {high_words}")


def _money_after(m: Match) -> str:
    return spaced(m, say_money(m.group(1), m.group(2), adjective=attributive(m) and not m.group("per")) + _rate(m))


def _cents(m: Match) -> str:
    plural = m.group(1) != "1" and not attributive(m)
    return spaced(m, f"{say_number(m.group(1))} cent" + ("s" if plural else ""))


def _code_form(code: str, symbol: str) -> str:
    """'USD' written next to '$': 'US$'; a code that contradicts the symbol is dropped."""
    form = _CURRENCY_CODES[code]
    return form if form.endswith(symbol) else symbol


def _bare_magnitude(m: Match) -> str:
    """'5M users' -> 'five million users', '3bn' -> 'three billion' (no currency: no 'dollars')."""
    return spaced(m, f"{say_number(m.group(1))} {lx.MAGNITUDES[(m.group(2) or m.group(3)).lower()]}")


_MAG_WORDS = r"thousand|million|billion|trillion|[kKmMbBtT]|mn|bn|tn|mm"
_MAG = rf"(?:\s?({_MAG_WORDS})(?![A-Za-z]))"
_MAG_UNCAPTURED = rf"(?:\s?(?:{_MAG_WORDS})(?![A-Za-z]))"
_CURRENCY_CODES = MappingProxyType(
    {"USD": "$", "CAD": "C$", "AUD": "A$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"})
_CODE_ALT = "|".join(_CURRENCY_CODES)
_CURRENCY_SYMBOL = "[$£€¥₹₩₽]"
_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_PER = rf"(?:(?:\s?/\s?|\s+per\s+)(?P<per>{PER_WORD})(?![A-Za-z0-9]))"
_MONEY_RANGES = needs_digit(
    # before the plain ranges turn "$3-4 million" into "$3 to 4 million" (three dollars to four million)
    sub(rf"(?<![A-Za-z])(US|A|AU|C|CA|NZ|HK|S)?({_CURRENCY_SYMBOL})\s?({_AMOUNT})\s?-\s?({_AMOUNT})(?![\d-]|\.\d|/\d){_MAG}?{_PER}?",
        _money_range),
)
_MONEY = needs_digit(
    # "$10 USD" / "USD $10": one currency, said once
    sub(rf"(?<![A-Za-z])({_CURRENCY_SYMBOL})\s?((?:{_AMOUNT}){_MAG_UNCAPTURED}?)\s?({_CODE_ALT})\b",
         lambda m: spaced(m, _code_form(m.group(3), m.group(1)) + m.group(2))),
    sub(rf"\b({_CODE_ALT})\s?({_CURRENCY_SYMBOL})(?=\s?\d)", lambda m: spaced(m, _code_form(m.group(1), m.group(2)))),
    # "USD 100" / "100 USD" -> "US$100", then read like any amount with a symbol
    sub(rf"\b({_CODE_ALT})\s?(?=\d)", lambda m: " " + _CURRENCY_CODES[m.group(1)]),
    sub(rf"(?<![\w.])(\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?({_CODE_ALT})\b",
         lambda m: f" {_CURRENCY_CODES[m.group(2)]}{m.group(1)}"),
    sub(r"(?<![A-Za-z])(US|A|AU|C|CA|NZ|HK|S)?([$£€¥₹₩₽])\s?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
        + _MAG + "?" + _PER + "?", _money),
    sub(r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?:\.\d\d)?|\d+(?:\.\d\d)?)\s?([€£¥₹₩₽])(?!\d)" + _PER + "?", _money_after),
    sub(r"(?<![\w.])(\d+(?:\.\d+)?)\s?¢", _cents),
    # magnitudes without a currency; "K" stays a letter ("a 10K run", "4K video")
    sub(r"(?<![\w.$£€¥₹₩₽])(\d+(?:\.\d+)?)(?:(M)|\s?(mn|bn|Bn|BN|tn))(?![A-Za-z0-9'])", _bare_magnitude),
)

RANGES = _MONEY_RANGES
RULES = _MONEY

"""Number words: cardinals, ordinals, years, digit strings, decimals, fractions.

Every function takes digits as a string (or an int) and returns lower-case words without digits,
commas or the word "and" inside a number (American style: 101 -> "one hundred one").
Number words are the project's own (short scale, hyphenated tens: "twenty-one"), word for word what
`inflect`'s `number_to_words(n, andword="")` without its commas and `ordinal` give (checked in
tests/test_normalize_cardinal.py), without importing inflect (1.6 s). Results are cached because
long texts repeat the same numbers.
"""

from __future__ import annotations

from functools import lru_cache
from types import MappingProxyType

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MAX_CARDINAL_DIGITS = 36  # beyond what people say as a number (and beyond the scale names below)

_UNITS = DIGIT_WORDS + (
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = (
    "", "thousand", "million", "billion", "trillion", "quadrillion", "quintillion", "sextillion", "septillion",
    "octillion", "nonillion", "decillion",
)
# ordinal forms of the last number word; any other word takes "th" ("seventy" -> "seventieth" below)
_ORDINAL_WORDS = MappingProxyType({"one": "first", "two": "second", "three": "third", "five": "fifth",
                                   "eight": "eighth", "nine": "ninth", "twelve": "twelfth"})


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_UNITS[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, unit = divmod(rest, 10)
        words.append(_TENS[tens] + (f"-{_UNITS[unit]}" if unit else ""))
    elif rest:
        words.append(_UNITS[rest])
    return " ".join(words)


@lru_cache(maxsize=8192)
def cardinal(n: int) -> str:
    """1234 -> 'one thousand two hundred thirty-four'; negatives get 'minus'."""
    if n < 0:
        return "minus " + cardinal(-n)
    if len(str(n)) > MAX_CARDINAL_DIGITS:
        return digits(str(n))
    if n == 0:
        return "zero"
    groups = []
    scale = 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            groups.append(_below_thousand(group) + (f" {_SCALES[scale]}" if scale else ""))
        scale += 1
    return " ".join(reversed(groups))


@lru_cache(maxsize=4096)
def ordinal(n: int) -> str:
    """21 -> 'twenty-first', 101 -> 'one hundred first'."""
    words = cardinal(n)
    cut = max(words.rfind(" "), words.rfind("-")) + 1
    head, last = words[:cut], words[cut:]
    if last in _ORDINAL_WORDS:
        return head + _ORDINAL_WORDS[last]
    if last.endswith("y"):
        return head + last[:-1] + "ieth"
    return head + last + "th"


def digits(s: str, zero: str = "zero") -> str:
    """'5551234' -> 'five five five one two three four' (non-digits are ignored)."""
    return " ".join(zero if c == "0" else DIGIT_WORDS[int(c)] for c in s if c in "0123456789")


def plural(words: str) -> str:
    """Pluralise the last number word: 'nineteen ninety' -> 'nineteen nineties', 'six' -> 'sixes'."""
    head, _, last = words.rpartition(" ")
    if last.endswith("y"):
        last = last[:-1] + "ies"
    elif last.endswith(("x", "s")):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last


@lru_cache(maxsize=1024)
def year(n: int) -> str:
    """Read a year the way English speakers do.

    1995 -> nineteen ninety-five, 1905 -> nineteen oh five, 1900 -> nineteen hundred,
    2000 -> two thousand, 2005 -> two thousand five, 2023 -> twenty twenty-three,
    1066 -> ten sixty-six. Years below 1000 and above 9999 are plain cardinals.
    """
    if not 1000 <= n <= 9999 or n % 1000 == 0:
        return cardinal(n)
    if n % 1000 < 10:  # 2005, 1009: "two thousand five"
        return cardinal(n)
    high, low = divmod(n, 100)
    if low == 0:
        return cardinal(high) + " hundred"
    if low < 10:
        return f"{cardinal(high)} oh {cardinal(low)}"
    return f"{cardinal(high)} {cardinal(low)}"


def two_digit_year(s: str) -> str:
    """'95' -> 'ninety-five', '05' -> 'oh five', '00' -> 'oh oh' (as in '12/25/05' or "'05")."""
    n = int(s)
    if n == 0:
        return "oh oh"
    if n < 10:
        return "oh " + cardinal(n)
    return cardinal(n)


def integer(s: str) -> str:
    """Read an integer written with optional thousands commas.

    Strings of more than nine digits without separators (account numbers, IDs) and strings with
    a leading zero ('007') are read digit by digit; everything else as a cardinal.
    """
    plain = s.replace(",", "")
    if not plain:
        return ""
    if (len(plain) > 1 and plain[0] == "0") or ("," not in s and len(plain) > 9):
        return digits(plain)
    return cardinal(int(plain))


def decimal(s: str) -> str:
    """'3.14' -> 'three point one four', '.5' -> 'point five', '1,234.50' -> '... point five zero'."""
    whole, _, frac = s.partition(".")
    parts = []
    if whole:
        parts.append(integer(whole) if whole.replace(",", "") else "zero")
    parts.append("point")
    if frac:
        parts.append(digits(frac))
    return " ".join(parts)


_SPECIAL_DENOMINATORS = MappingProxyType({2: ("half", "halves"), 4: ("quarter", "quarters")})


def fraction(numerator: int, denominator: int) -> str:
    """1/2 -> 'one half', 3/4 -> 'three quarters', 5/8 -> 'five eighths', 7/123 -> 'seven over ...'."""
    if denominator in _SPECIAL_DENOMINATORS:
        one, many = _SPECIAL_DENOMINATORS[denominator]
    elif 3 <= denominator <= 20 or denominator in (32, 64, 100, 1000):
        one = ordinal(denominator)
        many = one + "s"
    else:
        return f"{cardinal(numerator)} over {cardinal(denominator)}"
    return f"{cardinal(numerator)} {one if numerator == 1 else many}"


def mixed_fraction(whole: int, numerator: int, denominator: int) -> str:
    """2 1/2 -> 'two and a half', 1 3/4 -> 'one and three quarters'."""
    part = fraction(numerator, denominator)
    if numerator == 1 and not part.endswith(f" over {cardinal(denominator)}"):
        part = "a " + part.split(" ", 1)[1]
    return f"{cardinal(whole)} and {part}"

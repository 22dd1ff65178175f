"""Cardinals and decimals: the project's own number words (no inflect) and how plain numbers are read."""

import random

import pytest

from frontend import normalize
from frontend import numbers as nw

CASES = [
    ("0", "zero"),
    ("13", "thirteen"),
    ("20", "twenty"),
    ("99", "ninety-nine"),
    ("100", "one hundred"),
    ("110", "one hundred ten"),
    ("999", "nine hundred ninety-nine"),
    ("1,001", "one thousand one"),
    ("10,010", "ten thousand ten"),
    ("100,000", "one hundred thousand"),
    ("2,500,000", "two million five hundred thousand"),
    ("1,000,000,000", "one billion"),
    ("7,000,000,000,000", "seven trillion"),
    ("123,000,012", "one hundred twenty-three million twelve"),
    ("There were 12 of us.", "there were twelve of us."),
    ("-3", "minus three"),
    ("-0.5", "minus zero point five"),
    ("0.004", "zero point zero zero four"),
    ("2.50", "two point five zero"),
    ("3.0", "three point zero"),
    (".75", "point seven five"),
    ("12,345.6", "twelve thousand three hundred forty-five point six"),
    ("Route numbers like 00123", "route numbers like zero zero one two three"),
    ("98765432109", "nine eight seven six five four three two one zero nine"),
    ("about ~20 people", "about about twenty people"),
    ("the 3 of them", "the three of them"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_cardinal(raw, expected):
    assert normalize(raw) == expected


def _sample() -> list[int]:
    rng = random.Random(26)
    return list(range(0, 1200)) + [rng.randrange(10 ** k) for k in range(1, 37) for _ in range(20)]


def test_number_words_match_inflect():
    """`frontend.numbers` reads every number exactly as inflect's number_to_words(andword="") / ordinal
    did before the project dropped the 1.6 s import (inflect stays for frontend.nvidia)."""
    inflect = pytest.importorskip("inflect")
    engine = inflect.engine()
    for n in _sample():
        words = engine.number_to_words(n, andword="").replace(",", "")
        assert nw.cardinal(n) == words
        assert nw.ordinal(n) == engine.ordinal(words)


def test_importing_frontend_does_not_import_inflect():
    import subprocess
    import sys

    code = "import sys, frontend; frontend.normalize('1,234th'); print('inflect' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"

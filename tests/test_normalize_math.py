"""Math: operators, subtraction vs range, negative numbers, the minus sign, ratios, powers."""

import pytest

from frontend import normalize

CASES = [
    ("1-2=5", "one minus two equals five"),
    ("1- 2 = 5", "one minus two equals five"),
    ("7 - 3 = 4", "seven minus three equals four"),
    ("x = 10-4", "x equals ten minus four"),
    ("2+3", "two plus three"),
    ("y=x +1", "y equals x plus one"),
    ("3 × 4 = 12", "three times four equals twelve"),
    ("10 ÷ 2 = 5", "ten divided by two equals five"),
    ("5 − 8 = −3", "five minus eight equals minus three"),
    ("10 − 3", "ten minus three"),
    ("It fell to -12 overnight.", "it fell to minus twelve overnight."),
    ("2^8", "two to the power of eight"),
    ("a 16:9 screen", "a sixteen to nine screen"),
    ("odds of 3:1", "odds of three to one"),
    ("x ≥ 3", "x greater than or equal to three"),
    ("2*8", "two times eight"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_math(raw, expected):
    assert normalize(raw) == expected

"""Ordinals: suffixed numbers read as ordinal words."""

import pytest

from frontend import normalize

CASES = [
    ("0th", "zeroth"),
    ("4th", "fourth"),
    ("5th", "fifth"),
    ("8th", "eighth"),
    ("9th", "ninth"),
    ("11th", "eleventh"),
    ("12th", "twelfth"),
    ("13th", "thirteenth"),
    ("20th", "twentieth"),
    ("23rd", "twenty-third"),
    ("42nd", "forty-second"),
    ("99th", "ninety-ninth"),
    ("100th", "one hundredth"),
    ("111th", "one hundred eleventh"),
    ("1000000th", "one millionth"),
    ("9,000,000th", "nine millionth"),
    ("the 3RD floor", "the third floor"),
    ("her 80th birthday", "her eightieth birthday"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_ordinal(raw, expected):
    assert normalize(raw) == expected

"""Ranges: numbers, years, decades, measures, money, times, days; "to" for the dash."""

import pytest

from frontend import normalize

CASES = [
    ("25-30 minutes", "twenty-five to thirty minutes"),
    ("4-6 people", "four to six people"),
    ("1980-1986", "nineteen eighty to nineteen eighty-six"),
    ("1998-2004", "nineteen ninety-eight to two thousand four"),
    ("1960s-80s", "nineteen sixties to eighties"),
    ("1960s-1980s", "nineteen sixties to nineteen eighties"),
    ("the '80s-'90s", "the eighties to nineties"),
    ("2-5lb", "two to five pounds"),
    ("$250-$300", "two hundred fifty dollars to three hundred dollars"),
    ("9am-5pm", "nine a m to five p m"),
    ("Mon-Fri", "monday to friday"),
    ("Jan 5-7", "january fifth to seventh"),
    ("The vote was 52-48.", "the vote was fifty-two to forty-eight."),
    ("mid-1980s", "mid-nineteen eighties"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_range(raw, expected):
    assert normalize(raw) == expected

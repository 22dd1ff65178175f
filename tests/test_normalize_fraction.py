"""Fractions: proper, improper, mixed, ordinal-suffixed, before units, and a fraction vs a date."""

import pytest

from frontend import normalize

CASES = [
    ("1/3", "one third"),
    ("2/5", "two fifths"),
    ("3/8", "three eighths"),
    ("9/10", "nine tenths"),
    ("1/16", "one sixteenth"),
    ("5/32", "five thirty-seconds"),
    ("22/3", "twenty-two thirds"),
    ("1/4th", "one quarter"),
    ("2/4th", "two quarters"),
    ("1/3RD", "one third"),
    ("3 5/2", "three and five halves"),
    ("2 142/1", "two and one hundred forty-two over one"),
    ("4 1/4", "four and a quarter"),
    ("10 2/3", "ten and two thirds"),
    ("About 2/3 of voters agreed.", "about two thirds of voters agreed."),
    ("Stir in 3/4 cup of sugar.", "stir in three quarters of a cup of sugar."),
    ("Add 1/2 cup of milk.", "add half a cup of milk."),
    ("wait 1/2 hr", "wait half an hour"),
    ("a 1/4-inch gap", "a one quarter-inch gap"),
    ("5/16 inch", "five sixteenths of an inch"),
    ("3/4 of the budget", "three quarters of the budget"),
    # a date by context or shape, not a fraction
    ("due 5/12", "due may twelfth"),
    ("on 2/22", "on february twenty-second"),
    ("(Tue) 3/4", "(tuesday) march fourth"),
    ("moved to 6/9", "moved to june ninth"),
    ("Can we move to 4/9?", "can we move to april ninth?"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_fraction(raw, expected):
    assert normalize(raw) == expected

"""Money: symbols and codes, cents, trailing zeros, magnitudes, rates, ranges."""

import pytest

from frontend import normalize

CASES = [
    ("$2.00", "two dollars"),
    ("$2.000", "two dollars"),
    ("$20.5", "twenty dollars and fifty cents"),
    ("$20.500", "twenty dollars and fifty cents"),
    ("$20.010", "twenty dollars and one cent"),
    ("$0.010", "one cent"),
    ("$20.506", "twenty point five zero six dollars"),
    ("$.01", "one cent"),
    ("$18,925,000", "eighteen million nine hundred twenty-five thousand dollars"),
    ("$15000", "fifteen thousand dollars"),
    ("£1.20", "one pound and twenty pence"),
    ("£2.01", "two pounds and one penny"),
    ("£1.111", "one point one one one pounds"),
    ("€3.99", "three euros and ninety-nine cents"),
    ("₩460 billion", "four hundred sixty billion won"),
    ("¥30b", "thirty billion yen"),
    ("US$76.3 trillion", "seventy-six point three trillion u s dollars"),
    ("US $5", "u s five dollars"),
    ("C$20", "twenty canadian dollars"),
    ("A$1.50", "one australian dollar and fifty cents"),
    ("$10 USD", "ten dollars"),
    ("25 GBP", "twenty-five pounds"),
    # rates
    ("$20/mo", "twenty dollars per month"),
    ("$350/yr", "three hundred fifty dollars per year"),
    ("£10/wk", "ten pounds per week"),
    ("$1/d", "one dollar per day"),
    ("$0.5/hr", "fifty cents per hour"),
    ("$25 per hr", "twenty-five dollars per hour"),
    ("$3.89/gal", "three dollars and eighty-nine cents per gallon"),
    ("$12/kg", "twelve dollars per kilogram"),
    ("$99/night", "ninety-nine dollars per night"),
    ("€15/person", "fifteen euros per person"),
    ("$5-10/hr", "five to ten dollars per hour"),
    ("$50.00-$100.00", "fifty dollars to one hundred dollars"),
    ("a $20/mo plan", "a twenty dollars per month plan"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_money(raw, expected):
    assert normalize(raw) == expected

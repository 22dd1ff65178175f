"""Measures: units in any case, powers, compound units and rates, magnitudes, temperatures, feet and
inches, ranges of measures."""

import pytest

from frontend import normalize

CASES = [
    ("12KG", "twelve kilograms"),
    ("12kg", "twelve kilograms"),
    ("2.5 KG", "two point five kilograms"),
    ("250 ML", "two hundred fifty milliliters"),
    ("1 mbps", "one megabit per second"),
    ("300 Mbps", "three hundred megabits per second"),
    ("1.2 Gbps", "one point two gigabits per second"),
    ("2.4 GHZ", "two point four gigahertz"),
    ("5 MHz", "five megahertz"),
    ("2 TB", "two terabytes"),
    ("500mb", "five hundred megabytes"),
    ("5000 mAh", "five thousand milliamp hours"),
    ("10 MG", "ten milligrams"),
    ("8 OZ", "eight ounces"),
    ("120/80 mmHg", "one hundred twenty over eighty millimeters of mercury"),
    ("5 dL", "five deciliters"),
    ("72°F", "seventy-two degrees fahrenheit"),
    ("-40 °C", "minus forty degrees celsius"),
    ("1°C", "one degree celsius"),
    ("85 m²", "eighty-five square meters"),
    ("10 m2", "ten square meters"),
    ("3 km2", "three square kilometers"),
    ("12 km³", "twelve cubic kilometers"),
    ("2 m3", "two cubic meters"),
    ("400 sq ft", "four hundred square feet"),
    ("41,459.00 km³", "forty-one thousand four hundred fifty-nine point zero zero cubic kilometers"),
    ("100 million kg", "one hundred million kilograms"),
    ("50 km/h", "fifty kilometers per hour"),
    ("45.6 MB/s", "forty-five point six megabytes per second"),
    ("12kg/kg", "twelve kilograms per kilogram"),
    ("12/kg", "twelve per kilogram"),
    ("6.5 L/100 km", "six point five liters per hundred kilometers"),
    ("5 mg/dL", "five milligrams per deciliter"),
    ("3 cc/s", "three cubic centimeters per second"),
    ("6'2\"", "six feet two inches"),
    ("5 ft 11 in", "five feet eleven inches"),
    ("a 5 km run", "a five kilometer run"),
    ("1/2 inch", "half an inch"),
    ("1/2 hour", "half an hour"),
    ("3/4 mile", "three quarters of a mile"),
    ("2x8 m2", "two by eight square meters"),
    ("40 x 30 x 20 cm", "forty by thirty by twenty centimeters"),
    ("1234-123kg", "one thousand two hundred thirty-four to one hundred twenty-three kilograms"),
    ("1980-1970 kg", "one thousand nine hundred eighty to one thousand nine hundred seventy kilograms"),
    ("5-10 lbs", "five to ten pounds"),
    # not measures
    ("a 512 GB drive", "a five hundred twelve gigabyte drive"),
    ("I live in 5 places", "i live in five places"),
    ("6/%", "six slash percent"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_measure(raw, expected):
    assert normalize(raw) == expected

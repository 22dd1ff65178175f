"""Addresses: house numbers, directions, street types (St = saint or street), units, highways, states,
ZIP codes."""

import pytest

from frontend import normalize

CASES = [
    ("2788 San Tomas Expy, Santa Clara, CA 95051",
     "twenty-seven eighty-eight san tomas expressway, santa clara, california nine five zero five one"),
    ("1600 Pennsylvania Ave NW", "sixteen hundred pennsylvania avenue northwest"),
    ("708 N 1st St", "seven oh eight north first street"),
    ("12 S 1st st", "twelve south first street"),
    ("1211 E Arques Ave", "twelve eleven east arques avenue"),
    ("123 Laguna Ct, Town", "one twenty-three laguna court, town"),
    ("2 San Tomas hwy, Santa, FL, 95051", "two san tomas highway, santa, florida, nine five zero five one"),
    ("4500 Oak Blvd", "forty-five hundred oak boulevard"),
    ("2005 Elm Rd", "twenty oh five elm road"),
    ("12345 Main St", "one two three four five main street"),
    ("77 Vassar St, Cambridge, MA 02139",
     "seventy-seven vassar street, cambridge, massachusetts zero two one three nine"),
    ("Austin, TX 78701-1234", "austin, texas seven eight seven zero one dash one two three four"),
    ("Washington, DC 20500", "washington, d c two zero five zero zero"),
    ("3050 S Highland Dr, Las Vegas, NV.", "thirty fifty south highland drive, las vegas, nevada."),
    ("Nancy lived at 1428 Elm St. It was old.", "nancy lived at fourteen twenty-eight elm street. it was old."),
    ("St. Charles Ave.", "saint charles avenue."),
    ("N. Main St.", "north main street."),
    ("the corner of 5th St and Main", "the corner of fifth street and main"),
    ("Apt 4B", "apartment four b"),
    ("Suite 210", "suite two ten"),
    ("Ste. 1200", "suite twelve hundred"),
    ("Unit 3", "unit three"),
    ("Hwy 101", "highway one oh one"),
    ("Take Hwy 280 south.", "take highway two eighty south."),
    ("Route 66", "route sixty-six"),
    ("I-405", "i four oh five"),
    # not addresses
    ("Fine, OK.", "fine, okay."),
    ("1990 for the Ata ST", "nineteen ninety for the ata s t"),
    ("In 1995 The Court ruled.", "in nineteen ninety-five the court ruled."),
    ("St. Louis", "saint louis"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_address(raw, expected):
    assert normalize(raw) == expected

"""Telephone numbers: NANP shapes, country codes, extensions, SSNs, vanity numbers."""

import pytest

from frontend import normalize

CASES = [
    ("(123) 123-5678", "one two three, one two three, five six seven eight"),
    ("(123)-123-5678", "one two three, one two three, five six seven eight"),
    ("(555)555-5555", "five five five, five five five, five five five five"),
    ("123-123-5678", "one two three, one two three, five six seven eight"),
    ("555.555.5555", "five five five, five five five, five five five five"),
    ("+1 123-123-5678", "plus one, one two three, one two three, five six seven eight"),
    ("+1-123-123-5678", "plus one, one two three, one two three, five six seven eight"),
    ("+1 (123)-123-5678", "plus one, one two three, one two three, five six seven eight"),
    ("+1(123) 123-5678", "plus one, one two three, one two three, five six seven eight"),
    ("1-800-555-0199", "one, eight zero zero, five five five, zero one nine nine"),
    ("+44 20 7946 0958", "plus four four, two zero, seven nine four six, zero nine five eight"),
    ("+44 7700 900123", "plus four four, seven seven zero zero, nine zero zero one two three"),
    ("+33 1 42 68 53 00", "plus three three, one, four two, six eight, five three, zero zero"),
    ("123-123-5678-1111", "one two three, one two three, five six seven eight, one one one one"),
    ("415-555-0132 ext. 204", "four one five, five five five, zero one three two extension two zero four"),
    ("555-1234 x12", "five five five, one two three four extension one two"),
    ("my ssn is 111-11-1111", "my ssn is one one one, one one, one one one one"),
    ("Call 555-0100.", "call five five five, zero one zero zero."),
    ("1-800-GO-U-HAUL", "one, eight hundred, go u haul"),
    ("1-800-FLOWERS", "one, eight hundred, flowers"),
    ("the 2010-2015 range", "the twenty ten to twenty fifteen range"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_telephone(raw, expected):
    assert normalize(raw) == expected

"""Digit strings and codes: read digit by digit after a code word, inside serials, IP addresses;
versions; numbers that count stay numbers."""

import pytest

from frontend import normalize

CASES = [
    ("Your verification code is 482913.", "your verification code is four eight two nine one three."),
    ("your otp is ab9453", "your otp is a b nine four five three"),
    ("Enter PIN 0042.", "enter pin zero zero four two."),
    ("ZIP 02139", "zip zero two one three nine"),
    ("postcode 90210", "postcode nine zero two one zero"),
    ("account number 12345678", "account number one two three four five six seven eight"),
    ("Order #48213 shipped.", "order number four eight two one three shipped."),
    ("order no. 5521", "order number five five two one"),
    ("Flight 1432 is late.", "flight one four three two is late."),
    ("flight UA 227", "flight u a two two seven"),
    ("the card ending in 8876", "the card ending in eight eight seven six"),
    ("confirmation: 771204", "confirmation: seven seven one two zero four"),
    ("tracking number 9400111", "tracking number nine four zero zero one one one"),
    ("ticket #10452", "ticket number one zero four five two"),
    ("invoice 20931", "invoice two zero nine three one"),
    ("123/261788/2021", "one hundred twenty-three slash two six one seven eight eight slash twenty twenty-one"),
    ("192.168.0.1", "one nine two dot one six eight dot zero dot one"),
    ("987.987.0.40", "nine eight seven dot nine eight seven dot zero dot four zero"),
    ("v2.0.1", "version two point oh point one"),
    ("007", "zero zero seven"),
    # counts, not codes
    ("the order of 1500 people", "the order of one thousand five hundred people"),
    ("an account since 2019", "an account since twenty nineteen"),
    ("We flew 1200 miles.", "we flew one thousand two hundred miles."),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_code(raw, expected):
    assert normalize(raw) == expected

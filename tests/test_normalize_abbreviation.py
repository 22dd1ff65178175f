"""Abbreviations and initialisms: titles, places, month and weekday abbreviations, fixed terms."""

import pytest

from frontend import normalize

CASES = [
    ("Dr. Evil", "doctor evil"),
    ("Mrs. Norris", "missus norris"),
    ("Dr. Patel will see you.", "doctor patel will see you."),
    ("Baker St. is long.", "baker street is long."),
    ("St. Mary's", "saint mary's"),
    ("Mt. Rainier", "mount rainier"),
    ("in Jan. and Feb.", "in january and february."),
    ("Closed Tue. and Wed.", "closed tuesday and wednesday."),
    ("Our 401(k) plan", "our four oh one k plan"),
    ("a 403(b) account", "a four oh three b account"),
    ("The FBI and the CIA", "the f b i and the c i a"),
    ("DNA is", "d n a is"),
    ("ZIP code", "zip code"),
    ("#mytext#", "hash mytext hash"),
    ("#hashtag", "hashtag hashtag"),
    ("approx. 5 km", "approximately five kilometers"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_abbreviation(raw, expected):
    assert normalize(raw) == expected

"""Roman numerals: regnal ordinals, cue words, sequels, and the pronoun."""

import pytest

from frontend import normalize

CASES = [
    ("King Charles III", "king charles the third"),
    ("Francis I--test", "francis the first - test"),
    ("Chapter IV", "chapter four"),
    ("PART XL", "part forty"),
    ("Sam and I", "sam and i"),
    ("Super Bowl LVIII", "super bowl fifty-eight"),
    ("Henry VIII's wives", "henry the eighth's wives"),
    ("Rocky III", "rocky three"),
    ("Pope Leo XIII", "pope leo the thirteenth"),
    ("Type II", "type two"),
    ("Act III, Scene I", "act three, scene one"),
    ("I think so.", "i think so."),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_roman(raw, expected):
    assert normalize(raw) == expected

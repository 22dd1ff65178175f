"""Dates: every written order, abbreviations, lower case, ranges, numeric dates with `date_order`,
quarters, decades, and dates that cannot exist (read as numbers)."""

import pytest

from frontend import normalize, text_to_sequence

CASES = [
    # month first, any case, with and without ordinal suffixes and commas
    ("June 20, 2014", "june twentieth, twenty fourteen"),
    ("june 20 2014", "june twentieth twenty fourteen"),
    ("JAN 15 2020", "january fifteenth twenty twenty"),
    ("Jan. 15", "january fifteenth"),
    ("jan. 15", "january fifteenth"),
    ("SEPT. 15", "september fifteenth"),
    ("Sept 1st, 1939", "september first, nineteen thirty-nine"),
    ("august 23, 2002", "august twenty-third, two thousand two"),
    ("Jan-15-2020", "january fifteenth twenty twenty"),
    ("Oct-3", "october third"),
    # day first
    ("20 June 2014", "the twentieth of june twenty fourteen"),
    ("25 jul 2012", "the twenty-fifth of july twenty twelve"),
    ("23rd july, 1998", "the twenty-third of july, nineteen ninety-eight"),
    ("15 january", "the fifteenth of january"),
    ("25 sept.", "the twenty-fifth of september."),
    ("on the 26th May", "on the twenty-sixth of may"),
    ("1st of March", "the first of march"),
    # month and year
    ("in May 2020", "in may twenty twenty"),
    ("july 1506", "july fifteen oh six"),
    ("Dec. 1999", "december nineteen ninety-nine"),
    # ranges and weekdays
    ("Jan 5-7", "january fifth to seventh"),
    ("Sept. 12-14, 2025", "september twelfth to fourteenth, twenty twenty-five"),
    ("Wed., Jan. 8", "wednesday, january eighth"),
    ("Tue. and Thu.", "tuesday and thursday."),
    ("Thu, Oct 3", "thursday, october third"),
    ("Sat-Sun", "saturday to sunday"),
    # numeric
    ("12/25/2023", "december twenty-fifth, twenty twenty-three"),
    ("11/05/2023", "november fifth, twenty twenty-three"),
    ("14/07/1989", "july fourteenth, nineteen eighty-nine"),
    ("15-01-2020", "january fifteenth, twenty twenty"),
    ("15.01.2020", "january fifteenth, twenty twenty"),
    ("2016/07/03", "july third, twenty sixteen"),
    ("2006-08-05", "august fifth, two thousand six"),
    ("11/17/05", "november seventeenth, oh five"),
    ("due 3/15", "due march fifteenth"),
    ("2Q22", "the second quarter of twenty-two"),
    ("3Q2024", "the third quarter of twenty twenty-four"),
    # not dates
    ("We will march 10 miles.", "we will march ten miles."),
    ("You may 2 times", "you may two times"),
    ("May I have 2?", "may i have two?"),
    ("31/02/2020", "thirty-one slash zero two slash twenty twenty"),
    ("June 31", "june thirty-one"),
    ("Feb 29, 2023", "february twenty-nine, twenty twenty-three"),
    ("Feb 29, 2024", "february twenty-ninth, twenty twenty-four"),
    ("2023-02-30", "twenty twenty-three dash zero two dash thirty"),
    ("1998/2/30", "nineteen ninety-eight slash two slash thirty"),
    ("29.02.2023", "twenty-nine dot zero two dot twenty twenty-three"),
    ("13/13/2020", "thirteen slash thirteen slash twenty twenty"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_date(raw, expected):
    assert normalize(raw) == expected


DMY = [
    ("11/05/2023", "the eleventh of may twenty twenty-three"),
    ("05/11/2023", "the fifth of november twenty twenty-three"),
    ("12/25/2023", "the twenty-fifth of december twenty twenty-three"),  # the month is clear
    ("2024-03-05", "the fifth of march twenty twenty-four"),
    ("on 5/12", "on the fifth of december"),
    ("22/2", "the twenty-second of february"),
    ("June 20, 2014", "june twentieth, twenty fourteen"),  # a written date keeps its order
    ("20 June 2014", "the twentieth of june twenty fourteen"),
]


@pytest.mark.parametrize("raw, expected", DMY)
def test_date_order_dmy(raw, expected):
    assert normalize(raw, date_order="dmy") == expected


def test_date_order_default_is_month_first():
    assert normalize("03/04/2021") == normalize("03/04/2021", date_order="mdy") == "march fourth, twenty twenty-one"


def test_date_order_reaches_text_to_sequence():
    assert text_to_sequence("03/04/2021", date_order="dmy") == text_to_sequence("the third of april 2021")


@pytest.mark.parametrize("bad", ["ymd", "", "MDY", None])
def test_date_order_is_checked(bad):
    with pytest.raises(ValueError, match="date_order"):
        normalize("1/2/2003", date_order=bad)

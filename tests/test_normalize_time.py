"""Times of day, durations, time zones, ranges, ratios, and times that cannot exist."""

import pytest

from frontend import normalize

CASES = [
    ("01:00", "one o'clock"),
    ("1:00 a.m.", "one a m."),
    ("1:00a.m.", "one a m."),
    ("01:59 p.m.", "one fifty-nine p m."),
    ("1.59 p.m.", "one fifty-nine p m."),
    ("6.30pm", "six thirty p m"),
    ("Doors open at 6.30pm.", "doors open at six thirty p m."),
    ("7:05 AM", "seven oh five a m"),
    ("12pm", "twelve p m"),
    ("00:30", "zero thirty"),
    ("23:45", "twenty-three forty-five"),
    ("14:00", "fourteen hundred"),
    ("1:59 p.m. EST", "one fifty-nine p m e s t"),
    ("1:59 p.m.est", "one fifty-nine p m e s t"),
    ("1:59 p.m. e.s.t", "one fifty-nine p m e s t"),
    ("9am PST", "nine a m p s t"),
    ("10:30 UTC", "ten thirty u t c"),
    ("18:00 GMT.", "eighteen hundred g m t."),
    ("at noon", "at noon"),
    ("by midnight", "by midnight"),
    # durations
    ("1:01:01", "one hour one minute and one second"),
    ("01:01:01", "one hour one minute and one second"),
    ("14:10:30", "fourteen hours ten minutes and thirty seconds"),
    ("2:00:05", "two hours and five seconds"),
    ("0:45:10", "forty-five minutes and ten seconds"),
    ("She ran it in 3:12:45.", "she ran it in three hours twelve minutes and forty-five seconds."),
    ("at 10:30:15", "at ten thirty and fifteen seconds"),
    # ranges
    ("2pm-5pm", "two p m to five p m"),
    ("5pm-7 pm", "five p m to seven p m"),
    ("4:00 am - 8:12 pm", "four a m to eight twelve p m"),
    # ratios and impossible times
    ("a 4:3 screen", "a four to three screen"),
    ("25:61", "twenty-five sixty-one"),
    ("25:61 pm", "twenty-five sixty-one p m"),
    ("13:30 pm", "thirteen thirty p m"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_time(raw, expected):
    assert normalize(raw) == expected

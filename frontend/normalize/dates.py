"""Dates: recognize a date in any common written form, check that it exists, and read it.

Forms: month names with days, ranges and years ("Jan. 5, 2021", "june 20 2014", "Sept. 12-14",
"Jan-15-2020"), days before month names ("5 January 2021", "the 26th May", "25 sept."), months with
years ("May 2020"), numeric dates (12/25/2023, 15-01-2020, 2024-03-05, 25.12.2023), month/day without a
year when the context says it is a date ("due 5/12", "on 2/22", "(2/22)"), quarters ("2Q22"), weekday
abbreviations ("Wed.", "Thu, Oct 3") and weekday ranges ("Mon-Fri").

Readings: a day is an ordinal ("june twentieth"); a date written month first reads "june twentieth,
twenty fourteen", one written day first "the twentieth of june twenty fourteen". A numeric date follows
`date_order`: "mdy" (the default, US) takes an ambiguous 11/05/2023 as November 5 and reads "november
fifth, twenty twenty-three"; "dmy" takes it as 11 May and reads "the eleventh of may twenty
twenty-three". When one number cannot be a month (25/12/2023) the order is clear whatever the setting.
A date that does not exist (31/02/2020, June 31, 2023-02-29) is not read as a date: its numbers are
read as numbers by the later classes.

Lower-case month names ("june 20 2014", "17 may 2010") count only where they cannot be a verb or a
name: followed by a day and then nothing, punctuation, a year or a function word ("march 10 miles"
stays a march).
"""

from __future__ import annotations

import re
from types import MappingProxyType

from .. import lexicon as lx
from .. import numbers as nw
from ._context import Match, Rule, ends_sentence, needs_digit, next_word, prev_word, prev_words, spaced, sub

DATE_ORDERS = ("mdy", "dmy")

_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def exists(month: int, day: int, year: int | None = None) -> bool:
    """Is `day`/`month` (in `year`, when known) a real date? February 29 only in leap years."""
    if not (1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]):
        return False
    if month == 2 and day == 29 and year is not None:
        return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return True


def _full_year(year: str | None) -> int | None:
    return int(year) if year and len(year) == 4 else None


def say_year(year: str) -> str:
    return nw.year(int(year)) if len(year) == 4 else nw.two_digit_year(year)


def say_date(month: int, day: int | None, year: str | None = None, order: str = "mdy", *, sep: str | None = None,
             last_day: int | None = None, article: bool = True) -> str:
    """(6, 20, '2014') -> 'june twentieth, twenty fourteen' (mdy) / 'the twentieth of june twenty fourteen'
    (dmy). `sep` goes before the year (default ", " month first, " " day first); `last_day` makes a range
    ("june first to fifth"); `article=False` drops "the" (after "the")."""
    name = lx.MONTHS[month - 1]
    if day is None:
        return name + (" " + say_year(year) if year else "")
    days = nw.ordinal(day) + (" to " + nw.ordinal(last_day) if last_day is not None else "")
    if order == "dmy":
        words = f"{'the ' if article else ''}{days} of {name}"
        return words + ((sep or " ") + say_year(year) if year else "")
    return f"{name} {days}" + ((sep or ", ") + say_year(year) if year else "")


# ------------------------------------------------------------------------------------------------
# Month names

def _month_alternation() -> str:
    return "|".join(sorted(lx.MONTH_BY_NAME, key=len, reverse=True))


_MONTH = rf"(?i:{_month_alternation()})"  # any case; lower-case forms are checked by `_lower_case_ok`
_ORD = r"(?:st|nd|rd|th|ST|ND|RD|TH)"
# words after "june 20" that still let a lower-case month be a month ("june 20 and 21", "june 20 at noon")
_DATE_FOLLOWERS = frozenset(
    "and or to at in on through thru until till from for is was will we i the this that when with by".split()
)
_VERB_MONTHS = frozenset({"may", "march"})


def _is_lower(word: str) -> bool:
    return word.islower()


def _free_after(s: str, end: int) -> bool:
    """Nothing, punctuation, a year or a function word after a date's last number."""
    nxt = next_word(s, end)
    if not nxt or not s[end : end + 1].isspace():
        return True
    return nxt.isdigit() or nxt.lower() in _DATE_FOLLOWERS or not nxt[:1].islower()


def _month_day(m: Match) -> str:
    word, dot, day_s, suffix, last_s, comma, year = m.group("month", "dot", "day", "suffix", "last", "comma", "year")
    month = lx.MONTH_BY_NAME[word.lower()]
    day, last_day = int(day_s), int(last_s) if last_s else None
    if _is_lower(word) and not (year or suffix or _free_after(m.string, m.end())):
        return m.group(0)  # "march 10 miles", "may 5 people"
    if _is_lower(word) and word in _VERB_MONTHS and not (year or suffix or dot):
        if prev_word(m.string, m.start()).lower() not in _MONTH_CUES:
            return m.group(0)  # "you may 2 ..."
    year_n = _full_year(year)
    if not exists(month, day, year_n) or (last_day is not None and not (day < last_day and exists(month, last_day))):
        # "Feb 30": no date; the month is still a month and the numbers are read as numbers
        return spaced(m, lx.MONTHS[month - 1], end=m.start("day")) + m.group(0)[m.start("day") - m.start():]
    return spaced(m, say_date(month, day, year, sep=", " if comma else " ", last_day=last_day))


def _month_dash_day(m: Match) -> str:
    """'Jan-15-2020', 'Jan-15' -> 'january fifteenth twenty twenty'."""
    month, day, year = lx.MONTH_BY_NAME[m.group(1).lower()], int(m.group(2)), m.group(3)
    if not exists(month, day, _full_year(year)):
        return m.group(0)
    return spaced(m, say_date(month, day, year, sep=" "))


_HAS_ARTICLE = re.compile(r"\bthe\s+$", re.IGNORECASE)


def _day_month(m: Match) -> str:
    day, suffix, word, dot, year = int(m.group(1)), m.group(2), m.group(3), m.group(4), m.group(5)
    month = lx.MONTH_BY_NAME[word.lower()]
    if _is_lower(word) and word in _VERB_MONTHS and not (year or suffix or " of " in m.group(0)):
        return m.group(0)  # "5 may be enough"
    if not exists(month, day, _full_year(year)):
        return m.group(0)
    # "on the 4th of July" already has its article; "4th July" gets one
    article = not _HAS_ARTICLE.search(m.string, max(0, m.start() - 8), m.start())
    sep = ", " if year and "," in m.group(0) else " "
    words = say_date(month, day, year, "dmy", sep=sep, article=article)
    if not year and dot and len(word) > 4 and word.lower() == lx.MONTHS[month - 1]:
        words += "."  # after a full month name the dot ends the sentence, it is no abbreviation's
    elif not year and dot and ends_sentence(m.string, m.end()):
        words += "."
    return spaced(m, words)


_MONTH_CUES = frozenset(
    "in of since until till from to by during before after through between and or early late mid last next this "
    "every each".split()
)


def _month_year(m: Match) -> str:
    word, year = m.group(1), m.group(3)
    if _is_lower(word) and (word in _VERB_MONTHS or not _free_after(m.string, m.end())):
        return m.group(0)
    return spaced(m, say_date(lx.MONTH_BY_NAME[word.lower()], None, year))


# ------------------------------------------------------------------------------------------------
# Numeric dates


def _month_first(a: int, b: int, order: str) -> bool | None:
    """For a/b: True when a is the month, False when b is; None when neither can be."""
    if a > 12 and b > 12:
        return None
    if a > 12:
        return False
    if b > 12:
        return True
    return order == "mdy"


_SEPARATOR_NAMES = MappingProxyType({"/": " slash ", "-": " dash ", ".": " dot "})
_NUMBER_OR_SEPARATOR = re.compile(r"\d+|[/.-]", re.ASCII)


def _not_a_date(m: Match) -> str:
    """'31/02/2020' -> 'thirty-one slash zero two slash twenty twenty': the numbers and their separators."""
    def word(piece: str) -> str:
        if piece in _SEPARATOR_NAMES:
            return _SEPARATOR_NAMES[piece]
        return nw.year(int(piece)) if len(piece) == 4 and piece[0] != "0" else nw.integer(piece)

    return spaced(m, "".join(word(p) for p in _NUMBER_OR_SEPARATOR.findall(m.group(0))).strip())


def _numeric(m: Match, a: int, b: int, year: str | None, order: str, month_first: bool | None) -> str:
    if month_first is None:
        return _not_a_date(m) if year else m.group(0)
    month, day = (a, b) if month_first else (b, a)
    if not exists(month, day, _full_year(year)):
        return _not_a_date(m) if year else m.group(0)  # "31/02/2020" is no date
    return spaced(m, say_date(month, day, year, order))


_DATE_CUES = frozenset(
    """on by until till thru through since due before after from starting effective dated expires expiring expired
    deadline born ends ending closes opens""".split()
)
_RESCHEDULED = frozenset(
    "moved rescheduled postponed pushed changed delayed bumped extended brought move reschedule postpone push change "
    "delay bump extend".split()
)
_WEEKDAY_WORDS = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues tu wed thu thur thurs fri sat sun".split()
)
# after a/b, what makes it a quantity: "3/4 of", "5/8 inch", "1/2 cup", "7/16-inch", a closing inch mark
_QUANTITY_AFTER = re.compile(r"\s*-?\s*(?:[\"']|th\b|of\b|(?:" + "|".join(sorted(
    {u.lower() for u in lx.UNITS if u.isalpha()} | set("inch inches cup cups teaspoon teaspoons tablespoon "
                                                       "tablespoons mile miles pound pounds ounce ounces".split()),
    key=len, reverse=True)) + r")\b)", re.ASCII | re.IGNORECASE)
_LOWER_WORD_AFTER = re.compile(r"\s+([a-z]+)\b", re.ASCII)


def _month_day_numeric(order: str):
    def repl(m: Match) -> str:
        """m/d without a year: a date after a cue word ("due 5/12", "on 2/22", "(Tue) 2/22", "moved to
        5/12"), or by its shape where the day cannot be a usual denominator (2/22, 1/24); else a fraction."""
        s = m.string
        a, b = int(m.group(1)), int(m.group(2))
        first = _month_first(a, b, order)
        if first is None or a == 0 or b == 0 or _QUANTITY_AFTER.match(s, m.end()):
            return m.group(0)
        before = [w.lower() for w in prev_words(s, m.start(), 2)]
        prev = before[0] if before else ""
        cue = prev in _DATE_CUES or prev in _WEEKDAY_WORDS or (
            prev == "to" and len(before) > 1 and before[1] in _RESCHEDULED)
        if not cue:  # by shape: written in the setting's order, with a day no fraction has as denominator
            day = b if first else a
            after = _LOWER_WORD_AFTER.match(s, m.end())
            if first != (order == "mdy") or not (13 <= day <= 31 and day != 16) or (
                    after and after.group(1) not in _DATE_FOLLOWERS):
                return m.group(0)
        return _numeric(m, a, b, None, order, first)

    return repl


def _quarter(m: Match) -> str:
    """'2Q22' -> 'the second quarter of twenty twenty-two' (the year's two digits as in "'22")."""
    return spaced(m, f"the {nw.ordinal(int(m.group(1)))} quarter of {say_year(m.group(2))}")


# ------------------------------------------------------------------------------------------------
# Weekdays

_WEEKDAY_ABBREVIATIONS = MappingProxyType({
    "Mon": "monday", "Tue": "tuesday", "Tues": "tuesday", "Wed": "wednesday", "Thu": "thursday", "Thur": "thursday",
    "Thurs": "thursday", "Fri": "friday", "Sat": "saturday", "Sun": "sunday",
})
_WEEKDAY_FORMS = MappingProxyType(
    {**_WEEKDAY_ABBREVIATIONS, **{w.capitalize(): w for w in set(_WEEKDAY_ABBREVIATIONS.values())}})
_WEEKDAY_ALT = "|".join(sorted(_WEEKDAY_FORMS, key=len, reverse=True))
# with a period these are weekdays wherever they stand ("Tue. and Thu."); "Sat." / "Sun." also end sentences
_DOTTED_WEEKDAYS = "Mon|Tues|Tue|Wed|Thurs|Thur|Thu|Fri"


def _weekday_range(m: Match) -> str:
    """'Mon-Fri' -> 'monday to friday'."""
    words = f"{_WEEKDAY_FORMS[m.group(1)]} to {_WEEKDAY_FORMS[m.group(2)]}"
    if m.group(3) and ends_sentence(m.string, m.end()):
        words += "."
    return spaced(m, words)


def _dotted_weekday(m: Match) -> str:
    words = _WEEKDAY_ABBREVIATIONS[m.group(1)]
    return spaced(m, words + ("." if ends_sentence(m.string, m.end()) else ""))


_COMMON = (
    sub(rf"\b({_WEEKDAY_ALT})\.?\s?-\s?({_WEEKDAY_ALT})\b(\.?)", _weekday_range),
    sub(rf"\b({'|'.join(_WEEKDAY_ABBREVIATIONS)})\.?(?=\)?,?\s+(?:{_MONTH}\b|\d))",
        lambda m: _WEEKDAY_ABBREVIATIONS[m.group(1)]),
    sub(rf"\b({_DOTTED_WEEKDAYS})\.", _dotted_weekday),
    *needs_digit(sub(r"(?<![\w$#.])([1-4])Q(\d{2}|\d{4})\b", _quarter),
    sub(rf"\b(?P<month>{_MONTH})(?P<dot>\.?)\s+(?P<day>\d{{1,2}})(?P<suffix>{_ORD})?"
        rf"(?:\s?-\s?(?P<last>\d{{1,2}}){_ORD}?)?(?![\d:]|\.\d)(?:(?P<comma>,)?\s+(?P<year>\d{{4}})(?![\d:]))?",
        _month_day),
    sub(rf"\b({_MONTH})-(\d{{1,2}})(?:-(\d{{4}}))?(?![\w-])", _month_dash_day),
    sub(rf"(?<![\w.,$])(\d{{1,2}})({_ORD})?\s+(?:of\s+)?({_MONTH})\b(\.?)(?:,?\s+(\d{{4}})(?!\d))?", _day_month),
    sub(rf"\b({_MONTH})\b(\.?),?\s+(\d{{4}})(?![\d:])", _month_year)),
)


def rules(order: str = "mdy") -> tuple[Rule, ...]:
    """The date rules for one `date_order` ("mdy" or "dmy")."""
    if order not in DATE_ORDERS:
        raise ValueError(f"date_order must be one of {DATE_ORDERS}, got {order!r}")
    return (
        *_COMMON,
        *needs_digit(
        sub(r"(?<![\w/.-])(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?![\w/]|\.\d)",
            lambda m: _numeric(m, int(m.group(1)), int(m.group(2)), m.group(3), order,
                               _month_first(int(m.group(1)), int(m.group(2)), order))),
        sub(r"(?<![\w/.-])(\d{1,2})-(\d{1,2})-(\d{4})(?![\w/-]|\.\d)",
            lambda m: _numeric(m, int(m.group(1)), int(m.group(2)), m.group(3), order,
                               _month_first(int(m.group(1)), int(m.group(2)), order))),
        sub(r"(?<![\w/.-])(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?![\w/-]|\.\d)",
            lambda m: _numeric(m, int(m.group(2)), int(m.group(3)), m.group(1), order, True)),
        # dotted dates are day first (25.12.2023) unless the second number cannot be a month
        sub(r"(?<![\w.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\w]|\.\d)",
            lambda m: _numeric(m, int(m.group(1)), int(m.group(2)), m.group(3), order,
                               None if int(m.group(1)) > 12 and int(m.group(2)) > 12 else int(m.group(2)) > 12)),
        sub(r"(?<![\w/.$-])(\d{1,2})/(\d{1,2})(?![\w/]|\.\d|-\d)", _month_day_numeric(order))),
    )

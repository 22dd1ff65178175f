"""English text normalization: written text -> the words a reader would say.

`normalize` runs one rule per semiotic class, in an order where each rule sees the digits and
symbols it needs before a more general rule would read them another way:

    unicode -> urls/e-mails -> special words (C++, 24/7) -> times, ratios -> dates
    -> phone numbers -> versions/IPs -> "No. 5"-style abbreviations -> signs -> ranges -> money
    -> dimensions -> decades -> measures (units, %) -> ordinals -> years -> fractions
    -> decimals/cardinals -> abbreviations -> initialisms -> roman numerals -> acronyms
    -> symbols -> lower case, final clean-up

Every rule emits lower-case words, so later rules (which look for digits, symbols, upper case or
periods) leave earlier output alone; that is also what makes `normalize` idempotent.
ARPAbet blocks `{HH AH0 L OW1}` are cut out first and passed through unchanged.

Documented reading choices (see tests/test_frontend_normalize.py for the full table):
* Numbers: American style without "and" (101 -> "one hundred one"); decimals digit by digit
  after "point"; digit strings longer than nine digits or with a leading zero digit by digit.
* A 4-digit number 1100-2099 is read as a year ("nineteen ninety-five") unless a lower-case word
  that is not a function word follows ("1500 people" -> "one thousand five hundred people");
  after "in", "since", "from", "until", "during", "year", "circa", seasons, it is always a year.
  After a determiner or possessive ("a", "the", "his", "this"...) it is a year unless the next
  word looks plural: "a 2019 study" -> "a twenty nineteen study", "the 1500 people" stays a count
  (the trade-off: "the 1500 meter race" -> "the fifteen hundred meter race", still fine speech).
  1000-1099 are years only after such a cue word.
* Money: "$3.50" -> "three dollars and fifty cents"; "$1.2 million" -> "one point two million
  dollars"; three or more decimals -> "point"; "$3-4 million" -> "three to four million dollars";
  "$10 USD" names one currency. "5M users" -> "five million users", "3bn" -> "three billion"
  (so "3M" the company reads "three million"); "K" stays a letter ("a 10K run").
* After "a"/"an" and before a noun, an amount or measure is an adjective with a singular unit:
  "a $20 bill" -> "a twenty dollar bill", "a 5 km run" -> "a five kilometer run".
* Ranges of times, days and weekdays use "to": "9am-5pm", "June 1-5" -> "june first to fifth",
  "Mon-Fri" -> "monday to friday".
* Lines starting with "*", "-", "+" or "1." / "2)" are list items: each ends a sentence and its
  number is a label ("1. Apples" -> "one, apples.").
* Roman numerals: regnal ordinals after known monarchs' names or a title ("Charles I", "King Tut
  II"), numbers after other names ("Rocky II" -> "rocky two") and after cue words ("Chapter XII").
* Times: "10:00" -> "ten o'clock", "18:00" -> "eighteen hundred", "12:05" -> "twelve oh five",
  "3:30 pm" -> "three thirty p m".
* Dates: numeric dates are month/day/year unless the first number cannot be a month; day-first
  for dotted dates (25.12.2023); every date is read "december twenty-fifth, twenty twenty-three".
* All-caps words: known initialisms are spelled ("f b i"), known acronyms read as words
  ("nasa"); otherwise words of four or more letters that look pronounceable, and any
  pronounceable word next to another all-caps word (shouted text), are read as words; the rest
  are spelled.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable

from unidecode import unidecode

from . import lexicon as lx
from . import numbers as nw

logger = logging.getLogger("frontend")

Match = re.Match

# ARPAbet passthrough: upper-case phone-shaped tokens in braces. Anything else in braces is text.
ARPABET_BLOCK = re.compile(r"\{\s*([A-Z]{1,2}[0-2]?(?:\s+[A-Z]{1,2}[0-2]?)*)\s*\}", re.ASCII)


def normalize(text: str) -> str:
    """Turn written English into the words a reader would say (see the module docstring)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    parts = ARPABET_BLOCK.split(text)
    if len(parts) == 1:
        return _normalize_plain(text)
    out: list[str] = []
    for i, part in enumerate(parts):
        if i % 2:
            piece = "{" + " ".join(part.split()) + "}"
        elif i + 1 < len(parts):
            piece = _normalize_before_block(part, first=not out)
        else:
            piece = _normalize_plain(part, first=not out)
        if not piece:
            continue
        if out and not piece[0] in ",.;:!?)":
            out.append(" ")
        out.append(piece)
    return "".join(out)


_STAND_IN = "Qzx"  # a name-like word no rule reads


def _normalize_before_block(text: str, first: bool) -> str:
    """Normalize the text before an ARPAbet block with a stand-in name where the block is, so the
    rules see that a word follows: "Dr. {S M IH1 TH}" -> "doctor {...}", not "doctor. {...}"."""
    if not text.strip():
        return _normalize_plain(text, first)
    stand_in = " " + _STAND_IN.lower()
    words = _normalize_plain(text + " " + _STAND_IN, first)
    if words == stand_in[1:]:
        return ""
    if words.endswith(stand_in):
        return words[: -len(stand_in)]
    return _normalize_plain(text, first)


def _normalize_plain(text: str, first: bool = True) -> str:
    text = _to_ascii(_list_items(text, at_line_start=first))  # before line breaks become spaces
    if first:  # leading punctuation is dropped at the end anyway; drop it before rules see it
        text = _LEADING_JUNK.sub("", text)
    for rule in _RULES:
        text = rule(text)
    return _finish(text, strip_leading_punctuation=first)


# ------------------------------------------------------------------------------------------------
# Small helpers


def _sub(pattern: str, repl: Callable[[Match], str] | str, flags: int = 0) -> Callable[[str], str]:
    # ASCII: the kept symbols (² µ £ ...) are not word characters for \w, \b, \d
    compiled = re.compile(pattern, flags | re.ASCII)
    return lambda text: compiled.sub(repl, text)


def _spaced(m: Match, words: str, start: int | None = None, end: int | None = None) -> str:
    """`words` with a space on a side where the replaced text touched a letter or digit."""
    s = m.string
    start = m.start() if start is None else start
    end = m.end() if end is None else end
    left = " " if start > 0 and s[start - 1].isalnum() else ""
    right = " " if end < len(s) and s[end].isalnum() else ""
    return left + words + right


_NEXT_WORD = re.compile(r"[\s\"'(]*([A-Za-z0-9][\w'-]*)", re.ASCII)
_PREV_WORD = re.compile(r"([A-Za-z0-9][\w'-]*)[\s\"',]*$", re.ASCII)
_CONTEXT = 48  # characters of context the rules look at; keeps every rule linear in the text


def _next_word(s: str, end: int) -> str:
    m = _NEXT_WORD.match(s, end, min(len(s), end + _CONTEXT))
    return m.group(1) if m else ""


def _prev_word(s: str, start: int) -> str:
    m = _PREV_WORD.search(s, max(0, start - _CONTEXT), start)
    return m.group(1) if m else ""


_AT_END = re.compile(r"[\s\"')\]]*$", re.ASCII)


def _ends_sentence(s: str, end: int) -> bool:
    """After an abbreviation's period at `end`: does the sentence end there?"""
    if _AT_END.match(s, end):
        return True
    nxt = _next_word(s, end)
    return nxt in lx.SENTENCE_STARTERS and s[end : end + 1].isspace()


def _is_name(word: str) -> bool:
    return bool(word) and word[0].isupper() and word.isalpha() and word not in lx.SENTENCE_STARTERS


# ------------------------------------------------------------------------------------------------
# Unicode -> ASCII (with the symbols the rules below read kept or spelled out)

_KEEP = "£€¥₹₩₽¢°²³µ×"
_CHAR_MAP = {
    **{c: c for c in _KEEP},
    "μ": "µ", "−": "-", "–": "-", "‒": "-", "‐": "-", "‑": "-", "—": " - ", "―": " - ",
    "…": "...", "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"',
    "‟": '"', "″": '"', "«": '"', "»": '"', "÷": " divided by ", "±": " plus or minus ",
    "∓": " minus or plus ", "≈": " approximately ", "≠": " not equal to ",
    "≤": " less than or equal to ", "≥": " greater than or equal to ", "∞": " infinity ",
    "√": " square root of ", "→": " to ", "⇒": " implies ", "←": " from ", "‰": " per mille ",
    "©": " copyright ", "®": " ", "™": " ", "§": " section ", "¶": " paragraph ", "•": ", ",
    "·": " ", "◦": ", ", "▪": ", ", "●": ", ", "†": " ", "‡": " ", "№": " number ",
    "℃": "°C", "℉": "°F", "Ω": " ohms ", "\u00a0": " ", "¡": " ", "¿": " ",
    **{c: f"^{d}" for c, d in zip("⁰¹⁴⁵⁶⁷⁸⁹", "01456789")},  # ² and ³ are kept: "m²", "x³"
}
_NON_ASCII = re.compile(r"[^\x00-\x7f]+", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", re.ASCII)
_PARAGRAPH = re.compile(r"(?<=[A-Za-z0-9)])[ \t]*\n[ \t]*\n\s*", re.ASCII)
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+(?=[,;:!?]|\.(?!\d))", re.ASCII)
_WEAK_BEFORE_STRONG = re.compile(r"[,;:]+(?=[.!?])", re.ASCII)  # "word,." -> "word."
_GREEK = "GREEK SMALL LETTER ", "GREEK CAPITAL LETTER "


def _greek_name(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    for prefix in _GREEK:
        if name.startswith(prefix) and " " not in name[len(prefix) :]:
            return name[len(prefix) :].lower()
    return None


def _to_ascii(text: str) -> str:
    unreadable: list[str] = []

    def run(m: Match) -> str:
        s = m.string
        out = []
        for i in range(m.start(), m.end()):
            ch = s[i]
            mapped = _CHAR_MAP.get(ch)
            if mapped is not None:
                out.append(mapped)
                continue
            greek = _greek_name(ch)
            if greek is not None and not (i > 0 and s[i - 1].isalpha()) and not (i + 1 < len(s) and s[i + 1].isalpha()):
                out.append(f" {greek} ")  # a lone Greek letter is a symbol: "π" -> "pi"
                continue
            ascii_ = unidecode(ch)
            if ascii_ and ascii_ != "[?]":
                out.append(ascii_)
            elif unicodedata.category(ch)[0] in "MC" or unicodedata.category(ch) == "Zs":
                out.append("" if unicodedata.category(ch)[0] in "MC" else " ")
            else:
                unreadable.append(ch)
                out.append(" ")
        return "".join(out)

    text = _NON_ASCII.sub(run, text)
    if unreadable:
        shown = "".join(dict.fromkeys(unreadable))[:40]
        logger.warning("normalize: cannot read %d character(s) %r; replaced by spaces", len(unreadable), shown)
    text = _CONTROL.sub(" ", text)
    text = _PARAGRAPH.sub(". ", text)
    # "Mr ." reads as "Mr.": the final clean-up would glue them, so glue them before the rules
    text = _SPACE_BEFORE_PUNCTUATION.sub("", text)
    return _WEAK_BEFORE_STRONG.sub("", text)


# ------------------------------------------------------------------------------------------------
# List items: "* milk" / "- milk" / "1. milk" / "2) eggs" at the start of a line

_LIST_MARKER = r"[ \t]*(?:[*+-]|(\d{1,2})[.)])[ \t]+(?=\S)"  # group 1: the item's number
_LIST_ITEM = re.compile(r"^" + _LIST_MARKER, re.ASCII | re.MULTILINE)
_LIST_ITEM_AFTER_NEWLINE = re.compile(r"(?<=\n)" + _LIST_MARKER, re.ASCII)
_LAST_CHARACTER = re.compile(r"(\S)\s*$", re.ASCII)


def _list_item(m: Match) -> str:
    """Each item is its own sentence, and its number is a label: "1. Apples" -> "1, Apples"
    ("one, apples"), not "one. apples"; a bullet is silent (and never "times")."""
    before = _LAST_CHARACTER.search(m.string, max(0, m.start() - _CONTEXT), m.start())
    new_paragraph = before and m.string.count("\n", before.end(1), m.start()) > 1  # gets its stop later
    stop = ". " if before and before.group(1).isalnum() and not new_paragraph else " "
    return stop + (m.group(1) + ", " if m.group(1) else "")


def _list_items(text: str, at_line_start: bool) -> str:
    """`at_line_start`: the text starts a line (a piece after an ARPAbet block does not)."""
    return (_LIST_ITEM if at_line_start else _LIST_ITEM_AFTER_NEWLINE).sub(_list_item, text)


# ------------------------------------------------------------------------------------------------
# URLs and e-mail addresses

_URL_SYMBOLS = {
    ".": "dot", "/": "slash", ":": "colon", "-": "dash", "_": "underscore", "?": "question mark",
    "=": "equals", "&": "and", "#": "hash", "%": "percent", "~": "tilde", "@": "at", "+": "plus",
    ",": "comma", ";": "semicolon", "!": "exclamation mark", "*": "star", "$": "dollar",
}
_URL_SPELLED = frozenset("www http https ftp edu html htm php asp jpg png pdf gif svg csv js py md txt".split())
_URL_WORDS = frozenset("me my us go to in on at it is be we do no".split())
_URL_PIECE = re.compile(r"[A-Za-z]+|[0-9]+|.", re.ASCII)
_TLD = (
    r"com|org|net|edu|gov|io|ai|co|uk|de|fr|us|info|biz|app|dev|me|tv|ly|ca|au|jp|cn|ru|nl|eu|ch|"
    r"py|js|ts|md|txt|pdf|jpe?g|png|gif|csv|json|html?|xml|zip|exe|docx?|xlsx?|pptx?|mp3|mp4|wav|ya?ml|sh|css|svg"
)
_URL_CHARS = r"[^\s<>\"{}|\\^`\[\]]"


def _say_url_word(w: str) -> str:
    low = w.lower()
    if low in _URL_SPELLED or (len(low) <= 2 and low not in _URL_WORDS) or not re.search("[aeiouy]", low):
        return " ".join(low)
    return low


def _say_address(text: str) -> str:
    out = []
    for piece in _URL_PIECE.findall(text):
        if piece.isascii() and piece.isalpha():
            out.append(_say_url_word(piece))
        elif piece.isascii() and piece.isdigit():
            out.append(nw.integer(piece) if len(piece) <= 4 else nw.digits(piece))
        elif piece in _URL_SYMBOLS:
            out.append(_URL_SYMBOLS[piece])
        else:
            out.append(piece)  # a kept symbol such as "²": the symbol rules read it later
    return " ".join(out)


_TRAILING_PUNCT = re.compile(r"[.,;:!?)'\"]+$", re.ASCII)


def _url(m: Match) -> str:
    url = m.group(0)
    tail = _TRAILING_PUNCT.search(url)
    trail = ""
    if tail:
        url, trail = url[: tail.start()], tail.group(0)
    scheme, sep, rest = url.partition("://")
    words = (_say_address(scheme) + " colon slash slash " + _say_address(rest)) if sep else _say_address(url)
    return _spaced(m, words, end=m.start() + len(url)) + trail


def _email(m: Match) -> str:
    return _spaced(m, f"{_say_address(m.group(1))} at {_say_address(m.group(2))}")


_EMAIL = _sub(r"(?<![\w.+-])([A-Za-z0-9][\w.+-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})(?![\w-])", _email)
_URLS = _sub(rf"(?i)\b(?:(?:https?|ftp)://|www\.)(?=[a-z0-9]){_URL_CHARS}+", _url)
_DOMAINS = _sub(rf"(?i)(?<![\w@./-])(?:[a-z0-9][a-z0-9-]*\.)+(?:{_TLD})(?:/{_URL_CHARS}*)?(?![\w-])", _url)
_HANDLE = _sub(r"(?<![\w@])@(?=[A-Za-z_])", "at ")

# ------------------------------------------------------------------------------------------------
# Times


def _say_time(hour: int, minute: int, second: int | None, ampm: str | None) -> str:
    h = nw.cardinal(hour)
    if minute == 0 and ampm:
        words = h
    elif minute == 0:
        words = f"{h} o'clock" if 0 < hour <= 12 else f"{h} hundred"
    elif minute < 10:
        words = f"{h} oh {nw.cardinal(minute)}"
    else:
        words = f"{h} {nw.cardinal(minute)}"
    if second:
        words += f" and {nw.cardinal(second)} second" + ("s" if second != 1 else "")
    if ampm:
        words += f" {ampm.lower()} m"
    return words


_AMPM = r"(?:([AaPp])\.?\s?[Mm](\.?)(?![A-Za-z]))"


def _time(m: Match) -> str:
    hour, minute = int(m.group(1)), int(m.group(2))
    second = int(m.group(3)) if m.group(3) else None
    if hour > 24 or (hour == 24 and minute):
        return m.group(0)
    words = _say_time(hour, minute, second, m.group(4))
    if m.group(5) and _ends_sentence(m.string, m.end()):
        words += "."
    return _spaced(m, words)


def _hour_ampm(m: Match) -> str:
    words = _say_time(int(m.group(1)), 0, None, m.group(2))
    if m.group(3) and _ends_sentence(m.string, m.end()):
        words += "."
    return _spaced(m, words)


def _ratio(m: Match) -> str:
    return f"{m.group(1)} to {m.group(2)}"


# "5-7 pm", "9am-5pm", "9:00-17:00": the dash of a time range is "to"; the times are read below.
# One side must have minutes or am/pm, so scores ("2-1") and plain ranges stay for the range rule.
_AMPM_BARE = r"[AaPp]\.?\s?[Mm]\.?(?![A-Za-z])"
_CLOCK_TIME = rf"\d{{1,2}}(?::[0-5]\d(?:\s?{_AMPM_BARE})?|\s?{_AMPM_BARE})"
_TIME_RANGES = (
    _sub(rf"(?<![\w:.$-])({_CLOCK_TIME})\s?-\s?(?=\d{{1,2}}(?::[0-5]\d)?(?:\s?{_AMPM_BARE})?(?![\w:]|\.\d))", r"\1 to "),
    _sub(rf"(?<![\w:.$-])(\d{{1,2}})\s?-\s?(?={_CLOCK_TIME}(?![\w:]))", r"\1 to "),
)
_TIMES = _sub(r"(?<![\w:.])(\d{1,2}):([0-5]\d)(?::([0-5]\d))?(?![\d:]|\.\d)(?:\s?" + _AMPM + ")?", _time)
_HOURS = _sub(r"(?<![\w:.])(1[0-2]|0?[1-9])\s?" + _AMPM, _hour_ampm)
_RATIOS = _sub(r"(?<![\w:.])(\d+):(\d+)(?![\w:]|\.\d)", _ratio)  # what is left of "d:d" after times: "16:9"

# ------------------------------------------------------------------------------------------------
# Dates


def _month_forms() -> str:
    forms = set()
    for name in lx.MONTH_BY_NAME:
        forms.update({name.capitalize(), name.upper()})
    return "|".join(sorted(forms, key=len, reverse=True))


_MONTH = _month_forms()


def _say_date(month: int, day: int | None, year: str | None, sep: str = ", ", last_day: int | None = None) -> str:
    words = lx.MONTHS[month - 1]
    if day is not None:
        words += " " + nw.ordinal(day)
    if last_day is not None:  # "June 1-5" -> "june first to fifth"
        words += " to " + nw.ordinal(last_day)
    if year:
        words += sep + (nw.year(int(year)) if len(year) == 4 else nw.two_digit_year(year))
    return words


def _date_mdy_words(m: Match) -> str:
    month = lx.MONTH_BY_NAME[m.group(1).lower()]
    day = int(m.group(3))
    last_day = int(m.group(4)) if m.group(4) else None
    if not 1 <= day <= 31 or (last_day is not None and not day < last_day <= 31):
        return m.group(0)
    sep = ", " if m.group(5) else " "
    return _spaced(m, _say_date(month, day, m.group(6), sep, last_day))


def _date_dmy_words(m: Match) -> str:
    day = int(m.group(1))
    if not 1 <= day <= 31:
        return m.group(0)
    month = lx.MONTHS[lx.MONTH_BY_NAME[m.group(2).lower()] - 1]
    # "on the 4th of July" already has its article; "4th July" gets one
    has_article = re.search(r"\bthe\s+$", m.string[max(0, m.start() - 8):m.start()], re.IGNORECASE)
    words = f"{'' if has_article else 'the '}{nw.ordinal(day)} of {month}"
    if m.group(4):
        words += " " + nw.year(int(m.group(4)))
    elif m.group(3) and m.group(2).lower() == month:
        words += "."  # after a full month name the dot ends the sentence, it is no abbreviation's
    return _spaced(m, words)


def _date_my_words(m: Match) -> str:
    return _spaced(m, _say_date(lx.MONTH_BY_NAME[m.group(1).lower()], None, m.group(3), " "))


def _numeric_date(month: int, day: int, year: str, m: Match) -> str:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return _spaced(m, _say_date(month, day, year))


def _date_slash(m: Match) -> str:
    a, b = int(m.group(1)), int(m.group(2))
    if a > 12 and b <= 12:  # day first
        a, b = b, a
    return _numeric_date(a, b, m.group(3), m)


_WEEKDAY_ABBREVIATIONS = {"Mon": "monday", "Tue": "tuesday", "Tues": "tuesday", "Wed": "wednesday", "Thu": "thursday",
                          "Thur": "thursday", "Thurs": "thursday", "Fri": "friday", "Sat": "saturday", "Sun": "sunday"}
_WEEKDAY_FORMS = {**_WEEKDAY_ABBREVIATIONS, **{w.capitalize(): w for w in set(_WEEKDAY_ABBREVIATIONS.values())}}
_WEEKDAY_ALT = "|".join(sorted(_WEEKDAY_FORMS, key=len, reverse=True))


def _weekday_range(m: Match) -> str:
    """'Mon-Fri' -> 'monday to friday'."""
    words = f"{_WEEKDAY_FORMS[m.group(1)]} to {_WEEKDAY_FORMS[m.group(2)]}"
    if m.group(3) and _ends_sentence(m.string, m.end()):
        words += "."
    return _spaced(m, words)


_DATES = (
    _sub(rf"\b({_WEEKDAY_ALT})\.?\s?-\s?({_WEEKDAY_ALT})\b(\.?)", _weekday_range),
    _sub(rf"\b({'|'.join(_WEEKDAY_ABBREVIATIONS)})\.?(?=,?\s+(?:{_MONTH}|\d))",
         lambda m: _WEEKDAY_ABBREVIATIONS[m.group(1)]),
    _sub(rf"\b({_MONTH})(\.?)\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:\s?-\s?(\d{{1,2}})(?:st|nd|rd|th)?)?(?![\d:])"
         rf"(?:(,)?\s+(\d{{4}})(?![\d:]))?\b", _date_mdy_words),
    _sub(rf"(?<![\w.,])(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\b(\.?)(?:,?\s+(\d{{4}})(?!\d))?", _date_dmy_words),
    _sub(rf"\b({_MONTH})(\.?),?\s+(\d{{4}})(?![\d:])", _date_my_words),
    _sub(r"(?<![\w/.-])(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?![\w/]|\.\d)", _date_slash),
    _sub(r"(?<![\w/.-])(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?![\w/-]|\.\d)",
         lambda m: _numeric_date(int(m.group(2)), int(m.group(3)), m.group(1), m)),
    _sub(r"(?<![\w.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\w]|\.\d)",
         lambda m: _numeric_date(int(m.group(2)), int(m.group(1)), m.group(3), m)),
)

# ------------------------------------------------------------------------------------------------
# Phone numbers, versions, IP addresses


def _phone(m: Match) -> str:
    groups = [g for g in m.groups() if g]
    words = ", ".join(("plus " + nw.digits(g)) if g.startswith("+") else nw.digits(g) for g in groups)
    return _spaced(m, words)


_PHONES = (
    _sub(r"(?<![\w+-])(\+\d{1,3})[ -](\d{1,5})[ -](\d{2,5})[ -](\d{2,5})(?:[ -](\d{2,5}))?(?![\w-])", _phone),
    _sub(r"(?<![\w+-])(?:(\+?1)[-. ])?(?:\((\d{3})\)\s?|(\d{3})[-.])(\d{3})[-.](\d{4})(?![\w-]|\.\d)", _phone),
    _sub(r"(?<![\w+(-])(?:(\+?1)[-. ])?\((\d{3})\)\s?(\d{3})[- ](\d{4})(?![\w-])", _phone),
    _sub(r"(?<![\w.,-])(\d{3})-(\d{4})(?![\w-]|\.\d)", _phone),
)


def _version(m: Match) -> str:
    parts = m.group(2).split(".")
    if not m.group(1) and len(parts) == 4 and all(len(p) <= 3 and int(p) <= 255 for p in parts):
        return _spaced(m, " dot ".join(nw.integer(p) for p in parts))  # IPv4 address
    words = " point ".join("oh" if p == "0" else nw.integer(p) for p in parts)
    return _spaced(m, ("version " if m.group(1) else "") + words)


_VERSIONS = (
    _sub(r"(?<![\w.])([vV])?(\d+(?:\.\d+){2,})(?![\w]|\.\d)", _version),
    _sub(r"(?<![\w.])([vV])(\d+(?:\.\d+)?)(?![\w]|\.\d)", _version),
)

# ------------------------------------------------------------------------------------------------
# Signs, ranges, money, measures


_SIGNS = (
    _sub(r"(?:(?<=^)|(?<=[\s(\[{=<>:;,/]))[-](?=[$£€¥₹₩₽]?\.?\d)", " minus "),
    _sub(r"~\s?(?=[$£€¥₹₩₽]?\d)", "about "),
    _sub(r"#\s?(?=\d)", " number "),
    _sub(r"(?<![\w.])(?:ca?)\.\s?(?=\d)", "circa "),
)

_NUM = r"(\d+ \d+/\d+|\d+/\d+|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"


def say_number(s: str) -> str:
    """Any number token: '1,234', '3.14', '.5', '3/4', '2 1/2'."""
    if " " in s:
        whole, frac = s.split(" ", 1)
        num, den = (int(x) for x in frac.split("/"))
        return nw.mixed_fraction(int(whole), num, den)
    if "/" in s:
        num, den = (int(x) for x in s.split("/"))
        return nw.fraction(num, den)
    if "." in s:
        return nw.decimal(s)
    return nw.integer(s)


def _is_proper_fraction(s: str) -> bool:
    if "/" not in s or " " in s:
        return False
    num, den = (int(x) for x in s.split("/"))
    return 0 < num < den


def _year_range(m: Match) -> str | None:
    a, b = m.group(1), m.group(3)
    if len(a) == 4 and a.isdigit() and 1000 <= int(a) <= 2099:
        if len(b) == 2 and b.isdigit():
            b = a[:2] + b
        if len(b) == 4 and b.isdigit() and int(b) > int(a):
            return f"{nw.year(int(a))} to {nw.year(int(b))}"
    return None


def _range(m: Match) -> str:
    years = _year_range(m)
    if years:
        return _spaced(m, years)
    if m.group(1) == m.group(3) and not m.group(2) and "-" in m.group(0):  # "50-50"
        words = say_number(m.group(1))
        return _spaced(m, f"{words}-{words}")
    return f"{m.group(1)} to {m.group(2)}{m.group(3)}"


def _spaced_minus(m: Match) -> str:
    return f"{m.group(1)} minus {m.group(2)}"


_RANGES = (
    # "10 - 5 = 5" is arithmetic; "10-20" and "10 - 20" are ranges
    _sub(r"(?<![\w.,])(\d+(?:\.\d+)?)\s+-\s+(\d+(?:\.\d+)?)(?=\s*=)", _spaced_minus),
    _sub(r"(?<![\w.,/:-])(\d+(?:\.\d+)?|\d{1,3}(?:,\d{3})+)\s?-\s?([$£€¥]?)(\d+(?:\.\d+)?|\d{1,3}(?:,\d{3})+)(?![\d-]|\.\d|/\d)", _range),
)


def say_money(amount: str, symbol: str, magnitude: str | None = None, prefix: str = "", adjective: bool = False) -> str:
    """'3.50', '$' -> 'three dollars and fifty cents'; with a magnitude, '1.2', 'million' -> '... million dollars'.

    `adjective`: the amount qualifies a noun ("a $20 bill"), so a whole amount takes the singular
    ("a twenty dollar bill"); amounts with cents keep the plain reading.
    """
    one, many, sub_one, sub_many = lx.CURRENCIES[symbol]
    if adjective and (magnitude or not amount.partition(".")[2].strip("0")):
        many = one
    if magnitude:
        return f"{say_number(amount)} {lx.MAGNITUDES[magnitude.lower()]} {prefix}{many}"
    whole, _, frac = amount.partition(".")
    whole_n = int(whole.replace(",", "") or "0")
    if frac and (len(frac) > 2 or sub_one is None):
        return f"{nw.decimal(amount)} {prefix}{many}"
    cents = int(frac.ljust(2, "0")) if frac else 0
    main = f"{nw.integer(whole) if whole else 'zero'} {prefix}{one if whole_n == 1 else many}"
    if not cents:
        return main
    sub = f"{nw.cardinal(cents)} {sub_one if cents == 1 else sub_many}"
    return sub if whole_n == 0 else f"{main} and {sub}"


_WORD_AFTER = re.compile(r" +([a-z][a-z'-]*)", re.ASCII)
_NOT_NOUNS = frozenset("and or nor of to in on at for per each a an the than but".split())


def _attributive(m: Match) -> bool:
    """'a $20 bill', 'a 5 km run': after "a"/"an" and before a noun the amount is an adjective,
    and the unit or currency is said in the singular."""
    if _prev_word(m.string, m.start()).lower() not in ("a", "an"):
        return False
    after = _WORD_AFTER.match(m.string, m.end())
    return bool(after) and after.group(1) not in _NOT_NOUNS


def _money(m: Match) -> str:
    prefix = lx.CURRENCY_PREFIX.get((m.group(1) or "").lower(), "")
    return _spaced(m, say_money(m.group(3), m.group(2), m.group(4), prefix, _attributive(m)))


def _money_range(m: Match) -> str:
    """'$3-4 million' -> 'three to four million dollars', '$20-30' -> 'twenty to thirty dollars'."""
    prefix = lx.CURRENCY_PREFIX.get((m.group(1) or "").lower(), "")
    symbol, low, high, magnitude = m.group(2), m.group(3), m.group(4), m.group(5)
    high_words = say_money(high, symbol, magnitude, prefix, _attributive(m))
    if not magnitude and "." in low + high:  # "$3.50-4.50": each amount with its cents
        return _spaced(m, f"{say_money(low, symbol, None, prefix)} to {high_words}")
    return _spaced(m, f"{say_number(low)} to {high_words}")


def _money_after(m: Match) -> str:
    return _spaced(m, say_money(m.group(1), m.group(2), adjective=_attributive(m)))


def _cents(m: Match) -> str:
    plural = m.group(1) != "1" and not _attributive(m)
    return _spaced(m, f"{say_number(m.group(1))} cent" + ("s" if plural else ""))


def _code_form(code: str, symbol: str) -> str:
    """'USD' written next to '$': 'US$'; a code that contradicts the symbol is dropped."""
    form = _CURRENCY_CODES[code]
    return form if form.endswith(symbol) else symbol


def _bare_magnitude(m: Match) -> str:
    """'5M users' -> 'five million users', '3bn' -> 'three billion' (no currency: no 'dollars')."""
    return _spaced(m, f"{say_number(m.group(1))} {lx.MAGNITUDES[(m.group(2) or m.group(3)).lower()]}")


_MAG_WORDS = r"thousand|million|billion|trillion|[kKmMbBtT]|mn|bn|tn|mm"
_MAG = rf"(?:\s?({_MAG_WORDS})(?![A-Za-z]))"
_MAG_UNCAPTURED = rf"(?:\s?(?:{_MAG_WORDS})(?![A-Za-z]))"
_CURRENCY_CODES = {"USD": "US$", "CAD": "C$", "AUD": "A$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
_CODE_ALT = "|".join(_CURRENCY_CODES)
_CURRENCY_SYMBOL = "[$£€¥₹₩₽]"
_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MONEY_RANGES = (
    # before the plain ranges turn "$3-4 million" into "$3 to 4 million" (three dollars to four million)
    _sub(rf"(?<![A-Za-z])(US|A|AU|C|CA|NZ|HK|S)?({_CURRENCY_SYMBOL})\s?({_AMOUNT})\s?-\s?({_AMOUNT})(?![\d-]|\.\d|/\d){_MAG}?",
         _money_range),
)
_MONEY = (
    # "$10 USD" / "USD $10": one currency, said once
    _sub(rf"(?<![A-Za-z])({_CURRENCY_SYMBOL})\s?((?:{_AMOUNT}){_MAG_UNCAPTURED}?)\s?({_CODE_ALT})\b",
         lambda m: _spaced(m, _code_form(m.group(3), m.group(1)) + m.group(2))),
    _sub(rf"\b({_CODE_ALT})\s?({_CURRENCY_SYMBOL})(?=\s?\d)", lambda m: _spaced(m, _code_form(m.group(1), m.group(2)))),
    # "USD 100" / "100 USD" -> "US$100", then read like any amount with a symbol
    _sub(rf"\b({_CODE_ALT})\s?(?=\d)", lambda m: " " + _CURRENCY_CODES[m.group(1)]),
    _sub(rf"(?<![\w.])(\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?({_CODE_ALT})\b",
         lambda m: f" {_CURRENCY_CODES[m.group(2)]}{m.group(1)}"),
    _sub(r"(?<![A-Za-z])(US|A|AU|C|CA|NZ|HK|S)?([$£€¥₹₩₽])\s?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)" + _MAG + "?", _money),
    _sub(r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?:\.\d\d)?|\d+(?:\.\d\d)?)\s?([€£¥₹₩₽])(?!\d)", _money_after),
    _sub(r"(?<![\w.])(\d+(?:\.\d+)?)\s?¢", _cents),
    # magnitudes without a currency; "K" stays a letter ("a 10K run", "4K video")
    _sub(r"(?<![\w.$£€¥₹₩₽])(\d+(?:\.\d+)?)(?:(M)|\s?(mn|bn|Bn|BN|tn))(?![A-Za-z0-9'])", _bare_magnitude),
)

_UNIT_ALT = "|".join(re.escape(u) for u in sorted(lx.UNITS, key=len, reverse=True))


def _say_measure(number: str, unit: str, adjective: bool = False) -> str:
    """`adjective`: the measure qualifies a noun, so the unit is singular ("a five kilometer run")."""
    one, many = lx.UNITS[unit]
    if _is_proper_fraction(number):
        num, den = (int(x) for x in number.split("/"))
        if (num, den) == (1, 2):
            return f"half a {one}"
        return f"{say_number(number)} of a {one}"
    return f"{say_number(number)} {one if number == '1' or adjective else many}"


def _measure(m: Match) -> str:
    unit = m.group(2)
    words = _say_measure(m.group(1), unit, _attributive(m))
    if unit == "in." and _ends_sentence(m.string, m.end()):
        words += "."
    return _spaced(m, words)


def _feet_inches(m: Match) -> str:
    return _spaced(m, f"{_say_measure(m.group(1), 'ft')} {_say_measure(m.group(2), 'in.')}")


_OPENING_SINGLE_QUOTE = re.compile(r"(?:^|(?<=\s))'", re.ASCII)


def _is_closing_quote(s: str, start: int, mark: str) -> bool:
    """Is the mark after a number the end of a quotation ("he said "12"") rather than feet/inches?"""
    line = s[max(0, start - _CONTEXT) : start].rpartition("\n")[2]
    if mark == '"':
        return line.count('"') % 2 == 1
    return len(_OPENING_SINGLE_QUOTE.findall(line)) % 2 == 1


def _foot_or_inch_mark(m: Match) -> str:
    """'6'' -> 'six feet', '12"' -> 'twelve inches' (not after an opening quote)."""
    mark = m.group(2)
    if _is_closing_quote(m.string, m.start(), mark[0]):
        return m.group(0)
    unit = "ft" if mark == "'" else "in."
    return _spaced(m, _say_measure(m.group(1), unit, _attributive(m)))


_MEASURES = (
    _sub(r"°\s(?=[CF]\b)", "°"),
    _sub(r"(?<![\w.])(\d+)'\s?(\d+(?:\.\d+)?)(?:\"|'')", _feet_inches),
    _sub(r"(?<![\w.])(\d+)\s?ft\.?\s(\d+(?:\.\d+)?)\s?(?:in\b\.?|\")", _feet_inches),
    _sub(r"(?<![\w.'\"])(\d+(?:\.\d+)?)(''|'|\")(?![\w'\"])", _foot_or_inch_mark),
    _sub(rf"(?<![\w.]){_NUM}\s?({_UNIT_ALT})(?![A-Za-z0-9²³])", _measure),
    _sub(rf"(?<![\w.]){_NUM}(in)\b(?!')", lambda m: _spaced(m, _say_measure(m.group(1), "in."))),
)


def _dimension(m: Match) -> str:
    ahead = m.string[m.end() : m.end() + _CONTEXT]
    word = "times" if "=" in ahead.split("\n", 1)[0] else "by"
    return f"{m.group(1)} {word} "


_DIMENSIONS = (
    _sub(r"(?<![\w.])(?!0x[0-9a-fA-F])(\d+(?:\.\d+)?)\s?[x×]\s?(?=\d)", _dimension),
    _sub(r"(?<![\w.])(\d+(?:\.\d+)?)[x×](?![\w])", lambda m: f"{m.group(1)} times"),
    _sub(r"×", " times "),
)

# ------------------------------------------------------------------------------------------------
# Decades, ordinals, years, fractions, plain numbers


def _decade(m: Match) -> str:
    digits = m.group(1) or m.group(2)
    n = int(digits)
    if n == 0:  # "the '00s"
        return _spaced(m, "two thousands")
    words = nw.plural(nw.year(n) if len(digits) == 4 else nw.cardinal(n))
    if words.startswith("one "):  # "100s" -> "hundreds", "1000s" -> "thousands"
        words = words[4:]
    return _spaced(m, words)


def _ordinal(m: Match) -> str:
    return _spaced(m, nw.ordinal(int(m.group(1).replace(",", ""))))


def _looks_plural(word: str) -> bool:
    if word in lx.IRREGULAR_PLURALS:
        return True
    return word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")) and word not in lx.S_SINGULARS


def _year_or_number(m: Match) -> str:
    s = m.string
    n = int(m.group(1))
    if not 1000 <= n <= 2099:
        return _spaced(m, nw.integer(m.group(1)))
    prev = _prev_word(s, m.start()).lower()
    strong_cue = prev in lx.YEAR_CUES
    nxt = _next_word(s, m.end())
    if 1000 <= n < 1100 and not strong_cue and nxt.lower() not in ("ad", "bc", "bce", "ce"):
        return _spaced(m, nw.integer(m.group(1)))
    between = s[m.end() : m.end() + 2]
    followed_by_word = bool(nxt) and nxt[0].islower() and nxt.isalpha() and (between[:1] == " ")
    # "a 2019 study", "his 1995 album": after a determiner only a plural noun makes it a count
    adjective_year = prev in lx.YEAR_DETERMINERS and not _looks_plural(nxt)
    if followed_by_word and not (strong_cue or adjective_year) and nxt not in lx.YEAR_FOLLOWERS:
        return _spaced(m, nw.integer(m.group(1)))
    return _spaced(m, nw.year(n))


def _apostrophe_year(m: Match) -> str:
    return _spaced(m, nw.two_digit_year(m.group(1)))


def _fraction(m: Match) -> str:
    return _spaced(m, say_number(m.group(0)))


def _mixed(m: Match) -> str:
    num, den = int(m.group(2)), int(m.group(3))
    if not 0 < num < den:
        return f"{m.group(1)} {m.group(2)}/{m.group(3)}"
    return _spaced(m, nw.mixed_fraction(int(m.group(1)), num, den))


def _decimal(m: Match) -> str:
    return _spaced(m, nw.decimal(m.group(0)))


def _integer(m: Match) -> str:
    return _spaced(m, nw.integer(m.group(0)))


_DECADES = _sub(r"(?<![\w.,'])(?:'(\d0)|(\d{3}0|\d{2}0|\d0))'?s(?![\w'])", _decade)
_NUMBERS = (
    _sub(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th|ST|ND|RD|TH)(?![A-Za-z])", _ordinal),
    _sub(r"(?<![\w.,$-])(\d{4})(?![\w]|[.,]\d)", _year_or_number),
    _sub(r"(?<![\w'])'(\d{2})(?![\w'])", _apostrophe_year),
    _sub(r"(?<![\w./])(\d+) (\d+)/(\d+)(?![\w/]|\.\d)", _mixed),
    _sub(r"(?<![\w./])\d+/\d+(?![\w/]|\.\d)", _fraction),
    _sub(r"(?<!\d)(?:\d{1,3}(?:,\d{3})+|\d+)?\.\d+", _decimal),
    _sub(r"\d{1,3}(?:,\d{3})+(?!\d)|\d+", _integer),
)

# ------------------------------------------------------------------------------------------------
# Abbreviations


def _before_number(m: Match) -> str:
    return _spaced(m, lx.BEFORE_NUMBER[m.group(1).lower()] + " ", end=m.end())


_BEFORE_NUMBER = _sub(
    r"(?<![\w.])(" + "|".join(sorted(lx.BEFORE_NUMBER, key=len, reverse=True)) + r")\.\s*(?=#?\d|(?-i:(?:[IVXLC]{2,}|[VX])\b))",
    _before_number,
    re.IGNORECASE,
)


def _latin(m: Match) -> str:
    key = m.group(1).lower()
    key = key if key.endswith(".") else key + "."
    words = lx.LATIN.get(key)
    if words is None:
        return m.group(0)
    if m.group(0).endswith(".") and _ends_sentence(m.string, m.end()):
        words += "."
    return _spaced(m, words)


_LATIN_RE = _sub(r"(?<![\w.])(e\.g|i\.e|a\.k\.a|n\.b|p\.s|r\.i\.p|et al)\.?(?![\w])", _latin, re.IGNORECASE)


def _abbreviation(m: Match) -> str:
    """A word followed by a period: expand it if it is a known abbreviation."""
    word = m.group(1)
    key = word.lower()
    s = m.string
    nxt = _next_word(s, m.end())
    next_is_name = _is_name(nxt) or (nxt.isupper() and nxt.isalpha() and len(nxt) > 1)
    if key in lx.TITLE_OR_PLACE:
        title, place = lx.TITLE_OR_PLACE[key]
        prev = _prev_word(s, m.start())
        prev_is_place = (prev[:1].isupper() and prev not in lx.SENTENCE_STARTERS) or prev[:1].isdigit()
        if nxt[:1].isupper() and not (prev_is_place and nxt in lx.SENTENCE_STARTERS):
            return _spaced(m, title)  # "Dr. Who", "St. Louis"; but "Baker St. The ..."
        if not (prev_is_place or key == "st"):
            return _spaced(m, title + ("." if _AT_END.match(s, m.end()) else ""))
        words = place
    elif key in lx.TITLES:
        if key in lx.BARE_TITLES or next_is_name:
            return _spaced(m, lx.TITLES[key])
        return m.group(0)
    elif key in lx.POST_NOMINALS:
        words = lx.POST_NOMINALS[key]
    elif _month_outside_date(word, s, m.start()):
        words = lx.PLAIN_ABBREVIATIONS[key]
    elif key in lx.PLAIN_ABBREVIATIONS and not (key in lx.MONTH_BY_NAME or key in _WEEKDAYS):
        words = lx.PLAIN_ABBREVIATIONS[key]
    elif word in ("Vs", "V", "v") and next_is_name:
        return "versus"
    else:
        return m.group(0)
    if _ends_sentence(s, m.end()):
        words += "."
    return _spaced(m, words)


# "Mar." can be the verb and "Jan." a name: a month abbreviation outside a date is read only with
# a capital and after a word that introduces a time ("in Jan. and Feb.").
_RISKY_MONTHS = frozenset({"mar", "may"})
_MONTH_CUES = frozenset(
    "in of since until till from to by during before after through between and or early late mid last next this every".split()
)


def _month_outside_date(word: str, s: str, start: int) -> bool:
    key = word.lower()
    if key not in lx.MONTH_BY_NAME or key not in lx.PLAIN_ABBREVIATIONS or key in _RISKY_MONTHS:
        return False
    return word[:1].isupper() and _prev_word(s, start).lower() in _MONTH_CUES


def _dotted_fixed(words: str) -> Callable[[Match], str]:
    def repl(m: Match) -> str:
        ends = m.group(0).endswith(".") and _ends_sentence(m.string, m.end())
        return _spaced(m, words + ("." if ends else ""))

    return repl


_WEEKDAYS = frozenset({"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri"})


def _bare_title(m: Match) -> str:
    key = m.group(1).lower()
    if key in lx.TITLE_OR_PLACE:
        return lx.TITLE_OR_PLACE[key][0]
    return lx.TITLES[key]


def _bare_word(m: Match) -> str:
    key = m.group(1).lower()
    return lx.PLAIN_ABBREVIATIONS.get(key) or lx.POST_NOMINALS[key]


def _title_alternation() -> str:
    forms = set()
    for key in lx.BARE_TITLES:
        forms.update({key.capitalize(), key.upper()})
    return "|".join(sorted(forms, key=len, reverse=True))


_ABBREVIATIONS = (
    _LATIN_RE,
    _sub(r"\bPh\.D\.?(?=\W|$)", _dotted_fixed("p h d")),
    _sub(r"(?<!\w)([A-Za-z]+)\.(?!\d)", _abbreviation),
    _sub(rf"\b({_title_alternation()})\b(?!\.)(?=\s+[A-Z])", _bare_title),
    _sub(rf"\b({'|'.join(sorted(lx.BARE_PLAIN))})\b(?![.'])", _bare_word, re.IGNORECASE),
    _sub(r"(?<=[A-Za-z],\s)(Jr|Sr)\b(?!\.)|(?<=[A-Za-z]\s)(Jr|Sr)\b(?![.\w])",
         lambda m: lx.POST_NOMINALS[(m.group(1) or m.group(2)).lower()]),
)

# ------------------------------------------------------------------------------------------------
# Initialisms, Roman numerals, acronyms

_VOWELS = frozenset("aeiouy")
_ONSETS = frozenset(
    """
    b bl br c ch chr cl cr d dr dw f fl fr g gl gn gr gu h j k kh kl kn kr l m n p ph pl pr ps qu
    r rh s sc sch scr sh shr sk sl sm sn sp sph spl spr squ st str sw t th thr tr ts tw v w wh wr
    x y z zh
    """.split()
)
_CODA_TRIPLES = frozenset("rld nds nts rst rts ght nch tch sts rch lds rds nks ngs rms lts mps nth ngth".split())
# final pairs that take a plural "s": "STOCKS", "WORKS", "FACTS"
_CODA_PAIRS = frozenset("ck ct ft ld lf lk lm lp lt mp nd ng nk nt pt rb rd rf rg rk rl rm rn rp rt sk sp st th ph gh".split())
_VOWEL_RUN = re.compile(r"[aeiouy]+", re.ASCII)


def _valid_coda(coda: str) -> bool:
    if len(coda) <= 2 or coda in _CODA_TRIPLES:
        return True
    base = coda[:-1]
    return coda.endswith("s") and (base in _CODA_PAIRS or base in _CODA_TRIPLES)


def pronounceable(word: str) -> bool:
    """Rough check that an all-caps token can be read as a word (NASA, SCUBA) rather than spelled."""
    w = word.lower()
    if len(w) < 2 or not _VOWELS.intersection(w.lstrip("y")):
        return False
    runs = [r for r in re.split(r"[aeiou]+|(?<=[^aeiou])y", w)]
    onset, coda = runs[0], runs[-1]
    if onset and onset not in _ONSETS:
        return False
    if not _valid_coda(coda):
        return False
    if any(len(r) > 3 for r in runs[1:-1]):
        return False
    return all(len(v) <= 2 for v in _VOWEL_RUN.findall(w.replace("y", "a")))


def _spell(word: str) -> str:
    return " ".join(word.lower())


def _dotted(m: Match) -> str:
    letters = m.group(1).replace(".", "")
    words = _spell(letters)
    if m.group(0).endswith(".") and _ends_sentence(m.string, m.end()):
        words += "."
    return _spaced(m, words)


_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})", re.ASCII)
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_value(numeral: str) -> int | None:
    if not numeral or not _ROMAN.fullmatch(numeral):
        return None
    total = 0
    for a, b in zip(numeral, numeral[1:] + " "):
        v = _ROMAN_VALUES[a]
        total += -v if b != " " and _ROMAN_VALUES[b] > v else v
    return total


_PRONOUN_FOLLOWERS = frozenset(
    """
    am was have had think know will would can could do did don't didn't want said say see saw
    went got love like need mean guess hope feel believe should must just also really never
    """.split()
)


# Verb forms only "I" takes, never a king: "Henry I think" is the pronoun, "Charles I was" the king.
_FIRST_PERSON_VERBS = frozenset("am have do don't think know want love like need mean guess hope feel believe see say".split())
_NAME_BEFORE_NUMERAL = re.compile(r"(?:([A-Za-z]+) +)?([A-Z][A-Za-z]*) +$", re.ASCII)


def _is_regnal(s: str, start: int) -> bool:
    """A monarch's name right before the numeral at `start`: a known regnal name ("Charles I"),
    or any name after a title ("King Tut II")."""
    m = _NAME_BEFORE_NUMERAL.search(s, max(0, start - _CONTEXT), start)
    if not m:
        return False
    return m.group(2).lower() in lx.REGNAL_NAMES or (m.group(1) or "").lower() in lx.REGNAL_TITLES


def _roman(m: Match) -> str:
    """Roman numerals after a cue word are numbers, after a monarch's name regnal ordinals, after
    another name ("Rocky II", "Star Trek II") sequel numbers; one letter elsewhere is untouched."""
    numeral, suffix = m.group(1), m.group(2) or ""
    value = roman_value(numeral)
    if value is None:
        return m.group(0)
    prev = _prev_word(m.string, m.start())
    regnal = _is_regnal(m.string, m.start())
    nxt = _next_word(m.string, m.end()).lower()
    if numeral == "I" and nxt in _PRONOUN_FOLLOWERS and not (regnal and nxt not in _FIRST_PERSON_VERBS):
        return m.group(0)  # "Henry I think", "chapter I was reading" are the pronoun
    if prev.lower() in lx.ROMAN_CARDINAL_CUES and (len(numeral) > 1 or prev.lower() != "number"):
        return _spaced(m, nw.cardinal(value) + suffix)
    if not (prev.isalpha() and prev[:1].isupper()) or prev in lx.SENTENCE_STARTERS or set(numeral) - set("IVX"):
        return m.group(0)
    if regnal:
        return _spaced(m, "the " + nw.ordinal(value) + suffix)
    if (prev.isupper() and len(prev) > 1) or len(numeral) == 1:
        return m.group(0)  # shouted text ("DO IT"); "Vitamin C", "Malcolm X", "plan B"
    return _spaced(m, nw.cardinal(value) + suffix)


def _initial(m: Match) -> str:
    nxt = _next_word(m.string, m.end())
    if nxt in lx.SENTENCE_STARTERS:
        return m.group(0)
    return m.group(1)


def _shouted(s: str, start: int, end: int) -> bool:
    prev = _prev_word(s, start)
    nxt = _next_word(s, end)
    return any(w.isupper() and w.isalpha() and len(w) > 1 for w in (prev, nxt))


def _acronym(m: Match) -> str:
    word, suffix = m.group(1), m.group(2) or ""
    if word in lx.ACRONYM_WORDS:
        words = lx.ACRONYM_WORDS[word]
        spelled = " " in words and len(words) == 2 * len(word) - 1
    elif word in lx.INITIALISMS and not (_shouted(m.string, m.start(), m.end()) and word in ("IT", "US", "AM")):
        words, spelled = _spell(word), True
    elif pronounceable(word) and (len(word) >= 4 or _shouted(m.string, m.start(), m.end())):
        words, spelled = word.lower(), False
    else:
        words, spelled = _spell(word), True
    if suffix == "s":
        suffix = "'s" if spelled else "s"
    return _spaced(m, words + suffix.lower())


_LETTERS = (
    _sub(r"(?<![\w.])((?:[A-Za-z]\.)+[A-Za-z])\.?(?![\w])", _dotted),
    _sub(r"(?<![\w'-])([IVXLCDM]+)('s)?(?![\w-])", _roman),
    _sub(r"(?<![\w.])([A-Z])\.(?=\s+[A-Z])", _initial),
    _sub(r"(?<![\w'])([A-Z]{2,})('[sS]|s)?(?![\w'])", _acronym),
)

# ------------------------------------------------------------------------------------------------
# Symbols and final clean-up

# one leading look-behind for the whole alternation (a look-behind per branch is 5x slower)
_SPECIALS = re.compile(
    r"(?<!\w)(?:" + "|".join(re.escape(k) for k in sorted(lx.SPECIAL_WORDS, key=len, reverse=True)) + ")", re.ASCII
)
_MISSING_SPACE = _sub(r"(?<=[a-z])\.(?=[A-Z][a-z])", ". ")  # "end.Next" (after URLs are read)


_UNDERSCORE = _sub(r"_+", " ")  # outside addresses "_" only separates words; "\w" rules must not see it


def _specials(text: str) -> str:
    def repl(m: Match) -> str:
        key, end = m.group(0), m.end()
        if key[-1].isalnum() and end < len(m.string) and (m.string[end].isalnum() or m.string[end] == "_"):
            return key  # "9/11th", "PhDx": not the special word
        return _spaced(m, lx.SPECIAL_WORDS[key])

    return _SPECIALS.sub(repl, text)


_SYMBOL_WORDS = {
    "&": " and ", "+": " plus ", "==": " equals ", "=": " equals ", "<=": " less than or equal to ",
    ">=": " greater than or equal to ", "!=": " not equal to ", "<>": " not equal to ", "->": " to ",
    "=>": " implies ", "<": " less than ", ">": " greater than ", "^": " to the power of ",
    "@": " at ", "%": " percent ", "/": " slash ", "\\": " ", "|": " ", "_": " ", '"': " ",
    "`": " ", "~": " ", "[": " (", "]": ") ", "{": " (", "}": ") ", "$": " dollars ", "£": " pounds ",
    "€": " euros ", "¥": " yen ", "¢": " cents ", "₹": " rupees ", "₩": " won ", "₽": " rubles ",
    "°": " degrees ", "²": " squared ", "³": " cubed ", "µ": " mu ", "×": " times ",
}
_SYMBOLS = re.compile("|".join(re.escape(k) for k in sorted(_SYMBOL_WORDS, key=len, reverse=True)))


def _symbol(m: Match) -> str:
    return _SYMBOL_WORDS[m.group(0)]


_PER_UNITS = "hour|hr|day|week|month|year|yr|night|person|head|unit|piece|item|kg|lb|mile|km|gallon|liter|litre|minute|min|second|sec|page|word|share|ticket"
_SYMBOL_RULES = (
    _sub(rf"(?<=[A-Za-z])\s?/\s?(?=(?:{_PER_UNITS})s?\b)", " per "),  # "$5/hour" -> "five dollars per hour"
    _sub(r"(?<=[A-Za-z0-9])[ \t]*\*[ \t]*(?=[A-Za-z0-9])", " times "),  # not across a line break
    _sub(r"\*", " "),
    _sub(r"(?<![\w#])#(?=[A-Za-z])", " hashtag "),
    _sub(r"#", " hash "),
    _sub(r"-{2,}", " - "),
    lambda t: _SYMBOLS.sub(_symbol, t),
    _sub(r"(?<=[A-Za-z])\.(?=[A-Za-z])", " dot "),  # "file.txt" -> "file dot txt"
)

_WHITESPACE = re.compile(r"\s+", re.ASCII)
_UNSPEAKABLE = re.compile(r"[^a-z \-!'(),.:;?]", re.ASCII)
_CLEANUP = (
    (re.compile(r"\s+", re.ASCII), " "),
    (re.compile(r"\.{2,}", re.ASCII), "..."),
    (re.compile(r"([!?])[!?]+", re.ASCII), r"\1"),
    (re.compile(r"([,;:])[\s,;:]*(?=[,;:.!?])", re.ASCII), ""),
    (re.compile(r"\s+(?=[,.;:!?)])", re.ASCII), ""),
    (re.compile(r"\(\s+", re.ASCII), "("),
    (re.compile(r"\(\s*\)", re.ASCII), " "),
    (re.compile(r"([,;:!?).])(?=[a-z(])", re.ASCII), r"\1 "),
    (re.compile(r"(?<=[a-z])\((?=[a-z])", re.ASCII), " ("),
    (re.compile(r"(?:^|(?<=\s))'+(?=\s|$)", re.ASCII), " "),
    (re.compile(r"(?<=\s)-(?:\s+-)+(?=\s)", re.ASCII), "-"),
    (re.compile(r"(?:^|\s)[\s-]*-$", re.ASCII), ""),
    (re.compile(r"\s+", re.ASCII), " "),
)
_LEADING_JUNK = re.compile(r"^(?:[\s,;:!?)]|\.(?![.\d])|-(?![-$£€¥.\d]))+", re.ASCII)
_LEADING_PUNCTUATION = re.compile(r"^[\s,.;:!?)\-]+", re.ASCII)


def _finish(text: str, strip_leading_punctuation: bool = True) -> str:
    text = _WHITESPACE.sub(" ", text.lower())
    bad = _UNSPEAKABLE.findall(text)
    if bad:
        shown = "".join(dict.fromkeys(bad))[:40]
        logger.warning("normalize: no reading for %r; replaced by spaces", shown)
        text = _UNSPEAKABLE.sub(" ", text)
    for _ in range(5):  # the clean-up rules interact; repeat until nothing changes
        before = text
        for pattern, repl in _CLEANUP:
            text = pattern.sub(repl, text)
        if strip_leading_punctuation:
            text = _LEADING_PUNCTUATION.sub("", text)
        text = text.strip()
        if text == before:
            break
    return text


_RULES: tuple[Callable[[str], str], ...] = (
    _EMAIL, _URLS, _DOMAINS, _HANDLE,
    _specials,
    _MISSING_SPACE,
    _UNDERSCORE,
    *_TIME_RANGES, _TIMES, _HOURS, _RATIOS,
    *_DATES,
    *_PHONES,
    *_VERSIONS,
    _BEFORE_NUMBER,
    *_SIGNS,
    *_MONEY_RANGES,
    *_RANGES,
    *_MONEY,
    *_DIMENSIONS,
    _DECADES,
    *_MEASURES,
    *_NUMBERS,
    *_ABBREVIATIONS,
    *_LETTERS,
    *_SYMBOL_RULES,
)

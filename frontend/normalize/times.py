"""Times and durations: clock times ("3:30 pm", "18:00", "7am", "6.30pm", "1:59 p.m. EST"), durations
("1:02:10" -> "one hour two minutes and ten seconds"), time ranges ("9am-5pm") and ratios ("16:9").

Readings: "10:00" -> "ten o'clock", "18:00" -> "eighteen hundred", "12:05" -> "twelve oh five", "3:30
pm" -> "three thirty p m"; a time zone after a time is spelled ("e s t", "u t c"). H:MM:SS is a
duration unless am/pm follows or a word like "at" or "by" comes before it ("at 10:30:15" -> "ten thirty
and fifteen seconds"). A time that cannot exist ("25:61") is read as numbers, not as a time.
"""

from __future__ import annotations

from .. import numbers as nw
from ._context import Match, ends_sentence, needs_digit, prev_word, spaced, sub


def say_time(hour: int, minute: int, second: int | None = None, ampm: str | None = None) -> str:
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


def say_duration(hours: int, minutes: int, seconds: int) -> str:
    """(1, 2, 10) -> 'one hour two minutes and ten seconds'; zero parts are left out."""
    parts = [f"{nw.cardinal(n)} {unit}{'' if n == 1 else 's'}"
             for n, unit in ((hours, "hour"), (minutes, "minute"), (seconds, "second")) if n]
    if not parts:
        return "zero seconds"
    return parts[0] if len(parts) == 1 else " ".join(parts[:-1]) + " and " + parts[-1]


# US, European and other common zone abbreviations; the lower-case and dotted forms count after a time
_ZONES = ("AKST|AKDT|AEST|AEDT|CEST|NZST|HST|EST|EDT|CST|CDT|MST|MDT|PST|PDT|UTC|GMT|BST|CET|EET|IST|JST|KST|SGT"
          "|ET|CT|MT|PT")
_ZONE = (rf"(?:\.?\s?(?P<zone>(?:{_ZONES})\b|(?i:est|edt|cst|cdt|mst|mdt|pst|pdt|utc|gmt)\b"
         r"|(?i:[ecmp]\.[sd]\.t|u\.t\.c|g\.m\.t)\b\.?))")
_AMPM = r"(?:(?P<ampm>[AaPp])\.?\s?[Mm](?P<dot>\.?)(?![A-Za-z]))"
_CLOCK_CUES = frozenset("at by until till before after since from around about approximately".split())


def _zone(m: Match) -> str:
    zone = m.group("zone")
    return " " + " ".join(zone.replace(".", "").lower()) if zone else ""


def _time(m: Match) -> str:
    hour, minute = int(m.group("h")), int(m.group("m"))
    second = int(m.group("s")) if m.groupdict().get("s") else None
    ampm = m.group("ampm")
    if second is not None and not ampm and prev_word(m.string, m.start()).lower() not in _CLOCK_CUES:
        return spaced(m, say_duration(hour, minute, second) + _zone(m))
    if hour > 24 or (hour == 24 and minute) or (ampm and hour > 12):
        return spaced(m, f"{nw.cardinal(hour)} {nw.cardinal(minute)}" + (f" {ampm.lower()} m" if ampm else ""))
    return spaced(m, say_time(hour, minute, second, ampm) + _zone(m) + _full_stop(m))


def _full_stop(m: Match) -> str:
    """The period of "p.m." or "e.s.t." that also ends the sentence."""
    zone = m.group("zone")
    dot = zone.endswith(".") if zone else bool(m.group("dot"))
    return "." if dot and ends_sentence(m.string, m.end()) else ""


def _hour_ampm(m: Match) -> str:
    return spaced(m, say_time(int(m.group("h")), 0, None, m.group("ampm")) + _zone(m) + _full_stop(m))


def _ratio(m: Match) -> str:
    """What is left of "d:d" after the times: a ratio ("16:9", "3:1"), or a time that cannot exist
    ("25:61", "13:75 pm"), read as its two numbers."""
    a, b = m.group(1), m.group(2)
    if m.group(3) or (len(a) <= 2 and len(b) == 2 and int(b) >= 60):
        ampm = f" {m.group(3).strip()[0].lower()} m" if m.group(3) else ""
        return spaced(m, f"{nw.cardinal(int(a))} {nw.cardinal(int(b))}{ampm}")
    return f"{a} to {b}"


# "5-7 pm", "9am-5pm", "9:00-17:00": the dash of a time range is "to"; the times are read below.
# One side must have minutes or am/pm, so scores ("2-1") and plain ranges stay for the range rule.
_AMPM_BARE = r"[AaPp]\.?\s?[Mm]\.?(?![A-Za-z])"
_CLOCK_TIME = rf"\d{{1,2}}(?::[0-5]\d(?:\s?{_AMPM_BARE})?|\s?{_AMPM_BARE})"
RULES = needs_digit(
    sub(rf"(?<![\w:.$-])({_CLOCK_TIME})\s?-\s?(?=\d{{1,2}}(?::[0-5]\d)?(?:\s?{_AMPM_BARE})?(?![\w:]|\.\d))", r"\1 to "),
    sub(rf"(?<![\w:.$-])(\d{{1,2}})\s?-\s?(?={_CLOCK_TIME}(?![\w:]))", r"\1 to "),
    sub(rf"(?<![\w:.])(?P<h>\d{{1,2}}):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?![\d:]|\.\d)(?:\s?{_AMPM})?{_ZONE}?", _time),
    sub(rf"(?<![\w:.,$])(?P<h>\d{{1,2}})\.(?P<m>[0-5]\d)\s?{_AMPM}{_ZONE}?", _time),  # "6.30pm", "1.59 p.m."
    sub(rf"(?<![\w:.])(?P<h>1[0-2]|0?[1-9])\s?{_AMPM}{_ZONE}?", _hour_ampm),
    sub(rf"(?<![\w:.])(\d+):(\d+)(?![\w:]|\.\d)(\s?{_AMPM_BARE})?", _ratio),
)

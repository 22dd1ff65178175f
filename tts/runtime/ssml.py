"""SSML input: a safe parser for the subset of SSML 1.1 the big engines agree on, into flat `Segment`s.

`parse_ssml(markup)` gives segments in reading order: the `text` for `frontend.normalize` (say-as, sub and phoneme
already words or `{ARPAbet}` blocks), how to say it (`rate`, `pitch`, `volume`) and the silence after it
(`pause_after`). A segment ends where prosody changes or a break, sentence or paragraph boundary falls; one that
is only a pause has `text == ""`. An unknown element, attribute or value is a `ValueError` naming it.

* `speak`: the root (`version` 1.0/1.1, `xml:lang` en…, `xsi:schemaLocation`).
* `p`, `s`: a boundary (start or end) ends the text before it as a sentence: a full stop is added when it has no
  final . ? ! …, so the voice reads a sentence end and the pipeline's punctuation pause applies (0.35 s after ".",
  scaled by pace and pause_scale). Between paragraphs the last segment gets `PARAGRAPH_PAUSE` (0.4 s) more
  `pause_after` (none after the last one). No `p` inside `p` or `s`, no `s` inside `s`.
* `break`: `time` ("700ms", "1.5s"; at most `MAX_BREAK` = 10 s) or `strength` (`BREAK_STRENGTHS`, seconds; none
  given = medium); `time` wins. Adjacent breaks add up; a break between a paragraph's last words and the next
  words replaces the paragraph pause (`strength="none"` removes it).
* `prosody`: `rate` `RATE_KEYWORDS`, "80%" (x0.8), "+20%"/"-20%" (x1.2/x0.8) or a multiplier "1.5"; `pitch`
  "+4st"/"-2st", "+10%" (12*log2(1.1) st) or `PITCH_KEYWORDS` (no Hz); `volume` "+6dB"/"-6dB" (gain 10^(dB/20)),
  `VOLUME_KEYWORDS`, "50%" (x0.5) or "+20%"/"-20%" (x1.2/x0.8).
* `emphasis`: `level` strong | moderate (default) | reduced | none, a mild prosody change (`EMPHASIS`).
* `say-as` `interpret-as`: characters | spell-out ("a b c"), cardinal | number ("1,234", "-3.5"), ordinal ("21",
  "21st"), digits ("one two three"), date (`format` mdy dmy ymd md dm ym my y m d; without one: ymd if the first
  part has 4 digits, else the `date_order` argument, then the other order; a day-first format reads "the fifth
  of june twenty twenty-one", any other "june fifth, twenty twenty-one"), time ("3:30pm", "15:00", "3 p.m."),
  telephone ("+1 (555) 123-4567 ext. 8").
* `sub`: `alias` replaces the content. `phoneme`: `alphabet="arpabet"` (the only one; may be left out) and
  `ph="HH AH0 L OW1"` become the block `{HH AH0 L OW1}`, checked with `frontend.check_arpabet`.

Nested prosody and emphasis multiply rates, add semitones and multiply gains, each clamped as it combines to
`RATE_RANGE` (0.25-4), `PITCH_RANGE` (-12..+12 st) and `VOLUME_RANGE` (0-2). Text is whitespace-normalized; say-as,
sub and phoneme output is set off from a word it touches by a space; punctuation that starts a segment joins
the segment before. Parsed with `defusedxml`: a DTD (so any entity declaration: billion laughs, external
entities) is refused with a `ValueError`, malformed markup is a `ValueError` naming the line and column (from
1), and so is markup over `MAX_SSML_CHARS` characters or nested deeper than `MAX_DEPTH` elements.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

import frontend
from frontend import lexicon
from frontend import numbers as nw
from frontend.normalize import dates, telephone, times

__all__ = ["BREAK_STRENGTHS", "EMPHASIS", "PARAGRAPH_PAUSE", "PITCH_KEYWORDS", "RATE_KEYWORDS", "VOLUME_KEYWORDS",
           "Segment", "looks_like_ssml", "parse_ssml"]


def _db(decibels: float) -> float:
    return 10.0 ** (decibels / 20.0)


#: seconds of silence for `<break strength=...>` (no attribute: medium)
BREAK_STRENGTHS: Final[Mapping[str, float]] = MappingProxyType(
    {"none": 0.0, "x-weak": 0.1, "weak": 0.2, "medium": 0.4, "strong": 0.7, "x-strong": 1.0})
MAX_BREAK: Final = 10.0  # seconds; a longer `<break time>` is an error
PARAGRAPH_PAUSE: Final = 0.4  # seconds added after the last segment of a paragraph (not after the last one)
#: speaking-rate multipliers
RATE_KEYWORDS: Final[Mapping[str, float]] = MappingProxyType(
    {"x-slow": 0.6, "slow": 0.8, "medium": 1.0, "default": 1.0, "fast": 1.25, "x-fast": 1.6})
#: semitones
PITCH_KEYWORDS: Final[Mapping[str, float]] = MappingProxyType(
    {"x-low": -6.0, "low": -3.0, "medium": 0.0, "default": 0.0, "high": 3.0, "x-high": 6.0})
#: linear gains: silent 0, x-soft -12 dB, soft -6 dB, loud +3 dB, x-loud +6 dB
VOLUME_KEYWORDS: Final[Mapping[str, float]] = MappingProxyType(
    {"silent": 0.0, "x-soft": _db(-12), "soft": _db(-6), "medium": 1.0, "default": 1.0, "loud": _db(3),
     "x-loud": _db(6)})
#: `<emphasis level>` -> (rate, semitones, gain)
EMPHASIS: Final[Mapping[str, tuple[float, float, float]]] = MappingProxyType({
    "strong": (0.9, 1.0, _db(3)), "moderate": (0.95, 0.5, _db(1.5)), "reduced": (1.05, -1.0, _db(-3)),
    "none": (1.0, 0.0, 1.0)})
RATE_RANGE: Final = (0.25, 4.0)
PITCH_RANGE: Final = (-12.0, 12.0)
VOLUME_RANGE: Final = (0.0, 2.0)
MAX_SSML_CHARS: Final = 1_000_000
MAX_DEPTH: Final = 64  # elements nested inside <speak>, itself included

SSML_NAMESPACE: Final = "http://www.w3.org/2001/10/synthesis"
_SSML_TAG: Final = "{" + SSML_NAMESPACE + "}"
_XML_NS: Final = "{http://www.w3.org/XML/1998/namespace}"
_XSI_NS: Final = "{http://www.w3.org/2001/XMLSchema-instance}"
_ELEMENTS: Final = frozenset({"speak", "p", "s", "break", "prosody", "emphasis", "say-as", "sub", "phoneme"})
_DATE_FORMATS: Final = frozenset({"mdy", "dmy", "ymd", "md", "dm", "ym", "my", "y", "m", "d"})
_SYMBOL_NAMES: Final[Mapping[str, str]] = MappingProxyType({
    "-": "dash", ".": "dot", "@": "at", "&": "and", "_": "underscore", "/": "slash", "+": "plus", "#": "hash",
    "*": "star", "%": "percent", "=": "equals", ":": "colon", ",": "comma", "'": "apostrophe"})

# a comment ends at its first "-->" (an unambiguous pattern: no backtracking blow-up on many comments)
_SSML_START = re.compile(r"\ufeff?\s*(?:<\?xml\b[^>]*\?>\s*)?(?:<!--(?:[^-]|-(?!->))*-->\s*)*"
                         r"(?:<speak[\s/>]|<!DOCTYPE\s+speak\b)")
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_RELATIVE = re.compile(rf"([+-]?)({_NUMBER})(%|st|dB)", re.IGNORECASE)
_PLAIN = re.compile(_NUMBER)
_TIME = re.compile(rf"({_NUMBER})(ms|s)")
_LEADING_PUNCTUATION = re.compile(r"[.,;:!?…]+")
_SENTENCE_END = re.compile(r"[.?!…][\"')\]}»”’]*$")
_CARDINAL = re.compile(r"([+\-\u2212]?)(\d{1,3}(?:,\d{3})+|\d*)(?:\.(\d+))?")
_ORDINAL = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th)?", re.IGNORECASE)
_CLOCK = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?(?::(\d{2}))?\s*(?:([ap])\.?\s*m\.?)?", re.IGNORECASE)
_LANG = re.compile(r"en(?:[-_][A-Za-z0-9]{1,8})*", re.IGNORECASE)


@dataclass(frozen=True)
class Segment:
    """A stretch of speech: what to read, how, and the silence after it (see the module docstring)."""

    text: str  # for frontend.normalize; may hold {ARPAbet} blocks; "" = only a pause
    rate: float = 1.0  # speaking-rate multiplier (the pipeline multiplies the call's pace by it)
    pitch: float = 0.0  # semitones added (PITCH_RANGE)
    volume: float = 1.0  # linear gain multiplier (VOLUME_RANGE; 0 = silent)
    pause_after: float = 0.0  # seconds of silence after it (breaks, paragraph ends)
    #: the markup's own text for this stretch (say-as "123", sub's and phoneme's content), for word timestamps
    written: str = field(default="", compare=False)


def looks_like_ssml(text: str) -> bool:
    """Does `text` (after whitespace, an XML declaration, comments) start with a `<speak>` element (or a
    `<!DOCTYPE speak`, which `parse_ssml` then refuses)?"""
    return isinstance(text, str) and _SSML_START.match(text[:100_000]) is not None


def parse_ssml(markup: str, *, date_order: str = "mdy") -> list[Segment]:
    """Parse SSML into segments in reading order; `ValueError` for anything unsafe, malformed or unsupported.

    `date_order` ("mdy" or "dmy") orders a `<say-as interpret-as="date">` without `format`. `<speak/>` with
    nothing in it gives `[]`; the caller decides whether that is an error.
    """
    if not isinstance(markup, str):
        raise TypeError(f"SSML must be a str, got {type(markup).__name__}")
    if date_order not in dates.DATE_ORDERS:
        raise ValueError(f"date_order must be one of {', '.join(map(repr, dates.DATE_ORDERS))}, got {date_order!r}")
    if len(markup) > MAX_SSML_CHARS:
        raise ValueError(f"SSML is too long: {len(markup):,} characters (at most {MAX_SSML_CHARS:,})")
    root = _parse_xml(markup)
    if _name(root) != "speak":
        raise ValueError(f"SSML must have <speak> as its root element, got <{_name(root)}>")
    return _Reader(date_order).read(root)



class _DepthLimitedBuilder(TreeBuilder):
    """A TreeBuilder that stops the parse as soon as elements nest deeper than MAX_DEPTH."""

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0

    def start(self, tag, attrs):  # type: ignore[no-untyped-def]
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ValueError(f"SSML is nested too deeply (more than {MAX_DEPTH} elements)")
        return super().start(tag, attrs)

    def end(self, tag):  # type: ignore[no-untyped-def]
        self._depth -= 1
        return super().end(tag)


def _parse_xml(markup: str) -> Element:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    parser = DefusedXMLParser(target=_DepthLimitedBuilder(), forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    try:
        parser.feed(markup)
        return parser.close()
    except DefusedXmlException as e:
        raise ValueError(f"SSML with a DTD, entity declaration or external reference is refused ({e!r})") from None
    except ParseError as e:
        line, column = e.position
        reason = str(e).rsplit(": line ", 1)[0]
        raise ValueError(f"malformed SSML at line {line}, column {column + 1}: {reason}") from None


def _name(el: Element) -> str:
    """The element's SSML name ('speak'); an element in another namespace keeps its '{namespace}name'."""
    tag = str(el.tag)
    return tag.removeprefix(_SSML_TAG)


def _attributes(el: Element, allowed: frozenset[str]) -> dict[str, str]:
    attrs = {k.replace(_XML_NS, "xml:").replace(_XSI_NS, "xsi:"): v for k, v in el.attrib.items()}
    for name in attrs:
        if name not in allowed:
            supported = ", ".join(sorted(allowed)) or "none"
            raise ValueError(f"unsupported attribute {name!r} on <{_name(el)}> (supported: {supported})")
    lang = attrs.get("xml:lang")
    if lang is not None and not _LANG.fullmatch(lang.strip()):
        raise ValueError(f"unsupported xml:lang {lang!r} on <{_name(el)}>: the voices speak English (en, en-US…)")
    return attrs


def _text_only(el: Element) -> str:
    """The whitespace-normalized content of an element that may hold only text."""
    if len(el):
        raise ValueError(f"<{_name(el)}> may contain only text, found <{_name(el[0])}>")
    return " ".join((el.text or "").split())



_FORMS: Final[Mapping[str, str]] = MappingProxyType({
    "rate": "x-slow…x-fast, a percentage (\"80%\", \"+20%\", \"-20%\") or a multiplier (\"1.5\")",
    "pitch": "semitones (\"+4st\", \"-2st\"), a change in percent (\"+10%\") or x-low…x-high (not Hz: the voice's "
             "own pitch is not known)",
    "volume": "decibels (\"+6dB\", \"-6dB\"), silent…x-loud or a percentage (\"50%\", \"+20%\")"})
_KEYWORDS: Final[Mapping[str, Mapping[str, float]]] = MappingProxyType(
    {"rate": RATE_KEYWORDS, "pitch": PITCH_KEYWORDS, "volume": VOLUME_KEYWORDS})


def _prosody_value(attr: str, value: str) -> float:
    """`rate` -> a multiplier, `pitch` -> semitones, `volume` -> a gain (forms in the module docstring)."""
    v = value.strip().lower()
    if v in _KEYWORDS[attr]:
        return _KEYWORDS[attr][v]
    m = _RELATIVE.fullmatch(v)
    sign, unit = (m.group(1), m.group(3)) if m else ("", "")
    number = (-1.0 if sign == "-" else 1.0) * float(m.group(2)) if m else 0.0
    percent = (1.0 + number / 100.0) if sign else number / 100.0  # "+20%" -> 1.2, "80%" -> 0.8
    if attr == "rate" and (unit == "%" or _PLAIN.fullmatch(v)):
        rate = percent if unit else float(v)
        if rate > 0:
            return rate
    elif attr == "pitch" and unit == "st":
        return number
    elif attr == "pitch" and unit == "%" and sign and number > -100.0:
        return 12.0 * math.log2(1.0 + number / 100.0)
    elif attr == "volume" and unit == "db":
        return _db(min(number, 60.0))  # more than +6 dB is clamped anyway
    elif attr == "volume" and unit == "%" and percent >= 0:
        return percent
    raise ValueError(f"unsupported prosody {attr} {value!r}: use {_FORMS[attr]}")


@dataclass(frozen=True)
class _Prosody:
    rate: float = 1.0
    pitch: float = 0.0
    volume: float = 1.0

    def then(self, rate: float = 1.0, pitch: float = 0.0, volume: float = 1.0) -> _Prosody:
        """This prosody with another inside it, each value clamped to its range."""
        values = (self.rate * rate, self.pitch + pitch, self.volume * volume)
        return _Prosody(*(min(max(v, low), high) for v, (low, high) in zip(values, (RATE_RANGE, PITCH_RANGE,
                                                                                     VOLUME_RANGE))))


def _break_seconds(attrs: Mapping[str, str]) -> float:
    if "time" in attrs:
        m = _TIME.fullmatch(attrs["time"].strip().lower())
        if not m:
            raise ValueError(f"unsupported break time {attrs['time']!r}: use \"700ms\" or \"1.5s\"")
        seconds = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
        if seconds > MAX_BREAK:
            raise ValueError(f"break time {attrs['time']!r} is longer than {MAX_BREAK:g} s")
        return seconds
    strength = attrs.get("strength", "medium").strip().lower()
    if strength not in BREAK_STRENGTHS:
        raise ValueError(f"unsupported break strength {attrs['strength']!r}: use {', '.join(BREAK_STRENGTHS)}")
    return BREAK_STRENGTHS[strength]



def _spell(content: str) -> str:
    words = []
    for ch in unicodedata.normalize("NFKD", content):
        if unicodedata.combining(ch) or ch.isspace():
            continue
        if ch.isascii() and ch.isalpha():
            words.append(ch.lower())
        elif ch.isascii() and ch.isdigit():
            words.append(nw.DIGIT_WORDS[int(ch)])
        elif ch in _SYMBOL_NAMES:
            words.append(_SYMBOL_NAMES[ch])
        else:
            raise ValueError(f"say-as characters cannot spell {ch!r} in {content!r}")
    return " ".join(words)


def _cardinal(content: str) -> str:
    m = _CARDINAL.fullmatch(content.replace(" ", ""))
    if not m or not (m.group(2) or m.group(3)):
        raise ValueError(f"say-as cardinal needs a number like \"1,234\" or \"-3.5\", got {content!r}")
    sign, whole, frac = m.group(1), m.group(2).replace(",", ""), m.group(3)
    words = (nw.digits(whole) if len(whole) > nw.MAX_CARDINAL_DIGITS else nw.cardinal(int(whole))) if whole else "zero"
    return {"+": "plus ", "": ""}.get(sign, "minus ") + words + (" point " + nw.digits(frac) if frac else "")


def _ordinal(content: str) -> str:
    m = _ORDINAL.fullmatch(content.replace(" ", ""))
    plain = m.group(1).replace(",", "") if m else ""
    if not plain or len(plain) > nw.MAX_CARDINAL_DIGITS:
        raise ValueError(f"say-as ordinal needs a whole number like \"21\" or \"21st\", got {content!r}")
    return nw.ordinal(int(plain))


def _digits(content: str) -> str:
    if not re.fullmatch(r"[\d\s\-.,/()]+", content) or not re.search(r"\d", content):
        raise ValueError(f"say-as digits needs digits, got {content!r}")
    return nw.digits(content)


def _time(content: str) -> str:
    m = _CLOCK.fullmatch(content.strip())
    if not m:
        raise ValueError(f"say-as time needs a clock time like \"3:30pm\" or \"15:00\", got {content!r}")
    hour, minute, second = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    ampm = m.group(4)
    if not ((1 <= hour <= 12) if ampm else hour <= 23) or minute > 59 or second > 59:
        raise ValueError(f"say-as time {content!r} is not a time of day")
    return times.say_time(hour, minute, second or None, ampm)


def _telephone(content: str) -> str:
    number, extension = content.strip(), None
    ext = re.search(r"(?:ext\.?|extension|x)\s*(\d{1,6})$", number, re.IGNORECASE)
    if ext:
        number, extension = number[: ext.start()].rstrip(" ,"), ext.group(1)
    if not re.fullmatch(r"\+?[\d\s\-.()/]+", number) or not re.search(r"\d", number):
        raise ValueError(f"say-as telephone needs a phone number like \"+1 (555) 123-4567\", got {content!r}")
    words = telephone.say_groups(re.split(r"[^\d+]+", number))
    return words + (" extension " + nw.digits(extension) if extension else "")


def _month(part: str) -> int:
    if part.isdigit() and 1 <= int(part) <= 12:
        return int(part)
    month = lexicon.MONTH_BY_NAME.get(part.lower().rstrip("."))
    if month is None:
        raise ValueError(f"{part!r} is not a month")
    return month


def _day(part: str) -> int:
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", part, re.IGNORECASE)
    if not m or not 1 <= int(m.group(1)) <= 31:
        raise ValueError(f"{part!r} is not a day of the month")
    return int(m.group(1))


def _date_in(parts: list[str], fmt: str) -> str:
    if len(parts) != len(fmt):
        raise ValueError(f"{len(parts)} part(s), the format {fmt!r} needs {len(fmt)}")
    fields = dict(zip(fmt, parts))
    year = fields.get("y")
    if year is not None and not re.fullmatch(r"\d{2}|\d{4}", year):
        raise ValueError(f"{year!r} is not a year (2 or 4 digits)")
    month = _month(fields["m"]) if "m" in fields else None
    day = _day(fields["d"]) if "d" in fields else None
    if month is not None and day is not None and not dates.exists(month, day, int(year) if year and len(year) == 4
                                                                  else None):
        raise ValueError("no such date")
    if month is None:
        return f"the {nw.ordinal(day)}" if day is not None else dates.say_year(year or "")
    return dates.say_date(month, day, year, order="dmy" if fmt.startswith("d") else "mdy")


def _date(content: str, fmt: str | None, date_order: str) -> str:
    parts = [p for p in re.split(r"[\s/.\-,]+", content.strip()) if p]
    other = "dmy" if date_order == "mdy" else "mdy"
    if fmt is not None:
        candidates = [fmt]
    elif len(parts) == 3:
        candidates = ["ymd"] if len(parts[0]) == 4 else [date_order, other]
    elif len(parts) == 2:
        four_digits = any(len(p) == 4 and p.isdigit() for p in parts)
        candidates = ["my", "ym"] if four_digits else [date_order[:2], other[:2]]
    else:
        candidates = ["y", "m"]
    errors = []
    for candidate in candidates:
        try:
            return _date_in(parts, candidate)
        except ValueError as e:
            errors.append(str(e))
    how = f"format {fmt!r}" if fmt else "format " + " or ".join(map(repr, candidates))
    raise ValueError(f"say-as date {content!r} cannot be read with {how}: {errors[0]}")


_SAY_AS: Final[Mapping[str, Callable[[str], str]]] = MappingProxyType({
    "characters": _spell, "spell-out": _spell, "cardinal": _cardinal, "number": _cardinal, "ordinal": _ordinal,
    "digits": _digits, "time": _time, "telephone": _telephone})



def _join(pieces: list[tuple[str, bool]]) -> str:
    """Concatenate text pieces, setting a spoken-as token (say-as, sub, phoneme) off from a word it touches."""
    out = ""
    after_token = False
    for text, token in pieces:
        if out and text and (token or after_token) and _wordish(out[-1]) and _wordish(text[0]):
            out += " "
        out += text
        after_token = token
    return " ".join(out.split())


def _wordish(ch: str) -> bool:
    return ch.isalnum() or ch in "{}"


def _end_sentence(text: str) -> str:
    if _SENTENCE_END.search(text):
        return text
    return text.rstrip(",;: ") + "."


class _Reader:
    """One parse: the segments so far, the text of the one being built, and the boundary state."""

    def __init__(self, date_order: str) -> None:
        self.date_order = date_order
        self.segments: list[Segment] = []
        self.spoken: list[tuple[str, bool]] = []  # (text, is_token) for Segment.text
        self.written: list[tuple[str, bool]] = []  # the same stretch as written, for Segment.written
        self.prosody = _Prosody()
        self.open_sentence = False  # text was spoken since the last sentence boundary
        self.paragraph_pending = False  # a paragraph ended: pause before the next text
        self.broke = False  # an explicit break came after the last text (it replaces a paragraph pause)

    def read(self, root: Element) -> list[Segment]:
        _attributes(root, frozenset({"version", "xml:lang", "xsi:schemaLocation"}))
        version = root.attrib.get("version")
        if version is not None and version.strip() not in ("1.0", "1.1"):
            raise ValueError(f"unsupported SSML version {version!r} (1.0 or 1.1)")
        self._content(root, in_p=False, in_s=False)
        self._flush()
        for segment in self.segments:
            frontend.check_arpabet(segment.text)
        return self.segments

    # -- text and segments

    def _add(self, spoken: str, written: str, token: bool = False) -> None:
        if spoken:
            self.spoken.append((spoken, token))
            self.written.append((written, token))

    def _flush(self, end_sentence: bool = False) -> None:
        text, written = _join(self.spoken), _join(self.written)
        self.spoken, self.written = [], []
        lead = _LEADING_PUNCTUATION.match(text)
        if lead and self.open_sentence and self.segments[-1].text:  # "…</prosody>, and": the comma ends the last one
            last = self.segments[-1]
            self.segments[-1] = replace(last, text=last.text + lead.group(0), written=last.written + lead.group(0))
            text = text[lead.end():].lstrip()
            written = written[len(lead.group(0)):].lstrip() if written.startswith(lead.group(0)) else written
        if text:
            if self.paragraph_pending and self.segments:
                last = self.segments[-1]
                self.segments[-1] = replace(last, pause_after=last.pause_after + PARAGRAPH_PAUSE)
            self.paragraph_pending = False
            p = self.prosody
            self.segments.append(Segment(text, p.rate, p.pitch, p.volume, written=written))
            self.open_sentence, self.broke = True, False
        if end_sentence and self.open_sentence and self.segments and self.segments[-1].text:
            last = self.segments[-1]
            self.segments[-1] = replace(last, text=_end_sentence(last.text))
        if end_sentence:
            self.open_sentence = False

    def _pause(self, seconds: float) -> None:
        self._flush()
        self.paragraph_pending, self.broke = False, True
        if not self.segments:
            p = self.prosody
            self.segments.append(Segment("", p.rate, p.pitch, p.volume, pause_after=seconds))
            return
        last = self.segments[-1]
        self.segments[-1] = replace(last, pause_after=last.pause_after + seconds)

    def _boundary(self, paragraph: bool) -> None:
        self._flush(end_sentence=True)
        if paragraph and not self.broke and any(s.text for s in self.segments[-1:]):
            self.paragraph_pending = True

    def _with_prosody(self, el: Element, prosody: _Prosody, in_p: bool, in_s: bool) -> None:
        if prosody == self.prosody:
            self._content(el, in_p, in_s)
            return
        outer = self.prosody
        self._flush()
        self.prosody = prosody
        self._content(el, in_p, in_s)
        self._flush()
        self.prosody = outer

    # -- elements

    def _content(self, el: Element, in_p: bool, in_s: bool) -> None:
        self._text(el.text)
        for child in el:
            self._element(child, in_p, in_s)
            self._text(child.tail)

    def _text(self, text: str | None) -> None:
        if text:
            self._add(text, text)

    def _element(self, el: Element, in_p: bool, in_s: bool) -> None:
        name = _name(el)
        if name not in _ELEMENTS:
            raise ValueError(f"unknown SSML element <{name}> (supported: {', '.join(sorted(_ELEMENTS))})")
        if name == "speak":
            raise ValueError("<speak> may only be the root element")
        if name in ("p", "s"):
            _attributes(el, frozenset({"xml:lang"}))
            if in_s or (name == "p" and in_p):
                raise ValueError(f"<{name}> may not be inside <{'s' if in_s else 'p'}>")
            self._boundary(paragraph=name == "p")
            self._content(el, in_p or name == "p", in_s or name == "s")
            self._boundary(paragraph=name == "p")
        elif name == "break":
            attrs = _attributes(el, frozenset({"time", "strength"}))
            if len(el) or (el.text or "").strip():
                raise ValueError("<break> must be empty")
            self._pause(_break_seconds(attrs))
        elif name == "prosody":
            attrs = _attributes(el, frozenset({"rate", "pitch", "volume"}))
            change = self.prosody.then(*(_prosody_value(a, attrs[a]) if a in attrs else neutral
                                         for a, neutral in (("rate", 1.0), ("pitch", 0.0), ("volume", 1.0))))
            self._with_prosody(el, change, in_p, in_s)
        elif name == "emphasis":
            level = _attributes(el, frozenset({"level"})).get("level", "moderate").strip().lower()
            if level not in EMPHASIS:
                raise ValueError(f"unsupported emphasis level {el.attrib['level']!r}: use {', '.join(EMPHASIS)}")
            self._with_prosody(el, self.prosody.then(*EMPHASIS[level]), in_p, in_s)
        elif name == "say-as":
            self._say_as(el)
        elif name == "sub":
            attrs = _attributes(el, frozenset({"alias"}))
            content = _text_only(el)
            alias = " ".join(attrs.get("alias", "").split())
            if not alias:
                raise ValueError("<sub> needs a non-empty alias attribute (the words to say)")
            self._add(alias, content or alias, token=True)
        else:  # phoneme
            self._phoneme(el)

    def _say_as(self, el: Element) -> None:
        attrs = _attributes(el, frozenset({"interpret-as", "format"}))
        content = _text_only(el)
        kind = attrs.get("interpret-as", "").strip().lower()
        fmt = attrs.get("format")
        if kind not in _SAY_AS and kind != "date":
            supported = ", ".join(sorted([*_SAY_AS, "date"]))
            raise ValueError(f"unsupported say-as interpret-as {attrs.get('interpret-as')!r} (use one of {supported})")
        if fmt is not None and kind != "date":
            raise ValueError(f"say-as format is supported only with interpret-as=\"date\", not {kind!r}")
        if not content:
            raise ValueError(f"<say-as interpret-as=\"{kind}\"> is empty")
        if kind == "date":
            if fmt is not None and fmt.strip().lower() not in _DATE_FORMATS:
                raise ValueError(f"unsupported say-as date format {fmt!r}: use {', '.join(sorted(_DATE_FORMATS))}")
            words = _date(content, fmt.strip().lower() if fmt else None, self.date_order)
        else:
            words = _SAY_AS[kind](content)
        if not words:
            raise ValueError(f"<say-as interpret-as=\"{kind}\"> has nothing to say in {content!r}")
        self._add(words, content, token=True)

    def _phoneme(self, el: Element) -> None:
        attrs = _attributes(el, frozenset({"alphabet", "ph"}))
        content = _text_only(el)
        alphabet = attrs.get("alphabet", "arpabet").strip()
        if alphabet.lower() != "arpabet":
            raise ValueError(f"phoneme alphabet {alphabet!r} is not supported: use alphabet=\"arpabet\" "
                             "(CMUdict phones, e.g. ph=\"HH AH0 L OW1\")")
        phones = attrs.get("ph", "").split()
        if not phones or any(c in "{}" for c in attrs["ph"]):
            raise ValueError(f"<phoneme> needs ph with ARPAbet phones like \"HH AH0 L OW1\", got {attrs.get('ph')!r}")
        block = "{" + " ".join(phones) + "}"
        try:
            frontend.check_arpabet(block)
        except ValueError as e:
            raise ValueError(f"<phoneme ph={attrs['ph']!r}>: {e}") from None
        self._add(block, content or block, token=True)

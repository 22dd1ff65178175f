"""SSML parsing (tts.runtime.ssml): elements, attribute forms, combination rules, errors and hostile markup."""

from __future__ import annotations

import math
import time

import pytest

import frontend
from tts.runtime.ssml import (
    BREAK_STRENGTHS,
    EMPHASIS,
    MAX_BREAK,
    MAX_DEPTH,
    MAX_SSML_CHARS,
    PARAGRAPH_PAUSE,
    PITCH_KEYWORDS,
    RATE_KEYWORDS,
    VOLUME_KEYWORDS,
    Segment,
    looks_like_ssml,
    parse_ssml,
)

NS = 'xmlns="http://www.w3.org/2001/10/synthesis"'


def speak(body: str) -> str:
    return f"<speak>{body}</speak>"


def spoken(segments: list[Segment]) -> str:
    """What Speech.normalized shows for these segments."""
    return " ".join(frontend.normalize(s.text) for s in segments if s.text)


def db(x: float) -> float:
    return 10 ** (x / 20)


# ------------------------------------------------------------------------------------------------
# detection


@pytest.mark.parametrize("text, expected", [
    ("<speak>Hi</speak>", True),
    ("  \n\t<speak version='1.1'>Hi</speak>", True),
    ('<?xml version="1.0" encoding="UTF-8"?>\n<speak>Hi</speak>', True),
    ("\ufeff<speak/>", True),
    ("<!-- a note --><speak>Hi</speak>", True),
    (f"<speak {NS} xml:lang='en-US'>Hi</speak>", True),
    ("<!DOCTYPE speak [<!ENTITY a 'b'>]><speak>&a;</speak>", True),  # detected, then refused by parse_ssml
    ("Hello <speak>world</speak>", False),
    ("<speaker>Hi</speaker>", False),
    ("<p>Hi</p>", False),
    ("Use 3 < 4 and speak.", False),
    ("", False),
])
def test_looks_like_ssml(text, expected):
    assert looks_like_ssml(text) is expected


@pytest.mark.parametrize("text", ["<!-- a -->" * 10_000 + "x", "<!--" * 25_000, "<!-- -- -->" * 9_000 + "<speak",
                                  "<?xml " + "?" * 100_000, " " * 1_000_000],
                         ids=["many comments", "unclosed comments", "dashes in comments", "unclosed declaration",
                              "blank"])
def test_looks_like_ssml_is_fast_on_hostile_text(text):
    start = time.perf_counter()
    assert not looks_like_ssml(text)
    assert time.perf_counter() - start < 0.5


# ------------------------------------------------------------------------------------------------
# structure: segments, breaks, sentences, paragraphs


@pytest.mark.parametrize("body, expected", [
    ("Hello world.", [Segment("Hello world.")]),
    ("  Hello \n\n   world.  ", [Segment("Hello world.")]),
    ("", []),
    ("Hello <!-- note --> world<?pi x?> &amp; <![CDATA[a < b]]> caf&#233;", [Segment("Hello world & a < b café")]),
    ("Hello <break time='700ms'/> world.", [Segment("Hello", pause_after=0.7), Segment("world.")]),
    ("Hello <break time='1.5s'/>world", [Segment("Hello", pause_after=1.5), Segment("world")]),
    ("Hello <break/> world", [Segment("Hello", pause_after=BREAK_STRENGTHS["medium"]), Segment("world")]),
    ("<break time='300ms'/>Hello", [Segment("", pause_after=0.3), Segment("Hello")]),
    ("Hello<break time='200ms'/><break time='300ms'/>", [Segment("Hello", pause_after=0.5)]),
    ("Hello <break time='0.5s' strength='x-strong'/>", [Segment("Hello", pause_after=0.5)]),  # time wins
    ("<s>First one</s><s>Second one!</s>", [Segment("First one."), Segment("Second one!")]),
    ("<s>Why not</s>", [Segment("Why not.")]),
    ("<s>He said \"no.\"</s>", [Segment("He said \"no.\"")]),
    ("<s>Well,</s>", [Segment("Well.")]),
    ("Intro <s>Body</s> outro", [Segment("Intro."), Segment("Body."), Segment("outro")]),
    ("<p>One.</p><p>Two.</p><p>Three.</p>",
     [Segment("One.", pause_after=PARAGRAPH_PAUSE), Segment("Two.", pause_after=PARAGRAPH_PAUSE), Segment("Three.")]),
    ("<p><s>A</s><s>B</s></p><p><s>C</s></p>",
     [Segment("A."), Segment("B.", pause_after=PARAGRAPH_PAUSE), Segment("C.")]),
    ("<p>One.</p><break time='1s'/><p>Two.</p>", [Segment("One.", pause_after=1.0), Segment("Two.")]),
    ("<p>One.</p><break strength='none'/><p>Two.</p>", [Segment("One."), Segment("Two.")]),
    ("<p>Only.</p>", [Segment("Only.")]),
    ("<p>One <break time='100ms'/></p><p>Two</p>", [Segment("One.", pause_after=0.1), Segment("Two.")]),
    ("<p>One</p>Loose text<p>Two</p>",
     [Segment("One.", pause_after=PARAGRAPH_PAUSE), Segment("Loose text.", pause_after=PARAGRAPH_PAUSE),
      Segment("Two.")]),
    ("<p xml:lang='en-GB'>Colour.</p>", [Segment("Colour.")]),
])
def test_structure(body, expected):
    assert parse_ssml(speak(body)) == expected


@pytest.mark.parametrize("strength", list(BREAK_STRENGTHS))
def test_break_strengths(strength):
    segments = parse_ssml(speak(f"A<break strength='{strength}'/>B"))
    assert segments == [Segment("A", pause_after=BREAK_STRENGTHS[strength]), Segment("B")]


def test_break_strength_values_are_ordered():
    values = list(BREAK_STRENGTHS.values())
    assert values[0] == 0.0 and values == sorted(values) and len(set(values)) == len(values)


def test_document_with_namespace_declaration_and_comments():
    markup = (f'<?xml version="1.0"?>\n<speak version="1.1" {NS} '
              'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
              'xsi:schemaLocation="http://www.w3.org/2001/10/synthesis x.xsd" xml:lang="en-US">'
              '<!-- ignored --><p><s>Hello <prosody rate="slow">there</prosody></s></p></speak>')
    assert parse_ssml(markup) == [Segment("Hello"), Segment("there.", rate=RATE_KEYWORDS["slow"])]


# ------------------------------------------------------------------------------------------------
# prosody, emphasis and how they combine


@pytest.mark.parametrize("attr, value, expected", [
    *[("rate", k, v) for k, v in RATE_KEYWORDS.items()],
    ("rate", "80%", 0.8), ("rate", "200%", 2.0), ("rate", "+20%", 1.2), ("rate", "-20%", 0.8),
    ("rate", "1.5", 1.5), ("rate", "0.5", 0.5), ("rate", " FAST ", RATE_KEYWORDS["fast"]),
    *[("pitch", k, v) for k, v in PITCH_KEYWORDS.items()],
    ("pitch", "+4st", 4.0), ("pitch", "-2st", -2.0), ("pitch", "3.5st", 3.5),
    ("pitch", "+10%", 12 * math.log2(1.1)), ("pitch", "-50%", -12.0), ("pitch", "+100%", 12.0),
    *[("volume", k, v) for k, v in VOLUME_KEYWORDS.items()],
    ("volume", "+6dB", db(6)), ("volume", "-6dB", db(-6)), ("volume", "-20dB", 0.1), ("volume", "+0dB", 1.0),
    ("volume", "50%", 0.5), ("volume", "+20%", 1.2), ("volume", "-20%", 0.8), ("volume", "0%", 0.0),
])
def test_prosody_values(attr, value, expected):
    (segment,) = parse_ssml(speak(f'<prosody {attr}="{value}">Hello</prosody>'))
    assert getattr(segment, attr) == pytest.approx(expected)
    neutral = {"rate": 1.0, "pitch": 0.0, "volume": 1.0}
    assert all(getattr(segment, a) == v for a, v in neutral.items() if a != attr)


@pytest.mark.parametrize("level", list(EMPHASIS))
def test_emphasis_levels(level):
    (segment,) = parse_ssml(speak(f'<emphasis level="{level}">really</emphasis>'))
    assert (segment.rate, segment.pitch, segment.volume) == pytest.approx(EMPHASIS[level])


def test_emphasis_values_are_mild():
    assert EMPHASIS["strong"] == pytest.approx((0.9, 1.0, db(3)))
    assert EMPHASIS["none"] == (1.0, 0.0, 1.0)
    assert parse_ssml(speak("<emphasis>so</emphasis>")) == [Segment("so", *EMPHASIS["moderate"])]


@pytest.mark.parametrize("body, expected", [
    # rates multiply, semitones add, gains multiply
    (('<prosody rate="50%" pitch="+2st" volume="-6dB"><prosody rate="150%" pitch="+3st" volume="-6dB">x'
      '</prosody></prosody>'), (0.75, 5.0, db(-12))),
    ('<prosody rate="slow"><emphasis level="strong">x</emphasis></prosody>',
     (RATE_KEYWORDS["slow"] * 0.9, 1.0, db(3))),
    ('<emphasis level="reduced"><prosody volume="x-loud">x</prosody></emphasis>', (1.05, -1.0, db(-3) * db(6))),
    # clamped as they combine: rate 0.25..4, pitch -12..+12, volume 0..2
    ('<prosody rate="300%"><prosody rate="300%">x</prosody></prosody>', (4.0, 0.0, 1.0)),
    ('<prosody rate="10%">x</prosody>', (0.25, 0.0, 1.0)),
    ('<prosody pitch="+10st"><prosody pitch="+10st">x</prosody></prosody>', (1.0, 12.0, 1.0)),
    ('<prosody pitch="-30st">x</prosody>', (1.0, -12.0, 1.0)),
    ('<prosody volume="+20dB">x</prosody>', (1.0, 0.0, 2.0)),
    ('<prosody volume="+1000dB">x</prosody>', (1.0, 0.0, 2.0)),
    ('<prosody volume="silent"><prosody volume="x-loud">x</prosody></prosody>', (1.0, 0.0, 0.0)),
])
def test_combination(body, expected):
    (segment,) = parse_ssml(speak(body))
    assert (segment.rate, segment.pitch, segment.volume) == pytest.approx(expected)


@pytest.mark.parametrize("body, expected", [
    ('A <prosody rate="slow">B</prosody> C', [Segment("A"), Segment("B", rate=0.8), Segment("C")]),
    ('A <prosody rate="100%">B</prosody> C', [Segment("A B C")]),  # no change, no split
    ('<prosody rate="slow">A <break time="200ms"/>B</prosody>',
     [Segment("A", rate=0.8, pause_after=0.2), Segment("B", rate=0.8)]),
    ('<prosody volume="loud">A</prosody><prosody volume="loud">B</prosody>',
     [Segment("A", volume=db(3)), Segment("B", volume=db(3))]),
    ('<prosody pitch="+2st">Wait</prosody>, then go.', [Segment("Wait,", pitch=2.0), Segment("then go.")]),
    ('<s>Hello <prosody rate="fast">world</prosody></s>', [Segment("Hello"), Segment("world.", rate=1.25)]),
    ('<prosody rate="x-slow"><break time="1s"/></prosody>', [Segment("", rate=0.6, pause_after=1.0)]),
])
def test_segments_split_where_prosody_changes(body, expected):
    assert parse_ssml(speak(body)) == expected


# ------------------------------------------------------------------------------------------------
# say-as, sub, phoneme: the text, and what the normalizer makes of it


@pytest.mark.parametrize("element, text", [
    ('<say-as interpret-as="characters">ABC</say-as>', "a b c"),
    ('<say-as interpret-as="spell-out">Hi 2</say-as>', "h i two"),
    ('<say-as interpret-as="characters">café-9</say-as>', "c a f e dash nine"),
    ('<say-as interpret-as="cardinal">1234</say-as>', "one thousand two hundred thirty-four"),
    ('<say-as interpret-as="cardinal">1,000,001</say-as>', "one million one"),
    ('<say-as interpret-as="cardinal">-3.05</say-as>', "minus three point zero five"),
    ('<say-as interpret-as="number">007</say-as>', "seven"),
    ('<say-as interpret-as="cardinal">.5</say-as>', "zero point five"),
    ('<say-as interpret-as="ordinal">21</say-as>', "twenty-first"),
    ('<say-as interpret-as="ordinal">102nd</say-as>', "one hundred second"),
    ('<say-as interpret-as="digits">123</say-as>', "one two three"),
    ('<say-as interpret-as="digits">4-05</say-as>', "four zero five"),
    ('<say-as interpret-as="date" format="mdy">12/25/2023</say-as>', "december twenty-fifth, twenty twenty-three"),
    ('<say-as interpret-as="date" format="dmy">05/06/2021</say-as>', "the fifth of june twenty twenty-one"),
    ('<say-as interpret-as="date" format="ymd">2021-06-05</say-as>', "june fifth, twenty twenty-one"),
    ('<say-as interpret-as="date" format="md">6/5</say-as>', "june fifth"),
    ('<say-as interpret-as="date" format="dm">5/6</say-as>', "the fifth of june"),
    ('<say-as interpret-as="date" format="my">06/2021</say-as>', "june twenty twenty-one"),
    ('<say-as interpret-as="date" format="ym">2021-06</say-as>', "june twenty twenty-one"),
    ('<say-as interpret-as="date" format="y">1999</say-as>', "nineteen ninety-nine"),
    ('<say-as interpret-as="date" format="m">11</say-as>', "november"),
    ('<say-as interpret-as="date" format="d">3</say-as>', "the third"),
    ('<say-as interpret-as="date" format="dmy">5 June 2021</say-as>', "the fifth of june twenty twenty-one"),
    ('<say-as interpret-as="date" format="mdy">Sept. 5th, 21</say-as>', "september fifth, twenty-one"),
    ('<say-as interpret-as="date">2024-02-29</say-as>', "february twenty-ninth, twenty twenty-four"),
    ('<say-as interpret-as="date">11/05/2023</say-as>', "november fifth, twenty twenty-three"),
    ('<say-as interpret-as="date">25/12/2023</say-as>', "the twenty-fifth of december twenty twenty-three"),
    ('<say-as interpret-as="time">3:30pm</say-as>', "three thirty p m"),
    ('<say-as interpret-as="time">15:00</say-as>', "fifteen hundred"),
    ('<say-as interpret-as="time">10:00</say-as>', "ten o'clock"),
    ('<say-as interpret-as="time">7 a.m.</say-as>', "seven a m"),
    ('<say-as interpret-as="time">9:05:30</say-as>', "nine oh five and thirty seconds"),
    ('<say-as interpret-as="telephone">555-1234</say-as>', "five five five, one two three four"),
    ('<say-as interpret-as="telephone">+1 (555) 123-4567 ext. 89</say-as>',
     "plus one, five five five, one two three, four five six seven extension eight nine"),
    ('<sub alias="World Wide Web Consortium">W3C</sub>', "World Wide Web Consortium"),
    ('<sub alias="  doctor  ">Dr.</sub>', "doctor"),
    ('<phoneme alphabet="arpabet" ph="HH AH0 L OW1">hello</phoneme>', "{HH AH0 L OW1}"),
    ('<phoneme alphabet="ARPAbet" ph=" T AH0  M EY1 T OW2 ">tomato</phoneme>', "{T AH0 M EY1 T OW2}"),
    ('<phoneme ph="K AE1 T">cat</phoneme>', "{K AE1 T}"),
])
def test_say_as_sub_phoneme_text_and_normalized(element, text):
    (segment,) = parse_ssml(speak(element))
    assert segment.text == text
    assert spoken([segment]) == frontend.normalize(text) == (text if "{" in text else text.lower())


def test_date_order_decides_a_date_without_format():
    markup = speak('<say-as interpret-as="date">11/05/2023</say-as>')
    assert parse_ssml(markup, date_order="dmy")[0].text == "the eleventh of may twenty twenty-three"
    assert parse_ssml(speak('<say-as interpret-as="date">11/05</say-as>'), date_order="dmy")[0].text == (
        "the eleventh of may")
    assert parse_ssml(markup, date_order="mdy")[0].text == "november fifth, twenty twenty-three"


@pytest.mark.parametrize("body, text, normalized, written", [
    ('I have <say-as interpret-as="digits">123</say-as>.', "I have one two three.", "i have one two three.",
     "I have 123."),
    ('Call<say-as interpret-as="telephone">555-1234</say-as>now', "Call five five five, one two three four now",
     "call five five five, one two three four now", "Call 555-1234 now"),
    (('The <sub alias="World Wide Web Consortium">W3C</sub> said '
      '<phoneme alphabet="arpabet" ph="HH AH0 L OW1">hello</phoneme>!'),
     "The World Wide Web Consortium said {HH AH0 L OW1}!", "the world wide web consortium said {HH AH0 L OW1}!",
     "The W3C said hello!"),
    ('Dr. Smith <say-as interpret-as="ordinal">1</say-as>, $5 each',
     "Dr. Smith first, $5 each", "doctor smith first, five dollars each", "Dr. Smith 1, $5 each"),
    ('<say-as interpret-as="characters">ab</say-as><say-as interpret-as="digits">12</say-as>', "a b one two",
     "a b one two", "ab 12"),
    ('Say {HH AH0 L OW1} twice', "Say {HH AH0 L OW1} twice", "say {HH AH0 L OW1} twice", "Say {HH AH0 L OW1} twice"),
])
def test_inline_output_reads_through_the_normalizer(body, text, normalized, written):
    segments = parse_ssml(speak(body))
    assert [s.text for s in segments] == [text]
    assert spoken(segments) == normalized
    assert segments[0].written == written  # the markup's own words, for word timestamps


def test_written_follows_the_segments():
    segments = parse_ssml(speak('<p>A <prosody rate="slow"><say-as interpret-as="cardinal">42</say-as></prosody>'
                                '</p><p>B</p>'))
    assert [(s.text, s.written) for s in segments] == [("A", "A"), ("forty-two.", "42"), ("B.", "B")]


# ------------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("markup, message", [
    # unknown elements and misplaced ones
    (speak("<voice name='x'>Hi</voice>"), r"unknown SSML element <voice>"),
    (speak("<audio src='x.wav'/>"), r"unknown SSML element <audio>"),
    (speak("<mark name='m'/>"), r"unknown SSML element <mark>"),
    ('<speak xmlns:m="http://example.com/m">Hi <m:express>x</m:express></speak>', r"\{http://example.com/m\}express"),
    ("<p>Hi</p>", r"root element, got <p>"),
    (speak("<speak>Hi</speak>"), r"<speak> may only be the root"),
    (speak("<s><s>x</s></s>"), r"<s> may not be inside <s>"),
    (speak("<p><p>x</p></p>"), r"<p> may not be inside <p>"),
    (speak("<s><p>x</p></s>"), r"<p> may not be inside <s>"),
    (speak('<say-as interpret-as="cardinal"><break/>1</say-as>'), r"<say-as> may contain only text"),
    (speak('<sub alias="a"><emphasis>b</emphasis></sub>'), r"<sub> may contain only text"),
    (speak("<break>text</break>"), r"<break> must be empty"),
    # unknown attributes
    ('<speak foo="1">Hi</speak>', r"unsupported attribute 'foo' on <speak>"),
    (speak('<prosody duration="2s">x</prosody>'), r"'duration' on <prosody>"),
    (speak('<prosody contour="(0%,+20Hz)">x</prosody>'), r"'contour' on <prosody>"),
    (speak('<say-as interpret-as="date" detail="1">1/2/2020</say-as>'), r"'detail' on <say-as>"),
    (speak('<p style="x">Hi</p>'), r"'style' on <p>"),
    (speak('<break time="1s" foo="x"/>'), r"'foo' on <break>"),
    # unsupported values
    ('<speak version="2.0">Hi</speak>', r"SSML version '2.0'"),
    ('<speak xml:lang="de-DE">Hallo</speak>', r"xml:lang 'de-DE'"),
    (speak('<s xml:lang="fr">Bonjour</s>'), r"xml:lang 'fr'"),
    (speak('<break time="700"/>'), r"break time '700'"),
    (speak('<break time="-1s"/>'), r"break time '-1s'"),
    (speak(f'<break time="{MAX_BREAK + 1:g}s"/>'), r"longer than 10 s"),
    (speak('<break strength="huge"/>'), r"break strength 'huge'"),
    (speak('<prosody rate="zippy">x</prosody>'), r"prosody rate 'zippy'"),
    (speak('<prosody rate="0%">x</prosody>'), r"prosody rate '0%'"),
    (speak('<prosody rate="-150%">x</prosody>'), r"prosody rate '-150%'"),
    (speak('<prosody rate="+3st">x</prosody>'), r"prosody rate '\+3st'"),
    (speak('<prosody pitch="+50Hz">x</prosody>'), r"prosody pitch '\+50Hz'.*not Hz"),
    (speak('<prosody pitch="200Hz">x</prosody>'), r"prosody pitch '200Hz'"),
    (speak('<prosody pitch="110%">x</prosody>'), r"prosody pitch '110%'"),
    (speak('<prosody pitch="-100%">x</prosody>'), r"prosody pitch '-100%'"),
    (speak('<prosody pitch="+2dB">x</prosody>'), r"prosody pitch '\+2dB'"),
    (speak('<prosody pitch="shrill">x</prosody>'), r"prosody pitch 'shrill'"),
    (speak('<prosody volume="50">x</prosody>'), r"prosody volume '50'"),
    (speak('<prosody volume="-150%">x</prosody>'), r"prosody volume '-150%'"),
    (speak('<prosody volume="+2st">x</prosody>'), r"prosody volume '\+2st'"),
    (speak('<prosody volume="deafening">x</prosody>'), r"prosody volume 'deafening'"),
    (speak('<emphasis level="extreme">x</emphasis>'), r"emphasis level 'extreme'"),
    (speak('<say-as interpret-as="currency">$5</say-as>'), r"interpret-as 'currency'"),
    (speak("<say-as>5</say-as>"), r"interpret-as None"),
    (speak('<say-as interpret-as="cardinal"> </say-as>'), r"is empty"),
    (speak('<say-as interpret-as="characters">\u0301</say-as>'), r"has nothing to say"),
    (speak('<say-as interpret-as="cardinal">five</say-as>'), r"cardinal needs a number"),
    (speak('<say-as interpret-as="cardinal">12,34</say-as>'), r"cardinal needs a number"),
    (speak('<say-as interpret-as="ordinal">-1</say-as>'), r"ordinal needs a whole number"),
    (speak('<say-as interpret-as="digits">12a</say-as>'), r"digits needs digits"),
    (speak('<say-as interpret-as="characters">日本</say-as>'), r"cannot spell"),
    (speak('<say-as interpret-as="time">25:00</say-as>'), r"not a time of day"),
    (speak('<say-as interpret-as="time">13:00 pm</say-as>'), r"not a time of day"),
    (speak('<say-as interpret-as="time">noon</say-as>'), r"needs a clock time"),
    (speak('<say-as interpret-as="time" format="hms12">3:30</say-as>'), r"format is supported only with"),
    (speak('<say-as interpret-as="telephone">call me</say-as>'), r"telephone needs a phone number"),
    (speak('<say-as interpret-as="date" format="qq">1/2</say-as>'), r"date format 'qq'"),
    (speak('<say-as interpret-as="date" format="mdy">13/45/2020</say-as>'), r"'13' is not a month"),
    (speak('<say-as interpret-as="date" format="mdy">2/30/2020</say-as>'), r"no such date"),
    (speak('<say-as interpret-as="date" format="mdy">2/29/2023</say-as>'), r"no such date"),
    (speak('<say-as interpret-as="date" format="mdy">1/2</say-as>'), r"2 part\(s\), the format 'mdy' needs 3"),
    (speak('<say-as interpret-as="date" format="y">123</say-as>'), r"not a year"),
    (speak('<say-as interpret-as="date">40/40/2020</say-as>'), r"cannot be read with format 'mdy' or 'dmy'"),
    (speak('<sub>W3C</sub>'), r"<sub> needs a non-empty alias"),
    (speak('<sub alias=" ">W3C</sub>'), r"<sub> needs a non-empty alias"),
    # phoneme: only ARPAbet, and valid ARPAbet
    (speak('<phoneme alphabet="ipa" ph="həˈloʊ">hello</phoneme>'), r"alphabet 'ipa' is not supported"),
    (speak('<phoneme alphabet="x-sampa" ph="h@\'loU">hello</phoneme>'), r"alphabet 'x-sampa'"),
    (speak('<phoneme alphabet="arpabet" ph="hh ah0 l ow1">hello</phoneme>'), r"unknown ARPAbet symbol 'hh'"),
    (speak('<phoneme alphabet="arpabet" ph="HH XX9">hello</phoneme>'), r"unknown ARPAbet symbol 'XX9'"),
    (speak('<phoneme alphabet="arpabet" ph="">hello</phoneme>'), r"needs ph"),
    (speak('<phoneme alphabet="arpabet">hello</phoneme>'), r"needs ph"),
    (speak('<phoneme alphabet="arpabet" ph="{HH AH0}">hello</phoneme>'), r"needs ph"),
    (speak("Say {HH XX0} now"), r"unknown ARPAbet symbol 'XX0'"),
])
def test_errors(markup, message):
    with pytest.raises(ValueError, match=message):
        parse_ssml(markup)


@pytest.mark.parametrize("markup, line, column, reason", [
    ("<speak>Hello <b</speak>", 1, 16, "not well-formed"),
    ("<speak>\n  <p>Hi</s>\n</speak>", 2, 10, "mismatched tag"),
    ("<speak>\n\n<prosody rate='slow'>x</speak>", 3, 25, "mismatched tag"),
    ("<speak>Tom & Jerry</speak>", 1, 13, "not well-formed"),
    ("<speak>A &nbsp; B</speak>", 1, 10, "undefined entity"),
    ("<speak>Hi", 1, 10, "no element found"),
    ("", 1, 1, "no element found"),
    ("Just text", 1, 1, "syntax error"),
    ("<speak>Hi</speak><speak>again</speak>", 1, 18, "junk after document element"),
])
def test_malformed_markup_names_line_and_column(markup, line, column, reason):
    with pytest.raises(ValueError, match=rf"malformed SSML at line {line}, column {column}: {reason}"):
        parse_ssml(markup)


def test_bad_arguments():
    with pytest.raises(TypeError):
        parse_ssml(b"<speak>Hi</speak>")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="date_order"):
        parse_ssml(speak("Hi"), date_order="ymd")


# ------------------------------------------------------------------------------------------------
# hostile markup: refused, fast

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE speak [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<speak>&lol9;</speak>"""
QUADRATIC_BLOWUP = f'<!DOCTYPE speak [<!ENTITY a "{"x" * 50_000}">]><speak>{"&a;" * 10_000}</speak>'
XXE_FILE = '<?xml version="1.0"?><!DOCTYPE speak [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><speak>&xxe;</speak>'
XXE_HTTP = '<!DOCTYPE speak [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]><speak>&xxe;</speak>'
PARAMETER_ENTITY = '<!DOCTYPE speak [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]><speak>x</speak>'
EXTERNAL_DTD = '<!DOCTYPE speak SYSTEM "http://127.0.0.1:9/speak.dtd"><speak>x</speak>'
PLAIN_DTD = '<!DOCTYPE speak><speak>x</speak>'


HOSTILE = {
    "billion laughs": (BILLION_LAUGHS, r"DTD, entity declaration or external reference is refused"),
    "quadratic blowup": (QUADRATIC_BLOWUP, r"DTD, entity declaration or external reference is refused"),
    "external entity (file)": (XXE_FILE, r"refused"),
    "external entity (http)": (XXE_HTTP, r"refused"),
    "external parameter entity": (PARAMETER_ENTITY, r"refused"),
    "external DTD": (EXTERNAL_DTD, r"refused"),
    "any DTD": (PLAIN_DTD, r"refused"),
    "long malformed": ("<speak>" + "<s>x</s" * 100_000, r"malformed SSML at line 1"),
    "too long": ("<speak>" + "x" * MAX_SSML_CHARS + "</speak>", r"too long"),
    "too deep": ("<speak>" + "<prosody>" * MAX_DEPTH + "x" + "</prosody>" * MAX_DEPTH + "</speak>",
                 r"nested too deeply"),
    "very deep, unclosed": ("<speak>" + "<prosody>" * 100_000, r"nested too deeply"),
}


@pytest.mark.parametrize("markup, message", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_markup_is_refused_within_two_seconds(markup, message):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=message):
        parse_ssml(markup)
    assert time.perf_counter() - start < 2.0


def test_depth_up_to_the_limit_is_fine():
    depth = MAX_DEPTH - 1  # inside <speak>
    (segment,) = parse_ssml("<speak>" + "<prosody>" * depth + "deep" + "</prosody>" * depth + "</speak>")
    assert segment == Segment("deep")


def test_large_document_parses_quickly():
    body = "<p><s>The cat sat on the mat <break time='100ms'/> today.</s></p>" * 2000
    start = time.perf_counter()
    segments = parse_ssml(speak(body))
    assert time.perf_counter() - start < 2.0
    assert len(segments) == 4000 and segments[-1] == Segment("today.")


def test_parses_are_independent():
    first = parse_ssml(speak('<prosody rate="slow">A</prosody><p>B</p>'))
    with pytest.raises(ValueError):
        parse_ssml(speak('<prosody rate="slow"><p>A</p><foo/></prosody>'))
    assert parse_ssml(speak('<prosody rate="slow">A</prosody><p>B</p>')) == first
    assert parse_ssml(speak("C")) == [Segment("C")]

"""Degenerate text (issue #23): what nobody would say in full is shortened with a warning; impossible
dates and times are numbers; braces that are no ARPAbet block are dropped with a warning."""

import logging
import random

import pytest

from frontend import normalize, text_to_sequence
from frontend.symbols import symbols


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "frontend" and r.levelno == logging.WARNING]


def _random_url(n: int, alphabet: str) -> str:
    rng = random.Random(n)
    return "https://example.com/" + "".join(rng.choice(alphabet) for _ in range(n))


@pytest.mark.parametrize("text", [
    _random_url(3000, "abcdefghijklmnopqrstuvwxyz0123456789-_/?=&"),
    _random_url(3000, "_-"),
    _random_url(3000, "abc.XYZ/123"),
    "https://example.com/" + "a" * 3000,
    "www." + "ab" * 1500 + ".com",
    "x" * 3000 + "@example.com",
])
def test_a_3000_character_url_is_short_to_say(text, caplog):
    with caplog.at_level(logging.WARNING, logger="frontend"):
        out = normalize(f"Visit {text} now.")
    assert len(out) <= 400, len(out)  # about 25 s of speech at most
    assert out.startswith("visit ") and out.endswith(" now.")
    assert _warnings(caplog)


@pytest.mark.parametrize("text, limit", [("7" * 400, 250), ("1234567890" * 40, 250), ("0" * 1000, 250),
                                         ("3." + "1" * 400, 260)])
def test_long_digit_runs_are_cut(text, limit, caplog):
    with caplog.at_level(logging.WARNING, logger="frontend"):
        out = normalize(text)
    assert 0 < len(out) <= limit
    assert any("digits" in w for w in _warnings(caplog))


@pytest.mark.parametrize("text, expected", [
    ("a" * 3000, "aaa"),
    ("Hello" + "!" * 500, "hello!"),
    ("$" * 40, "dollars dollars dollars"),
    ("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "zzz"),
])
def test_runs_of_one_character_are_cut(text, expected, caplog):
    with caplog.at_level(logging.WARNING, logger="frontend"):
        assert normalize(text) == expected


@pytest.mark.parametrize("text, expected", [("Nooooo!", "nooooo!"), ("Sooo good", "sooo good"),
                                            ("www.x.com", "w w w dot x dot com")])
def test_emphasis_is_kept_and_not_logged(text, expected, caplog):
    with caplog.at_level(logging.WARNING, logger="frontend"):
        assert normalize(text) == expected
    assert not _warnings(caplog)


@pytest.mark.parametrize("text, expected", [
    ("31/02/2020", "thirty-one slash zero two slash twenty twenty"),
    ("31/02/2020 25:61 pm", "thirty-one slash zero two slash twenty twenty twenty-five sixty-one p m"),
    ("April 31, 2024", "april thirty-one, twenty twenty-four"),
    ("2023-13-01", "twenty twenty-three dash thirteen dash zero one"),
    ("99:99", "ninety-nine ninety-nine"),
])
def test_impossible_dates_and_times_are_numbers(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("{{{HH AH0 L OW1}}}", "{HH AH0 L OW1}"),
    ("{{{hello}}}", "hello"),
    ("say {not arpabet} now", "say not arpabet now"),
    ("a } b { c", "a b c"),
])
def test_stray_braces_are_dropped_with_a_warning(text, expected, caplog):
    with caplog.at_level(logging.WARNING, logger="frontend"):
        assert normalize(text) == expected
    assert any("brace" in w for w in _warnings(caplog))


def test_nested_braces_around_phones_encode_the_phones():
    ids = text_to_sequence("{{{HH AH0 L OW1}}}")
    assert [symbols[i] for i in ids] == ["@HH", "@AH0", "@L", "@OW1"]


@pytest.mark.parametrize("text", ["{HH AH0", "{hh ah0 l ow1}", "{}", "say {XX} now"])
def test_malformed_arpabet_is_still_an_error_for_text_to_sequence(text):
    with pytest.raises(ValueError):
        text_to_sequence(text)

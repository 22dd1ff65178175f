"""Degenerate text through the shipped default voice: what a user hears, not only what the normalizer
writes (tests/test_normalize_degenerate.py covers that). Each case once broke: a 3,000-character URL gave
127 s of "a", 400 digits 102 s, "Go" and "a b" never stopped and were cut at the step limit after two
retries, and "31/02/2020" was read as a date."""
from __future__ import annotations

import pytest

from tts import Pipeline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def voice():
    return Pipeline.from_pretrained(device="cpu")


@pytest.mark.parametrize("text", ["Go", "a b", "Hi", "no"])
def test_words_without_final_punctuation_stop_on_their_own(voice, text):
    speech = voice.speak(text, seed=0)
    assert all(chunk.ok and chunk.retries == 0 for chunk in speech.chunks), speech.warnings
    assert 0.1 < speech.duration < 2.0, speech.duration


def test_a_3000_character_url_is_short_and_warned_about(voice):
    url = "https://example.com/" + "a" * 2980
    speech = voice.speak(url, seed=0)
    assert speech.duration <= 30.0, speech.duration
    assert any("shortened" in w or "long" in w for w in speech.warnings), speech.warnings


def test_400_digits_are_cut_with_a_warning(voice):
    speech = voice.speak("7" * 400 + ".", seed=0)
    assert speech.duration <= 30.0, speech.duration
    assert speech.warnings


def test_an_impossible_date_is_not_read_as_a_date(voice):
    speech = voice.speak("The form said 31/02/2020 25:61 pm.", seed=0)
    assert "february" not in speech.normalized and "thirty-first" not in speech.normalized, speech.normalized

"""SSML through the pipeline, measured on what comes out (issue acceptance): breaks add their time,
prosody rate / pitch / volume change the duration, the median f0 and the RMS by the factors asked for,
say-as / sub / phoneme show in `Speech.normalized`, and hostile markup is a ValueError at once.

The parser itself is tested in tests/test_ssml.py; here the shipped default voice speaks.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest

SENTENCE = "The quick brown fox jumps over the lazy dog, while the old clock ticks slowly."


@pytest.fixture(scope="module")
def voice():
    from tts import Pipeline

    return Pipeline.from_pretrained("default", device="cpu")


def _speak(voice, markup: str, **overrides):
    return voice.speak(f"<speak>{markup}</speak>", seed=1, **overrides)


def _rms(audio: np.ndarray) -> float:
    return math.sqrt(float(np.mean(audio.astype(np.float64) ** 2)))


def _median_f0(audio: np.ndarray, rate: int) -> float:
    import librosa

    f0, voiced, _ = librosa.pyin(audio, fmin=80, fmax=600, sr=rate, frame_length=1024)
    return float(np.nanmedian(f0[voiced]))


def test_plain_text_reads_the_same_with_and_without_speak_tags(voice):
    tagged, plain = _speak(voice, SENTENCE), voice.speak(SENTENCE, seed=1)
    assert tagged.normalized == plain.normalized and np.array_equal(tagged.audio, plain.audio)


def test_a_break_adds_its_time(voice):
    without = _speak(voice, "Hello there. How are you today?")
    with_break = _speak(voice, 'Hello there.<break time="700ms"/> How are you today?')
    added = with_break.duration - without.duration
    assert 0.5 <= added <= 1.0, added


@pytest.mark.slow
@pytest.mark.parametrize("rate, low, high", [("x-slow", 1.4, 2.2), ("200%", 0.3, 0.65)])
def test_prosody_rate_changes_the_duration(voice, rate, low, high):
    base = _speak(voice, SENTENCE)
    changed = _speak(voice, f'<prosody rate="{rate}">{SENTENCE}</prosody>')
    assert low <= changed.duration / base.duration <= high, changed.duration / base.duration


@pytest.mark.slow
def test_prosody_pitch_and_volume(voice):
    base = _speak(voice, SENTENCE)
    higher = _speak(voice, f'<prosody pitch="+4st">{SENTENCE}</prosody>')
    quieter = _speak(voice, f'<prosody volume="-6dB">{SENTENCE}</prosody>')
    ratio = _median_f0(higher.audio, higher.sample_rate) / _median_f0(base.audio, base.sample_rate)
    assert ratio == pytest.approx(2 ** (4 / 12), abs=0.07), ratio
    assert higher.duration == pytest.approx(base.duration, rel=0.05)
    assert _rms(quieter.audio) / _rms(base.audio) == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize("markup, spoken", [
    ('Call <say-as interpret-as="telephone">555-0123</say-as> now.', "five five five, zero one two three"),
    ('Spell <say-as interpret-as="characters">NASA</say-as>.', "n a s a"),
    ('It is the <say-as interpret-as="ordinal">3</say-as> time.', "third"),
    ('The <sub alias="World Wide Web Consortium">W3C</sub> met.', "world wide web consortium"),
    ('Say <phoneme alphabet="arpabet" ph="T AH0 M EY1 T OW2">tomato</phoneme>.', "{T AH0 M EY1 T OW2}"),
])
def test_say_as_sub_and_phoneme_show_in_normalized(voice, markup, spoken):
    speech = _speak(voice, markup)
    assert spoken in speech.normalized, speech.normalized
    assert speech.duration > 0.3


@pytest.mark.parametrize("markup", [
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    '<speak>&lol2;</speak>',
    '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><speak>&x;</speak>',
    "<speak>Hello <break time='1s'></speak>",
    "<speak>Hello <blink>there</blink>.</speak>",
])
def test_hostile_markup_is_refused_quickly(voice, markup):
    start = time.perf_counter()
    with pytest.raises(ValueError):
        voice.speak(markup, ssml=True)
    assert time.perf_counter() - start < 2.0


def test_ssml_off_reads_the_markup_as_text(voice):
    speech = voice.speak("<speak>Hello there.</speak>", ssml=False, seed=1)
    assert "speak" in speech.normalized.lower()

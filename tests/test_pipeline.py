"""Pipeline, Speech, Chunk and voice folders, on tiny random-weight voices (see conftest.py)."""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import soundfile
import torch
import yaml

import frontend
from tests.conftest import tiny_tacotron2
from tts.core.audio import AudioSettings
from tts.runtime.pipeline import Pipeline
from tts.runtime.planning import (
    decoder_step_budget,
    derive_seed,
    pause_for,
    split_in_half,
)
from tts.runtime.prosody import resample_time
from tts.runtime.settings import SynthesisConfig
from tts.runtime.speech import Chunk, Speech, Timing
from tts.runtime.voices import VOICE_DIR_ENV, VoiceError, load_voice_config, save_voice
from vocoder.griffin_lim import GriffinLim

THREE_SENTENCES = "The cat sat on the mat. Did it rain, or not? It did; we stayed in."


# ----------------------------------------------------------------------------------------------------
# voice folders
# ----------------------------------------------------------------------------------------------------
def test_voice_folder_round_trip(tiny_voice_dir):
    voice = load_voice_config(tiny_voice_dir)
    assert voice.name == "tiny"
    assert voice.default_vocoder == "griffin-lim"
    assert voice.tacotron2 == tiny_voice_dir / "tacotron2.pt"
    assert voice.vocoders == {"waveglow": tiny_voice_dir / "waveglow.pt"}
    assert voice.synthesis == {"max_decoder_steps": 24, "max_retries": 0}
    assert voice.audio == AudioSettings()
    assert voice.provenance == {"made_by": "tests/conftest.py"}
    assert "# Voice: tiny" in voice.model_card.read_text()


def test_from_pretrained_uses_the_voice_defaults(tiny_pipeline):
    assert tiny_pipeline.name == "tiny"
    assert tiny_pipeline.sample_rate == 22050
    assert tiny_pipeline.vocoder_names == ["griffin-lim", "waveglow"]
    assert tiny_pipeline.default_vocoder == "griffin-lim"
    assert tiny_pipeline.config.max_decoder_steps == 24
    assert tiny_pipeline.config.sigma == SynthesisConfig().sigma


@pytest.mark.parametrize("damage, message", [
    ("no folder", "voice folder not found"),
    ("no yaml", "voice.yaml is missing"),
    ("no weights", "the tacotron2 weights 'tacotron2.pt' are missing"),
    ("no vocoder weights", "the waveglow vocoder weights 'waveglow.pt' are missing"),
    ("typo", "unknown keys ['synthesys']"),
    ("bad synthesis", "bad 'synthesis' defaults: pace must be in"),
    ("bad default vocoder", "unknown vocoder 'wavenet'"),
    ("audio mismatch", "mel settings differ (sampling_rate: 16000 vs 22050)"),
])
def test_broken_voice_folders_give_clear_errors(tiny_voice_dir, tmp_path, damage, message):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_voice_dir, broken)
    doc = yaml.safe_load((broken / "voice.yaml").read_text())
    if damage == "no folder":
        shutil.rmtree(broken)
    elif damage == "no yaml":
        (broken / "voice.yaml").unlink()
    elif damage == "no weights":
        (broken / "tacotron2.pt").unlink()
    elif damage == "no vocoder weights":
        (broken / "waveglow.pt").unlink()
    elif damage == "typo":
        doc["synthesys"] = doc.pop("synthesis")
    elif damage == "bad synthesis":
        doc["synthesis"]["pace"] = 9
    elif damage == "bad default vocoder":
        doc["default_vocoder"] = "wavenet"
    elif damage == "audio mismatch":
        doc["audio"]["sampling_rate"] = 16000
    if broken.exists() and (broken / "voice.yaml").exists():
        (broken / "voice.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(VoiceError) as info:
        Pipeline.from_pretrained(broken, device="cpu")
    assert message in str(info.value)


def test_missing_default_voice_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv(VOICE_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(VoiceError, match="the default voice is missing.*recipes/default_voice"):
        Pipeline.from_pretrained()


def test_default_voice_follows_the_environment(tiny_voice_dir, monkeypatch):
    monkeypatch.setenv(VOICE_DIR_ENV, str(tiny_voice_dir))
    assert Pipeline.from_pretrained(device="cpu").name == "tiny"


def test_save_voice_refuses_invalid_synthesis_defaults(tmp_path):
    with pytest.raises(ValueError, match="unknown synthesis setting"):
        save_voice(tmp_path / "v", tiny_tacotron2(), synthesis={"speed": 2})


# ----------------------------------------------------------------------------------------------------
# stream / speak
# ----------------------------------------------------------------------------------------------------
def test_stream_yields_sentences_in_order(tiny_pipeline):
    chunks = list(tiny_pipeline.stream(THREE_SENTENCES, seed=1))
    assert [c.index for c in chunks] == [0, 1, 2]
    assert [c.text for c in chunks] == ["the cat sat on the mat.", "did it rain, or not?", "it did; we stayed in."]
    for c in chunks:
        assert isinstance(c, Chunk)
        assert c.audio.dtype == np.float32 and c.audio.ndim == 1
        assert c.mel.shape == (80, 24)  # the tiny voice never stops: max_decoder_steps frames
        assert len(c.audio) == 24 * 256
        assert c.alignment.shape == (24, len(c.text))
        assert c.sample_rate == 22050
        assert c.reached_max_steps and c.retries == 0 and c.warnings  # recorded, not hidden
    assert [c.pause_after for c in chunks] == [pytest.approx(0.35), pytest.approx(0.35), 0.0]


def test_speak_is_stream_joined_with_pauses(tiny_pipeline):
    speech = tiny_pipeline.speak(THREE_SENTENCES, seed=4)
    streamed = list(tiny_pipeline.stream(THREE_SENTENCES, seed=4))
    assert isinstance(speech, Speech)
    np.testing.assert_array_equal(speech.audio, np.concatenate([c.with_pause() for c in streamed]))
    assert speech.duration == pytest.approx((3 * 24 * 256 + 2 * round(0.35 * 22050)) / 22050)
    assert speech.text == THREE_SENTENCES
    assert speech.normalized.startswith("the cat sat on the mat.")
    assert len(speech.warnings) == 3
    assert speech.timing.audio_seconds == pytest.approx(speech.duration)
    assert speech.real_time_factor == pytest.approx(speech.duration / speech.timing.synthesis_seconds)
    assert 0 < speech.timing.first_audio_seconds <= speech.timing.synthesis_seconds
    assert speech.mel().shape == (80, 72)
    assert speech.alignment().shape == (72, sum(len(c.text) for c in speech.chunks))


def test_progress_is_reported_per_chunk(tiny_pipeline):
    calls = []
    tiny_pipeline.speak(THREE_SENTENCES, seed=0, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert tiny_pipeline.count_chunks(THREE_SENTENCES) == 3


def test_seed_makes_speech_reproducible(tiny_pipeline):
    a = tiny_pipeline.speak("Same words again.", seed=11)
    b = tiny_pipeline.speak("Same words again.", seed=11)
    c = tiny_pipeline.speak("Same words again.", seed=12)
    np.testing.assert_array_equal(a.audio, b.audio)
    assert not np.array_equal(a.chunks[0].mel, c.chunks[0].mel)  # prenet dropout draws differ


def test_two_frames_per_step_voice(tiny_voice_dir_r2):
    pipe = Pipeline.from_pretrained(tiny_voice_dir_r2, device="cpu")
    chunk = next(pipe.stream("Two frames a step.", max_decoder_steps=10, seed=0))
    assert chunk.mel.shape == (80, 20)
    assert chunk.alignment.shape == (10, len("two frames a step."))
    assert len(chunk.audio) == 20 * 256
    with pytest.raises(ValueError, match="needs weights this voice does not have"):
        pipe.speak("No WaveGlow here.", vocoder="waveglow")


class _LoudGriffinLim(GriffinLim):
    """Griffin-Lim at four times the level: its own output overshoots [-1, 1]."""

    def synthesize(self, mel: torch.Tensor, **kwargs) -> torch.Tensor:
        return 4.0 * super().synthesize(mel, **kwargs)


def test_denoiser_sees_the_unclipped_vocoder_output_and_the_clip_comes_last():
    """NVIDIA's order: vocoder -> denoiser -> clip (denoising clipped audio changes the result)."""
    from vocoder import Denoiser

    loud = _LoudGriffinLim(n_iters=2, nnls_iters=2)
    pipe = Pipeline(tiny_tacotron2(1), {"griffin-lim": loud}, name="loud",
                    config=SynthesisConfig(max_decoder_steps=8, max_retries=0))
    speech = pipe.speak("Loud enough.", seed=2, denoise=0.1)
    raw = loud(torch.from_numpy(speech.chunks[0].mel)[None], clip=False)
    assert raw.abs().max() > 1.5
    denoiser = Denoiser(loud)
    expected = denoiser(raw, strength=0.1).clamp(-1.0, 1.0)[0].numpy()
    np.testing.assert_allclose(speech.audio, expected, atol=1e-6)
    clipped_first = denoiser(raw.clamp(-1.0, 1.0), strength=0.1).clamp(-1.0, 1.0)[0].numpy()
    assert np.abs(speech.audio - clipped_first).max() > 0.05


def test_vocoder_override_and_denoiser(tiny_pipeline):
    gl = tiny_pipeline.speak("Hello world.", seed=3, denoise=0.0)
    wg = tiny_pipeline.speak("Hello world.", seed=3, denoise=0.0, vocoder="waveglow")
    wg_denoised = tiny_pipeline.speak("Hello world.", seed=3, denoise=0.1, vocoder="waveglow")
    for speech in (gl, wg, wg_denoised):
        assert np.isfinite(speech.audio).all() and np.abs(speech.audio).max() <= 1.0
        assert len(speech.audio) == 24 * 256
    assert not np.allclose(gl.audio, wg.audio)
    assert not np.allclose(wg.audio, wg_denoised.audio)
    np.testing.assert_array_equal(gl.chunks[0].mel, wg.chunks[0].mel)  # same seed, same mel


def test_pace_changes_duration_not_pitch(tiny_pipeline):
    text = "Pace test sentence."
    normal = tiny_pipeline.speak(text, seed=5, prenet_dropout=0.0, denoise=0.0)
    slow = tiny_pipeline.speak(text, seed=5, prenet_dropout=0.0, denoise=0.0, pace=0.5)
    fast = tiny_pipeline.speak(text, seed=5, prenet_dropout=0.0, denoise=0.0, pace=2.0)
    assert normal.chunks[0].mel.shape[1] == 24
    assert slow.chunks[0].mel.shape[1] == 48 and fast.chunks[0].mel.shape[1] == 12
    assert slow.duration == pytest.approx(2 * normal.duration) and fast.duration == pytest.approx(normal.duration / 2)
    # resampling the time axis keeps each mel channel's level (the spectral envelope): no pitch shift
    np.testing.assert_allclose(slow.chunks[0].mel.mean(axis=1), normal.chunks[0].mel.mean(axis=1), atol=0.05)

    def centroid(audio):
        spectrum = np.abs(np.fft.rfft(audio))
        return float((np.fft.rfftfreq(len(audio), 1 / 22050) * spectrum).sum() / spectrum.sum())

    assert centroid(slow.audio) == pytest.approx(centroid(normal.audio), rel=0.1)


def test_pauses_scale_with_pace_and_pause_scale(tiny_pipeline):
    chunks = list(tiny_pipeline.stream("One. Two, three", pace=2.0, pause_scale=0.5, max_chunk_chars=20, seed=0))
    assert chunks[0].pause_after == pytest.approx(0.35 * 0.5 / 2.0)
    assert chunks[-1].pause_after == 0.0


# ----------------------------------------------------------------------------------------------------
# retries
# ----------------------------------------------------------------------------------------------------
def test_a_chunk_that_never_stops_keeps_its_first_attempt_when_retries_do_not_help(tiny_pipeline):
    text = "one two three four five six seven eight."
    speech = tiny_pipeline.speak(text, seed=2, max_decoder_steps=6, max_retries=2)
    (chunk,) = speech.chunks
    assert chunk.retries == 2  # a re-draw, then halves: random weights never stop
    assert chunk.pieces == (text,)  # four pieces that never stop are worse than one: nothing fragmented
    assert chunk.reached_max_steps  # still flagged after the retries
    assert chunk.mel.shape[1] == 6 and chunk.alignment.shape == (6, len(text))  # r = 1
    assert any("re-synthesised in 1 piece(s) over 2 retries: still failing" in w for w in speech.warnings)


def _fake_tacotron_that_fails_on_long_pieces(pipe, monkeypatch, max_words: int, calls: list[list[str]]):
    """Pipeline._infer stand-in: a piece of more than `max_words` words never stops; shorter ones do."""
    from tts.runtime.retries import Piece as _Piece

    def infer(self, texts, cfg, seed):
        words = [frontend.sequence_to_text(ids).split() for ids in texts]
        calls.append([" ".join(w) for w in words])
        return [_Piece(text="", mel=torch.zeros(80, 4 * len(w)), alignment=torch.eye(len(ids))[:2 * len(w)],
                       reached_max_steps=len(w) > max_words, failure_reasons=[]) for w, ids in zip(words, texts)]

    monkeypatch.setattr(Pipeline, "_infer", infer)


def test_retries_redraw_whole_then_split_until_the_pieces_stop(tiny_pipeline, monkeypatch):
    calls: list[list[str]] = []
    _fake_tacotron_that_fails_on_long_pieces(tiny_pipeline, monkeypatch, max_words=2, calls=calls)
    text = "one two three four five six seven eight."
    speech = tiny_pipeline.speak(text, seed=2, max_retries=3)
    (chunk,) = speech.chunks
    assert calls[1] == [text]  # round 1: the whole chunk with another dropout draw
    # round 2: halves; a half without final punctuation is read with a full stop so it can stop
    assert calls[2] == ["one two three four.", "five six seven eight."]
    assert chunk.pieces == ("one two", "three four", "five six", "seven eight.")  # round 3: they stop
    assert " ".join(chunk.pieces) == text  # nothing lost
    assert chunk.retries == 3 and chunk.ok
    assert any("re-synthesised in 4 piece(s) over 3 retries: fixed" in w for w in speech.warnings)


def test_retries_keep_the_better_earlier_attempt(tiny_pipeline, monkeypatch):
    """Halves that still fail are more failures than the whole: the whole chunk is kept."""
    calls: list[list[str]] = []
    _fake_tacotron_that_fails_on_long_pieces(tiny_pipeline, monkeypatch, max_words=1, calls=calls)
    speech = tiny_pipeline.speak("one two three four five six seven eight.", seed=2, max_retries=2)
    (chunk,) = speech.chunks
    assert len(calls) == 3 and len(calls[2]) == 2  # it did try the halves
    assert chunk.pieces == ("one two three four five six seven eight.",) and chunk.retries == 2


def test_decoder_step_budget_scales_with_the_text():
    assert decoder_step_budget(10, 1, 1000) == 12 * 10 + 20
    assert decoder_step_budget(10, 2, 1000) == 70  # frames / r, rounded up
    assert decoder_step_budget(10, 2, 1000, max_frames_per_symbol=10.2) == 61  # ceil(102 + 20) / 2
    assert decoder_step_budget(200, 1, 1000) == 1000  # never above max_decoder_steps
    assert decoder_step_budget(0, 3, 1000) == 7


def test_a_short_piece_that_never_stops_is_cut_at_its_budget(tiny_pipeline):
    from tts.runtime.planning import chunk_ids

    chunk = next(tiny_pipeline.stream("hi", seed=0, max_decoder_steps=1000, max_retries=0))
    assert chunk.reached_max_steps  # random weights never stop
    assert chunk.mel.shape[1] == decoder_step_budget(len(chunk_ids("hi")), 1, 1000) < 1000  # r = 1
    tight = next(tiny_pipeline.stream("hi", seed=0, max_decoder_steps=1000, max_retries=0, max_frames_per_symbol=5))
    assert tight.mel.shape[1] == 5 * 3 + 20  # "hi" + the full stop it gets: 3 symbols
    long_text = "word " * 60  # one sentence of 300 characters, no punctuation: split into chunks
    chunks = list(tiny_pipeline.stream(long_text, seed=0, max_decoder_steps=1000, max_retries=0,
                                       max_frames_per_symbol=3))
    assert len(chunks) == 2
    for c in chunks:  # every chunk cut at its own budget in frames, far below max_decoder_steps
        assert c.mel.shape[1] == decoder_step_budget(len(chunk_ids(c.text)), 1, 1000, 3) < 1000


def test_chunks_without_final_punctuation_get_a_full_stop():
    from tts.runtime.planning import chunk_ids, plan_text

    stop = [frontend.symbols.index(".")]
    assert list(chunk_ids("go")) == frontend.text_to_sequence("go", normalize=False) + stop
    assert list(chunk_ids("go.")) == frontend.text_to_sequence("go.", normalize=False)
    assert list(chunk_ids("well,")) == frontend.text_to_sequence("well,", normalize=False)  # a clause keeps its comma
    assert list(chunk_ids('he said "yes!"')) == frontend.text_to_sequence('he said "yes!"', normalize=False)
    plan = plan_text("a b").chunks
    assert plan[0].text == "a b" and plan[0].ids[-1] == stop[0]  # spoken as a sentence, shown as written


def test_no_retries_when_the_decoder_stops(tiny_pipeline):
    # gate_threshold 0: the first stop probability exceeds it, so each piece is one decoder step
    speech = tiny_pipeline.speak("hi", seed=0, gate_threshold=0.0, max_retries=2)
    (chunk,) = speech.chunks
    assert chunk.ok and chunk.retries == 0 and chunk.pieces == ("hi",)
    assert speech.warnings == []
    assert chunk.mel.shape == (80, 1)


def test_single_word_is_redrawn_not_split(tiny_pipeline):
    chunk = next(tiny_pipeline.stream("extraordinary", seed=1, max_decoder_steps=5, max_retries=2))
    assert chunk.pieces == ("extraordinary",) and chunk.retries == 2
    deterministic = next(tiny_pipeline.stream("extraordinary", seed=1, max_decoder_steps=5, max_retries=2,
                                              prenet_dropout=0.0))
    assert deterministic.retries == 0  # nothing to split and no randomness to redraw: no pointless retries


def test_split_in_half_prefers_clauses():
    assert split_in_half("one two, three four five six") == ("one two,", "three four five six")
    assert split_in_half("alpha beta gamma delta") == ("alpha beta", "gamma delta")
    assert split_in_half("word") is None
    assert split_in_half("word ,") is None


def test_seeds_are_derived_per_chunk():
    assert derive_seed(None, 1) is None
    assert derive_seed(5, 0) == derive_seed(5, 0)
    assert len({derive_seed(5, i) for i in range(100)}) == 100
    assert 0 <= derive_seed(2**62, 3) < 2**63


# ----------------------------------------------------------------------------------------------------
# batches, threads
# ----------------------------------------------------------------------------------------------------
def test_speak_batch_matches_speak_mels(tiny_pipeline):
    texts = ["A short one.", "A somewhat longer sentence here. And a second sentence follows it.", "Mid size text."]
    batch = tiny_pipeline.speak_batch(texts, seed=1, prenet_dropout=0.0, batch_size=2)
    assert [len(s.chunks) for s in batch] == [1, 2, 1]
    for text, speech in zip(texts, batch):
        single = tiny_pipeline.speak(text, seed=1, prenet_dropout=0.0)
        assert speech.text == text
        assert len(speech.audio) == len(single.audio)
        for a, b in zip(speech.chunks, single.chunks):
            # padding in a batch must not change an item's result (Griffin-Lim phases differ by seed)
            np.testing.assert_allclose(a.mel, b.mel, atol=1e-4)
    with pytest.raises(ValueError, match="text 1: text is empty"):
        tiny_pipeline.speak_batch(["fine", " "])
    assert tiny_pipeline.speak_batch([]) == []


def test_concurrent_speakers_get_sequential_results(tiny_pipeline):
    texts = [f"Thread number {i} says hello. Then it stops." for i in range(4)]
    expected = [tiny_pipeline.speak(t, seed=i).audio for i, t in enumerate(texts)]
    results: list = [None] * 4
    errors = []

    def worker(i):
        try:
            results[i] = tiny_pipeline.speak(texts[i], seed=i).audio
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, message", [
    ("", "text is empty"), ("  \n\t ", "text is empty"), ("?!... ,;", "nothing speakable"),
])
def test_unspeakable_text_is_refused(tiny_pipeline, text, message):
    with pytest.raises(ValueError, match=message):
        tiny_pipeline.speak(text)
    with pytest.raises(ValueError, match=message):
        tiny_pipeline.stream(text)  # checked when called, not at the first next()


@pytest.mark.parametrize("text", ["Say {XX YY} now.", "Read {hh ah0} please."])
def test_bad_arpabet_is_an_error_not_a_silent_pause(tiny_pipeline, text):
    with pytest.raises(ValueError, match="unknown ARPAbet symbol"):
        tiny_pipeline.speak(text, max_decoder_steps=5)


@pytest.mark.parametrize("override, message", [
    ({"pace": 0.1}, "pace must be in"), ({"pace": 5}, "pace must be in"), ({"sigma": -0.1}, "sigma must be in"),
    ({"denoise": 0.6}, "denoise must be in"), ({"denoise": -0.01}, "denoise must be in"),
    ({"max_decoder_steps": 0}, "max_decoder_steps must be an integer in"), ({"seed": -3}, "seed must be"),
    ({"pace": float("nan")}, "pace must be a finite number"), ({"gate_threshold": 2}, "gate_threshold"),
    ({"speed": 2}, "unknown synthesis setting"), ({"vocoder": "wavenet"}, "unknown vocoder 'wavenet'"),
])
def test_bad_settings_are_refused(tiny_pipeline, override, message):
    with pytest.raises(ValueError, match=message):
        tiny_pipeline.speak("Fine text.", **override)


def test_text_must_be_a_string(tiny_pipeline):
    with pytest.raises(TypeError):
        tiny_pipeline.speak(b"bytes")


def test_mismatched_mel_settings_are_refused():
    from vocoder.griffin_lim import GriffinLim

    model = tiny_tacotron2()
    model.audio = AudioSettings(mel_fmax=7600.0)  # as if trained on another mel definition
    with pytest.raises(ValueError, match="mel settings differ.*mel_fmax: 7600.0 vs 8000.0"):
        Pipeline(model, {"griffin-lim": GriffinLim()})


# ----------------------------------------------------------------------------------------------------
# Speech files
# ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def speech(tiny_pipeline):
    return tiny_pipeline.speak("Save me to a file. Twice.", seed=8)


@pytest.mark.parametrize("ext, tolerance", [(".wav", 0.5 / 32768), (".flac", 0.5 / 32768), (".ogg", None)])
def test_save_round_trip(speech, tmp_path, ext, tolerance):
    path = tmp_path / f"out{ext}"
    speech.save(path)
    data, rate = soundfile.read(path, dtype="float32")
    assert rate == 22050
    assert data.ndim == 1 and abs(len(data) - len(speech.audio)) <= (0 if tolerance else 2048)
    if tolerance:  # 16-bit PCM: half a step, and full-scale +1.0 is stored as int16's largest, 32767
        np.testing.assert_allclose(data, np.minimum(speech.audio, 32767 / 32768), atol=tolerance)
    else:  # lossy: just the same loudness
        assert np.sqrt(np.mean(data ** 2)) == pytest.approx(np.sqrt(np.mean(speech.audio ** 2)), rel=0.5)


def test_save_errors(speech, tmp_path):
    with pytest.raises(ValueError, match="unknown audio format '.mp4'"):
        speech.save(tmp_path / "out.mp4")
    with pytest.raises(ValueError, match="unknown audio format"):
        speech.save(tmp_path / "noextension")
    with pytest.raises(FileNotFoundError, match="output folder does not exist"):
        speech.save(tmp_path / "missing" / "out.wav")
    with pytest.raises(IsADirectoryError):
        speech.save(tmp_path)
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(PermissionError, match="not writable"):
            speech.save(locked / "out.wav")
    assert speech.to_bytes("wav")[:4] == b"RIFF"


def test_to_int16_clips_instead_of_wrapping():
    s = Speech(audio=np.array([1.5, -2.0, 0.5, 0.0], dtype=np.float32), sample_rate=22050, chunks=[],
               timing=Timing(1.0, 4 / 22050))
    np.testing.assert_array_equal(s.to_int16(), np.array([32767, -32768, 16384, 0], dtype=np.int16))


def test_resample_time_and_pause_helpers():
    mel = torch.arange(10, dtype=torch.float32).repeat(80, 1)
    assert resample_time(mel, 0.5).shape == (80, 20)
    assert resample_time(mel, 2.0).shape == (80, 5)
    assert resample_time(mel[:, :1], 0.5).shape == (80, 2)
    assert resample_time(mel, 1.0) is mel
    assert pause_for("so it goes.") == 0.35 and pause_for("well,") == 0.15 and pause_for('he said "no!"') == 0.35
    assert pause_for("no punctuation") == 0.0


def test_random_seed_override_unsets_a_voice_seed(tiny_pipeline):
    from tts.runtime.settings import RANDOM_SEED

    seeded = tiny_pipeline.settings(seed=0)
    assert seeded.replace(seed=None).seed == 0  # None keeps
    assert seeded.replace(seed=RANDOM_SEED).seed is None
    a = tiny_pipeline.speak("hello there.", config=seeded, seed=RANDOM_SEED, max_retries=0).audio
    b = tiny_pipeline.speak("hello there.", config=seeded, seed=RANDOM_SEED, max_retries=0).audio
    assert not np.array_equal(a, b)  # prenet dropout drawn afresh
    with pytest.raises(ValueError, match="seed"):
        seeded.replace(seed=-2)


def test_pipeline_records_problems_instead_of_emitting_python_warnings(tiny_pipeline):
    """A decoder that did not stop is reported in Speech.warnings (the CLI prints those), never as a
    Python warning that a process-wide filter would have to silence; warm_up says nothing at all."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert tiny_pipeline.warm_up() is tiny_pipeline
        speech = tiny_pipeline.speak("warm up.", max_decoder_steps=2, max_retries=0, seed=0)
    assert not [str(w.message) for w in caught if "max_decoder_steps" in str(w.message)]
    assert any("did not stop before max_decoder_steps" in w for w in speech.warnings), speech.warnings


def test_frontend_warnings_are_recorded_not_printed_and_stay_with_their_call(tiny_pipeline, capfd):
    import threading

    speech = tiny_pipeline.speak("Smile \U0001f642 please.", seed=0, max_retries=0)
    assert speech.warnings[0] == "normalize: cannot read 1 character(s) '\U0001f642'; replaced by spaces"
    assert capfd.readouterr().err == ""  # the library prints nothing; the CLI prints Speech.warnings
    results = {}

    def speak(name, text):
        results[name] = tiny_pipeline.speak(text, seed=0, max_retries=0).warnings

    threads = [threading.Thread(target=speak, args=(f"t{i}", text))
               for i, text in enumerate(["Plain words here.", "An odd \u2603 sign.", "Nooooooooooooooooo way."] * 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    frontend_notes = {name: [w for w in notes if w.startswith("normalize")] for name, notes in results.items()}
    assert frontend_notes["t0"] == frontend_notes["t3"] == []
    assert all("\u2603" in w for w in frontend_notes["t1"] + frontend_notes["t4"]) and frontend_notes["t1"]
    assert all("repeated character" in w for w in frontend_notes["t2"] + frontend_notes["t5"]) and frontend_notes["t2"]

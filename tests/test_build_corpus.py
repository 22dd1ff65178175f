"""The default-voice corpus builder: sentence cleaning, stable ids, held-out separation, metadata
format; and, where Festival is installed, a two-sentence build checked for the LJSpeech layout."""
from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "default_voice"


def _load():
    spec = importlib.util.spec_from_file_location("build_corpus", RECIPE / "build_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_corpus"] = module
    spec.loader.exec_module(module)
    return module


bc = _load()


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("Sorrow came, a gentle sorrow., Miss Taylor married.", "Sorrow came, a gentle sorrow. Miss Taylor married."),
        ("Oh yes!, there is a great difference.", "Oh yes! there is a great difference."),
        ("What do you see?, Posted like silent sentinels.", "What do you see? Posted like silent sentinels."),
        ("., and so she went home", "and so she went home."),
        ("  It was   late;  ", "It was late."),
        ("He said, 'no.'", "He said, 'no.'"),
        (" ,. ", ""),
    ],
)
def test_clean_sentence(raw, clean):
    assert bc.clean_sentence(raw) == clean


def test_is_usable_filters_lengths_digits_capitals_and_asides():
    assert bc.is_usable("She dearly loved her father, but he was no companion.")
    assert not bc.is_usable("Too short.")
    assert not bc.is_usable("word " * 40)
    assert not bc.is_usable("In the year 1820 the ship Essex sailed from port.")
    assert not bc.is_usable("And I (which I own) do not see why it should be so.")
    assert not bc.is_usable("Your business cannot be with ME at all, madam.")


def test_ids_are_stable_line_numbers(tmp_path):
    (tmp_path / "own.txt").write_text("First sentence here.\nSecond one, please.\n")
    first = bc.read_source(tmp_path / "own.txt")
    assert [s.id for s in first] == ["own_0001", "own_0002"]
    # appending lines never renumbers the earlier ones
    (tmp_path / "own.txt").write_text("First sentence here.\nSecond one, please.\nA third sentence.\n")
    again = bc.read_source(tmp_path / "own.txt")
    assert again[:2] == first and again[2].id == "own_0003"
    assert bc.sentence_id("austen", 123) == "austen_00123"
    with pytest.raises(ValueError, match="unknown sentence source"):
        bc.sentence_id("dickens", 1)


def test_read_source_rejects_blank_lines_and_separator(tmp_path):
    (tmp_path / "own.txt").write_text("One sentence.\n\nAnother.\n")
    with pytest.raises(ValueError, match="own.txt:2: empty line"):
        bc.read_source(tmp_path / "own.txt")
    (tmp_path / "own.txt").write_text("A | B.\n")
    with pytest.raises(ValueError, match="separator"):
        bc.read_source(tmp_path / "own.txt")


def test_heldout_is_excluded_and_checked(tmp_path):
    (tmp_path / "own.txt").write_text("It costs $5 today.\nWhere is the station?\nWhere is the station?\n")
    (tmp_path / "austen.txt").write_text("She dearly loved her father.\nHe could sing a little himself.\n")
    (tmp_path / "heldout.txt").write_text("# comment\nown_0002|Where is the station?\nausten_00001|She dearly loved her father.\n")
    training, heldout = bc.load_sentences(tmp_path)
    assert [s.id for s in heldout] == ["own_0002", "austen_00001"]
    # own_0003 repeats a held-out text, so it is dropped from training as well
    assert [s.id for s in training] == ["own_0001", "austen_00002"]

    (tmp_path / "heldout.txt").write_text("own_0002|Where is the bus stop?\n")
    with pytest.raises(ValueError, match="differs from its source line"):
        bc.load_sentences(tmp_path)
    (tmp_path / "heldout.txt").write_text("own_0009|Nothing here.\n")
    with pytest.raises(ValueError, match="not a line of any sentence file"):
        bc.load_sentences(tmp_path)


def test_repository_sentence_files_are_consistent():
    training, heldout = bc.load_sentences(RECIPE / "sentences")
    assert len(heldout) >= 60
    sources = {s.id.split("_")[0] for s in heldout}
    assert sources == {"own", "austen", "mobydick"}
    train_ids = {s.id for s in training}
    assert not train_ids & {s.id for s in heldout}
    assert len(training) > 2000
    for s in training:
        assert 5 <= len(s.text) <= 200, s


def test_metadata_row_and_roundtrip(tmp_path):
    row = bc.metadata_row("own_0003", "It cost $3.50.", "It cost three dollars fifty.")
    assert row == "own_0003|It cost $3.50.|It cost three dollars fifty."
    bc.write_metadata(tmp_path / "metadata.csv", [row, bc.metadata_row("a_1", 'He said "so".', 'He said "so".')])
    assert bc.read_metadata(tmp_path / "metadata.csv") == {
        "own_0003": ("It cost $3.50.", "It cost three dollars fifty."),
        "a_1": ('He said "so".', 'He said "so".'),
    }
    for bad in ("a|b", "", "line\nbreak"):
        with pytest.raises(ValueError):
            bc.metadata_row("x", "text", bad)


def test_speakable_check():
    assert bc.is_speakable("it cost three dollars and fifty cents, didn't it?")
    assert not bc.is_speakable("it cost $3.50")
    assert not bc.is_speakable("fifty %")
    assert not bc.is_speakable("")


def test_prepare_sentences_is_deterministic(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet".split()
    lines = [" ".join(words[(i + k) % 10] for k in range(4 + i % 5)).capitalize() + "., Then more." for i in range(60)]
    (src / "austen_sentences.txt").write_text("\n".join(lines) + "\n")
    (src / "mobydick_sentences.txt").write_text("\n".join(reversed(lines)) + "\n")
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        out.mkdir()
        (out / "own.txt").write_text("".join(f"My own sentence number {w} is here.\n" for w in words))
        bc.prepare_sentences(src, out, {"austen": 8, "mobydick": 6}, {"own": 2, "austen": 2, "mobydick": 2}, seed=7)
        outs.append({p.name: p.read_text() for p in sorted(out.iterdir())})
    assert outs[0] == outs[1]
    assert len(outs[0]["austen.txt"].splitlines()) == 8
    assert "., " not in outs[0]["austen.txt"]
    _, heldout = bc.load_sentences(tmp_path / "a")
    assert len(heldout) == 6


def test_postprocess_resamples_trims_and_levels():
    sr = 32000
    t = np.arange(int(0.8 * sr)) / sr
    tone = 0.3 * np.sin(2 * np.pi * 220 * t)
    audio = np.concatenate([np.zeros(sr // 2), tone, np.zeros(sr)]).astype(np.float32)
    out = bc.postprocess(audio, sr)
    assert out.dtype == np.float32
    # ~0.8 s of tone plus ~50 ms kept on each side, at 22050 Hz
    assert abs(out.size / bc.SAMPLE_RATE - 0.9) < 0.06
    rms_db = 20 * np.log10(np.sqrt(np.mean(out.astype(np.float64) ** 2)))
    assert abs(rms_db - bc.TARGET_RMS_DBFS) < 0.6
    with pytest.raises(ValueError, match="silence"):
        bc.postprocess(np.zeros(sr, dtype=np.float32), sr)


@pytest.mark.skipif(shutil.which("festival") is None, reason="Festival is not installed")
def test_festival_build_writes_ljspeech_layout(tmp_path):
    import soundfile as sf

    frontend = pytest.importorskip("frontend")
    if not hasattr(frontend, "normalize"):
        pytest.skip("frontend.normalize is not written yet")
    sentences = tmp_path / "sentences"
    sentences.mkdir()
    (sentences / "own.txt").write_text("It cost $3 today.\nWhere is it?\n")
    (sentences / "heldout.txt").write_text("own_0002|Where is it?\n")
    out = tmp_path / "corpus"
    assert bc.main(["--out", str(out), "--sentences", str(sentences), "--jobs", "1", "--quiet"]) == 0

    rows = (out / "metadata.csv").read_text().splitlines()
    assert rows == [f"own_0001|It cost $3 today.|{frontend.normalize('It cost $3 today.')}"]
    assert (out / "heldout.csv").read_text().splitlines() == [f"own_0002|Where is it?|{frontend.normalize('Where is it?')}"]
    for uid in ("own_0001", "own_0002"):
        info = sf.info(str(out / "wavs" / f"{uid}.wav"))
        assert info.samplerate == 22050 and info.subtype == "PCM_16" and info.channels == 1
        assert 0.4 < info.duration < 4.0
    # a second run finds everything done and synthesizes nothing
    stats = bc.build_corpus(out, sentences, jobs=1, progress=False)
    assert stats["synthesized_now"] == 0 and stats["clips"] == 1 and stats["heldout_clips"] == 1

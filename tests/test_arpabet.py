"""Representation mixing: the pronouncing dictionary, its use in training data and in a voice."""
from __future__ import annotations

import gzip
import importlib.util
import random
from pathlib import Path

import pytest
import torch
import yaml
from conftest import TINY_SYNTHESIS, tiny_tacotron2, tiny_waveglow

from frontend import text_to_sequence
from frontend.arpabet import PronouncingDictionary, mix_arpabet, most_extra_symbols, parse_entries
from frontend.symbols import SYMBOL_TO_ID

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "recipes" / "default_voice"
ENTRIES = """# a comment
ship  SH IH1 P
Whale W EY1 L
whale HH W EY1 L
boss B AA1 S
the DH AH0
forty F AO1 R T IY0
five F AY1 V
don't D OW1 N T
"""
FIRST_PHONE_ID = SYMBOL_TO_ID["@AA"]


@pytest.fixture
def dictionary() -> PronouncingDictionary:
    return PronouncingDictionary(parse_entries(ENTRIES))


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, RECIPE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_entries_first_wins_case_folded_and_possessives(dictionary):
    assert len(dictionary) == 7 and "WHALE" in dictionary and "whales" not in dictionary
    assert dictionary.phones("Whale") == "W EY1 L"  # the first of the two entries
    assert dictionary.phones("whale's") == "W EY1 L Z"  # voiced ending
    assert dictionary.phones("ship's") == "SH IH1 P S"  # after a voiceless consonant
    assert dictionary.phones("boss's") == "B AA1 S AH0 Z"  # after a sibilant
    assert dictionary.phones("don't") == "D OW1 N T" and dictionary.phones("cat's") is None


def test_reads_cmudict_itself():
    cmudict = (";;; # CMUdict  --  Major Version: 0.07\n!EXCLAMATION-POINT  EH2 K S K L AH0 M EY1 SH AH0 N P OY2 N T\n"
               "'BOUT  B AW1 T\nREAD  R EH1 D\nREAD(1)  R IY1 D\nZURICH  Z UH1 R IH0 K # place, german\n")
    d = PronouncingDictionary(parse_entries(cmudict))
    assert (len(d), d.phones("read"), d.phones("Zurich")) == (2, "R EH1 D", "Z UH1 R IH0 K")


@pytest.mark.parametrize("line, message", [
    ("ship", "expected 'word PH1 PH2"),
    ("sh|ip SH IH1 P", "expected 'word PH1 PH2"),
    ("ship SH IH7 P", "unknown ARPAbet phone 'IH7'"),
    ("ship sh ih1 p", "unknown ARPAbet phone 'sh'"),
])
def test_malformed_entries_name_file_and_line(line, message):
    with pytest.raises(ValueError, match=f"dict.txt:2: {message}"):
        parse_entries("the DH AH0\n" + line + "\n", "dict.txt")


def test_read_plain_gzip_and_refuse_non_text(tmp_path):
    plain, packed, binary = tmp_path / "d.txt", tmp_path / "d.txt.gz", tmp_path / "bad.txt"
    plain.write_text(ENTRIES)
    packed.write_bytes(gzip.compress(ENTRIES.encode()))
    binary.write_bytes(b"ship \xff\xfe\n")
    assert PronouncingDictionary.read(plain).phones("ship") == PronouncingDictionary.read(packed).phones("ship")
    with pytest.raises(ValueError, match="not UTF-8"):
        PronouncingDictionary.read(binary)
    for damaged in (packed.read_bytes()[:-12], b"\x1f\x8b" + bytes(40), b"not gzip at all"):
        (tmp_path / "damaged.txt.gz").write_bytes(damaged)
        with pytest.raises(ValueError, match="damaged.txt.gz: not a readable gzip file"):
            PronouncingDictionary.read(tmp_path / "damaged.txt.gz")


def test_mix_all_keeps_unknown_words_punctuation_and_user_blocks(dictionary):
    text = "the ship's boss, forty-five {HH AH0 L OW1} whale? zorblax don't."
    mixed = mix_arpabet(text, dictionary)
    assert mixed == ("{DH AH0} {SH IH1 P S} {B AA1 S}, {F AO1 R T IY0}-{F AY1 V} {HH AH0 L OW1} {W EY1 L}? "
                     "zorblax {D OW1 N T}.")
    ids = text_to_sequence(mixed, normalize=False)
    assert sum(i >= FIRST_PHONE_ID for i in ids) == 2 + 4 + 3 + 5 + 3 + 4 + 3 + 4
    assert mix_arpabet("{the ship}", PronouncingDictionary({"the": "DH AH0"})) == "{the ship}"  # never inside a block
    assert mix_arpabet("naship ship2 na-ship naïve", PronouncingDictionary({"na": "N AA1", "ship": "SH IH1 P"})) == (
        "naship ship2 {N AA1}-{SH IH1 P} naïve")  # whole words only
    assert mix_arpabet(text, dictionary, p=0.0, draw=random.random) == text


def test_mix_draws_per_word(dictionary):
    text = " ".join(["the ship"] * 200)
    rng = random.Random(3)
    mixed = mix_arpabet(text, dictionary, p=0.25, draw=rng.random)
    phones = mixed.count("{")
    assert 60 < phones < 140  # about a quarter of the 400 words
    assert mixed == mix_arpabet(text, dictionary, p=0.25, draw=random.Random(3).random)
    with pytest.raises(ValueError, match="needs a draw"):
        mix_arpabet(text, dictionary, p=0.5)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        mix_arpabet(text, dictionary, p=1.5)


def test_training_data_mixes_from_torch_rng_and_validates_with_phones(tmp_path, dictionary):
    from tts.training.data import ArpabetMixing, TextMelDataset, Utterance, encode_texts

    class Cache:
        def load(self, utt):
            return torch.zeros(80, 4)

    items = [Utterance("a", "The SHIP, the whale.", tmp_path / "a.wav"), Utterance("b", "The 2 ships", tmp_path / "b.wav")]
    kept, seqs, _ = encode_texts(items, max_chars=None, dictionary=dictionary)
    assert [u.text for u in kept] == ["the ship, the whale.", "the two ships"]  # normalized: what is looked up
    train = TextMelDataset(kept, Cache(), seqs, [4, 4], ArpabetMixing(dictionary, 0.5))
    torch.manual_seed(0)
    draws = [tuple(train[0][0].tolist()) for _ in range(12)]
    torch.manual_seed(0)
    assert draws == [tuple(train[0][0].tolist()) for _ in range(12)]  # the loop's saved RNG replays them
    assert len(set(draws)) > 2  # different words as phones from one load to the next
    val = TextMelDataset(kept, Cache(), seqs, [4, 4], ArpabetMixing(dictionary, 1.0))
    assert val[0][0].tolist() == text_to_sequence("{DH AH0} {SH IH1 P}, {DH AH0} {W EY1 L}.", normalize=False)
    # too long when the longest mix is: "ship" has 4 letters (3 phones), "ox" 2 letters (3 phones)
    ox = PronouncingDictionary({"ship": "SH IH1 P", "ox": "AA1 K S"})
    assert encode_texts([Utterance("c", "ship", tmp_path / "c.wav")], 3, ox)[2]["too_many_chars"] == 1
    assert most_extra_symbols("ship ox {OW1 K} ox", ox) == 2
    assert encode_texts([Utterance("d", "ship ox", tmp_path / "d.wav")], 7, ox)[2]["too_many_chars"] == 1
    assert encode_texts([Utterance("d", "ship ox", tmp_path / "d.wav")], 8, ox)[2]["too_many_chars"] == 0


def test_training_config_records_the_dictionary_and_checks_it(tmp_path):
    from tts.tacotron2.train import DEFAULTS, arpabet_mixing, build_model

    path = tmp_path / "lexicon.txt"
    path.write_text(ENTRIES)
    data = {**DEFAULTS["data"], "arpabet_dictionary": str(path), "p_arpabet": 0.4}
    cfg = {**DEFAULTS, "model": {"n_frames_per_step": 2}, "data": data}
    assert build_model(cfg).text_settings["arpabet"] == {"dictionary": "lexicon.txt", "p_train": 0.4}
    assert "arpabet" not in build_model({**DEFAULTS, "model": {}}).text_settings
    assert arpabet_mixing(data).p == 0.4 and arpabet_mixing(DEFAULTS["data"]) is None
    for p in (2, 0, "half"):
        with pytest.raises(ValueError, match=r"p_arpabet must be a number in \(0, 1\]"):
            arpabet_mixing({**data, "p_arpabet": p})
    with pytest.raises(ValueError, match="needs data.num_workers: 0"):
        arpabet_mixing({**data, "num_workers": 2})
    with pytest.raises(ValueError, match="no such file"):
        arpabet_mixing({**data, "arpabet_dictionary": str(tmp_path / "missing.txt")})


def _phone_voice(tmp_path, dictionary_text: str | None = ENTRIES, waveglow: bool = False):
    from tts.runtime.voices import save_voice

    model = tiny_tacotron2(1)
    model.text_settings = {"frontend": "frontend.text_to_sequence", "normalize": True, "symbols": "nvidia-148",
                           "arpabet": {"dictionary": "lexicon.txt", "p_train": 0.5}}
    source = None
    if dictionary_text is not None:
        source = tmp_path / "lexicon.txt"
        source.write_text(dictionary_text)
    directory = tmp_path / "voice"
    vocoders = {"waveglow": tiny_waveglow()} if waveglow else None  # a WaveGlow vocodes block by block (overlap)
    save_voice(directory, model, vocoders=vocoders, synthesis=TINY_SYNTHESIS, pronouncing_dictionary=source)
    return directory


def test_voice_reads_its_dictionary_words_as_phones(tmp_path):
    from tts.runtime.pipeline import Pipeline

    directory = _phone_voice(tmp_path)
    assert yaml.safe_load((directory / "voice.yaml").read_text())["pronouncing_dictionary"] == "lexicon.txt"
    pipe = Pipeline.from_pretrained(directory, device="cpu")
    plan = pipe.count_chunks("The ship sails.")
    assert plan == 1
    from tts.runtime.planning import plan_text

    chunk = plan_text("The ship sails.", dictionary=pipe.dictionary).chunks[0]
    assert chunk.text == "the ship sails."  # what the user sees is unchanged
    assert list(chunk.ids) == text_to_sequence("{DH AH0} {SH IH1 P} sails.", normalize=False)
    speech = pipe.speak("The ship sails.")
    assert [w.text for w in speech.chunks[0].words] == ["the", "ship", "sails."]
    assert [w.text for w in speech.words] == ["The", "ship", "sails."]


def test_phone_voice_without_or_with_a_bad_dictionary(tmp_path):
    from tts.runtime.pipeline import Pipeline
    from tts.runtime.voices import VoiceError

    directory = _phone_voice(tmp_path)
    (directory / "lexicon.txt").write_text("ship SH IH9 P\n")
    with pytest.raises(VoiceError, match="bad pronouncing dictionary: .*unknown ARPAbet phone 'IH9'"):
        Pipeline.from_pretrained(directory, device="cpu")
    (directory / "lexicon.txt").unlink()
    with pytest.raises(VoiceError, match="the pronouncing dictionary 'lexicon.txt' is missing"):
        Pipeline.from_pretrained(directory, device="cpu")
    document = yaml.safe_load((directory / "voice.yaml").read_text())
    document["pronouncing_dictionary"] = "../outside.txt"
    (directory / "voice.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(VoiceError, match="outside the voice folder"):
        Pipeline.from_pretrained(directory, device="cpu")
    del document["pronouncing_dictionary"]
    (directory / "voice.yaml").write_text(yaml.safe_dump(document))
    with pytest.warns(UserWarning, match="trained to read words as phones .* it reads their spelling"):
        Pipeline.from_pretrained(directory, device="cpu")


def test_build_lexicon_converts_festival_entries(tmp_path):
    build_lexicon = _load("build_lexicon")
    festival = tmp_path / "cmu"
    festival.mkdir()
    (festival / "cmudict-0.4.out").write_text(
        'MNCL\n("a" dt (((ax) 0)))\n("a" n (((ey) 1)))\n("hello" nil (((hh ax) 0) ((l ow) 1)))\n'
        '("don\'t" v (((d ao n t) 1)))\n("a." nil (((ey) 1)))\n("butter" nil (((b ah) 1) ((t axr) 0)))\n')
    (festival / "cmulex.scm").write_text("(define (cmulex_addenda)\n  (lex.add.entry '(\"don't\" v (((d ow n t) 1))))\n"
                                         "  (lex.add.entry '(\"I'll\" v (((ay l) 1))))\n)\n")
    out = tmp_path / "lexicon.txt.gz"
    assert build_lexicon.main(["--festival-dir", str(festival), "--out", str(out)]) == 0
    first = out.read_bytes()
    assert build_lexicon.main(["--festival-dir", str(festival), "--out", str(out)]) == 0
    assert out.read_bytes() == first  # deterministic
    d = PronouncingDictionary.read(out)
    assert (d.phones("hello"), d.phones("butter")) == ("HH AH0 L OW1", "B AH1 T ER0")
    assert "a" not in d  # two readings (the article, the letter): read from its letters
    assert (d.phones("don't"), d.phones("i'll"), len(d)) == ("D OW1 N T", "AY1 L", 4)  # addenda win; "a." skipped
    assert b"Carnegie Mellon" in gzip.decompress(first)
    assert build_lexicon.main(["--festival-dir", str(tmp_path), "--out", str(out)]) == 2


def test_warm_start_starts_phones_from_their_letters():
    warm = _load("arpabet_warm_start")
    embedding = torch.randn(len(SYMBOL_TO_ID), 4)
    before = embedding.clone()
    assert warm.phone_rows(embedding, dict(SYMBOL_TO_ID)) == 84
    letters = before[[SYMBOL_TO_ID["s"], SYMBOL_TO_ID["h"]]].mean(dim=0)
    assert torch.equal(embedding[SYMBOL_TO_ID["@SH"]], letters)
    assert torch.equal(embedding[SYMBOL_TO_ID["@IY0"]], embedding[SYMBOL_TO_ID["@IY1"]])
    assert torch.equal(embedding[: SYMBOL_TO_ID["@AA"]], before[: SYMBOL_TO_ID["@AA"]])  # letters untouched
    assert set(warm.SPELLINGS) == {s[1:].rstrip("012") for s in SYMBOL_TO_ID if s.startswith("@")}


@pytest.mark.parametrize("overlap", [False, True])
def test_retries_encode_their_halves_through_the_dictionary(tmp_path, overlap):
    """The tiny voice never stops: every chunk is redrawn, then split in halves; all of it reads phones."""
    from tts.runtime.pipeline import Pipeline

    pipe = Pipeline.from_pretrained(_phone_voice(tmp_path, waveglow=overlap), device="cpu")
    assert pipe.describe(overlap=overlap)[-1].startswith("stage overlap: on" if overlap else "stage overlap: off")
    calls = []
    original = pipe._infer

    def spy(texts, cfg, seed):
        calls.extend(tuple(t) for t in texts)
        return original(texts, cfg, seed)

    pipe._infer = spy
    speech = pipe.speak("The ship, the whale, the boss.", max_retries=2, prenet_dropout=0.5, max_decoder_steps=6,
                        overlap=overlap)
    assert speech.chunks[0].retries == 2 and len(calls) >= 3  # the first try, a redraw, halves
    phone = [c for c in calls if any(i >= FIRST_PHONE_ID for i in c)]
    assert phone == calls  # every try, halves included, reads its dictionary words as phones
    assert [w.text for w in speech.words] == ["The", "ship,", "the", "whale,", "the", "boss."]

"""Symbol table and text <-> id conversion (NVIDIA Tacotron 2 compatible)."""

import json
import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import frontend
from frontend.symbols import ARPABET

# NVIDIA/tacotron2 text/symbols.py, written out so the test means something without ../shared.
NVIDIA_SYMBOLS = (
    ["_", "-"] + list("!'(),.:;? ") + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + list("abcdefghijklmnopqrstuvwxyz")
    + ["@" + p for p in """
    AA AA0 AA1 AA2 AE AE0 AE1 AE2 AH AH0 AH1 AH2 AO AO0 AO1 AO2 AW AW0 AW1 AW2 AY AY0 AY1 AY2
    B CH D DH EH EH0 EH1 EH2 ER ER0 ER1 ER2 EY EY0 EY1 EY2 F G HH IH IH0 IH1 IH2 IY IY0 IY1 IY2
    JH K L M N NG OW OW0 OW1 OW2 OY OY0 OY1 OY2 P R S SH T TH UH UH0 UH1 UH2 UW UW0 UW1 UW2
    V W Y Z ZH""".split()]
)
REFERENCE_JSON = Path(__file__).resolve().parents[2] / "shared" / "reference" / "symbols.json"


def test_symbols_match_nvidia_table():
    assert frontend.symbols == NVIDIA_SYMBOLS
    assert len(frontend.symbols) == 148
    assert frontend.symbols.index("_") == 0 and frontend.symbols.index("-") == 1
    assert frontend.symbols.index(" ") == 11 and frontend.symbols.index("A") == 12
    assert frontend.symbols.index("a") == 38 and frontend.symbols.index("@AA") == 64
    assert frontend.symbols.index("@ZH") == 147


def test_symbols_match_reference_json():
    if not REFERENCE_JSON.exists():
        pytest.skip(f"{REFERENCE_JSON} not present")
    reference = json.loads(REFERENCE_JSON.read_text())
    assert frontend.symbols == reference["symbols"]


@pytest.mark.parametrize(
    "text, ids",
    [
        ("hello world.", [45, 42, 49, 49, 52, 11, 60, 52, 55, 49, 41, 7]),
        ("Hi!", [19, 46, 2]),
        ("{HH AH0 L OW1}", [106, 73, 117, 123]),
        ("a {HH AW1} b", [38, 11, 106, 82, 11, 39]),
        ("it's (x) - y; z: q?", [46, 57, 3, 56, 11, 4, 61, 5, 11, 1, 11, 62, 9, 11, 63, 8, 11, 54, 10]),
    ],
)
def test_known_ids(text, ids):
    assert frontend.text_to_sequence(text, normalize=False) == ids


def test_normalize_flag_applies_normalizer():
    assert frontend.text_to_sequence("Dr. Who, 2 cats") == frontend.text_to_sequence(
        frontend.normalize("Dr. Who, 2 cats"), normalize=False
    )
    assert frontend.sequence_to_text(frontend.text_to_sequence("Dr. Who, 2 cats")) == "doctor who, two cats"


def test_no_eos_and_no_padding_appended():
    ids = frontend.text_to_sequence("ab", normalize=False)
    assert ids == [38, 39]


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "...", "?!", "😀", "---"])
def test_empty_or_unspeakable_raises(text):
    with pytest.raises(ValueError):
        frontend.text_to_sequence(text)


@pytest.mark.parametrize("text", ["{hh aw1}", "{HH XX1}", "hello {}", "{HH, AW1}", "say {AH7}"])
def test_bad_arpabet_raises_clearly(text):
    with pytest.raises(ValueError, match="ARPAbet"):
        frontend.text_to_sequence(text)
    with pytest.raises(ValueError, match="ARPAbet"):
        frontend.text_to_sequence(text, normalize=False)


def test_unknown_characters_become_spaces_not_merged_words(caplog):
    with caplog.at_level(logging.WARNING, logger="frontend"):
        ids = frontend.text_to_sequence("cat%dog_x", normalize=False)
    assert frontend.sequence_to_text(ids) == "cat dog x"
    assert "frontend" in {r.name for r in caplog.records}


def test_pad_symbol_is_never_emitted_from_text():
    assert 0 not in frontend.text_to_sequence("a_b", normalize=False)
    assert 0 not in frontend.text_to_sequence("snake_case_name")


def test_arpabet_passes_through_normalization_untouched():
    text = "Turn left on {HH AW1 S T AH0 N} Street, 2 times."
    assert frontend.normalize(text) == "turn left on {HH AW1 S T AH0 N} street, two times."
    ids = frontend.text_to_sequence(text)
    assert frontend.sequence_to_text(ids) == "turn left on {HH AW1 S T AH0 N} street, two times."


def test_sequence_to_text_merges_adjacent_arpabet():
    ids = frontend.text_to_sequence("{HH AH0}{L OW1}", normalize=False)
    assert frontend.sequence_to_text(ids) == "{HH AH0 L OW1}"


def test_sequence_to_text_accepts_numpy_like_ints_and_rejects_bad_ids():
    class Int:  # stands in for numpy / torch scalars
        def __init__(self, v):
            self.v = v

        def __int__(self):
            return self.v

    assert frontend.sequence_to_text([Int(38), Int(11), Int(64)]) == "a {AA}"
    with pytest.raises(ValueError):
        frontend.sequence_to_text([148])
    with pytest.raises(ValueError):
        frontend.sequence_to_text([-1])


_plain = st.text(alphabet=st.sampled_from(list(" -!'(),.:;?abcdefghijklmnopqrstuvwxyzABCXYZ")), min_size=1)
_phones = st.lists(st.sampled_from(ARPABET), min_size=1, max_size=5).map(lambda p: "{" + " ".join(p) + "}")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_plain, _phones), min_size=1, max_size=6))
def test_round_trip_without_normalization(parts):
    # blocks separated by text so that sequence_to_text does not merge them
    text = " ".join(parts)
    try:
        ids = frontend.text_to_sequence(text, normalize=False)
    except ValueError:
        assert not any(c.isalpha() for c in text)
        return
    assert frontend.sequence_to_text(ids) == text
    assert all(0 < i < 148 for i in ids)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_round_trip_after_normalization(text):
    normalized = frontend.normalize(text)
    try:
        ids = frontend.text_to_sequence(text)
    except ValueError as error:  # a "{...}" that is not ARPAbet, or nothing to say
        assert "ARPAbet" in str(error) or not any(c.isalpha() for c in normalized)
        return
    assert frontend.sequence_to_text(ids) == normalized


@pytest.mark.parametrize("text, block", [
    ("{HH AH0", "{HH AH0"),
    ("Say {HH AH0 L OW1 to everyone.", "{HH AH0 L OW1 to everyone."),
    ("{HH AH0 L OW1} and {W ER1 L D", "{W ER1 L D"),
    ("x {HH AH0 {L OW1}", "{HH AH0"),
])
def test_unclosed_arpabet_block_is_an_error(text, block):
    with pytest.raises(ValueError, match="unclosed ARPAbet block") as info:
        frontend.check_arpabet(text)
    assert f"'{block}'" in str(info.value) and "closing '}'" in str(info.value)
    with pytest.raises(ValueError, match="unclosed ARPAbet block"):
        frontend.text_to_sequence(text)


@pytest.mark.parametrize("text", ["{a", "b}", "AH0}", "if (x) { return", "brace { alone", "{The end",
                                  "{HH AH0 L OW1\n}", "{HH AH0 L OW1} {"])
def test_stray_braces_in_ordinary_text_are_still_read(text):
    frontend.check_arpabet(text)  # no error: normalization reads a stray brace as a parenthesis
    assert frontend.text_to_sequence(text)

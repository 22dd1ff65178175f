"""Sentence / clause / word chunking."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import frontend
from frontend import split_sentences


@pytest.mark.parametrize(
    "text, chunks",
    [
        ("Hello there. How are you? Fine!", ["Hello there.", "How are you?", "Fine!"]),
        ("Dr. Smith met Mr. Jones.", ["Dr. Smith met Mr. Jones."]),
        ("Fruit, e.g. apples, i.e. food. Next one.", ["Fruit, e.g. apples, i.e. food.", "Next one."]),
        ("He lives in the U.S.A. with me.", ["He lives in the U.S.A. with me."]),
        ("He lives in the U.S.A. The end.", ["He lives in the U.S.A.", "The end."]),
        ("It costs 3.50 dollars. Pi is 3.14159.", ["It costs 3.50 dollars.", "Pi is 3.14159."]),
        ("J. K. Rowling wrote it. See p. 5 and No. 7.", ["J. K. Rowling wrote it.", "See p. 5 and No. 7."]),
        ("Apples, pears, etc. The rest.", ["Apples, pears, etc.", "The rest."]),
        ("Walk down Baker St. The house is there.", ["Walk down Baker St.", "The house is there."]),
        ("Visit St. Louis. It is nice.", ["Visit St. Louis.", "It is nice."]),
        ('"Stop!" she said. "Why?"', ['"Stop!"', "she said.", '"Why?"']),
        ("Wait... what happened?", ["Wait...", "what happened?"]),
        ("First paragraph\n\nSecond paragraph", ["First paragraph", "Second paragraph"]),
        ("  spaced   out \n text  ", ["spaced out text"]),
        ("", []),
        ("   ", []),
        ("no punctuation at all", ["no punctuation at all"]),
        ("Say {HH AH0 L OW1}. Then go.", ["Say {HH AH0 L OW1}.", "Then go."]),
        # normalized text (what the pipeline passes): everything lower case
        ("doctor smith went home. he slept. the u s army came.", ["doctor smith went home.", "he slept.", "the u s army came."]),
    ],
)
def test_sentences(text, chunks):
    assert split_sentences(text) == chunks


def test_long_sentence_splits_at_clauses_first():
    clause = "the quick brown fox jumps over the lazy dog"
    text = f"{clause}, {clause}; {clause}: {clause} - {clause} ({clause}) {clause}."
    chunks = split_sentences(text, max_chars=60)
    assert chunks == [
        f"{clause},", f"{clause};", f"{clause}:", f"{clause} -", f"{clause}", f"({clause})", f"{clause}."
    ]


def test_clauses_are_packed_up_to_the_limit():
    chunks = split_sentences("one, two, three, four, five, six.", max_chars=12)
    assert chunks == ["one, two,", "three, four,", "five, six."]
    assert all(len(c) <= 12 for c in chunks)


def test_long_clause_splits_at_words():
    text = " ".join(["word"] * 30) + "."
    chunks = split_sentences(text, max_chars=20)
    assert all(len(c) <= 20 for c in chunks)
    assert " ".join(chunks).split() == text.split()
    assert chunks[0] == "word word word word"


def test_overlong_word_is_cut_not_dropped():
    word = "x" * 50
    chunks = split_sentences(f"a {word} b", max_chars=20)
    assert chunks == ["a", "x" * 20, "x" * 20, "x" * 10, "b"]


def test_overlong_arpabet_block_is_split_between_phones():
    block = "{" + " ".join(["AH0"] * 20) + "}"
    chunks = split_sentences(block, max_chars=30)
    assert all(len(c) <= 30 and c.startswith("{") and c.endswith("}") for c in chunks)
    ids = sum((frontend.text_to_sequence(c, normalize=False) for c in chunks), [])
    assert ids == frontend.text_to_sequence(block, normalize=False)


def test_pipeline_order_normalize_then_split():
    raw = (
        "Dr. Smith paid $3.50 on Jan. 5, 2021 at 10:30 a.m. It was approx. 3.5 km from St. Louis, "
        "e.g. near the U.S. border. The end."
    )
    chunks = split_sentences(frontend.normalize(raw), max_chars=80)
    assert chunks[0].startswith("doctor smith paid three dollars and fifty cents on january fifth")
    assert chunks[-1] == "the end."
    assert all(len(c) <= 80 for c in chunks)
    for c in chunks:
        frontend.text_to_sequence(c, normalize=False)


@pytest.mark.parametrize("bad", [0, -5])
def test_bad_max_chars(bad):
    with pytest.raises(ValueError):
        split_sentences("hello", max_chars=bad)


_words = st.text(alphabet=st.sampled_from(list("abcXYZ.,;:!?'\"()-")), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(_words, max_size=60), st.integers(min_value=1, max_value=80))
def test_never_loses_duplicates_or_overruns(words, max_chars):
    text = " ".join(words)
    chunks = split_sentences(text, max_chars=max_chars)
    assert all(0 < len(c) <= max_chars for c in chunks)
    if all(len(w) <= max_chars for w in words):
        assert " ".join(chunks).split() == text.split()
    else:  # only over-long words are cut
        assert "".join("".join(chunks).split()) == "".join(text.split())


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_arbitrary_text_keeps_all_characters(text):
    chunks = split_sentences(text, max_chars=40)
    assert "".join("".join(chunks).split()) == "".join(text.split())


def test_numbered_list_lines_are_chunks_not_sentence_ends():
    text = "Shopping list:\n1. Apples\n2. Oranges\n3. Milk"
    assert split_sentences(text) == ["Shopping list:", "1. Apples", "2. Oranges", "3. Milk"]


def test_bullet_lines_are_chunks():
    assert split_sentences("Todo:\n* eggs\n* milk") == ["Todo:", "* eggs", "* milk"]


def test_a_number_ending_a_sentence_still_ends_it():
    assert split_sentences("It was 5. Then we left.") == ["It was 5.", "Then we left."]

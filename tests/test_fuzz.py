"""Nasty input through the whole Pipeline.speak: never a crash, a clear ValueError when there is nothing
to say, otherwise finite audio in [-1, 1]; and a few thousand words through `stream` with bounded memory."""
from __future__ import annotations

import random
import re
import weakref

import numpy as np
import pytest

import frontend

# nothing to say: must raise ValueError
UNSPEAKABLE = [
    "", " ", "\n\n\t", "\x00", "\x00\x00\x00", "...", "?!?!", ",;:", "—", "--", "''", '""', "()", "[]{}", "{", "}", "{{{", "}}}", "{}", "-",
    "\u200b", "\u200f\u200e", "\x07\x08\x1b", "\r\n\r\n", "\ufeff", "😀", "🎉🎉🎉", "👨‍👩‍👧‍👦", "\U0001F600 \U0001F64F",
    "\u0301\u0301", "\t.\t.\t",
]
# has ASCII letters or digits: must be spoken
SPEAKABLE = [
    "a", "I", "0", "7", "Hello", "hello world", "HELLO WORLD!!!", "12345678901234567890", "00000000000000000000",
    "-12345678901234567890.5", "3.14159265358979323846", "1,000,000,000,000", "$99999999999999999999",
    "@#$%^&*", "1e308", "0x1F", "1/0", "50%", "#1", "Dr. Dr. Dr.", "St. St. St.", "Mr.Mrs.Ms.", "e.g. i.e. etc.",
    "U.S.A. U.K. E.U.", "a.b.c.d.e.f.g", "http://example.com/a?b=c&d=e", "user@example.com", "C:\\Windows\\system32",
    "{HH AH0 L OW1}", "{HH AH0 L OW1} world", "AH0}", "{a", "b}",
    "hello {W ER1 L D} and {B AY1}", "Smith's", "rock 'n' roll", "don't won't can't", "naïve café",
    "Ångström", "Straße", "Ærø", "œuvre", "ﬁne ﬂow", "１２３", "Ⅻ", "½ ¾", "x²", "10°C", "5′11″", "£5 €5 ¥5",
    "שלום hello", "مرحبا hello", "hello 你好", "Привет, hello", "Γειά σου hello", "नमस्ते hello", "hello 😀 world",
    "a\x00b", "hello\x00world", "line\nbreak", "tab\there", "bell\x07ring", "mixed\r\nnewlines\rhere",
    "word " * 100, "a" * 500, "supercalifragilisticexpialidocious" * 10, "x" * 181, "ab " * 300,
    "Hello." * 50, "Wait... what?! No!!! Really???", "(((nested (parens))))", '"quoted "twice""', "'single'",
    "2021-01-05", "10:30 p.m.", "1/2/2003", "Jan. 5th, 2021", "3rd 22nd 101st 1000000th", "VIII. IV. XLII",
    "MCMLXXXIV", "1990s", "'90s", "4x4", "A4", "B-52", "COVID-19", "mp3 MP4 h264", "www.example.org",
    "- a", "a -", "a - b", "a--b", "a---b", "a—b", "semi;colon;separated;list", "colon:separated:list",
    "comma,,,,,,,,,,separated", ".leading dot", "trailing dot.", "  spaces   everywhere  ", "CamelCaseWordsHere",
    "snake_case_words_here", "kebab-case-words-here", "ALLCAPSWORDSHERE", "123abc456def", "a1b2c3d4e5",
]

# braces hold ARPAbet (as in NVIDIA's frontend); a block that is not valid ARPAbet is the user's error
BAD_ARPABET = ["{NOT ARPABET}", "{hh ah0 l ow1}", "say {XX} now", "{}", "{HH AH0"]  # an unclosed block of phones


def _generated(n: int, seed: int = 1234) -> list[str]:
    """Random strings mixing letters, digits, punctuation, braces, control characters and other scripts."""
    rng = random.Random(seed)
    alphabet = ("abcdefghijklmnopqrstuvwxyz" "ABCDEFGHIJKLMNOPQRSTUVWXYZ" "0123456789" " .,;:!?'\"-()[]{}$%&@#/\\"
                "\x00\x01\t\n\r\x7f" "éüßøñ" "שלוםمرحبا你好Привет" "😀🎉✓€£¥" "\u200b\u200f\u0301")
    out = []
    for _ in range(n):
        length = rng.choice([1, 2, 3, 5, 8, 13, 40, 120, 250])
        out.append("".join(rng.choice(alphabet) for _ in range(length)))
    return out


CASES = UNSPEAKABLE + SPEAKABLE + BAD_ARPABET + _generated(100)


def test_enough_cases():
    assert len(CASES) >= 200


@pytest.mark.parametrize("text", CASES, ids=lambda t: ascii(t[:24]))
def test_speak_never_crashes(fast_pipeline, text):
    must_fail = text in UNSPEAKABLE
    must_speak = text in SPEAKABLE
    if text in BAD_ARPABET:
        with pytest.raises(ValueError, match="ARPAbet"):
            fast_pipeline.speak(text, seed=0)
        return
    try:
        speech = fast_pipeline.speak(text, seed=0)
    except ValueError as exc:
        assert not must_speak, f"{text!r} should be speakable: {exc}"
        message = str(exc)
        # nothing to say, or a malformed {ARPAbet} block (an input error, never read as words)
        assert message.startswith(("text is empty", "nothing speakable", "empty ARPAbet block",
                                   "unknown ARPAbet symbol")), message
        return
    assert not must_fail, f"{text!r} has nothing to say but gave {speech.duration:.2f} s of audio"
    assert speech.audio.dtype == np.float32 and speech.audio.ndim == 1 and len(speech.audio) > 0
    assert np.isfinite(speech.audio).all()
    assert np.abs(speech.audio).max() <= 1.0
    assert speech.chunks and all(len(c.text) <= 180 for c in speech.chunks)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def test_long_text_streams_with_bounded_memory(fast_pipeline):
    rng = random.Random(7)
    vocabulary = ("the of and to a in that it was he for on are as with his they at be this from have or by one had "
                  "not but what all were when we there can an your which their said if do will each about how up out "
                  "them then she many some so these would other into has more her two like him see time could no make "
                  "than first been its who now people my made over did down only way find use may water long little "
                  "very after words called just where most know get through back much before go good new write our "
                  "used me man too any day same right look think also around another came come work three word must "
                  "because does part even place well such here take why things help put years different away again "
                  "off went old number great tell men say small every found still between name should home big give "
                  "air line set own under read last never us left end along while might next sound below saw something "
                  "thought both few those always looked show large often together asked house don't world going want "
                  "school important until form food keep children feet land side without boy once animals life enough "
                  "took sometimes four head above kind began almost live page got earth need far hand high year mother "
                  "light parts country father let night following picture being study second eyes soon times story boys "
                  "since white days ever paper hard near sentence better best across during today others however sure "
                  "means knew it's try told young miles sun ways thing whole hear example heard several change answer "
                  "room sea against top turned learn point city play toward five using himself usually").split()
    sentences = []
    while sum(len(s.split()) for s in sentences) < 3000:
        words = [rng.choice(vocabulary) for _ in range(rng.randint(4, 40))]
        mark = rng.choice([".", ".", ".", "?", "!", ";", ","])
        sentences.append(" ".join(words).capitalize() + mark)
    text = " ".join(sentences)

    alive = []
    spoken = []
    count = 0
    for chunk in fast_pipeline.stream(text, seed=0, max_decoder_steps=2):
        assert chunk.index == count
        count += 1
        spoken.append(chunk.text)
        alive.append(weakref.ref(chunk))
        del chunk
        # chunks hold no reference cycles, so one the pipeline did not keep is freed right here
        assert alive[-1]() is None
    assert count == len(frontend.split_sentences(frontend.normalize(text)))
    assert count > 100
    # every input word is spoken, in order
    assert _words(" ".join(spoken)) == _words(frontend.normalize(text))

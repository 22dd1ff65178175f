"""Text planning, before any model runs: normalise, split into chunks, encode, and decide the pauses
between chunks; plus the per-chunk seeds and decoder budgets the pipeline derives from them."""
from __future__ import annotations

import dataclasses
import math
import re
import warnings
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Mapping, NamedTuple

import numpy as np

import frontend
from frontend.arpabet import PronouncingDictionary, mix_arpabet
from tts.core.defaults import FRAMES_PER_SYMBOL
from tts.runtime.ssml import Segment, looks_like_ssml, parse_ssml

#: silence after a chunk, in seconds, by its last punctuation mark (scaled by pause_scale / pace)
PAUSES: Final[Mapping[str, float]] = MappingProxyType(
    {".": 0.35, "!": 0.35, "?": 0.35, ";": 0.25, ":": 0.25, ",": 0.15}
)
#: frames a chunk's decoder gets beyond `max_frames_per_symbol` per symbol (see `decoder_step_budget`)
FRAMES_SLACK: Final = 20
FULL_STOP_ID: Final = frontend.symbols.index(".")
#: a chunk ending in one of these (before closing quotes or brackets) has its end-of-phrase mark
_FINAL_PUNCTUATION: Final = re.compile(r"[.?!,;:…][\"')\]}»”’]*\s*$")


@dataclass(frozen=True)
class Planned:
    """A chunk to synthesise: its words, its symbols, and how it is said (SSML sets the last four)."""

    text: str
    ids: tuple[int, ...]
    pause: float  # seconds of silence after it from its punctuation, at pace 1 and pause_scale 1
    rate: float = 1.0  # multiplies the call's pace
    pitch: float = 0.0  # semitones added to the call's pitch
    volume: float = 1.0  # multiplies the call's volume
    break_after: float = 0.0  # seconds of silence after it that pace and pause_scale do not change


def pause_for(text: str) -> float:
    """Seconds of silence after a chunk ending in `text`'s last punctuation mark."""
    stripped = text.rstrip().rstrip("\"')]}»”’")
    return PAUSES.get(stripped[-1:], 0.0) if stripped else 0.0


class TextPlan(NamedTuple):
    normalized: str  # the whole text as it will be spoken
    chunks: list[Planned]
    warnings: list[str]  # what the frontend could not read as written (for Speech.warnings)
    written: str  # the words as the caller wrote them (SSML: the text without markup), for Speech.words


def plan_text(text: str, max_chunk_chars: int = 180, date_order: str = "mdy", ssml: bool | None = False,
              dictionary: PronouncingDictionary | None = None) -> TextPlan:
    """Normalise the whole text (`date_order` reads ambiguous numeric dates month-first or day-first),
    split it into chunks and encode each; ValueError if nothing is speakable. The frontend's warnings
    are collected into the plan, not printed. `ssml`: True reads the text as SSML (`tts.runtime.ssml`),
    None does when it starts with `<speak>`, False never. `dictionary`: the voice's pronouncing
    dictionary; its words are encoded as their phones (`chunk_ids`).

    Chunks that have no speakable symbols of their own (a stray "...") add their pause to the
    previous chunk instead of being synthesised.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("text is empty")
    if ssml or (ssml is None and looks_like_ssml(text)):
        return _plan_ssml(text, max_chunk_chars, date_order, dictionary)
    with frontend.collect_warnings() as warnings:
        normalized, chunks = _plan_segment(text, max_chunk_chars, date_order, Segment(text), dictionary)
    _check_speakable(chunks, text)
    chunks[-1] = dataclasses.replace(chunks[-1], pause=0.0)
    return TextPlan(normalized, chunks, warnings, text)


def _plan_ssml(markup: str, max_chunk_chars: int, date_order: str,
               dictionary: PronouncingDictionary | None = None) -> TextPlan:
    """SSML: each segment planned with its prosody; its break follows its last chunk. A break before
    anything is said cannot be a chunk's pause: it is reported, not silently dropped."""
    chunks: list[Planned] = []
    spoken, written, notes = [], [], []
    with frontend.collect_warnings() as warnings:
        for segment in parse_ssml(markup, date_order=date_order):
            if segment.text.strip():
                normalized, planned = _plan_segment(segment.text, max_chunk_chars, date_order, segment, dictionary)
                spoken.append(normalized)
                written.append(segment.written or segment.text)
                chunks += planned
            if segment.pause_after and chunks:
                chunks[-1] = dataclasses.replace(chunks[-1], break_after=chunks[-1].break_after + segment.pause_after)
            elif segment.pause_after:
                notes.append(f"a break of {segment.pause_after:g} s before anything is said was left out "
                             "(a pause can only follow speech)")
    _check_speakable(chunks, markup)
    chunks[-1] = dataclasses.replace(chunks[-1], pause=0.0)
    return TextPlan(" ".join(spoken), chunks, notes + warnings, " ".join(written))


def _check_speakable(chunks: list[Planned], text: str) -> None:
    if not chunks:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise ValueError(f"nothing speakable in the text {shown!r} (no letters or digits to read)")


def _plan_segment(text: str, max_chunk_chars: int, date_order: str, segment: Segment,
                  dictionary: PronouncingDictionary | None = None) -> tuple[str, list[Planned]]:
    """The chunks of one stretch of text said one way: normalised, split, encoded."""
    frontend.check_arpabet(text)
    normalized = frontend.normalize(text, date_order=date_order)
    planned: list[Planned] = []
    for piece in frontend.split_sentences(normalized, max_chars=max_chunk_chars):
        piece = piece.strip()
        if not piece:
            continue
        try:
            ids = chunk_ids(piece, dictionary)
        except frontend.NothingToSay:  # a stray "..." is a pause; a bad {ARPAbet} block is the user's error
            ids = ()
        if not ids:
            if planned:
                last = planned[-1]
                planned[-1] = dataclasses.replace(last, pause=max(last.pause, pause_for(piece)))
            continue
        planned.append(Planned(piece, tuple(ids), pause_for(piece), rate=segment.rate, pitch=segment.pitch,
                               volume=segment.volume))
    return normalized, planned


def split_in_half(text: str) -> tuple[str, str] | None:
    """Split at the clause boundary (, ; :) nearest the middle, else the word boundary nearest it.

    Both halves must contain something to say; None when the text is a single word.
    """
    middle = len(text) / 2

    def speakable(part: str) -> bool:
        return any(ch.isalnum() for ch in part)

    for boundaries in (
        [i + 1 for i, ch in enumerate(text[:-1]) if ch in ",;:" and text[i + 1] == " "],
        [i for i, ch in enumerate(text) if ch == " "],
    ):
        for cut in sorted(boundaries, key=lambda i: abs(i - middle)):
            left, right = text[:cut].strip(), text[cut:].strip()
            if speakable(left) and speakable(right):
                return left, right
    return None


def derive_seed(seed: int | None, *path: int) -> int | None:
    """A well-mixed 63-bit seed for (seed, chunk, attempt, ...): chunks stay reproducible on their own."""
    if seed is None:
        return None
    return int(np.random.SeedSequence([seed, *path]).generate_state(2, dtype=np.uint32).view(np.uint64)[0] >> 1)


def decoder_step_budget(n_symbols: int, frames_per_step: int, max_decoder_steps: int,
                        max_frames_per_symbol: float = FRAMES_PER_SYMBOL) -> int:
    """Decoder steps allowed for a text of `n_symbols`: at most `max_frames_per_symbol` mel frames per
    symbol plus `FRAMES_SLACK` frames (a voice sets it to about twice its own median frames per symbol),
    in decoder steps of `frames_per_step` frames, and never more than `max_decoder_steps`: a piece whose
    decoder never stops ends as a short failure instead of seconds of babble."""
    frames = math.ceil(max_frames_per_symbol * n_symbols) + FRAMES_SLACK
    return max(1, min(max_decoder_steps, -(-frames // frames_per_step)))


def chunk_ids(text: str, dictionary: PronouncingDictionary | None = None) -> tuple[int, ...]:
    """The ids Tacotron 2 reads for a chunk of normalised text. A chunk that ends without punctuation
    (a long sentence cut at a word, a fragment like "go") gets a full stop: the voices learned to stop
    after sentence-final punctuation and run on to max_decoder_steps without it. The chunk's text (what
    `Chunk.text` shows) is unchanged; a text with nothing to say has no ids. With a `dictionary` (a
    voice trained with representation mixing, `frontend.arpabet`) its words are read as their phones."""
    if dictionary is not None:
        text = mix_arpabet(text, dictionary)
    ids = frontend.text_to_sequence(text, normalize=False)
    if ids and not _FINAL_PUNCTUATION.search(text):
        ids = ids + [FULL_STOP_ID]
    return tuple(ids)


def speakable_ids(text: str, dictionary: PronouncingDictionary | None = None) -> tuple[int, ...]:
    """`chunk_ids`, or () for text that cannot be spoken (a retry's half with nothing to say)."""
    try:
        return chunk_ids(text, dictionary)
    except ValueError:
        return ()


def _arpabet_training(tacotron2: object) -> dict | None:
    """The ARPAbet part of a Tacotron 2's text settings (its dictionary and training p), None for letters only."""
    return (getattr(tacotron2, "text_settings", None) or {}).get("arpabet")


def reads_phones(tacotron2: object) -> bool:
    """Was this Tacotron 2 trained to read dictionary words as phones? (Its checkpoint's text settings say so.)"""
    return bool(_arpabet_training(tacotron2))


def dictionary_option_problem(tacotron2: object, name: str, given: bool,
                              option: str = "--pronouncing-dictionary") -> str | None:
    """For a tool that takes a Tacotron 2 `name` and an `option` naming its pronouncing dictionary: what is
    wrong when the option is given to a letters model or left out for a phone-reading one, else None."""
    if reads_phones(tacotron2) and not given:
        return f"{name} was trained to read phones: give its {option}"
    if given and not reads_phones(tacotron2):
        return f"{name} reads letters only: a {option} would not apply"
    return None


def check_reads_phones(tacotron2: object, dictionary: PronouncingDictionary | None) -> None:
    """Warn when a Tacotron 2 trained to read phones gets no pronouncing dictionary (it falls back on
    spelling, which it reads worse), or one that was not is given one (it would hear unknown symbols)."""
    trained = _arpabet_training(tacotron2)
    if trained and dictionary is None:
        warnings.warn(f"this Tacotron 2 was trained to read words as phones from {trained.get('dictionary')!r}, "
                      "but no pronouncing dictionary was given: it reads their spelling instead", stacklevel=3)
    elif dictionary is not None and not trained:
        warnings.warn("a pronouncing dictionary was given, but this Tacotron 2 was not trained to read phones "
                      "(its checkpoint says nothing of ARPAbet): words it holds are read as phones anyway",
                      stacklevel=3)


def shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."

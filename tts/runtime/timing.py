"""Word timestamps from Tacotron 2's attention, and subtitles from them.

1. Each decoder step attends most to one input symbol; the steps are `r` mel frames each. A word (a
   run of symbols between spaces) starts at the first step whose attention has reached its first
   symbol, and ends where the next word starts (the last word: where the decoder stopped).
2. Frames become seconds in the final audio: pace (the mel's time axis resampled), pitch (the audio
   resampled, duration kept) and every pause before the chunk accounted for.
3. The words spoken (normalised: "twelve dollars and fifty cents") are mapped back to the words the
   caller wrote ("$12.50") by aligning each input word's own reading with the spoken words, so
   `Speech.words` has one entry per input word, in order.
4. Subtitles (SRT, WebVTT) group words into cues of one readable line (<= 42 characters), never
   across a sentence end or a long pause.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Final, Sequence

import numpy as np

#: a word of normalised text: an {ARPAbet block} (with anything glued to it) or a run of non-spaces
_WORD: Final = re.compile(r"\{[^{}]*\}\S*|\S+")
_PLAIN: Final = re.compile(r"[^a-z0-9']+")
#: subtitle cues: at most this many characters, this many seconds, and a new cue after a pause this long
CUE_CHARS: Final = 42
CUE_SECONDS: Final = 7.0
CUE_GAP: Final = 0.6


@dataclass(frozen=True)
class Word:
    """A word and when it is said: seconds from the start of the audio."""

    text: str
    start: float
    end: float
    #: the word ends a sentence as it is spoken ("Dr." does not: it is read "doctor")
    sentence_end: bool = False


def spoken_words(text: str) -> list[str]:
    """The words of a chunk of normalised text, as its symbols group them (ARPAbet blocks whole)."""
    return _WORD.findall(text)


def symbol_spans(ids: Sequence[int], space_id: int, n_words: int) -> list[tuple[int, int]]:
    """[start, end) symbol indices of the `n_words` runs of non-space symbols in `ids` (a full stop the
    planner added after the last word belongs to it). If the runs do not match the words (characters
    the symbol table lacks became spaces), the symbols are shared out in proportion."""
    runs, start = [], None
    for i, symbol in enumerate(ids):
        if symbol == space_id:
            if start is not None:
                runs.append((start, i))
                start = None
        elif start is None:
            start = i
    if start is not None:
        runs.append((start, len(ids)))
    if len(runs) == n_words or n_words == 0:
        return runs
    edges = np.linspace(0, len(ids), n_words + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def word_steps(alignment: np.ndarray, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """[first, last) decoder steps of each word: a word begins at the first step whose attention (the
    running maximum of the most attended symbol, so a glance back does not count) reaches the word's
    first symbol."""
    steps = alignment.shape[0]
    if steps == 0 or not spans:
        return [(0, 0) for _ in spans]
    reached = np.maximum.accumulate(alignment.argmax(axis=1))
    starts = [int(np.searchsorted(reached, a, side="left")) for a, _ in spans]
    starts = list(np.maximum.accumulate(np.minimum(starts, steps)))
    ends = starts[1:] + [steps]
    return [(s, max(s, e)) for s, e in zip(starts, ends)]


def piece_words(text: str, ids: Sequence[int], alignment: np.ndarray, space_id: int, frames_per_step: int,
                seconds_per_frame: float, offset: float) -> list[Word]:
    """The words of one Tacotron 2 result (a chunk, or one piece of a re-split chunk) with times:
    `seconds_per_frame` converts its own mel frames to seconds of final audio, `offset` is when the
    piece starts in it."""
    words = spoken_words(text)
    spans = symbol_spans(ids, space_id, len(words))
    out = []
    for word, (first, last) in zip(words, word_steps(alignment, spans)):
        out.append(Word(word, float(offset + first * frames_per_step * seconds_per_frame),
                        float(offset + last * frames_per_step * seconds_per_frame), _ends_sentence(word)))
    return out


# ----------------------------------------------------------------------------------------------------
# Spoken words back to the words the caller wrote
# ----------------------------------------------------------------------------------------------------
def _ends_sentence(word: str) -> bool:
    return word.rstrip("\"')]»”’").endswith((".", "?", "!"))


def _plain(word: str) -> str:
    return _PLAIN.sub("", word.lower())


def _cost(expected: Sequence[str], got: Sequence[str]) -> int:
    """Word-level edit distance of two short word lists (punctuation and case ignored)."""
    a, b = [_plain(w) for w in expected], [_plain(w) for w in got]
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def align_input_words(tokens: Sequence[str], spoken: Sequence[str],
                      read: Callable[[str], str], band: int = 24) -> list[tuple[int, int]]:
    """For each input token, the [start, end) range of spoken words that say it (monotonic, covering
    every spoken word; a token with no reading gets an empty range). Each token's own reading
    (`read(token)`, out of context) is matched against the spoken words by dynamic programming in a
    band around the diagonal, so the work grows linearly with the text."""
    expansions = []
    for token in tokens:
        try:
            expansions.append(read(token).split())
        except ValueError:  # nothing speakable in the token alone ("-", an emoji)
            expansions.append([])
    n_out = len(spoken)
    scale = n_out / max(1, sum(len(e) for e in expansions))
    expected = np.concatenate([[0], np.cumsum([len(e) for e in expansions])]) * scale
    rows: list[dict[int, tuple[float, int]]] = [{0: (0.0, -1)}]  # row i: spoken words used -> (cost, previous)
    for i, expansion in enumerate(expansions):
        row: dict[int, tuple[float, int]] = {}
        for j, (c, _) in rows[-1].items():
            for n in range(len(expansion) + 4):
                k = j + n
                if k > n_out or abs(k - expected[i + 1]) > band:
                    continue
                total = c + _cost(expansion, spoken[j:k]) + (0.5 if n == 0 and expansion else 0.0)
                if total < row.get(k, (float("inf"), 0))[0]:
                    row[k] = (total, j)
        if not row:  # outside the band: keep the best state and let the next tokens catch up
            j = max(rows[-1], key=lambda key: -rows[-1][key][0])
            row = {j: (rows[-1][j][0], j)}
        rows.append(row)
    end = n_out if n_out in rows[-1] else max(rows[-1])
    ranges = []
    for i in range(len(expansions), 0, -1):
        previous = rows[i][end][1]
        ranges.append((previous, end))
        end = previous
    ranges.reverse()
    if ranges:  # spoken words the alignment left over at the end belong to the last token
        last_start, _ = ranges[-1]
        ranges[-1] = (last_start, n_out)
    return ranges


def input_words(text: str, spoken: Sequence[Word], read: Callable[[str], str]) -> list[Word]:
    """One `Word` per whitespace-separated word of the caller's `text`, timed by the spoken words that
    say it; a word with none (a lone dash) takes the time where it falls, with no duration."""
    tokens = text.split()
    ranges = align_input_words(tokens, [w.text for w in spoken], read)
    out, last = [], spoken[0].start if spoken else 0.0
    for token, (a, b) in zip(tokens, ranges):
        if b > a:
            out.append(Word(token, float(spoken[a].start), float(spoken[b - 1].end), _ends_sentence(spoken[b - 1].text)))
            last = spoken[b - 1].end
        else:
            start = float(spoken[a].start if a < len(spoken) else last)
            out.append(Word(token, start, start))
    return out


# ----------------------------------------------------------------------------------------------------
# Subtitles
# ----------------------------------------------------------------------------------------------------
def cues(words: Sequence[Word], max_chars: int = CUE_CHARS, max_seconds: float = CUE_SECONDS,
         gap: float = CUE_GAP) -> list[Word]:
    """Words grouped into subtitle lines of at most `max_chars` characters: a sentence (or the stretch
    between pauses longer than `gap`) is one line when it fits, else it is cut into the fewest lines
    that fit, of about equal length (no one-word orphan at the end); no line lasts over `max_seconds`."""
    groups: list[list[Word]] = [[]]
    for word in words:
        last = groups[-1]
        if last and (last[-1].sentence_end or word.start - last[-1].end > gap):
            groups.append([])
        groups[-1].append(word)
    out: list[Word] = []
    for group in groups:
        for line in _balanced_lines(group, max_chars, max_seconds):
            out.append(Word(" ".join(w.text for w in line), line[0].start, line[-1].end, line[-1].sentence_end))
    return out


def _balanced_lines(group: Sequence[Word], max_chars: int, max_seconds: float) -> list[list[Word]]:
    if not group:
        return []
    total = len(" ".join(w.text for w in group))
    seconds = group[-1].end - group[0].start
    n = max(1, math.ceil(total / max_chars), math.ceil(seconds / max_seconds))
    while True:
        target = total / n
        lines: list[list[Word]] = [[]]
        for word in group:
            text = " ".join(w.text for w in lines[-1] + [word])
            if lines[-1] and (len(text) > max_chars or (len(text) > target * 1.15 and len(lines) < n)
                              or word.end - lines[-1][0].start > max_seconds):
                lines.append([])
            lines[-1].append(word)
        if len(lines) <= n or n >= len(group):
            return lines
        n += 1


def _clock(seconds: float, separator: str) -> str:
    millis = int(round(max(0.0, seconds) * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(words: Sequence[Word]) -> str:
    """SubRip: numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, one line of text each."""
    blocks = [f"{i}\n{_clock(c.start, ',')} --> {_clock(max(c.end, c.start + 0.05), ',')}\n{c.text}\n"
              for i, c in enumerate(cues(words), 1)]
    return "\n".join(blocks)


def to_vtt(words: Sequence[Word]) -> str:
    """WebVTT: the header, then cues `HH:MM:SS.mmm --> HH:MM:SS.mmm`."""
    blocks = [f"{_clock(c.start, '.')} --> {_clock(max(c.end, c.start + 0.05), '.')}\n{c.text}\n" for c in cues(words)]
    return "WEBVTT\n\n" + "\n".join(blocks)

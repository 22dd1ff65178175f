"""Words -> ARPAbet from a pronouncing dictionary, mixed with spelling (representation mixing).

Kastner et al. 2019, "Representation Mixing for TTS Synthesis" (arXiv 1811.07240): train on text
where each dictionary word is replaced by its phones with probability p, so that one model reads
both; at inference every dictionary word is given as phones and words the dictionary lacks are
still read from their letters. NVIDIA's Tacotron 2 already reads phones in `{...}` blocks of
CMUdict ARPAbet (`frontend.sequence`); DeepLearningExamples' FastPitch trains the same way
(`--p-arpabet`). Phones take the guesswork of English spelling ("spine", "fared", "rise") off the
model, which is where a small voice trained on a few hours of speech misreads most.

The dictionary file is CMUdict's plain format, one entry per line, `word  PH1 PH2 ...` (the word in
any case), optionally gzip-compressed; lines starting with `#` or `;;;` and anything after a ` #` are
comments. CMUdict's alternative readings (`READ(1)`) are skipped: the first reading of a word wins.
Entries no text word can match (CMUdict's punctuation names such as `!EXCLAMATION-POINT`, or
`'BOUT`) are skipped too.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from .symbols import ARPABET

_PHONES = frozenset(ARPABET)
#: a word: letters (any script) with inner apostrophes ("don't"), never part of a longer run of letters
#: or digits ("naïve" is one word, not "na" + "ïve"); a hyphen or any other character is a boundary, so
#: "forty-five" is looked up as "forty" and "five"
_WORD = re.compile(r"(?<!\w)[^\W\d_]+(?:'[^\W\d_]+)*(?!\w)")
_BLOCK = re.compile(r"\{[^{}]*\}")
MAX_DICTIONARY_BYTES = 64 * 1024 * 1024
_SIBILANTS = frozenset("S Z SH ZH CH JH".split())
_VOICELESS = frozenset("P T K F TH".split())


class PronouncingDictionary:
    """An immutable word -> phones mapping (lower-case words, phones as one space-joined string)."""

    def __init__(self, entries: Mapping[str, str]):
        self._entries = MappingProxyType(dict(entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.phones(word) is not None

    def phones(self, word: str) -> str | None:
        """The word's phones ("HH AH0 L OW1"), or None when the dictionary lacks it. A possessive
        the dictionary lacks ("whale's") is its base word plus the ending English gives it: AH0 Z
        after a sibilant, S after another voiceless consonant, Z otherwise."""
        word = word.lower()
        phones = self._entries.get(word)
        if phones is None and word.endswith("'s") and (base := self._entries.get(word[:-2])):
            last = base.rsplit(" ", 1)[-1]
            ending = "AH0 Z" if last in _SIBILANTS else "S" if last in _VOICELESS else "Z"
            phones = f"{base} {ending}"
        return phones

    @classmethod
    def read(cls, path: str | Path) -> "PronouncingDictionary":
        """Read a CMUdict-format file (`.gz` is decompressed). ValueError for a malformed line or an
        unknown phone, naming the file and line."""
        path = Path(path)
        opener = gzip.open if path.suffix == ".gz" else open
        try:
            with opener(path, "rb") as f:
                data = f.read(MAX_DICTIONARY_BYTES + 1)
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:  # a damaged or truncated .gz
            raise ValueError(f"{path}: not a readable gzip file ({e or type(e).__name__})") from None
        if len(data) > MAX_DICTIONARY_BYTES:
            raise ValueError(f"{path}: pronouncing dictionary over {MAX_DICTIONARY_BYTES >> 20} MiB")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        return cls(parse_entries(text, str(path)))


def parse_entries(text: str, source: str = "<dictionary>") -> dict[str, str]:
    """`word  PH1 PH2 ...` lines -> {word (lower case): "PH1 PH2 ..."}; the first entry of a word wins."""
    entries: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split(" #", 1)[0]
        if not line.strip() or line.startswith(("#", ";;;")):
            continue
        word, *phones = line.split()
        if not phones or any(c in word for c in "{}|"):
            raise ValueError(f"{source}:{n}: expected 'word PH1 PH2 ...', got {line.strip()!r}")
        if not _WORD.fullmatch(word):  # an alternative reading "READ(1)", or no word of a text can match it
            continue
        unknown = [p for p in phones if p not in _PHONES]
        if unknown:
            raise ValueError(f"{source}:{n}: unknown ARPAbet phone {unknown[0]!r} in {line.strip()!r}")
        entries.setdefault(word.lower(), " ".join(phones))
    return entries


def mix_arpabet(text: str, dictionary: PronouncingDictionary, p: float = 1.0,
                draw: Callable[[], float] | None = None) -> str:
    """`text` with each dictionary word replaced by its `{phones}` with probability `p` (`draw()`
    gives uniform numbers in [0, 1); with p = 1 every dictionary word is replaced and nothing is
    drawn). Existing `{...}` blocks, words the dictionary lacks, spaces and punctuation stay as
    they are."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if p < 1.0 and draw is None:
        raise ValueError("mix_arpabet with p < 1 needs a draw() for its random choices")

    def replace(match: re.Match[str]) -> str:
        phones = dictionary.phones(match.group())
        if phones is None or (p < 1.0 and draw() >= p):  # type: ignore[misc]
            return match.group()
        return "{" + phones + "}"

    out, last = [], 0
    for block in _BLOCK.finditer(text):  # never rewrite inside a block the user wrote
        out.append(_WORD.sub(replace, text[last : block.start()]))
        out.append(block.group())
        last = block.end()
    out.append(_WORD.sub(replace, text[last:]))
    return "".join(out)


def most_extra_symbols(text: str, dictionary: PronouncingDictionary) -> int:
    """How many more symbols than its letters a mix of `text` can have: each dictionary word (outside
    `{...}` blocks) whose phones outnumber its letters ("x": EH1 K S) adds the difference."""
    words = _WORD.findall(_BLOCK.sub(" ", text))
    return sum(max(0, len(phones.split()) - len(w)) for w in words if (phones := dictionary.phones(w)))

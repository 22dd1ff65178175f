"""What synthesis returns: `Speech` (a whole text) made of `Chunk`s (about a sentence each), with
`Timing`; and writing audio files."""
from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Sequence

import numpy as np

import frontend
from tts.core.audio_files import AudioFormat, encode, format_for_path, to_int16, write_audio
from tts.runtime.timing import Word, input_words, to_srt, to_vtt


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds. `real_time_factor` = audio seconds / synthesis seconds: > 1 is faster than real time."""

    synthesis_seconds: float
    audio_seconds: float
    mel_seconds: float = 0.0
    vocoder_seconds: float = 0.0
    #: for a whole Speech: seconds from the call until the first chunk's audio was ready
    first_audio_seconds: float | None = None

    @property
    def real_time_factor(self) -> float:
        return self.audio_seconds / self.synthesis_seconds if self.synthesis_seconds > 0 else math.inf


@dataclass(eq=False)
class Chunk:
    """One chunk of text (about a sentence) and its audio; `Pipeline.stream` yields these in order."""

    index: int
    #: the chunk's text as split from the normalised input: the words this audio says
    text: str
    #: float32 mono in [-1, 1], without the pause that follows it
    audio: np.ndarray
    sample_rate: int
    #: [n_mels, frames] the log-mel that was vocoded (after pace)
    mel: np.ndarray
    #: [decoder steps, symbols] attention; block-diagonal when the chunk was re-split into pieces
    alignment: np.ndarray
    #: seconds of silence that belong after this chunk (from its punctuation; 0 for the last one)
    pause_after: float
    timing: Timing
    #: the texts Tacotron 2 finally spoke: (text,) unless a retry re-split the chunk
    pieces: tuple[str, ...] = ()
    #: true when some piece of the final audio still ran to max_decoder_steps without stopping
    reached_max_steps: bool = False
    #: true when some piece of the final audio still has a broken attention alignment
    attention_failed: bool = False
    #: re-synthesis rounds used for this chunk (0 = first attempt was fine)
    retries: int = 0
    warnings: tuple[str, ...] = ()
    #: the words said, with times in seconds from the start of this chunk's audio (`tts.runtime.timing`)
    words: tuple[Word, ...] = ()

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def ok(self) -> bool:
        return not (self.reached_max_steps or self.attention_failed)

    def with_pause(self) -> np.ndarray:
        """The chunk's audio followed by its pause: what a player should play back to back."""
        pause = np.zeros(int(round(self.pause_after * self.sample_rate)), dtype=np.float32)
        return np.concatenate([self.audio, pause])


@dataclass(eq=False)
class Speech:
    """The result of `Pipeline.speak`: the whole audio plus every chunk that made it."""

    #: float32 mono in [-1, 1]
    audio: np.ndarray
    sample_rate: int
    chunks: list[Chunk]
    timing: Timing
    #: the input text and its normalised (spoken) form
    text: str = ""
    normalized: str = ""
    #: what went wrong and how it was handled (decoder not stopping, failed attention, retries)
    warnings: list[str] = field(default_factory=list)
    #: the words as the caller wrote them (the text without SSML markup), for `words`
    written: str = ""
    #: how one written word is read on its own (the normaliser with the call's settings), for `words`
    reader: Callable[[str], str] | None = field(default=None, repr=False)

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    @functools.cached_property
    def words(self) -> list[Word]:
        """One entry per written word, in order, with its start and end in `audio` (seconds): pauses,
        pace, pitch and SSML breaks included (`tts.runtime.timing`)."""
        spoken, offset = [], 0.0
        for chunk in self.chunks:
            spoken += [Word(w.text, w.start + offset, w.end + offset) for w in chunk.words]
            offset += len(chunk.with_pause()) / self.sample_rate
        return input_words(self.written or self.text, spoken, self.reader or frontend.normalize)

    def to_srt(self) -> str:
        """Subtitles (SubRip) of `words`: numbered cues of one line of at most 42 characters."""
        return to_srt(self.words)

    def to_vtt(self) -> str:
        """Subtitles (WebVTT) of `words`."""
        return to_vtt(self.words)

    @property
    def real_time_factor(self) -> float:
        """Seconds of audio per second of synthesis (> 1 = faster than real time)."""
        return self.timing.real_time_factor

    def to_int16(self) -> np.ndarray:
        """16-bit PCM samples (x * 32768, as readers divide by 32768), rounded and clipped, never wrapped."""
        return to_int16(self.audio)

    def mel(self) -> np.ndarray:
        """The chunks' vocoded mels side by side [n_mels, frames] (pauses not included)."""
        return np.concatenate([c.mel for c in self.chunks], axis=1)

    def alignment(self) -> np.ndarray:
        """All chunks' attention as one block-diagonal [decoder steps, symbols] matrix."""
        return block_diagonal([c.alignment for c in self.chunks])

    def save(self, path: str | os.PathLike | BinaryIO, format: str | None = None) -> None:
        """Write the audio; the format comes from the extension (.wav, .flac, .ogg, .opus, .mp3, .pcm)
        unless given. A path is written atomically (a reader never sees half a file); a file object
        needs `format`. Raises ValueError for an unknown format and OSError (with the folder named)
        when the folder is missing or not writable."""
        if isinstance(path, (str, os.PathLike)):
            check_output_path(path, format)
        write_audio(path, self.audio, self.sample_rate, format)

    def to_bytes(self, format: str = "wav") -> bytes:
        """The audio as the bytes of one file of `format`."""
        return encode(self.audio, self.sample_rate, format)


@dataclass(eq=False)
class Recording:
    """What `Pipeline.speak_to_file` wrote: where, how long, how it went (no audio kept in memory)."""

    path: Path | None  # None for a stream (standard output)
    format: str
    sample_rate: int
    duration: float
    chunks: int
    timing: Timing
    text: str = ""
    normalized: str = ""
    warnings: list[str] = field(default_factory=list)
    #: the spoken words with times in the file (seconds), and what `Speech` keeps to map them back
    spoken_words: list[Word] = field(default_factory=list, repr=False)
    written: str = ""
    reader: Callable[[str], str] | None = field(default=None, repr=False)

    @property
    def real_time_factor(self) -> float:
        return self.timing.real_time_factor

    @functools.cached_property
    def words(self) -> list[Word]:
        """One entry per written word with its time in the file (as `Speech.words`)."""
        return input_words(self.written or self.text, self.spoken_words, self.reader or frontend.normalize)

    def to_srt(self) -> str:
        return to_srt(self.words)

    def to_vtt(self) -> str:
        return to_vtt(self.words)


class SynthesisInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGINT) during `speak_to_file`: how much was done, and where the partial audio went."""

    def __init__(self, done: int, total: int, seconds: float, kept: Path | None):
        self.done, self.total, self.seconds, self.kept = done, total, seconds, kept
        where = f"the partial audio is in {kept}" if kept else "the partial output was removed"
        super().__init__(f"interrupted after {done} of {total} chunk(s) ({seconds:.1f} s of audio); {where}")


def check_output_path(path: str | os.PathLike, format: str | None = None) -> AudioFormat:
    """Check an output file can be written (format known, folder exists and is writable) before synthesis."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"output path is a folder, not a file: {path}")
    fmt = format_for_path(path, format)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise PermissionError(f"cannot write {path}: {'file' if path.exists() else 'folder'} is not writable")
    return fmt


def block_diagonal(blocks: Sequence[np.ndarray]) -> np.ndarray:
    """2-D arrays placed corner to corner (rows and columns add up); zeros elsewhere."""
    rows = sum(b.shape[0] for b in blocks)
    cols = sum(b.shape[1] for b in blocks)
    out = np.zeros((rows, cols), dtype=np.float32)
    r = c = 0
    for b in blocks:
        out[r : r + b.shape[0], c : c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out

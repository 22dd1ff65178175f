"""What synthesis returns: `Speech` (a whole text) made of `Chunk`s (about a sentence each), with
`Timing`; and writing audio files."""
from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO, Final, Mapping, Sequence

import numpy as np

#: how `Speech.save` writes each file extension: (soundfile format, subtype)
AUDIO_FORMATS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS")}
)


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

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def real_time_factor(self) -> float:
        """Seconds of audio per second of synthesis (> 1 = faster than real time)."""
        return self.timing.real_time_factor

    def to_int16(self) -> np.ndarray:
        """16-bit PCM samples (x * 32768, as readers divide by 32768), rounded and clipped, never wrapped."""
        return np.clip(np.round(self.audio.astype(np.float64) * 32768.0), -32768, 32767).astype(np.int16)

    def mel(self) -> np.ndarray:
        """The chunks' vocoded mels side by side [n_mels, frames] (pauses not included)."""
        return np.concatenate([c.mel for c in self.chunks], axis=1)

    def alignment(self) -> np.ndarray:
        """All chunks' attention as one block-diagonal [decoder steps, symbols] matrix."""
        return block_diagonal([c.alignment for c in self.chunks])

    def save(self, path: str | os.PathLike | BinaryIO, format: str | None = None) -> None:
        """Write the audio; the format comes from the extension (.wav, .flac, .ogg) unless given.

        A file object needs `format` ("wav", "flac", "ogg"). Raises ValueError for an unknown
        format and OSError (with the folder named) when the folder is missing or not writable.
        """
        import soundfile

        if isinstance(path, (str, os.PathLike)):
            fmt, subtype = check_output_path(path, format)
            target: Any = str(path)
        else:
            fmt, subtype = audio_format("." + (format or "").lower().lstrip("."))
            target = path
        data = self.to_int16() if subtype.startswith("PCM") else np.clip(self.audio, -1.0, 1.0)
        soundfile.write(target, data, self.sample_rate, format=fmt, subtype=subtype)

    def to_bytes(self, format: str = "wav") -> bytes:
        buffer = io.BytesIO()
        self.save(buffer, format=format)
        return buffer.getvalue()


def audio_format(suffix: str) -> tuple[str, str]:
    """(soundfile format, subtype) for a file extension like ".wav"; ValueError if unknown."""
    try:
        return AUDIO_FORMATS[suffix.lower()]
    except KeyError:
        shown = suffix if suffix and suffix != "." else "(none)"
        raise ValueError(f"unknown audio format {shown!r}: use one of {', '.join(AUDIO_FORMATS)}") from None


def check_output_path(path: str | os.PathLike, format: str | None = None) -> tuple[str, str]:
    """Check an output file can be written (format known, folder exists and is writable) before synthesis."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"output path is a folder, not a file: {path}")
    fmt = audio_format("." + format.lower().lstrip(".") if format else path.suffix)
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

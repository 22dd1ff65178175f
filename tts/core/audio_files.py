"""Writing audio, the one path every output takes (CLI files and pipes, `Speech.save`, the app, the
server): files written block by block into a temporary name and renamed when complete, and byte
streams encoded chunk by chunk for pipes and HTTP.

Formats (by name or file extension): WAV and FLAC (16-bit PCM), Ogg Vorbis, Ogg Opus (resampled to
48 kHz: Opus has no 22,050 Hz mode), MP3 (constant bit rate, so a stream needs no header fixed up at
the end) and raw PCM (16-bit little-endian, no header). Audio is float in [-1, 1]; it is clipped,
never wrapped.

Why blocks: one libsndfile write of more than ~90 s of Ogg Vorbis at 22,050 Hz overflows libvorbis'
stack (python-soundfile #396/#426, libsndfile #1095); the same audio written in blocks is fine.
"""
from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO, Final, Mapping

import numpy as np

#: samples per libsndfile write
BLOCK: Final = 16384
#: MP3 settings: constant bit rate (a stream's frames all say how long they are; libsndfile only sets
#: it together with a compression level): 0.5 is ~80 kbit/s at 22,050 Hz
MP3_OPTIONS: Final = MappingProxyType({"bitrate_mode": "CONSTANT", "compression_level": 0.5})


@dataclass(frozen=True)
class AudioFormat:
    name: str
    container: str  # libsndfile's major format ("" = written by hand: raw PCM)
    subtype: str
    #: the only sample rate the codec offers (Opus: 48 kHz), None = the audio's own
    sample_rate: int | None = None
    #: whether a byte stream can be sent as it is encoded (FLAC needs its header completed at the end)
    streams: bool = True
    media_type: str = "application/octet-stream"


FORMATS: Final[Mapping[str, AudioFormat]] = MappingProxyType({
    "wav": AudioFormat("wav", "WAV", "PCM_16", media_type="audio/wav"),
    "flac": AudioFormat("flac", "FLAC", "PCM_16", streams=False, media_type="audio/flac"),
    "ogg": AudioFormat("ogg", "OGG", "VORBIS", media_type="audio/ogg"),
    "opus": AudioFormat("opus", "OGG", "OPUS", sample_rate=48000, media_type="audio/ogg"),
    "mp3": AudioFormat("mp3", "MP3", "MPEG_LAYER_III", media_type="audio/mpeg"),
    "pcm": AudioFormat("pcm", "", "PCM_16", media_type="audio/pcm"),
})
#: file extensions and the format each one means
EXTENSIONS: Final[Mapping[str, str]] = MappingProxyType(
    {".wav": "wav", ".flac": "flac", ".ogg": "ogg", ".opus": "opus", ".mp3": "mp3", ".pcm": "pcm", ".raw": "pcm"})


def audio_format(name_or_suffix: str) -> AudioFormat:
    """A format by name ("wav") or file extension (".wav"); ValueError naming the choices otherwise."""
    key = (name_or_suffix or "").lower()
    key = EXTENSIONS.get(key, key.lstrip("."))
    try:
        return FORMATS[key]
    except KeyError:
        shown = name_or_suffix if name_or_suffix and name_or_suffix != "." else "(none)"
        raise ValueError(f"unknown audio format {shown!r}: use one of {', '.join(EXTENSIONS)}") from None


def format_for_path(path: str | os.PathLike, format: str | None = None) -> AudioFormat:
    return audio_format(format if format else Path(path).suffix)


def to_int16(audio: np.ndarray) -> np.ndarray:
    """16-bit PCM samples (x * 32768, as readers divide by 32768), rounded and clipped, never wrapped."""
    return np.clip(np.round(np.asarray(audio, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def _write_blocks(file, audio: np.ndarray, format: AudioFormat) -> None:
    """libsndfile writes in bounded blocks; PCM formats get our int16 (x * 32768, as readers divide by
    32768), not libsndfile's float conversion (x * 32767)."""
    data = to_int16(audio) if format.subtype.startswith("PCM") else audio
    for start in range(0, len(data), BLOCK):
        file.write(data[start:start + BLOCK])


class _Resampler:
    """Streaming resampling to a codec's rate (soxr, high quality); the identity when rates agree."""

    def __init__(self, rate_in: int, rate_out: int | None):
        self.rate = rate_out or rate_in
        self._stream = None
        if self.rate != rate_in:
            import soxr

            self._stream = soxr.ResampleStream(rate_in, self.rate, 1, dtype="float32", quality="HQ")

    def __call__(self, audio: np.ndarray, last: bool = False) -> np.ndarray:
        audio = np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0)
        if self._stream is None:
            return audio
        return self._stream.resample_chunk(audio, last=last)


class _ForwardSink(io.RawIOBase):
    """What a pipe or an HTTP response can take: bytes in the order they are written. libsndfile may
    seek back at the end to complete a header (WAV sizes, MP3's Xing frame); those rewrites of bytes
    already handed out are dropped, which is why only formats that do not need them stream."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self._written = 0  # bytes produced in order so far
        self._position = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        if self._position == self._written:
            self._pending += data
            self._written += len(data)
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._written}[whence]
        self._position = base + offset
        return self._position

    def take(self) -> bytes:
        out, self._pending = bytes(self._pending), bytearray()
        return out


def wav_stream_header(sample_rate: int) -> bytes:
    """A 16-bit mono WAV header whose sizes say "unknown" (0xFFFFFFFF), as streaming servers send it."""
    byte_rate = sample_rate * 2
    return (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate,
            byte_rate, 2, 16) + b"data" + struct.pack("<I", 0xFFFFFFFF))


class Encoder:
    """Audio to bytes, chunk by chunk: `encode(samples)` returns what can be sent now, `finish()` the
    rest. Streaming formats hand out bytes as they come; FLAC (header completed at the end) comes
    whole from `finish()`. `sample_rate` is the audio's; the codec's own rate (Opus) or
    `output_rate` (e.g. 24 kHz PCM for OpenAI's clients) is reached by resampling."""

    def __init__(self, format: str, sample_rate: int, output_rate: int | None = None):
        import soundfile

        self.format = audio_format(format)
        self._resample = _Resampler(sample_rate, self.format.sample_rate or output_rate)
        self.sample_rate = self._resample.rate
        self._header = b""
        self._file = None
        if self.format.name == "pcm":
            return
        if self.format.name == "wav":  # by hand: libsndfile would need to seek back for the sizes
            self._header = wav_stream_header(self.sample_rate)
            return
        self._sink = _ForwardSink() if self.format.streams else io.BytesIO()
        extra = dict(MP3_OPTIONS) if self.format.name == "mp3" else {}
        self._file = soundfile.SoundFile(self._sink, "w", self.sample_rate, 1, format=self.format.container,
                                         subtype=self.format.subtype, **extra)

    def encode(self, audio: np.ndarray) -> bytes:
        return self._encode(self._resample(audio))

    def finish(self) -> bytes:
        out = self._encode(self._resample(np.zeros(0, np.float32), last=True))
        if self._file is None:
            return out
        self._file.close()
        tail = self._sink.take() if self.format.streams else self._sink.getvalue()
        self._file = None
        return out + tail

    def _encode(self, audio: np.ndarray) -> bytes:
        header, self._header = self._header, b""
        if self._file is None:  # pcm, wav
            return header + to_int16(audio).astype("<i2").tobytes()
        _write_blocks(self._file, audio, self.format)
        return self._sink.take() if self.format.streams else b""


def encode(audio: np.ndarray, sample_rate: int, format: str = "wav") -> bytes:
    """A whole recording as the bytes of one file of `format` (WAV with its real sizes)."""
    if audio_format(format).name == "wav":
        buffer = io.BytesIO()
        write_audio(buffer, audio, sample_rate, "wav")
        return buffer.getvalue()
    encoder = Encoder(format, sample_rate)
    return encoder.encode(audio) + encoder.finish()


class AudioFileWriter:
    """Write a file chunk by chunk: into `<name>.partial` beside it, renamed to `path` by `close()`
    (so a reader never sees half a file); `abort()` removes the partial file, or keeps it as
    `<name>.partial<ext>` with `keep=True`. A context manager: an exception aborts."""

    def __init__(self, path: str | os.PathLike, sample_rate: int, format: str | None = None):
        import soundfile

        self.path = Path(path)
        self.format = format_for_path(self.path, format)
        self._resample = _Resampler(sample_rate, self.format.sample_rate)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.samples_written = 0
        self.source_rate = sample_rate
        self._finished = False
        self._raw: BinaryIO | None = None
        self._file = None
        try:
            if self.format.name == "pcm":
                self._raw = open(self.partial, "wb")
            else:
                extra = dict(MP3_OPTIONS) if self.format.name == "mp3" else {}
                self._file = soundfile.SoundFile(self.partial, "w", self._resample.rate, 1,
                                                 format=self.format.container, subtype=self.format.subtype, **extra)
        except BaseException:  # Ctrl-C or an error while the file is being set up: no writer, no partial file
            self.partial.unlink(missing_ok=True)
            raise

    @property
    def seconds_written(self) -> float:
        return self.samples_written / self.source_rate

    def write(self, audio: np.ndarray) -> None:
        self.samples_written += len(audio)
        self._write(self._resample(audio))

    def _write(self, audio: np.ndarray) -> None:
        if self._raw is not None:
            self._raw.write(to_int16(audio).astype("<i2").tobytes())
            return
        _write_blocks(self._file, audio, self.format)

    def close(self) -> Path:
        if not self._finished:
            self._write(self._resample(np.zeros(0, np.float32), last=True))
            (self._raw or self._file).close()
            os.replace(self.partial, self.path)
            self._finished = True  # only now: interrupted before this, `abort` still removes the partial file
        return self.path

    def abort(self, keep: bool = False) -> Path | None:
        """Stop writing; the partial file is removed, or with `keep` renamed to `<stem>.partial<ext>`."""
        if self._finished:
            return None
        self._finished = True
        try:
            (self._raw or self._file).close()
        except Exception:  # a half-written codec state may refuse to flush; the file goes anyway
            pass
        if keep:
            kept = self.path.with_name(f"{self.path.stem}.partial{self.path.suffix}")
            os.replace(self.partial, kept)
            return kept
        self.partial.unlink(missing_ok=True)
        return None

    def __enter__(self) -> "AudioFileWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()  # nothing to do after an explicit abort()
        else:
            self.abort()


class StreamWriter:
    """`AudioFileWriter`'s twin for an open binary stream (standard output, a socket): each chunk is
    encoded and written at once (WAV with a streaming header); nothing to remove on `abort`."""

    def __init__(self, stream: BinaryIO, sample_rate: int, format: str = "wav"):
        self.stream = stream
        self.format = audio_format(format)
        self._encoder = Encoder(self.format.name, sample_rate)
        self.samples_written = 0
        self.source_rate = sample_rate
        self.path = None

    @property
    def seconds_written(self) -> float:
        return self.samples_written / self.source_rate

    def write(self, audio: np.ndarray) -> None:
        self.samples_written += len(audio)
        self.stream.write(self._encoder.encode(audio))
        self.stream.flush()

    def close(self) -> None:
        self.stream.write(self._encoder.finish())
        self.stream.flush()

    def abort(self, keep: bool = False) -> None:
        return None


def open_audio_output(target: str | os.PathLike | BinaryIO, sample_rate: int,
                      format: str | None = None) -> AudioFileWriter | StreamWriter:
    """A chunk-by-chunk writer for a path (`AudioFileWriter`) or an open binary stream (`StreamWriter`,
    WAV unless `format` says otherwise)."""
    if isinstance(target, (str, os.PathLike)):
        return AudioFileWriter(target, sample_rate, format)
    return StreamWriter(target, sample_rate, format or "wav")


def write_audio(target: str | os.PathLike | BinaryIO, audio: np.ndarray, sample_rate: int,
                format: str | None = None) -> None:
    """Write a whole recording to a path (atomically, format from the extension unless given) or to
    an open binary file (`format` required)."""
    if isinstance(target, (str, os.PathLike)):
        with AudioFileWriter(target, sample_rate, format) as writer:
            writer.write(audio)
        return
    if not format:
        raise ValueError("writing to a file object needs a format (wav, flac, ogg, opus, mp3, pcm)")
    fmt = audio_format(format)
    if fmt.name == "wav":  # sizes known: a regular WAV file
        import soundfile

        soundfile.write(target, to_int16(audio), sample_rate, format="WAV", subtype="PCM_16")
        return
    target.write(encode(audio, sample_rate, fmt.name))

"""Text in, speech out: the one runtime API under the CLI, the web app and library users.

    pipe = Pipeline.from_pretrained()                 # checkpoints/default (or $TTS_VOICE_DIR)
    speech = pipe.speak("Hello there.", seed=1)       # -> Speech (float32 audio + chunks + timing)
    speech.save("hello.wav")
    for chunk in pipe.stream(long_text):              # audio sentence by sentence, as it is made
        play(chunk.with_pause(), chunk.sample_rate)

The pipeline owns what the models do not: normalising and chunking text, seeds, retries of chunks
whose decoder did not stop or whose attention failed, pace (speaking rate), denoising, pauses
between chunks, and timing. All synthesis knobs are in one `SynthesisConfig`; a voice folder's
voice.yaml gives the defaults and every call can override any of them.
"""
from __future__ import annotations

import dataclasses
import inspect
import io
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO, Callable, Final, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch.nn import functional as F

import frontend
from tts.audio import AudioSettings
from tts.voice import VoiceConfig, VoiceError, load_voice_config, resolve_voice_dir

#: silence after a chunk, in seconds, by its last punctuation mark (scaled by pause_scale / pace)
PAUSES: Final[Mapping[str, float]] = MappingProxyType(
    {".": 0.35, "!": 0.35, "?": 0.35, ";": 0.25, ":": 0.25, ",": 0.15}
)
#: how `Speech.save` writes each file extension: (soundfile format, subtype)
AUDIO_FORMATS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS")}
)
PACE_RANGE: Final = (0.25, 4.0)
DENOISE_RANGE: Final = (0.0, 0.5)
#: the `seed` override that means "different every run" (overrides use None for "keep the default")
RANDOM_SEED: Final = -1
#: a chunk's decoder gets at most this many mel frames per input symbol (plus the slack): see
#: `decoder_step_budget`
FRAMES_PER_SYMBOL: Final = 20
FRAMES_SLACK: Final = 50


# ----------------------------------------------------------------------------------------------------
# Settings and results
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SynthesisConfig:
    """Every synthesis knob. Invalid values raise `ValueError` when the config is built."""

    #: WaveGlow noise scale (0 = the flow's mean; NVIDIA uses 0.6-0.67); ignored by vocoders without noise
    sigma: float = 0.6
    #: denoiser strength in [0, 0.5]: subtracts this multiple of the vocoder's bias spectrum; 0 = off
    denoise: float = 0.01
    #: speaking rate: 2.0 = twice as fast, 0.5 = half as fast; pitch is unchanged (mel time axis resampled)
    pace: float = 1.0
    #: None = different every run; an int makes the output reproducible (prenet dropout + vocoder noise).
    #: In overrides (`replace`, `speak(seed=...)`), where None means "keep", RANDOM_SEED (-1) asks for None.
    seed: int | None = None
    #: Tacotron 2 stops after a frame whose stop probability exceeds this
    gate_threshold: float = 0.5
    #: at most this many decoder steps per chunk (1000 steps of 256 samples = 11.6 s)
    max_decoder_steps: int = 1000
    #: Tacotron 2's prenet dropout, on at inference in the reference; 0 = deterministic decoder
    prenet_dropout: float = 0.5
    #: vocoder by registry name ("waveglow", "griffin-lim"); None = the voice's default
    vocoder: str | None = None
    #: multiplies the pauses between chunks (`PAUSES`); 0 = no pauses
    pause_scale: float = 1.0
    #: longest chunk of text sent to Tacotron 2 at once (LJSpeech-length sentences work best)
    max_chunk_chars: int = 180
    #: rounds of re-splitting / re-synthesising a chunk that did not stop or whose attention failed
    max_retries: int = 2

    def __post_init__(self) -> None:
        def number(name: str) -> float:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            return float(value)

        def integer(name: str, minimum: int) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")

        if number("sigma") < 0:
            raise ValueError(f"sigma must be >= 0, got {self.sigma}")
        if not DENOISE_RANGE[0] <= number("denoise") <= DENOISE_RANGE[1]:
            raise ValueError(f"denoise must be in [{DENOISE_RANGE[0]}, {DENOISE_RANGE[1]}], got {self.denoise}")
        if not PACE_RANGE[0] <= number("pace") <= PACE_RANGE[1]:
            raise ValueError(f"pace must be in [{PACE_RANGE[0]}, {PACE_RANGE[1]}], got {self.pace}")
        if not 0.0 <= number("gate_threshold") <= 1.0:
            raise ValueError(f"gate_threshold must be in [0, 1], got {self.gate_threshold}")
        if not 0.0 <= number("prenet_dropout") < 1.0:
            raise ValueError(f"prenet_dropout must be in [0, 1), got {self.prenet_dropout}")
        if number("pause_scale") < 0:
            raise ValueError(f"pause_scale must be >= 0, got {self.pause_scale}")
        integer("max_decoder_steps", 1)
        integer("max_chunk_chars", 20)
        integer("max_retries", 0)
        if self.seed is not None:
            integer("seed", 0)
        if self.vocoder is not None and (not isinstance(self.vocoder, str) or not self.vocoder):
            raise ValueError(f"vocoder must be a vocoder name, got {self.vocoder!r}")

    def replace(self, **overrides: Any) -> "SynthesisConfig":
        """A copy with some fields changed; unknown names are a `ValueError`, None means "keep", and
        `seed=RANDOM_SEED` (-1) means "no seed" (a voice's own seed cannot be unset with None)."""
        unknown = sorted(set(overrides) - _CONFIG_FIELDS)
        if unknown:
            raise ValueError(f"unknown synthesis setting(s) {unknown}; known: {sorted(_CONFIG_FIELDS)}")
        changes = {k: v for k, v in overrides.items() if v is not None}
        if isinstance(changes.get("seed"), (int, np.integer)) and changes["seed"] == RANDOM_SEED:
            changes["seed"] = None
        return dataclasses.replace(self, **changes) if changes else self

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> "SynthesisConfig":
        return cls().replace(**dict(values or {}))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(SynthesisConfig))


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


# ----------------------------------------------------------------------------------------------------
# Text planning (no models involved)
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Planned:
    text: str
    ids: tuple[int, ...]
    pause: float  # seconds at pace 1, pause_scale 1


def pause_for(text: str) -> float:
    """Seconds of silence after a chunk ending in `text`'s last punctuation mark."""
    stripped = text.rstrip().rstrip("\"')]}»”’")
    return PAUSES.get(stripped[-1:], 0.0) if stripped else 0.0


def plan_text(text: str, max_chunk_chars: int = 180) -> tuple[str, list[_Planned]]:
    """Normalise the whole text, split it into chunks and encode each; ValueError if nothing is speakable.

    Chunks that have no speakable symbols of their own (a stray "...") add their pause to the
    previous chunk instead of being synthesised.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("text is empty")
    frontend.check_arpabet(text)
    normalized = frontend.normalize(text)
    planned: list[_Planned] = []
    for piece in frontend.split_sentences(normalized, max_chars=max_chunk_chars):
        piece = piece.strip()
        if not piece:
            continue
        try:
            ids = frontend.text_to_sequence(piece, normalize=False)
        except frontend.NothingToSay:  # a stray "..." is a pause; a bad {ARPAbet} block is the user's error
            ids = []
        if not ids:
            if planned:
                last = planned[-1]
                planned[-1] = dataclasses.replace(last, pause=max(last.pause, pause_for(piece)))
            continue
        planned.append(_Planned(piece, tuple(ids), pause_for(piece)))
    if not planned:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise ValueError(f"nothing speakable in the text {shown!r} (no letters or digits to read)")
    planned[-1] = dataclasses.replace(planned[-1], pause=0.0)
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


def resample_time(mel: torch.Tensor, pace: float) -> torch.Tensor:
    """Change speaking rate without changing pitch: linear interpolation of mel [..., n_mels, T] along time."""
    if pace == 1.0:
        return mel
    frames = mel.shape[-1]
    target = max(1, int(round(frames / pace)))
    if frames == 1:
        return mel.expand(*mel.shape[:-1], target).contiguous()
    squeeze = mel.dim() == 2
    x = mel[None] if squeeze else mel
    y = F.interpolate(x.float(), size=target, mode="linear", align_corners=True).to(mel.dtype)
    return y[0] if squeeze else y


# ----------------------------------------------------------------------------------------------------
# The pipeline
# ----------------------------------------------------------------------------------------------------
@dataclass
class _Piece:
    """One Tacotron 2 result for a piece of a chunk."""

    text: str
    mel: torch.Tensor  # [n_mels, frames]
    alignment: torch.Tensor  # [steps, symbols]
    reached_max_steps: bool
    failure_reasons: list[str]

    @property
    def failed(self) -> bool:
        return self.reached_max_steps or bool(self.failure_reasons)

    def describe(self) -> str:
        reasons = ["did not stop before max_decoder_steps"] if self.reached_max_steps else []
        if self.failure_reasons:
            reasons.append(f"attention failed ({', '.join(self.failure_reasons)})")
        return ", ".join(reasons)


def _parse_dtype(dtype: torch.dtype | str | None) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    names = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
             "half": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
    try:
        return names[str(dtype).lower()]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; use float32, float16 or bfloat16") from None


def _load_vocoder(name: str, path, device: torch.device, dtype: torch.dtype | None, quantize: str | None) -> torch.nn.Module:
    """A registered vocoder; `quantize` applies to WaveGlow (which then keeps float32 around its int8 products)."""
    from vocoder import VOCODERS

    if quantize is None or name != "waveglow":
        return VOCODERS.load(name, path, device=device, dtype=dtype)
    if device.type != "cpu":
        raise ValueError(f"quantize={quantize!r} is a CPU path; the device is {device}")
    return VOCODERS.load(name, path, device=device, quantize=quantize)


def _default_device(device: torch.device | str | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class Pipeline:
    """Tacotron 2 + vocoders + the logic around them. Safe to share between threads.

    Build one with `from_pretrained` (a voice folder) or `from_checkpoints` (NVIDIA or project
    weight files). The constructor takes ready models for callers that built their own.
    """

    def __init__(
        self,
        tacotron2: torch.nn.Module,
        vocoders: Mapping[str, torch.nn.Module] | None = None,
        *,
        default_vocoder: str | None = None,
        config: SynthesisConfig | None = None,
        name: str = "custom",
        voice: VoiceConfig | None = None,
        dtype: torch.dtype | str | None = None,
    ):
        from vocoder import VOCODERS

        self.tacotron2 = tacotron2.eval()
        self.audio: AudioSettings = tacotron2.audio
        self.name = name
        self.voice = voice
        self.config = config or SynthesisConfig()
        self.dtype = _parse_dtype(dtype)
        self._vocoders: dict[str, torch.nn.Module] = {}
        for vocoder_name, model in (vocoders or {}).items():
            self._add_vocoder(vocoder_name, model)
        self.default_vocoder = default_vocoder or ("waveglow" if "waveglow" in self._vocoders else "griffin-lim")
        if self.default_vocoder not in self.vocoder_names:
            raise ValueError(
                f"default vocoder {self.default_vocoder!r} is not available; available: {', '.join(self.vocoder_names)}"
            )
        self._registry = VOCODERS
        self._denoisers: dict[str, torch.nn.Module] = {}
        self._synthesize_params: dict[str, frozenset[str]] = {}
        self._lock = threading.RLock()  # one model call at a time; all per-call state is local

    # -- construction --------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        name_or_dir: str | os.PathLike | None = None,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | str | None = None,
        quantize: str | None = None,
    ) -> "Pipeline":
        """Load a voice folder (see `tts.voice`): a path, a name under checkpoints/, or None = default voice.
        `quantize="int8"` runs WaveGlow's large products in int8 (CPU; see `vocoder.load_waveglow`)."""
        from tts.checkpoint import load_tacotron2

        voice = load_voice_config(resolve_voice_dir(name_or_dir))
        device = _default_device(device)
        torch_dtype = _parse_dtype(dtype)
        try:
            config = SynthesisConfig.from_dict(voice.synthesis)
        except ValueError as exc:
            raise VoiceError(f"{voice.directory / 'voice.yaml'}: bad 'synthesis' defaults: {exc}") from None
        tacotron2 = load_tacotron2(voice.tacotron2, map_location="cpu").to(device)
        if voice.audio is not None:
            try:
                voice.audio.check_compatible(tacotron2.audio, what=f"voice.yaml's audio settings and {voice.tacotron2.name}")
            except ValueError as exc:
                raise VoiceError(f"{voice.directory}: {exc}") from None
        vocoders = {name: _load_vocoder(name, path, device, torch_dtype, quantize) for name, path in voice.vocoders.items()}
        return cls(tacotron2, vocoders, default_vocoder=voice.default_vocoder, config=config, name=voice.name,
                   voice=voice, dtype=torch_dtype)

    @classmethod
    def from_checkpoints(
        cls,
        tacotron2: str | os.PathLike,
        waveglow: str | os.PathLike | None = None,
        *,
        vocoder: str | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | str | None = None,
        config: SynthesisConfig | None = None,
        quantize: str | None = None,
    ) -> "Pipeline":
        """Chain weight files directly (NVIDIA's `tacotron2_statedict.pt`, `waveglow_256channels*.pt`,
        DeepLearningExamples checkpoints, or the project's own). `vocoder` picks the default:
        "waveglow" when a WaveGlow file is given, else "griffin-lim". `quantize="int8"`: WaveGlow's
        large products in int8 (CPU), whatever `dtype` the Tacotron 2 runs in."""
        from tts.checkpoint import load_tacotron2

        if vocoder == "waveglow" and waveglow is None:
            raise ValueError("vocoder='waveglow' needs a WaveGlow checkpoint (waveglow=PATH)")
        device = _default_device(device)
        torch_dtype = _parse_dtype(dtype)
        model = load_tacotron2(tacotron2, map_location="cpu").to(device)
        vocoders = {}
        if waveglow is not None:
            vocoders["waveglow"] = _load_vocoder("waveglow", waveglow, device, torch_dtype, quantize)
        return cls(model, vocoders, default_vocoder=vocoder, config=config, name=Path(tacotron2).stem,
                   dtype=torch_dtype)

    def _add_vocoder(self, name: str, model: torch.nn.Module) -> None:
        model.check_mel_settings(self.audio)  # refuse a vocoder trained on another mel definition
        self._vocoders[name] = model.eval()

    # -- introspection -------------------------------------------------------------------------------
    @property
    def sample_rate(self) -> int:
        return self.audio.sampling_rate

    @property
    def device(self) -> torch.device:
        return next(self.tacotron2.parameters()).device

    @property
    def vocoder_names(self) -> list[str]:
        """Vocoders this pipeline can use: those loaded with weights plus every weightless registered one."""
        from vocoder import VOCODERS

        weightless = [n for n in VOCODERS.names() if not VOCODERS.get(n).needs_weights]
        return sorted(set(self._vocoders) | set(weightless))

    def __repr__(self) -> str:
        return (f"Pipeline(name={self.name!r}, vocoders={self.vocoder_names}, default_vocoder={self.default_vocoder!r}, "
                f"device={self.device}, sample_rate={self.sample_rate})")

    def settings(self, config: SynthesisConfig | None = None, **overrides: Any) -> SynthesisConfig:
        """The config a call would use: `config` (default: the voice's) with `overrides` applied."""
        return (config or self.config).replace(**overrides)

    def warm_up(self) -> "Pipeline":
        """Synthesise two decoder steps once, so that the first real request does not pay one-off costs
        (mel filter bank, Griffin-Lim's set-up, the denoiser's bias spectrum). Returns self.

        Two steps never reach the stop gate, so Tacotron 2's "reached max_decoder_steps" warning is
        expected here and silenced (only here, only that warning)."""
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Tacotron2\.infer: .*reached max_decoder_steps",
                                    category=RuntimeWarning)
            self.speak("warm up.", max_decoder_steps=2, max_retries=0, seed=0)
        return self

    # -- synthesis -----------------------------------------------------------------------------------
    def speak(
        self,
        text: str,
        *,
        config: SynthesisConfig | None = None,
        progress: Callable[[int, int], None] | None = None,
        **overrides: Any,
    ) -> Speech:
        """Synthesise `text`; overrides are `SynthesisConfig` fields (sigma=, pace=, seed=, vocoder=, ...).

        `progress(done, total)` is called once with done = 0 before the first chunk (so a progress bar
        knows its length without planning the text again) and then after each chunk. The audio is
        the chunks of `stream` joined with their pauses.
        """
        cfg = self.settings(config, **overrides)
        start = time.perf_counter()
        normalized, plan = plan_text(text, cfg.max_chunk_chars)
        vocoder_name = self._check_vocoder(cfg)
        chunks: list[Chunk] = []
        first_audio = None
        if progress is not None:
            progress(0, len(plan))
        for chunk in self._run(plan, cfg, vocoder_name):
            if first_audio is None:
                first_audio = time.perf_counter() - start
            chunks.append(chunk)
            if progress is not None:
                progress(len(chunks), len(plan))
        audio = np.concatenate([c.with_pause() for c in chunks])
        timing = Timing(
            synthesis_seconds=time.perf_counter() - start,
            audio_seconds=len(audio) / self.sample_rate,
            mel_seconds=sum(c.timing.mel_seconds for c in chunks),
            vocoder_seconds=sum(c.timing.vocoder_seconds for c in chunks),
            first_audio_seconds=first_audio,
        )
        return Speech(audio=audio, sample_rate=self.sample_rate, chunks=chunks, timing=timing, text=text,
                      normalized=normalized, warnings=[w for c in chunks for w in c.warnings])

    def stream(self, text: str, *, config: SynthesisConfig | None = None, **overrides: Any) -> Iterator[Chunk]:
        """Yield the audio chunk by chunk (about a sentence each) as soon as each is synthesised.

        The text is checked when `stream` is called (ValueError for empty or unspeakable text);
        nothing is kept between chunks, so memory does not grow with the length of the text.
        """
        cfg = self.settings(config, **overrides)
        _, plan = plan_text(text, cfg.max_chunk_chars)
        vocoder_name = self._check_vocoder(cfg)
        return self._run(plan, cfg, vocoder_name)

    def count_chunks(self, text: str, *, config: SynthesisConfig | None = None, **overrides: Any) -> int:
        """How many chunks `speak`/`stream` will make of `text` (no synthesis; ValueError if unspeakable)."""
        return len(plan_text(text, self.settings(config, **overrides).max_chunk_chars)[1])

    def speak_batch(
        self,
        texts: Sequence[str],
        *,
        config: SynthesisConfig | None = None,
        batch_size: int = 8,
        **overrides: Any,
    ) -> list[Speech]:
        """Synthesise several texts, sending up to `batch_size` chunks at a time through Tacotron 2 and
        the vocoder (padded, sorted by length). Chunks that fail go through the same retries as `speak`.

        With a seed the result is reproducible for the same list of texts, but it differs from
        `speak`'s (random numbers are drawn per batch, not per chunk). Each Speech's synthesis time
        is the batch's wall time shared out in proportion to audio length.
        """
        if isinstance(texts, str):
            raise TypeError("speak_batch takes a list of texts; use speak for one")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        cfg = self.settings(config, **overrides)
        start = time.perf_counter()
        plans = []
        for i, text in enumerate(texts):
            try:
                plans.append(plan_text(text, cfg.max_chunk_chars))
            except ValueError as exc:
                raise ValueError(f"text {i}: {exc}") from None
        if not plans:
            return []
        vocoder_name = self._check_vocoder(cfg)
        items = [(t, c) for t, (_, plan) in enumerate(plans) for c in range(len(plan))]
        items.sort(key=lambda tc: -len(plans[tc[0]][1][tc[1]].ids))  # similar lengths share a batch
        results: dict[tuple[int, int], Chunk] = {}
        for b in range(0, len(items), batch_size):
            group = items[b : b + batch_size]
            chunks = self._synthesize_group(
                [plans[t][1][c] for t, c in group], [c for _, c in group], cfg, vocoder_name,
                seed=derive_seed(cfg.seed, b // batch_size))
            results.update(zip(group, chunks))

        elapsed = time.perf_counter() - start
        speeches = []
        total_audio = sum(len(ch.with_pause()) for ch in results.values()) or 1
        for t, (normalized, plan) in enumerate(plans):
            chunks = [results[(t, c)] for c in range(len(plan))]
            audio = np.concatenate([c.with_pause() for c in chunks])
            timing = Timing(synthesis_seconds=elapsed * len(audio) / total_audio, audio_seconds=len(audio) / self.sample_rate,
                            mel_seconds=sum(c.timing.mel_seconds for c in chunks),
                            vocoder_seconds=sum(c.timing.vocoder_seconds for c in chunks))
            speeches.append(Speech(audio=audio, sample_rate=self.sample_rate, chunks=chunks, timing=timing,
                                   text=texts[t], normalized=normalized,
                                   warnings=[w for c in chunks for w in c.warnings]))
        return speeches

    # -- internals -----------------------------------------------------------------------------------
    def _check_vocoder(self, cfg: SynthesisConfig) -> str:
        name = cfg.vocoder or self.default_vocoder
        if name not in self.vocoder_names:
            known = self._registry.names()
            if name in known:
                raise ValueError(f"the {name} vocoder needs weights this voice does not have; "
                                 f"available: {', '.join(self.vocoder_names)}")
            raise ValueError(f"unknown vocoder {name!r}; available: {', '.join(self.vocoder_names)}")
        return name

    def _vocoder(self, name: str) -> torch.nn.Module:
        with self._lock:
            if name not in self._vocoders:
                model = self._registry.load(name, None, device=self.device, dtype=self.dtype, audio=self.audio)
                self._add_vocoder(name, model)
            return self._vocoders[name]

    def _run(self, plan: list[_Planned], cfg: SynthesisConfig, vocoder_name: str) -> Iterator[Chunk]:
        for index, planned in enumerate(plan):
            yield self._synthesize_group([planned], [index], cfg, vocoder_name, seed=derive_seed(cfg.seed, index))[0]

    def _infer(self, texts: Sequence[tuple[int, ...]], cfg: SynthesisConfig, seed: int | None) -> list[_Piece]:
        """Tacotron 2 on a padded batch of id sequences -> one _Piece per sequence (mel trimmed to length)."""
        lengths = torch.tensor([len(t) for t in texts], dtype=torch.long)
        batch = torch.zeros(len(texts), int(lengths.max()), dtype=torch.long)
        for i, ids in enumerate(texts):
            batch[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        infer_dtype = self.dtype if self.dtype == torch.bfloat16 else None
        r = self.tacotron2.config.n_frames_per_step
        max_steps = decoder_step_budget(int(lengths.max()), r, cfg.max_decoder_steps)
        with self._lock:
            out = self.tacotron2.infer(
                batch.to(self.device), lengths, gate_threshold=cfg.gate_threshold,
                max_decoder_steps=max_steps, prenet_dropout=cfg.prenet_dropout, seed=seed,
                dtype=infer_dtype)
        pieces = []
        for i in range(len(texts)):
            frames = int(out.mel_lengths[i])
            steps = (frames + r - 1) // r
            pieces.append(_Piece(
                text="", mel=out.mel[i, :, :frames].float(), alignment=out.alignments[i, :steps, : len(texts[i])].float(),
                reached_max_steps=bool(out.reached_max_steps[i]),
                failure_reasons=list(out.failure_reasons[i]) if out.failure_reasons else
                (["failed"] if bool(out.attention_failed[i]) else [])))
        return pieces

    def _synthesize_group(self, planned: Sequence[_Planned], indices: Sequence[int], cfg: SynthesisConfig,
                          vocoder_name: str, seed: int | None) -> list[Chunk]:
        """Chunks through Tacotron 2 as one batch, retry the failed ones, then vocode them as one batch."""
        t0 = time.perf_counter()
        first = self._infer([p.ids for p in planned], cfg, seed)
        pieces_per_chunk: list[list[_Piece]] = []
        retries: list[int] = []
        notes: list[list[str]] = []
        for k, (item, piece) in enumerate(zip(planned, first)):
            piece.text = item.text
            pieces, used, note = self._retry([piece], cfg, seed=derive_seed(cfg.seed, indices[k], 1_000_003))
            pieces_per_chunk.append(pieces)
            retries.append(used)
            notes.append(note)
        mel_seconds = time.perf_counter() - t0

        t1 = time.perf_counter()
        hop = self.audio.hop_length

        def pause_frames(seconds: float) -> int:
            return int(round(seconds * cfg.pause_scale / cfg.pace * self.sample_rate / hop))

        mels = []
        for pieces in pieces_per_chunk:
            parts = []
            for j, piece in enumerate(pieces):
                parts.append(resample_time(piece.mel, cfg.pace))
                if j < len(pieces) - 1:  # a short silence where a retry split the chunk
                    gap = pause_frames(pause_for(piece.text))
                    if gap:
                        parts.append(torch.full((self.audio.n_mel_channels, gap), self.audio.silence_level,
                                                device=piece.mel.device))
            mels.append(torch.cat(parts, dim=1))
        audios, finite = self._vocode(mels, cfg, vocoder_name, seed=derive_seed(cfg.seed, *indices, 2_000_003))
        vocoder_seconds = time.perf_counter() - t1

        chunks = []
        share = 1.0 / len(planned)
        for k, item in enumerate(planned):
            pieces = pieces_per_chunk[k]
            audio = audios[k]
            if not finite[k]:
                notes[k].append(f"the {vocoder_name} vocoder produced NaN/inf samples; they were set to silence")
            warnings_ = tuple(f"chunk {indices[k] + 1} ({_shorten(item.text)!r}): {n}" for n in notes[k])
            chunks.append(Chunk(
                index=indices[k], text=item.text, audio=audio, sample_rate=self.sample_rate,
                mel=mels[k].cpu().numpy(), alignment=block_diagonal([p.alignment.cpu().numpy() for p in pieces]),
                pause_after=item.pause * cfg.pause_scale / cfg.pace,
                timing=Timing(synthesis_seconds=(mel_seconds + vocoder_seconds) * share,
                              audio_seconds=len(audio) / self.sample_rate,
                              mel_seconds=mel_seconds * share, vocoder_seconds=vocoder_seconds * share),
                pieces=tuple(p.text for p in pieces),
                reached_max_steps=any(p.reached_max_steps for p in pieces),
                attention_failed=any(p.failure_reasons for p in pieces),
                retries=retries[k], warnings=warnings_))
        return chunks

    def _retry(self, pieces: list[_Piece], cfg: SynthesisConfig, seed: int | None) -> tuple[list[_Piece], int, list[str]]:
        """Re-synthesise failed pieces for up to max_retries rounds; return the best attempt.

        Round 1 re-draws the prenet dropout for the whole piece (a trained model's failures are mostly
        unlucky draws, and a whole sentence keeps its prosody); later rounds, or all rounds without
        dropout, split failed pieces in halves (a single word is re-drawn instead). A re-split can be
        worse than the original (one word that never stops is 20 s of babble), so the attempt kept is
        the one with the fewest pieces that did not stop, then the fewest failed, then the fewest
        pieces. Returns the pieces in reading order, the rounds used and at most one note for
        Speech.warnings.
        """
        problems = "; ".join(p.describe() for p in pieces if p.failed)
        best, rounds = pieces, 0
        while rounds < cfg.max_retries and any(p.failed for p in pieces):
            redraw_whole = rounds == 0 and cfg.prenet_dropout > 0
            plan: list[list[str]] = []  # per piece: [] = keep, else the texts to synthesise instead
            for p in pieces:
                halves = split_in_half(p.text) if p.failed and not redraw_whole else None
                if halves and all(_ids(h) for h in halves):
                    plan.append(list(halves))
                elif p.failed and cfg.prenet_dropout > 0:
                    plan.append([p.text])  # another dropout draw may stop properly
                else:
                    plan.append([])
            todo = [t for texts in plan for t in texts]
            if not todo:
                break
            rounds += 1
            redone = iter(self._infer([_ids(t) for t in todo], cfg, derive_seed(seed, rounds)))
            new_pieces = []
            for p, texts in zip(pieces, plan):
                if not texts:
                    new_pieces.append(p)
                for t in texts:
                    q = next(redone)
                    q.text = t
                    new_pieces.append(q)
            pieces = new_pieces
            if _badness(pieces) < _badness(best):
                best = pieces
        pieces = best
        if not problems:
            return pieces, rounds, []
        failed = [p for p in pieces if p.failed]
        if rounds:
            outcome = (f"still failing in {len(failed)} of {len(pieces)} piece(s), so that audio may be cut off "
                       "or garbled" if failed else "fixed")
            note = f"{problems}; re-synthesised in {len(pieces)} piece(s) over {rounds} retr{'y' if rounds == 1 else 'ies'}: {outcome}"
        else:
            why = "max_retries=0" if cfg.max_retries == 0 else "a single word and no dropout to redraw"
            note = f"{problems}; not retried ({why}), so that audio may be cut off or garbled"
        return pieces, rounds, [note]

    def _vocode(self, mels: list[torch.Tensor], cfg: SynthesisConfig, name: str,
                seed: int | None) -> tuple[list[np.ndarray], list[bool]]:
        """Vocode mels of different lengths as one padded batch; trim each to its own length.
        Also returns, per mel, whether the vocoder's output was finite everywhere."""
        vocoder = self._vocoder(name)
        hop = self.audio.hop_length
        lengths = [m.shape[1] for m in mels]
        # STFT-based steps (Griffin-Lim, the denoiser) need more samples than the STFT's reflect padding
        min_frames = self.audio.filter_length // hop + 1
        batch = torch.full((len(mels), self.audio.n_mel_channels, max(*lengths, min_frames)), self.audio.silence_level,
                           device=self.device)
        for i, m in enumerate(mels):
            batch[i, :, : m.shape[1]] = m.to(self.device)
        kwargs = {}
        params = self._vocoder_params(name, vocoder)
        if "sigma" in params:
            kwargs["sigma"] = cfg.sigma
        if "seed" in params:
            kwargs["seed"] = seed
        with self._lock:
            # unclipped until the denoiser has run, as in NVIDIA's inference.py (clipped below)
            audio = vocoder(batch.to(self._vocoder_dtype(vocoder)), clip=False, **kwargs)
            if cfg.denoise > 0:
                audio = self._denoiser(name, vocoder)(audio, strength=cfg.denoise)
        audio = audio.float()
        finite = torch.isfinite(audio).all(dim=1).tolist()
        # a diverging vocoder must not hand NaN/inf to players and file writers: those samples become 0
        audio = torch.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0).clamp(-1.0, 1.0).cpu().numpy()
        return [np.ascontiguousarray(audio[i, : n * hop], dtype=np.float32) for i, n in enumerate(lengths)], finite

    def _vocoder_params(self, name: str, vocoder: torch.nn.Module) -> frozenset[str]:
        if name not in self._synthesize_params:
            self._synthesize_params[name] = frozenset(inspect.signature(vocoder.synthesize).parameters)
        return self._synthesize_params[name]

    @staticmethod
    def _vocoder_dtype(vocoder: torch.nn.Module) -> torch.dtype:
        param = next(vocoder.parameters(), None)
        return param.dtype if param is not None and param.is_floating_point() else torch.float32

    def _denoiser(self, name: str, vocoder: torch.nn.Module) -> torch.nn.Module:
        from vocoder import Denoiser

        with self._lock:
            if name not in self._denoisers:
                self._denoisers[name] = Denoiser(vocoder)
            return self._denoisers[name]


def _badness(pieces: Sequence[_Piece]) -> tuple[int, int, int]:
    """Orders attempts at a chunk (lower is better): pieces that never stopped, failed pieces, pieces."""
    return (sum(p.reached_max_steps for p in pieces), sum(p.failed for p in pieces), len(pieces))


def decoder_step_budget(n_symbols: int, frames_per_step: int, max_decoder_steps: int) -> int:
    """Decoder steps allowed for a text of `n_symbols`: `max_decoder_steps`, but no more than
    `FRAMES_PER_SYMBOL` frames per symbol plus `FRAMES_SLACK` (speech runs 5-10 frames per symbol), so a
    short piece whose decoder never stops ends as a short failure instead of 20 s of babble."""
    frames = FRAMES_PER_SYMBOL * n_symbols + FRAMES_SLACK
    return max(1, min(max_decoder_steps, -(-frames // frames_per_step)))


def _ids(text: str) -> tuple[int, ...]:
    try:
        return tuple(frontend.text_to_sequence(text, normalize=False))
    except ValueError:
        return ()


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."

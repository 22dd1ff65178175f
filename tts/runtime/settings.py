"""Every synthesis setting, defined, defaulted and validated once: `SynthesisConfig`.

A voice folder's voice.yaml gives a voice's defaults; every call (library, CLI, app) can override
any field by name. Settings a vocoder cannot use are reported by the pipeline, not ignored.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from tts.core.defaults import DEFAULT_SIGMA, FRAMES_PER_SYMBOL

PACE_RANGE: Final = (0.25, 4.0)
#: sigma (WaveGlow's noise) and temperature (FloWaveNet, WaveRNN): 0 to 2 (1 is the training value)
SIGMA_RANGE: Final = (0.0, 2.0)
PITCH_RANGE: Final = (-12.0, 12.0)
VOLUME_RANGE: Final = (0.0, 2.0)
DENOISE_RANGE: Final = (0.0, 0.5)
#: mel matching passes: the mel distance stops falling well before this
MEL_MATCH_MAX: Final = 50
#: the `seed` override that means "different every run" (overrides use None for "keep the default")
RANDOM_SEED: Final = -1
#: readings of an ambiguous numeric date: month first (US) or day first
DATE_ORDERS: Final = ("mdy", "dmy")
#: settings that only some vocoders use (each is a keyword of those vocoders' `synthesize`)
VOCODER_SETTINGS: Final = ("sigma", "temperature")


@dataclass(frozen=True)
class SynthesisConfig:
    """Every synthesis knob. Invalid values raise `ValueError` when the config is built."""

    #: WaveGlow noise scale (0 = the flow's mean; NVIDIA uses 0.6-0.67); a warning with other vocoders
    sigma: float = DEFAULT_SIGMA
    #: sampling temperature of FloWaveNet (latent scale, its default 0.8) and WaveRNN (logit divisor, its
    #: default 1.0); None = the vocoder's own default; a warning with other vocoders
    temperature: float | None = None
    #: denoiser strength in [0, 0.5]: subtracts this multiple of the vocoder's bias spectrum; 0 = off
    denoise: float = 0.01
    #: mel matching (`vocoder.mel_match`): this many passes of per-band gains that give the vocoder's audio
    #: the mel's band energies, its phase kept (0 = off; the default voice's compact WaveGlow uses 6)
    mel_match: int = 0
    #: speaking rate: 2.0 = twice as fast, 0.5 = half as fast; pitch is unchanged (mel time axis resampled)
    pace: float = 1.0
    #: pitch shift in semitones (-12 to +12; 0 = the voice's own), duration unchanged (`tts.runtime.prosody`)
    pitch: float = 0.0
    #: loudness as a linear gain (0 to 2; 1 = unchanged), with a soft limiter so nothing clips
    volume: float = 1.0
    #: None = different every run; an int makes the output reproducible (prenet dropout + vocoder noise).
    #: In overrides (`replace`, `speak(seed=...)`), where None means "keep", RANDOM_SEED (-1) asks for None.
    seed: int | None = None
    #: Tacotron 2 stops after a frame whose stop probability exceeds this
    gate_threshold: float = 0.5
    #: at most this many decoder steps per chunk (1000 steps of 256 samples = 11.6 s)
    max_decoder_steps: int = 1000
    #: and at most this many mel frames per input symbol (+ 20), so a chunk whose decoder never stops
    #: ends as a short failure; a voice sets about twice its own median (the default voice: 10.2)
    max_frames_per_symbol: float = FRAMES_PER_SYMBOL
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
    #: how an ambiguous numeric date like 11/05/2023 is read: "mdy" (US, November 5) or "dmy" (11 May)
    date_order: str = "mdy"
    #: read the text as SSML (`tts.runtime.ssml`): True, False, or None = when it starts with <speak>
    ssml: bool | None = None
    #: stage overlap (`tts.runtime.overlap`): WaveGlow vocodes a chunk's mel while Tacotron 2 still decodes
    #: it and the next chunk. None = the measured default, off (slower on 2 cores:
    #: `tts.core.device.choose_overlap`), True = wherever the models allow it (a warning otherwise),
    #: False = never (exactly the audio of one stage after the other).
    #: At sigma > 0 a seed gives another noise draw with overlap than without (same distribution).
    overlap: bool | None = None

    def __post_init__(self) -> None:
        def number(name: str) -> float:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            return float(value)

        def integer(name: str, minimum: int, maximum: int) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not minimum <= value <= maximum:
                raise ValueError(f"{name} must be an integer in [{minimum}, {maximum}], got {value!r}")

        if not SIGMA_RANGE[0] <= number("sigma") <= SIGMA_RANGE[1]:
            raise ValueError(f"sigma must be in [{SIGMA_RANGE[0]}, {SIGMA_RANGE[1]}], got {self.sigma}")
        if self.temperature is not None and not SIGMA_RANGE[0] <= number("temperature") <= SIGMA_RANGE[1]:
            raise ValueError(f"temperature must be in [{SIGMA_RANGE[0]}, {SIGMA_RANGE[1]}], got {self.temperature}")
        if not DENOISE_RANGE[0] <= number("denoise") <= DENOISE_RANGE[1]:
            raise ValueError(f"denoise must be in [{DENOISE_RANGE[0]}, {DENOISE_RANGE[1]}], got {self.denoise}")
        if not PACE_RANGE[0] <= number("pace") <= PACE_RANGE[1]:
            raise ValueError(f"pace must be in [{PACE_RANGE[0]}, {PACE_RANGE[1]}], got {self.pace}")
        if not PITCH_RANGE[0] <= number("pitch") <= PITCH_RANGE[1]:
            raise ValueError(f"pitch must be in [{PITCH_RANGE[0]}, {PITCH_RANGE[1]}] semitones, got {self.pitch}")
        if not VOLUME_RANGE[0] <= number("volume") <= VOLUME_RANGE[1]:
            raise ValueError(f"volume must be in [{VOLUME_RANGE[0]}, {VOLUME_RANGE[1]}], got {self.volume}")
        if not 1 <= number("max_frames_per_symbol") <= 100:
            raise ValueError(f"max_frames_per_symbol must be in [1, 100], got {self.max_frames_per_symbol}")
        if not 0.0 <= number("gate_threshold") <= 1.0:
            raise ValueError(f"gate_threshold must be in [0, 1], got {self.gate_threshold}")
        if not 0.0 <= number("prenet_dropout") < 1.0:
            raise ValueError(f"prenet_dropout must be in [0, 1), got {self.prenet_dropout}")
        if not 0 <= number("pause_scale") <= 10:
            raise ValueError(f"pause_scale must be in [0, 10], got {self.pause_scale}")
        integer("max_decoder_steps", 1, 100_000)
        integer("max_chunk_chars", 20, 10_000)
        integer("max_retries", 0, 10)
        integer("mel_match", 0, MEL_MATCH_MAX)
        if self.seed is not None:
            integer("seed", 0, 2**63 - 1)
        if self.ssml is not None and not isinstance(self.ssml, bool):
            raise ValueError(f"ssml must be true, false or unset (auto), got {self.ssml!r}")
        if self.overlap is not None and not isinstance(self.overlap, bool):
            raise ValueError(f"overlap must be true, false or unset (auto), got {self.overlap!r}")
        if self.date_order not in DATE_ORDERS:
            raise ValueError(f"date_order must be one of {', '.join(DATE_ORDERS)}, got {self.date_order!r}")
        if self.vocoder is not None and (not isinstance(self.vocoder, str) or not self.vocoder):
            raise ValueError(f"vocoder must be a vocoder name, got {self.vocoder!r}")

    def replace(self, **overrides: Any) -> SynthesisConfig:
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
    def from_dict(cls, values: Mapping[str, Any] | None) -> SynthesisConfig:
        return cls().replace(**dict(values or {}))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(SynthesisConfig))

"""How a chunk is said, after Tacotron 2 has decided what it says: speaking rate, pitch and volume.

* Pace resamples the mel's time axis: the vocoder then says the same frames faster or slower, and the
  pitch (the spacing of the harmonics within each frame) stays.
* Pitch is resampling plus time-stretching: the mel is stretched in time by the pitch factor
  k = 2^(semitones / 12) (k times longer, same pitch), and the audio is then resampled to play k
  times faster, which multiplies every frequency by k and brings the duration back. The vocoder
  makes the stretched audio from the mel, so no phase vocoder smears it. Formants move with the
  pitch; within a few semitones that is what a speaker's higher or lower voice sounds like.
* Volume is a gain, with a soft limiter above -1 dBFS so that a louder voice is never clipped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

#: the limiter leaves samples below this alone and bends louder ones smoothly towards full scale
LIMIT_KNEE = 10 ** (-1 / 20)


@dataclass(frozen=True)
class Voicing:
    """The rate, pitch and volume a chunk is said with (the call's settings times the chunk's own)."""

    pace: float = 1.0
    semitones: float = 0.0
    volume: float = 1.0


def pitch_factor(semitones: float) -> float:
    """Frequency ratio of a shift by `semitones` (12 = one octave up = 2)."""
    return 2.0 ** (semitones / 12.0)


def resampled_length(frames: int, pace: float) -> int:
    """Frames `resample_time` gives for `frames` at `pace`."""
    return max(1, int(round(frames / pace)))


def resample_time(mel: torch.Tensor, pace: float) -> torch.Tensor:
    """Change speaking rate without changing pitch: linear interpolation of mel [..., n_mels, T] along time."""
    if pace == 1.0:
        return mel
    frames = mel.shape[-1]
    target = resampled_length(frames, pace)
    if frames == 1:
        return mel.expand(*mel.shape[:-1], target).contiguous()
    squeeze = mel.dim() == 2
    x = mel[None] if squeeze else mel
    y = F.interpolate(x.float(), size=target, mode="linear", align_corners=True).to(mel.dtype)
    return y[0] if squeeze else y


def shift_pitch(audio: np.ndarray, semitones: float, sample_rate: int) -> np.ndarray:
    """Play `audio` k = `pitch_factor(semitones)` times faster (frequencies times k, length over k) by
    resampling it from k * sample_rate to sample_rate (soxr, high quality)."""
    if semitones == 0:
        return audio
    import soxr

    factor = pitch_factor(semitones)
    return soxr.resample(np.ascontiguousarray(audio, dtype=np.float32), sample_rate * factor, sample_rate,
                         quality="HQ").astype(np.float32)


def apply_volume(audio: np.ndarray, gain: float) -> np.ndarray:
    """Scale by `gain`; samples that would pass -1 dBFS are bent smoothly towards full scale (a soft
    knee: tanh above the knee), so nothing clips and quiet passages scale exactly."""
    if gain == 1.0:
        return audio
    out = audio.astype(np.float32) * np.float32(gain)
    loud = np.abs(out) > LIMIT_KNEE
    if loud.any():
        room = 1.0 - LIMIT_KNEE
        over = (np.abs(out[loud]) - LIMIT_KNEE) / room
        out[loud] = np.sign(out[loud]) * (LIMIT_KNEE + room * np.tanh(over))
    return out


def finish_audio(audio: np.ndarray, semitones: float, volume: float, sample_rate: int) -> np.ndarray:
    """A vocoded chunk as it is heard: pitch shifted (its mel was stretched to match), then its volume,
    within [-1, 1]."""
    return np.clip(apply_volume(shift_pitch(audio, semitones, sample_rate), volume), -1.0, 1.0)


def semitones_between(f_low: float, f_high: float) -> float:
    """How many semitones `f_high` is above `f_low` (for reports and tests)."""
    return 12.0 * math.log2(f_high / f_low)

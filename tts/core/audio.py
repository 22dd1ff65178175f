"""The one mel-spectrogram definition shared by Tacotron 2, every vocoder and the trainers.

It is NVIDIA's `TacotronSTFT`: 22050 Hz audio scaled to [-1, 1] (int16 / 32768), a centred
reflect-padded STFT with a periodic Hann window (n_fft 1024, hop 256, win 1024), the STFT
*magnitude* (not power) projected on 80 Slaney-normalised mel filters from 0 to 8000 Hz, and
the natural log of that clamped at 1e-5 (so silence is ln(1e-5) = -11.5129).

Every checkpoint the project writes stores an `AudioSettings`; two models whose settings differ
refuse to be chained (`AudioSettings.check_compatible`).
"""
from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

from tts.core.config import Config


@dataclass(frozen=True)
class AudioSettings(Config):
    """Audio and mel-spectrogram parameters (NVIDIA Tacotron 2 / WaveGlow defaults)."""

    sampling_rate: int = 22050
    filter_length: int = 1024  # n_fft
    hop_length: int = 256
    win_length: int = 1024
    n_mel_channels: int = 80
    mel_fmin: float = 0.0
    mel_fmax: float = 8000.0
    max_wav_value: float = 32768.0
    log_clamp: float = 1e-5

    @property
    def silence_level(self) -> float:
        """The log-mel value of digital silence (the clamp floor)."""
        return math.log(self.log_clamp)

    def differences(self, other: "AudioSettings") -> list[str]:
        """Human-readable list of fields that differ between two settings."""
        return [
            f"{f.name}: {getattr(self, f.name)} vs {getattr(other, f.name)}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        ]

    def check_compatible(self, other: "AudioSettings", what: str = "models") -> None:
        """Raise a clear error if a mel predictor and a vocoder use different mel definitions."""
        diff = self.differences(other)
        if diff:
            raise ValueError(
                f"cannot chain {what}: their mel settings differ ({'; '.join(diff)}). "
                "A vocoder must be trained on the same mel definition as the mel predictor."
            )


DEFAULT_AUDIO = AudioSettings()


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    mels = hz / (200.0 / 3)
    log_region = hz >= 1000.0
    return np.where(log_region, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mels)


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    mels = np.asarray(mels, dtype=np.float64)
    hz = mels * (200.0 / 3)
    return np.where(mels >= 15.0, 1000.0 * np.exp(np.log(6.4) / 27.0 * (mels - 15.0)), hz)


@functools.lru_cache(maxsize=8)
def _mel_basis_numpy(settings: AudioSettings) -> np.ndarray:
    """librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax) as NVIDIA's TacotronSTFT calls it (Slaney mel
    scale and area normalisation), computed the same way to the last bit, without importing librosa
    (its import alone costs more than a second of start-up)."""
    n_fft, n_mels = settings.filter_length, settings.n_mel_channels
    fft_freqs = np.fft.rfftfreq(n=n_fft, d=1.0 / settings.sampling_rate)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(settings.mel_fmin), _hz_to_mel(settings.mel_fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float32)
    for i in range(n_mels):  # triangles between neighbouring mel frequencies
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / fdiff[i], ramps[i + 2] / fdiff[i + 1]))
    weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    return weights


def mel_basis(settings: AudioSettings = DEFAULT_AUDIO, device=None, dtype=torch.float32) -> torch.Tensor:
    """Slaney-normalised mel filter bank [n_mels, n_fft // 2 + 1] (librosa's defaults, as NVIDIA uses)."""
    return torch.from_numpy(_mel_basis_numpy(settings)).to(device=device, dtype=dtype)


def _stft_arguments(settings: AudioSettings, device, dtype) -> dict:
    """The framing both directions share: Hann window, centred frames, NVIDIA's sizes."""
    window = torch.hann_window(settings.win_length, periodic=True, device=device, dtype=dtype)
    return {"n_fft": settings.filter_length, "hop_length": settings.hop_length, "win_length": settings.win_length,
            "window": window, "center": True}


def stft(audio: torch.Tensor, settings: AudioSettings = DEFAULT_AUDIO) -> torch.Tensor:
    """Complex STFT [B, n_fft // 2 + 1, frames] of audio [B, N]; frames = 1 + N // hop."""
    return torch.stft(audio, **_stft_arguments(settings, audio.device, audio.dtype), pad_mode="reflect",
                      return_complex=True)


def istft(spec: torch.Tensor, settings: AudioSettings = DEFAULT_AUDIO, length: int | None = None) -> torch.Tensor:
    """Inverse of `stft` (overlap-add with the same window); [B, F, frames] complex -> [B, N]."""
    return torch.istft(spec, **_stft_arguments(settings, spec.device, spec.real.dtype), length=length)


def dynamic_range_compression(x: torch.Tensor, settings: AudioSettings = DEFAULT_AUDIO) -> torch.Tensor:
    return torch.log(torch.clamp(x, min=settings.log_clamp))


def dynamic_range_decompression(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(x)


def mel_spectrogram(audio: torch.Tensor, settings: AudioSettings = DEFAULT_AUDIO) -> torch.Tensor:
    """Log-magnitude mel spectrogram: audio [N] or [B, N] in [-1, 1] -> [80, frames] or [B, 80, frames]."""
    if not torch.is_tensor(audio):
        audio = torch.as_tensor(np.asarray(audio))
    if audio.dim() not in (1, 2):
        raise ValueError(f"audio must be [N] or [B, N], got shape {tuple(audio.shape)}")
    if audio.shape[-1] == 0:
        raise ValueError("audio is empty")
    squeeze = audio.dim() == 1
    audio = audio.float()
    if squeeze:
        audio = audio[None]
    magnitude = stft(audio, settings).abs()  # [B, n_fft/2+1, frames]
    mel = torch.matmul(mel_basis(settings, audio.device), magnitude)  # [B, n_mels, frames]
    mel = dynamic_range_compression(mel, settings)
    return mel[0] if squeeze else mel


def n_frames(n_samples: int, settings: AudioSettings = DEFAULT_AUDIO) -> int:
    """Number of mel frames `mel_spectrogram` gives for `n_samples` samples."""
    return 1 + n_samples // settings.hop_length


def load_wav(path: str, settings: AudioSettings = DEFAULT_AUDIO) -> torch.Tensor:
    """Read an audio file as float32 mono in [-1, 1] at `settings.sampling_rate` (resampling if needed)."""
    import soundfile

    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    data = data.mean(axis=1)
    if rate != settings.sampling_rate:  # what librosa.resample does by default (soxr, high quality)
        import soxr

        data = soxr.resample(data, rate, settings.sampling_rate, quality="soxr_hq")
    return torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32))

"""Removal of a vocoder's own bias (hiss, hum, tones at multiples of fs/8 for WaveGlow).

As in NVIDIA/waveglow's `denoiser.py`: the bias is what the vocoder produces for an all-zero
log-mel [1, 80, 88] with its deterministic settings (WaveGlow: sigma = 0); its STFT magnitude, first
frame only, is subtracted (times `strength`) from the magnitude of every frame of the audio,
clamped at 0, and the audio is resynthesised with its original phase.

A vocoder that runs its flow on groups of n samples (`bias_tone_period` = n: the compact WaveGlow,
n = 128) leaves tones at multiples of fs / n in its output, and its output for an all-zero log-mel
is not a bias but loud sound that follows the mel; there only the bins of those tones are kept from
the bias spectrum, so that the denoiser subtracts at the tones and nowhere else. (NVIDIA's WaveGlow, n = 8,
keeps the whole spectrum, as the reference does.)

Differences from the reference, on purpose: works on any device/dtype (computes in float32; the
reference calls `.cuda()`), computing the bias leaves the caller's RNG untouched, and the output
always has exactly as many samples as the input (the reference returns (N // 256) * 256, which is
the same whenever N is a multiple of the hop, as vocoder output is).
"""
from __future__ import annotations

import torch
from torch import nn

from tts.core.audio import istft, stft
from tts.core.device import weights_placement
from tts.core.vocoder import Vocoder

#: NVIDIA's hard-coded bias input: 88 frames of an 80-channel all-zero log-mel
BIAS_FRAMES = 88
MAX_STRENGTH = 0.5


class Denoiser(nn.Module):
    """`Denoiser(vocoder)(audio [B, N], strength=0.01) -> [B, N]`."""

    def __init__(self, vocoder: Vocoder, bias_frames: int = BIAS_FRAMES):
        super().__init__()
        self.audio = vocoder.audio
        self.register_buffer("bias_spec", self.compute_bias(vocoder, bias_frames), persistent=False)

    @staticmethod
    @torch.no_grad()
    def compute_bias(vocoder: Vocoder, bias_frames: int = BIAS_FRAMES) -> torch.Tensor:
        """|STFT| of the vocoder's output on an all-zero mel, first frame: [n_fft // 2 + 1, 1], float32
        (only the bins of its tones for a vocoder with a `bias_tone_period`)."""
        device, dtype = weights_placement(vocoder)
        mel = torch.zeros(1, vocoder.audio.n_mel_channels, bias_frames, device=device, dtype=dtype)
        kwargs = dict(getattr(vocoder, "deterministic_kwargs", {}))
        # WaveGlow draws (sigma-scaled) noise even at sigma = 0: do not let that advance the caller's RNG
        devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.inference_mode():
            bias_audio = vocoder.synthesize(mel, **kwargs).float()
        bias = stft(bias_audio, vocoder.audio).abs()[0, :, :1].clone()  # [F, 1]
        period = vocoder.bias_tone_period
        return bias if period is None else keep_tone_bins(bias, vocoder.audio.filter_length, period)

    def forward(self, audio: torch.Tensor, strength: float = 0.01) -> torch.Tensor:
        if not 0.0 <= strength <= MAX_STRENGTH:
            raise ValueError(f"denoiser strength must be in [0, {MAX_STRENGTH}], got {strength}")
        squeeze = audio.dim() == 1
        if squeeze:
            audio = audio[None]
        if audio.dim() != 2:
            raise ValueError(f"audio must be [B, N] or [N], got shape {tuple(audio.shape)}")
        n = audio.shape[1]
        spec = stft(audio.float(), self.audio)  # [B, F, frames]
        magnitude = (spec.abs() - strength * self.bias_spec.to(spec.device)).clamp(min=0.0)
        # original phase, new magnitude (angle of 0 is 0, so silent bins stay silent)
        denoised = istft(torch.polar(magnitude, spec.angle()), self.audio, length=n)
        return denoised[0] if squeeze else denoised


def keep_tone_bins(spectrum: torch.Tensor, n_fft: int, period: int) -> torch.Tensor:
    """`spectrum` [n_fft // 2 + 1, ...] with every bin zeroed but those nearest to the tones at multiples
    of fs / period (bin k * n_fft / period, k = 1, 2, ...)."""
    if period < 2:
        raise ValueError(f"a tone period must be at least 2 samples, got {period}")
    n_bins = spectrum.shape[0]
    tones = torch.arange(1, period // 2 + 1, dtype=torch.float64) * n_fft / period
    bins = torch.unique(tones.round().long().clamp(max=n_bins - 1))
    kept = torch.zeros_like(spectrum)
    kept[bins] = spectrum[bins]
    return kept

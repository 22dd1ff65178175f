"""Linear prediction from the mel: the spectral envelope as a fixed invertible layer of the flow.

A flow that sees the raw waveform must learn from scratch that silence is quiet and where the
formants are, although the mel it is conditioned on says both. LPCNet (Valin & Skoglund, ICASSP 2019)
takes the spectral envelope out of the network's hands: linear-prediction coefficients computed from
the acoustic features, not from the audio, whiten the speech, and the network models only the
prediction residual (the excitation). LP-WaveGlow (Hwang et al., 2021) does the same inside a WaveGlow:
the all-pole filter is one more invertible layer, with a log-determinant, so the model is still trained
by maximum likelihood of the speech and sampled from N(0, sigma^2). Here, per mel frame:

1. **Power spectrum from the mel.** Each band's mean magnitude (the NVIDIA log-mel, exponentiated, over
   its filter's area) is spread back over the FFT bins by the same triangles; bins above the last band
   (fmax) hold its value. Squared, this is the frame's power spectrum.
2. **Autocorrelation.** Its inverse FFT, with a Gaussian lag window (60 Hz) and a white-noise correction
   (-40 dB): both bound the filter's dynamic range, so the inverse filter never amplifies by more than
   the spectrum's floor allows.
3. **Levinson-Durbin** gives the order-p predictor A(z) = 1 + a_1 z^-1 + ... + a_p z^-p, minimum phase,
   and its prediction-error power; over the analysis window's energy that is the residual's expected
   variance per sample, g^2.

Whitening (the training direction) e[n] = (x[n] + sum_k a_k x[n - k]) / g[n] uses the coefficients of
the frame whose centre is nearest (frame i covers samples [hop i - hop / 2, hop i + hop / 2)) and log g
interpolated linearly between frame centres; the p samples before the audio are given (a training
segment cut from inside a clip) or zeros (an utterance starts after silence). Its Jacobian is
lower-triangular with diagonal 1 / g[n]: log|det| = -sum log g[n]. Colouring (synthesis) runs the
all-pole filter x[n] = g[n] e[n] - sum_k a_k x[n - k] frame by frame on the true past outputs, so it
inverts the whitening exactly (up to float64 rounding).

On the default voice's held-out clips the whitened residual has a standard deviation of 0.9-1.2 in every
loudness band, and white noise coloured by the mel's filters (a whisper, no pitch) is already 9.4 % WER
by Whisper: what the flow starts from, before learning any excitation.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import torch

from tts.core.audio import AudioSettings, mel_basis

#: Gaussian lag window bandwidth (Hz): smooths the envelope so narrow harmonics do not become poles
LAG_WINDOW_HZ = 60.0
#: white-noise correction: r[0] *= 1 + this (a -40 dB floor under the spectrum)
WHITE_NOISE_CORRECTION = 1e-4
#: the loudest log-mel the predictor takes (e^20: far above any real frame, far below float64 overflow)
MAX_LOG_MEL = 20.0


class Predictor(NamedTuple):
    """Per mel frame: the predictor's coefficients [B, frames, p + 1] (a_0 = 1) and the log of the
    residual's standard deviation [B, frames], float64."""

    a: torch.Tensor
    log_gain: torch.Tensor


@functools.lru_cache(maxsize=4)
def _spreading(settings: AudioSettings) -> tuple[np.ndarray, np.ndarray]:
    """(1 / each band's filter area [n_mels], band -> FFT-bin spreading [n_mels, n_fft / 2 + 1])."""
    basis = mel_basis(settings).double().numpy()
    triangles = basis / basis.max(axis=1, keepdims=True)
    cover = triangles.sum(axis=0)
    spread = triangles / np.maximum(cover, 1e-12)
    last = int(np.nonzero(cover > 0)[0].max())
    spread[:, last + 1:] = spread[:, last:last + 1]  # above fmax: hold the last covered bin
    return 1.0 / basis.sum(axis=1), spread


def power_spectrum(mel: torch.Tensor, settings: AudioSettings) -> torch.Tensor:
    """NVIDIA log-mel [B, n_mels, frames] -> power spectrum [B, frames, n_fft / 2 + 1], float64."""
    inverse_area, spread = _spreading(settings)
    band = torch.exp(mel.double()).transpose(1, 2) * torch.from_numpy(inverse_area).to(mel.device)
    return (band @ torch.from_numpy(spread).to(mel.device)) ** 2


def levinson(r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Autocorrelations r [..., p + 1] -> (predictor a [..., p + 1] with a_0 = 1, prediction-error power [...])."""
    order = r.shape[-1] - 1
    a = torch.zeros_like(r)
    a[..., 0] = 1.0
    error = r[..., 0].clone()
    for i in range(1, order + 1):
        k = -(r[..., i] + (a[..., 1:i] * r[..., 1:i].flip(-1)).sum(-1)) / error
        a[..., 1:i] = a[..., 1:i] + k[..., None] * a[..., 1:i].flip(-1)
        a[..., i] = k
        error = error * (1.0 - k * k)
    return a, error


def predictor(mel: torch.Tensor, settings: AudioSettings, order: int) -> Predictor:
    """The order-`order` linear predictor of every frame of `mel` [B, n_mels, frames], float64 on the
    mel's device (on the CPU for MPS, which has no float64). The mel is clamped to [the log-mel floor,
    MAX_LOG_MEL]: nothing quieter than silence, no overflow of its exponential."""
    if mel.device.type == "mps":
        mel = mel.cpu()
    mel = mel.double().clamp(min=settings.silence_level, max=MAX_LOG_MEL)
    power = power_spectrum(mel, settings)
    r = torch.fft.irfft(power, n=settings.filter_length, dim=-1)[..., : order + 1]
    lags = torch.arange(order + 1, dtype=torch.float64, device=mel.device)
    r = r * torch.exp(-0.5 * (2 * np.pi * LAG_WINDOW_HZ / settings.sampling_rate * lags) ** 2)
    r[..., 0] *= 1.0 + WHITE_NOISE_CORRECTION
    a, error = levinson(r)
    window_energy = float((torch.hann_window(settings.win_length, periodic=True, dtype=torch.float64) ** 2).sum())
    return Predictor(a, 0.5 * torch.log(error / window_energy))


def frame_of_sample(n_samples: int, n_frames: int, hop: int, device: torch.device | None = None) -> torch.Tensor:
    """Index of the frame whose centre (sample hop i) is nearest each sample, [n_samples]."""
    return ((torch.arange(n_samples, device=device) + hop // 2) // hop).clamp_(max=n_frames - 1)


def log_gain_per_sample(log_gain: torch.Tensor, n_samples: int, hop: int) -> torch.Tensor:
    """log g [B, frames] -> [B, n_samples], linear between frame centres, held after the last one."""
    frames = log_gain.shape[1]
    position = torch.arange(n_samples, dtype=torch.float64, device=log_gain.device) / hop
    left = position.floor().long().clamp_(max=frames - 1)
    right = (left + 1).clamp_(max=frames - 1)
    w = (position - left).clamp_(max=1.0)
    return log_gain[:, left] * (1 - w) + log_gain[:, right] * w


def whiten(audio: torch.Tensor, lp: Predictor, hop: int, history: torch.Tensor | None = None
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """audio [B, N] -> (residual [B, N] in audio's dtype, log|d residual / d audio| per sample [B, N] = -log g).
    `history` [B, >= p]: the samples before `audio` (a training segment cut from inside a clip); zeros
    (the audio starts after silence, as at synthesis) if not given. It changes the residual, not the
    log-determinant."""
    device = audio.device
    audio = audio.to(lp.a.device)  # the predictor's device: the CPU for MPS (no float64 there)
    history = None if history is None else history.to(lp.a.device)
    n, order = audio.shape[1], lp.a.shape[-1] - 1
    if history is None:
        history = audio.new_zeros(audio.shape[0], order)
    if history.shape[1] < order:
        raise ValueError(f"history of {history.shape[1]} samples, the order-{order} predictor needs {order}")
    x = torch.cat([history[:, history.shape[1] - order:].double(), audio.double()], 1)
    past = x.unfold(1, order + 1, 1).flip(-1)  # [B, N, p + 1]: x[n], x[n - 1], ..., x[n - p]
    a = lp.a[:, frame_of_sample(n, lp.a.shape[1], hop, audio.device)]  # [B, N, p + 1]
    log_g = log_gain_per_sample(lp.log_gain, n, hop)
    residual = (past * a).sum(-1) * torch.exp(-log_g)
    return residual.to(device=device, dtype=audio.dtype), (-log_g).to(device=device, dtype=audio.dtype)


def colour(residual: torch.Tensor, lp: Predictor, hop: int) -> torch.Tensor:
    """The inverse of `whiten`: residual [B, N] -> audio [B, N] (float32), the all-pole filter 1 / A(z)
    of each frame run on the samples nearest its centre, from the true past outputs."""
    from scipy.signal import lfilter  # here, not at import: scipy.signal costs start-up time

    n, order = residual.shape[1], lp.a.shape[-1] - 1
    excitation = (residual.detach().double() * torch.exp(log_gain_per_sample(lp.log_gain, n, hop))).cpu().numpy()
    a = lp.a.cpu().numpy()
    out = np.zeros((residual.shape[0], n + order))  # `order` zeros of history before the first sample
    # frame f filters samples [bounds[f], bounds[f + 1]): `whiten`'s frame of each sample
    bounds = np.searchsorted(frame_of_sample(n, a.shape[1], hop).numpy(), np.arange(a.shape[1] + 1))
    for b in range(residual.shape[0]):
        for f in range(a.shape[1]):
            start, stop = bounds[f], bounds[f + 1]
            if stop <= start:
                continue
            past = out[b, start:start + order][::-1]  # y[start - 1], ..., y[start - p]
            state = _state_from_past_outputs(a[b, f], past)
            out[b, start + order:stop + order] = lfilter([1.0], a[b, f], excitation[b, start:stop], zi=state)[0]
    return torch.from_numpy(out[:, order:]).to(device=residual.device, dtype=torch.float32)


def _state_from_past_outputs(a: np.ndarray, past: np.ndarray) -> np.ndarray:
    """lfilter's direct-form-II-transposed state for the all-pole filter 1 / A(z) whose last outputs were
    `past` (newest first) and whose inputs were the excitation: z_j = -sum_{k > j} a_k y[-(k - j)]."""
    order = a.shape[0] - 1
    hankel = _hankel_index(order)  # [p, p]: a index j + 1 + m, or p + 1 (a zero) past the end
    return -(np.append(a, 0.0)[hankel] @ past)


@functools.lru_cache(maxsize=4)
def _hankel_index(order: int) -> np.ndarray:
    """[p, p] indices into a + [0]: entry (j, m) is j + 1 + m where that is <= p, else p + 1 (the zero)."""
    index = np.arange(order)[:, None] + np.arange(order)[None, :] + 1
    return np.where(index <= order, index, order + 1)

"""Denoiser: NVIDIA's bias removal, checked against an independent implementation of NVIDIA's
conv-based STFT (written from its definition), plus the project's device/RNG/length guarantees."""
import math

import numpy as np
import pytest
import scipy.signal
import torch

from tts.core.audio import DEFAULT_AUDIO, stft
from tts.core.vocoder import Vocoder
from vocoder import Denoiser, GriffinLim, WaveGlow, WaveGlowConfig
from vocoder.denoiser import keep_tone_bins
from vocoder.waveglow.compact import CompactWaveGlow, CompactWaveGlowConfig


class ToneVocoder(Vocoder):
    """Deterministic toy vocoder: a constant tone at fs/8 (WaveGlow's typical bias) plus exp(mel)-driven noise."""

    name = "tone"

    def __init__(self, amplitude: float = 0.1):
        super().__init__()
        self.amplitude = amplitude
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def synthesize(self, mel):
        n = mel.shape[2] * 256
        t = torch.arange(n, device=mel.device) / 22050
        # a cosine is even, so reflect padding keeps frame 0 stationary (NVIDIA takes the bias from frame 0)
        return (self.amplitude * torch.cos(2 * math.pi * 22050 / 8 * t)).expand(mel.shape[0], n)


def nvidia_style_denoise(audio: np.ndarray, bias_audio: np.ndarray, strength: float) -> np.ndarray:
    """NVIDIA's STFT (Fourier-basis conv, reflect pad, pinv-basis transposed conv, window-sum
    normalisation, x n_fft/hop, trim n_fft/2) applied to denoising, in float64 numpy."""
    n_fft, hop = 1024, 256
    window = scipy.signal.get_window("hann", n_fft, fftbins=True)
    fourier = np.fft.fft(np.eye(n_fft))[: n_fft // 2 + 1]
    basis = np.vstack([fourier.real, fourier.imag])  # [1026, 1024]
    forward_basis = basis * window
    scaled = n_fft / hop * basis
    # pinv of a full-column-rank matrix, (A^T A)^-1 A^T (the two all-zero sine rows do not reduce the rank)
    inverse_basis = np.linalg.solve(scaled.T @ scaled, scaled.T).T * window  # [1026, 1024]

    def transform(x):
        x = np.pad(x, n_fft // 2, mode="reflect")
        frames = 1 + (len(x) - n_fft) // hop
        idx = np.arange(n_fft)[None] + hop * np.arange(frames)[:, None]
        out = forward_basis @ x[idx].T  # [1026, frames]
        re, im = out[: n_fft // 2 + 1], out[n_fft // 2 + 1 :]
        return np.sqrt(re**2 + im**2), np.arctan2(im, re)

    def inverse(magnitude, phase):
        frames = magnitude.shape[1]
        coefficients = np.vstack([magnitude * np.cos(phase), magnitude * np.sin(phase)])
        length = n_fft + hop * (frames - 1)
        out, window_sum = np.zeros(length), np.zeros(length)
        for f in range(frames):
            out[f * hop : f * hop + n_fft] += inverse_basis.T @ coefficients[:, f]
            window_sum[f * hop : f * hop + n_fft] += window**2
        nonzero = window_sum > np.finfo(np.float32).tiny
        out[nonzero] /= window_sum[nonzero]
        out *= n_fft / hop
        return out[n_fft // 2 : -(n_fft // 2)]

    bias_spec = transform(bias_audio)[0][:, :1]
    magnitude, phase = transform(audio)
    return inverse(np.maximum(magnitude - strength * bias_spec, 0.0), phase)


def test_matches_nvidia_stft_denoiser():
    torch.manual_seed(0)
    vocoder = ToneVocoder()
    denoiser = Denoiser(vocoder)
    n = 40 * 256
    audio = 0.05 * torch.randn(1, n) + vocoder.synthesize(torch.zeros(1, 80, 40))
    bias_audio = vocoder.synthesize(torch.zeros(1, 80, 88))[0].double().numpy()
    for strength in (0.0, 0.01, 0.3):
        ours = denoiser(audio, strength=strength)[0].double().numpy()
        reference = nvidia_style_denoise(audio[0].double().numpy(), bias_audio, strength)
        assert reference.shape == ours.shape == (n,)  # (n_frames - 1) * hop == n for whole hops
        assert np.max(np.abs(ours - reference)) < 1e-6, strength  # measured 6e-8


def test_removes_the_bias_tone_and_keeps_the_rest():
    vocoder = ToneVocoder(amplitude=0.2)
    denoiser = Denoiser(vocoder)
    n = 60 * 256
    t = torch.arange(n) / 22050
    speech = 0.2 * torch.sin(2 * math.pi * 440 * t)
    audio = (speech + vocoder.synthesize(torch.zeros(1, 80, 60))[0] * 0.5)[None]
    clean = denoiser(audio, strength=0.5)[0]
    tone_bin = round(22050 / 8 / (22050 / 1024))
    before, after = stft(audio).abs()[0, tone_bin, 4:-4].mean(), stft(clean[None]).abs()[0, tone_bin, 4:-4].mean()
    assert after < 0.05 * before
    inner = slice(2048, -2048)
    assert torch.allclose(clean[inner], speech[inner], atol=0.02)


def test_waveglow_bias_sigma_zero_rng_untouched_any_length():
    torch.manual_seed(1)
    model = WaveGlow(WaveGlowConfig(n_flows=2, n_early_every=4, wn_n_layers=2, wn_n_channels=8)).prepare_for_inference()
    state = torch.get_rng_state()
    denoiser = Denoiser(model)
    assert torch.equal(state, torch.get_rng_state())
    with torch.no_grad():
        expected = stft(model.synthesize(torch.zeros(1, 80, 88), sigma=0.0)).abs()[0, :, :1]
    assert torch.allclose(denoiser.bias_spec, expected)
    audio = 0.1 * torch.randn(2, 5000)  # not a multiple of the hop: length is kept
    out = denoiser(audio)
    assert out.shape == audio.shape and out.dtype == torch.float32
    assert torch.allclose(denoiser(audio, strength=0.0), audio, atol=1e-5)
    assert denoiser(audio[0]).shape == (5000,)
    bf16 = Denoiser(model.to(torch.bfloat16))
    assert bf16.bias_spec.dtype == torch.float32
    assert bf16(audio.bfloat16()).dtype == torch.float32
    for bad in (-0.1, 0.6):
        with pytest.raises(ValueError):
            denoiser(audio, strength=bad)


def test_griffin_lim_bias():
    denoiser = Denoiser(GriffinLim(n_iters=4))
    assert denoiser.bias_spec.shape == (DEFAULT_AUDIO.filter_length // 2 + 1, 1)
    assert torch.isfinite(denoiser.bias_spec).all()


def test_keep_tone_bins_keeps_the_multiples_of_fs_over_the_period():
    spectrum = torch.arange(1.0, 514.0)[:, None]  # [513, 1]: every bin nonzero
    kept = keep_tone_bins(spectrum, n_fft=1024, period=128)
    bins = torch.nonzero(kept[:, 0]).flatten()
    assert bins.tolist() == list(range(8, 513, 8))  # 172.3 Hz apart, up to fs/2
    assert torch.equal(kept[bins], spectrum[bins])
    odd = torch.nonzero(keep_tone_bins(spectrum, n_fft=1024, period=96)[:, 0]).flatten()
    assert odd[:3].tolist() == [11, 21, 32]  # 10.67 k rounded: between bins, the nearest one
    with pytest.raises(ValueError, match="at least 2"):
        keep_tone_bins(spectrum, 1024, 1)


def test_compact_waveglow_bias_is_its_group_tones_only():
    torch.manual_seed(0)
    model = CompactWaveGlow(CompactWaveGlowConfig(n_flows=2, n_group=64, n_early_every=2, n_early_size=8, wn_n_layers=2,
                                                  wn_n_channels=16, pulse_excitation=False, lp_order=0))
    with torch.no_grad():  # an untrained flow ends in zero-initialised layers: give its output something to say
        for name, param in model.named_parameters():
            if ".end." in name:
                param.normal_(0, 0.1)
    model = model.prepare_for_inference()
    assert model.bias_tone_period == 64
    bias = Denoiser(model).bias_spec[:, 0]
    with torch.no_grad():
        full = stft(model.synthesize(torch.zeros(1, 80, 88), sigma=0.0)).abs()[0, :, 0]
    tones = torch.arange(16, 513, 16)  # 1024 / 64: every 16th bin
    assert torch.equal(bias[tones], full[tones])
    others = torch.ones(513, dtype=torch.bool)
    others[tones] = False
    assert not bias[others].any() and full[others].any()

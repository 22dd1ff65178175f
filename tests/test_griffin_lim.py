"""Griffin-Lim: inverts a mel of a speech-like signal to audio whose spectrum matches it."""
import math

import pytest
import torch

from tts.core.audio import mel_basis, mel_spectrogram, stft
from vocoder import VOCODERS, GriffinLim
from vocoder.griffin_lim import mel_to_linear


def speechlike(n: int = 22050, sr: int = 22050, seed: int = 0) -> torch.Tensor:
    """Harmonic series with vibrato and a gliding pitch under a syllable envelope, plus noise bursts."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n, dtype=torch.float64) / sr
    f0 = 140 + 20 * torch.sin(2 * math.pi * 5 * t) + 30 * t
    phase = 2 * math.pi * torch.cumsum(f0, 0) / sr
    envelope = 0.5 * (1 - torch.cos(2 * math.pi * 3 * t))
    voiced = sum(torch.sin(k * phase) / k for k in range(1, 40) if k * 190 < 7500) * envelope
    bursts = ((t % 0.33) < 0.05).to(torch.float64) * 0.3 * torch.randn(n, generator=g, dtype=torch.float64)
    x = voiced + bursts
    return (0.5 * x / x.abs().max()).float()


def spectral_convergence(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    return (torch.linalg.norm(reference - estimate) / torch.linalg.norm(reference)).item()


def test_griffin_lim_reconstructs_a_speechlike_signal():
    x = speechlike()
    mel = mel_spectrogram(x)[None]  # [1, 80, F]
    y = GriffinLim()(mel)
    assert y.shape == (1, mel.shape[2] * 256) and y.dtype == torch.float32
    mel_y = mel_spectrogram(y[0])[None][:, :, : mel.shape[2]]
    # measured: mel SC 0.074, log-mel L1 0.19, linear SC 0.21 (0-8 kHz content only; no mel filter above)
    assert spectral_convergence(mel.exp(), mel_y.exp()) < 0.12
    assert (mel_y - mel).abs().mean() < 0.3
    assert spectral_convergence(stft(x[None]).abs(), stft(y[:, : x.shape[0]]).abs()) < 0.3
    # and the iterations are what does it: the random-phase start is far off (SC ~0.6)
    y0 = GriffinLim(n_iters=0)(mel)
    assert spectral_convergence(mel.exp(), mel_spectrogram(y0[0])[None][:, :, : mel.shape[2]].exp()) > 0.4


def test_nnls_beats_clamped_pseudo_inverse_and_stays_non_negative():
    x = speechlike(8192, seed=1)
    magnitude = stft(x[None]).abs()
    basis = mel_basis()
    target = basis @ magnitude
    clamped = mel_to_linear(target, basis, n_iters=0)
    nnls = mel_to_linear(target, basis, n_iters=30)
    assert nnls.min() >= 0 and clamped.min() >= 0
    assert torch.linalg.norm(basis @ nnls - target) < 0.8 * torch.linalg.norm(basis @ clamped - target)


def test_deterministic_batched_and_leaves_rng_alone():
    mel = torch.stack([mel_spectrogram(speechlike(4096, seed=s)) for s in (2, 3)])
    gl = GriffinLim(n_iters=8)
    state = torch.get_rng_state()
    a = gl(mel)
    assert torch.equal(state, torch.get_rng_state())
    assert torch.equal(a, gl(mel))
    assert torch.allclose(a[1:], gl(mel[1:]), atol=1e-5)
    assert a.abs().max() <= 1.0


def test_registry_and_arguments():
    gl = VOCODERS.load("griffin-lim", None, device="cpu", dtype=torch.bfloat16)
    assert isinstance(gl, GriffinLim) and not VOCODERS.get("griffin-lim").needs_weights
    assert gl(torch.full((1, 80, 3), -11.5)).dtype == torch.float32
    with pytest.raises(ValueError):
        GriffinLim(momentum=1.0)
    with pytest.raises(ValueError):
        gl(torch.zeros(1, 81, 3))

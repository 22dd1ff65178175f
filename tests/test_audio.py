"""The shared mel definition against an independent computation written from its definition."""
import math

import librosa
import numpy as np
import pytest
import torch

from tts.core.audio import AudioSettings, mel_spectrogram, n_frames


def reference_mel(audio: np.ndarray, s: AudioSettings) -> np.ndarray:
    """NVIDIA's definition by hand: reflect pad, periodic Hann frames, |DFT|, Slaney mel, ln(clamp)."""
    pad = s.filter_length // 2
    x = np.pad(audio.astype(np.float64), pad, mode="reflect")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(s.win_length) / s.win_length)
    frames = 1 + (len(x) - s.filter_length) // s.hop_length
    idx = np.arange(s.filter_length)[None, :] + s.hop_length * np.arange(frames)[:, None]
    spectrum = np.abs(np.fft.rfft(x[idx] * window, n=s.filter_length, axis=1)).T  # [513, frames]
    basis = librosa.filters.mel(sr=s.sampling_rate, n_fft=s.filter_length, n_mels=s.n_mel_channels,
                                fmin=s.mel_fmin, fmax=s.mel_fmax, htk=False, norm="slaney")
    return np.log(np.maximum(basis @ spectrum, s.log_clamp))


@pytest.mark.parametrize("n", [22050, 4097, 1025])
def test_mel_matches_independent_reference(n):
    rng = np.random.default_rng(n)
    t = np.arange(n) / 22050
    audio = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * rng.standard_normal(n)
    audio = np.clip(audio, -1, 1).astype(np.float32)
    s = AudioSettings()
    ours = mel_spectrogram(torch.from_numpy(audio), s).numpy()
    ref = reference_mel(audio, s)
    assert ours.shape == ref.shape == (80, n_frames(n, s))
    assert np.max(np.abs(ours - ref)) < 1e-4


def test_silence_is_clamp_floor_and_batch_matches_single():
    s = AudioSettings()
    silent = mel_spectrogram(torch.zeros(2048), s)
    assert torch.allclose(silent, torch.full_like(silent, math.log(1e-5)))
    batch = torch.randn(3, 5000).clamp(-1, 1) * 0.5
    mels = mel_spectrogram(batch, s)
    for i in range(3):
        assert torch.allclose(mels[i], mel_spectrogram(batch[i], s), atol=1e-5)


def test_settings_roundtrip_and_mismatch_error():
    s = AudioSettings()
    assert AudioSettings.from_dict(s.to_dict()) == s
    other = AudioSettings(sampling_rate=16000)
    with pytest.raises(ValueError, match="sampling_rate"):
        s.check_compatible(other)
    with pytest.raises(ValueError, match="unknown"):
        AudioSettings.from_dict({"sample_rate": 1})


def test_mel_filter_bank_equals_librosas_without_importing_it():
    """The filter bank is computed as librosa.filters.mel does (bit for bit for NVIDIA's settings),
    so start-up does not pay librosa's import (scipy, numba: over a second)."""
    import subprocess
    import sys

    import librosa
    import numpy as np

    from tts.core.audio import AudioSettings, _mel_basis_numpy

    for settings in (AudioSettings(), AudioSettings(sampling_rate=16000, filter_length=512, n_mel_channels=64,
                                                    mel_fmin=50.0, mel_fmax=7000.0)):
        expected = librosa.filters.mel(sr=settings.sampling_rate, n_fft=settings.filter_length,
                                       n_mels=settings.n_mel_channels, fmin=settings.mel_fmin, fmax=settings.mel_fmax)
        np.testing.assert_allclose(_mel_basis_numpy(settings), expected, rtol=0, atol=1e-12)
    assert np.array_equal(_mel_basis_numpy(AudioSettings()), librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80,
                                                                                 fmin=0.0, fmax=8000.0))
    probe = "import sys, tts.runtime.pipeline; print('librosa' in sys.modules, 'scipy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.split() == ["False", "False"]

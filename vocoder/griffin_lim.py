"""Griffin-Lim: a vocoder without weights.

The log-mel spectrogram is turned back into a linear STFT magnitude (mel filter bank inverted by
non-negative least squares), then a phase consistent with that magnitude is estimated by the fast
Griffin-Lim algorithm (Perraudin, Balazs, Søndergaard 2013: Griffin & Lim's alternating projections
with momentum). Quality is well below WaveGlow's, but it needs no checkpoint, runs anywhere and is
useful as a fallback and for checking a mel predictor.
"""
from __future__ import annotations

from types import MappingProxyType

import torch

from tts.core.audio import DEFAULT_AUDIO, AudioSettings, istft, mel_basis, stft
from tts.core.vocoder import Vocoder


def mel_to_linear(mel_magnitude: torch.Tensor, basis: torch.Tensor, n_iters: int = 30) -> torch.Tensor:
    """Non-negative least squares: argmin_{S >= 0} ||basis @ S - M||^2 per frame.

    mel_magnitude M [B, n_mels, F], basis [n_mels, n_freq] -> S [B, n_freq, F]. Starts from the
    pseudo-inverse solution clamped at 0, then runs accelerated projected gradient (FISTA) steps
    with step 1 / ||basis||_2^2.
    """
    pinv = torch.linalg.pinv(basis)  # [n_freq, n_mels]
    S = torch.matmul(pinv, mel_magnitude).clamp_(min=0)
    if n_iters <= 0:
        return S
    gram = basis.T @ basis  # [n_freq, n_freq]
    target = torch.matmul(basis.T, mel_magnitude)  # [B, n_freq, F]
    step = 1.0 / torch.linalg.matrix_norm(basis, ord=2) ** 2
    Y, t = S, 1.0
    for _ in range(n_iters):
        S_next = (Y - step * (torch.matmul(gram, Y) - target)).clamp_(min=0)
        t_next = (1 + (1 + 4 * t * t) ** 0.5) / 2
        Y = S_next + ((t - 1) / t_next) * (S_next - S)
        S, t = S_next, t_next
    return S


class GriffinLim(Vocoder):
    """mel [B, 80, T] -> audio [B, T * 256] by NNLS mel inversion + fast Griffin-Lim."""

    name = "griffin-lim"
    needs_weights = False
    deterministic_kwargs = MappingProxyType({})  # already deterministic (seeded initial phase)

    def __init__(
        self,
        n_iters: int = 60,
        momentum: float = 0.99,
        power: float = 1.0,
        nnls_iters: int = 30,
        seed: int = 0,
        audio: AudioSettings = DEFAULT_AUDIO,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        super().__init__(audio)
        if n_iters < 0 or nnls_iters < 0:
            raise ValueError(f"iteration counts must be >= 0, got n_iters={n_iters}, nnls_iters={nnls_iters}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if power <= 0:
            raise ValueError(f"power must be > 0, got {power}")
        self.n_iters, self.momentum, self.power, self.nnls_iters, self.seed = n_iters, momentum, power, nnls_iters, seed
        # STFT and NNLS run in float32 (float64 if asked): half precision is not reliable for them
        self.compute_dtype = torch.float64 if dtype == torch.float64 else torch.float32
        # no weights to move: `device` is accepted for the registry's uniform signature; synthesis
        # runs on the mel's device

    def synthesize(
        self,
        mel: torch.Tensor,
        n_iters: int | None = None,
        momentum: float | None = None,
        power: float | None = None,
        seed: int | None = None,
    ) -> torch.Tensor:
        """mel [B, n_mels, T] (log magnitude, `tts.core.audio` definition) -> audio [B, T * hop]."""
        n_iters = self.n_iters if n_iters is None else n_iters
        momentum = self.momentum if momentum is None else momentum
        power = self.power if power is None else power
        seed = self.seed if seed is None else seed
        device = mel.device
        compute_dtype = self.compute_dtype
        basis = mel_basis(self.audio, device=device, dtype=compute_dtype)
        mel = mel.to(device=device, dtype=compute_dtype)
        B, _, T = mel.shape
        hop = self.audio.hop_length
        length = T * hop

        magnitude = mel_to_linear(torch.exp(mel), basis, self.nnls_iters) ** power
        # the STFT of T * hop samples has T + 1 frames (centred frames): repeat the last one
        magnitude = torch.cat([magnitude, magnitude[:, :, -1:]], dim=2)

        # random initial phase from a private generator: deterministic and leaves the global RNG alone
        # (the same for every batch item, so an item's audio does not depend on its batch)
        generator = torch.Generator(device="cpu").manual_seed(seed)
        phase = torch.rand(magnitude.shape[1:], generator=generator, dtype=compute_dtype).to(mel.device) * (2 * torch.pi)
        spec = magnitude * torch.exp(1j * phase)
        previous = None
        # FGLA: c_n = P_C1(P_C2(t_{n-1})), t_n = c_n + alpha (c_n - c_{n-1})
        for _ in range(n_iters):
            projected = stft(istft(self._with_magnitude(spec, magnitude), self.audio, length), self.audio)
            spec = projected if previous is None else projected + momentum * (projected - previous)
            previous = projected
        return istft(self._with_magnitude(spec, magnitude), self.audio, length).float()

    @staticmethod
    def _with_magnitude(spec: torch.Tensor, magnitude: torch.Tensor) -> torch.Tensor:
        """Projection on the set of spectrograms with the target magnitude (keep the phase)."""
        return magnitude * spec / spec.abs().clamp(min=1e-8)


def load_griffin_lim(path=None, **kwargs) -> GriffinLim:
    """The registry's loader: Griffin-Lim has no weights (`path` is ignored), only settings."""
    return GriffinLim(**kwargs)

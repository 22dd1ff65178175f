"""FloWaveNet (Kim et al., "FloWaveNet: A Generative Flow for Raw Audio", ICML 2019) as a mel vocoder.

A normalising flow x (audio) -> z (Gaussian) trained in one stage by maximum likelihood, sampled
in parallel by running it backwards from temperature-scaled Gaussian noise:

* `n_blocks` context blocks. Each starts with a **squeeze** ([B, C, T] -> [B, 2C, T/2], even and
  odd samples become channels; the upsampled mel is squeezed the same way, so it stays aligned),
  then `n_flows` flows of **ActNorm** (per-channel affine, data-dependent initialisation on the
  first training batch: zero mean, unit variance per channel) -> **affine coupling** (x_a passes,
  x_b' = (x_b - t) · exp(-log s) with (log s, t) from a non-causal WaveNet on x_a and the mel) ->
  **change order** (swap the two channel halves so the next coupling transforms the other half).
* multi-scale: after every `block_per_split` blocks (except the last) half of the channels are
  factored out and modelled by a Gaussian whose mean and log-sd a small WaveNet computes from the
  remaining channels and the mel (as in Glow and the authors' code).
* loss: -log p(x) = -(log N(z) + log p(split parts) + sum log|det J|), reported in nats per audio
  sample (`loss`) and bits per sample (`bits_per_dim`). No dequantisation noise is added (as in the
  paper and the authors' code; audio is treated as continuous).
* sampling: every Gaussian draw is scaled by `temperature` (z ~ N(0, T^2), the authors' "temp").

Coupling WaveNets follow the authors' code (ksw0306/FloWaveNet): front 3-tap conv + ReLU, `n_layers`
gated layers with dilation 2^l and 1x1 mel conditioning, residual (h + res) · sqrt(1/2), summed
skips, ReLU -> 1x1 -> ReLU -> zero-initialised 1x1 with a learned exp(3 · scale) gain, weight norm on
the other convolutions. With `half_conditioning` (default, the authors' code and the parameter count
the paper reports, 182.6 M) each coupling sees one half of the squeezed mel channels (the change of
order swaps the halves of the mel too, so consecutive couplings alternate between the lower and the
upper 40 bands); False gives every coupling all channels (308 M parameters at the paper's size).

Mel: the original trains on librosa *power* mels (n_fft 1024, hop 256, 80 bands, fmin 125 Hz,
fmax 7600 Hz, 20·log10 minus 20 dB, clipped to [0, 1] over 100 dB) of peak-normalised audio. Here
it is the project's mel (`tts.core.audio`: magnitude mels 0–8000 Hz, natural log clamped at 1e-5, the
same as Tacotron 2 predicts), mapped to about [0, 1] by (mel - ln 1e-5) / -ln 1e-5, and the audio
is not peak-normalised; hop and upsampling (two transposed 2-D convs ×16 ×16 with 3-band height,
leaky ReLU 0.4) are as in the original. A model trained on the original features cannot be used
here; retrain on the project's mels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from tts.core.config import Config
from tts.core.audio import DEFAULT_AUDIO, AudioSettings
from tts.core.serialization import load_project_model, make_project_checkpoint, save_project_checkpoint
from tts.core.vocoder import Vocoder, match_mel_to_audio

LOG_2PI = math.log(2 * math.pi)


@dataclass
class FloWaveNetConfig(Config):
    """Hyper-parameters; defaults are the authors' published model (8 blocks × 6 flows, 2-layer
    256-channel WaveNets, a split every 4 blocks)."""

    n_mel_channels: int = 80
    hop_length: int = 256
    n_blocks: int = 8
    n_flows: int = 6
    n_layers: int = 2
    channels: int = 256  # residual = gate = skip channels of every coupling WaveNet
    kernel_size: int = 3
    block_per_split: int = 4
    prior_layers: int = 2
    half_conditioning: bool = True
    upsample_scales: tuple[int, ...] = (16, 16)

    def __post_init__(self) -> None:
        self.upsample_scales = tuple(int(s) for s in self.upsample_scales)
        if math.prod(self.upsample_scales) != self.hop_length:
            raise ValueError(f"upsample_scales {self.upsample_scales} must multiply to hop_length {self.hop_length}")
        if any(s % 2 for s in self.upsample_scales):
            raise ValueError(f"upsample_scales must be even (kernel 2s, padding s/2), got {self.upsample_scales}")
        if min(self.n_blocks, self.n_flows, self.n_layers, self.channels, self.block_per_split, self.prior_layers) < 1:
            raise ValueError("n_blocks, n_flows, n_layers, channels, block_per_split and prior_layers must be >= 1")
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (non-causal 'same' convolution), got {self.kernel_size}")
        if self.hop_length % (2 ** self.n_blocks):
            raise ValueError(f"hop_length {self.hop_length} must be a multiple of 2^n_blocks = {2 ** self.n_blocks} "
                             "(every utterance is squeezed n_blocks times)")

    def is_split(self, block: int) -> bool:
        """Whether half of the channels are factored out at the end of `block` (0-based)."""
        return (block + 1) % self.block_per_split == 0 and block != self.n_blocks - 1


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """[B, C, T] -> [B, 2C, T/2]; channel 2c + p holds samples 2t + p of channel c."""
    batch, channels, length = x.shape
    if length % 2:
        raise ValueError(f"cannot squeeze an odd length {length}")
    return x.view(batch, channels, length // 2, 2).transpose(2, 3).reshape(batch, 2 * channels, length // 2)


def unsqueeze(x: torch.Tensor) -> torch.Tensor:
    """Inverse of `squeeze`: [B, 2C, T] -> [B, C, 2T]."""
    batch, channels, length = x.shape
    return x.view(batch, channels // 2, 2, length).transpose(2, 3).reshape(batch, channels // 2, 2 * length)


def swap_halves(x: torch.Tensor) -> torch.Tensor:
    a, b = x.chunk(2, dim=1)
    return torch.cat([b, a], dim=1)


def gaussian_log_p(x: torch.Tensor, mean: torch.Tensor, log_sd: torch.Tensor) -> torch.Tensor:
    return -0.5 * LOG_2PI - log_sd - 0.5 * (x - mean) ** 2 * torch.exp(-2 * log_sd)


def normalize_mel(mel: torch.Tensor, audio: AudioSettings) -> torch.Tensor:
    """Log-mel -> about [0, 1]: digital silence (ln 1e-5) maps to 0, ln(1) to 1."""
    floor = audio.silence_level
    return (mel - floor) / -floor


class ActNorm(nn.Module):
    """y = (x + loc) · exp(log_scale) per channel; loc and log_scale are set from the first training
    batch so that y has zero mean and unit variance per channel (Glow's data-dependent init)."""

    def __init__(self, channels: int):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(1, channels, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        flat = x.transpose(0, 1).reshape(x.shape[1], -1).float()
        mean, std = flat.mean(dim=1), flat.std(dim=1)
        self.loc.copy_(-mean.view(1, -1, 1))
        self.log_scale.copy_(-torch.log(std + 1e-6).view(1, -1, 1))
        self.initialized.fill_(True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (y, log|det| per batch item [B])."""
        if self.training and not bool(self.initialized):
            self.initialize(x)
        y = (x + self.loc) * torch.exp(self.log_scale)
        logdet = self.log_scale.sum() * x.shape[2]
        return y, logdet.expand(x.shape[0])

    def reverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * torch.exp(-self.log_scale) - self.loc


class ZeroConv1d(nn.Module):
    """1x1 conv starting at zero (so every coupling starts as the identity) with a learned gain exp(3 s)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, 1)
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)
        self.scale = nn.Parameter(torch.zeros(1, out_channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * torch.exp(self.scale * 3)


def _wn_conv(in_channels: int, out_channels: int, kernel_size: int = 1, dilation: int = 1) -> nn.Conv1d:
    padding = dilation * (kernel_size - 1) // 2  # non-causal "same"
    return weight_norm(nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation, padding=padding))


class NonCausalWaveNet(nn.Module):
    """x [B, in, T], cond [B, cond, T] -> [B, out, T] (the authors' coupling / prior network)."""

    def __init__(self, in_channels: int, out_channels: int, cond_channels: int, channels: int, n_layers: int, kernel_size: int):
        super().__init__()
        self.channels, self.n_layers = channels, n_layers
        self.front = _wn_conv(in_channels, channels, 3)
        self.dilated = nn.ModuleList(_wn_conv(channels, 2 * channels, kernel_size, 2**i) for i in range(n_layers))
        self.cond = _wn_conv(cond_channels, 2 * channels * n_layers)  # all layers' 1x1 mel projections at once
        self.res = nn.ModuleList(_wn_conv(channels, channels) for _ in range(n_layers))
        self.skip = nn.ModuleList(_wn_conv(channels, channels) for _ in range(n_layers))
        self.out = _wn_conv(channels, channels)
        self.end = ZeroConv1d(channels, out_channels)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        c = self.channels
        h = torch.relu(self.front(x))
        cond = self.cond(cond)
        skip = torch.zeros_like(h)
        for i in range(self.n_layers):
            z = self.dilated[i](h) + cond[:, 2 * c * i : 2 * c * (i + 1)]
            acts = torch.tanh(z[:, :c]) * torch.sigmoid(z[:, c:])
            h = (h + self.res[i](acts)) * math.sqrt(0.5)
            skip = skip + self.skip[i](acts)
        return self.end(torch.relu(self.out(torch.relu(skip))))


class AffineCoupling(nn.Module):
    """x = [x_a, x_b] -> [x_a, (x_b - t) · exp(-log s)] with (log s, t) = WaveNet(x_a, cond)."""

    def __init__(self, channels: int, cond_channels: int, config: FloWaveNetConfig):
        super().__init__()
        self.net = NonCausalWaveNet(channels // 2, channels, cond_channels, config.channels, config.n_layers, config.kernel_size)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x_a, x_b = x.chunk(2, dim=1)
        log_s, t = self.net(x_a, cond).chunk(2, dim=1)
        y_b = (x_b - t) * torch.exp(-log_s)
        return torch.cat([x_a, y_b], dim=1), -log_s.sum(dim=(1, 2))

    def reverse(self, y: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        y_a, y_b = y.chunk(2, dim=1)
        log_s, t = self.net(y_a, cond).chunk(2, dim=1)
        return torch.cat([y_a, y_b * torch.exp(log_s) + t], dim=1)


class Flow(nn.Module):
    """ActNorm -> affine coupling -> change of order (swap the halves of x).

    With half conditioning the coupling sees one half of the squeezed mel. The authors' code also
    swaps the mel's halves at every change of order; swapping commutes with the squeeze, so here
    the mel stays in place and `half` (0 or 1) says which half that swapping would have put first
    (the same function without copying the whole conditioning at every flow).
    """

    def __init__(self, channels: int, cond_channels: int, config: FloWaveNetConfig):
        super().__init__()
        self.half_conditioning = config.half_conditioning
        self.actnorm = ActNorm(channels)
        self.coupling = AffineCoupling(channels, cond_channels // 2 if self.half_conditioning else cond_channels, config)

    def _cond(self, cond: torch.Tensor, half: int) -> torch.Tensor:
        return cond.chunk(2, dim=1)[half] if self.half_conditioning else cond

    def forward(self, x: torch.Tensor, cond: torch.Tensor, half: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        y, logdet = self.actnorm(x)
        y, det = self.coupling(y, self._cond(cond, half))
        return swap_halves(y), logdet + det

    def reverse(self, y: torch.Tensor, cond: torch.Tensor, half: int = 0) -> torch.Tensor:
        return self.actnorm.reverse(self.coupling.reverse(swap_halves(y), self._cond(cond, half)))


class ContextBlock(nn.Module):
    """squeeze -> n_flows flows -> (optionally) factor out half of the channels with a learned prior.

    `parity` counts (mod 2) the mel swaps of the authors' code before this block: flow j conditions
    on half (parity + j) % 2, the prior on the whole mel swapped (parity + n_flows) % 2 times.
    """

    def __init__(self, in_channels: int, cond_channels: int, split: bool, config: FloWaveNetConfig):
        super().__init__()
        channels, cond_channels = 2 * in_channels, 2 * cond_channels
        self.half_conditioning = config.half_conditioning
        self.flows = nn.ModuleList(Flow(channels, cond_channels, config) for _ in range(config.n_flows))
        self.prior = (
            NonCausalWaveNet(channels // 2, channels, cond_channels, config.channels, config.prior_layers, config.kernel_size)
            if split
            else None
        )

    def parity_after(self, parity: int) -> int:
        return (parity + len(self.flows)) % 2 if self.half_conditioning else 0

    def _prior(self, x: torch.Tensor, cond: torch.Tensor, parity: int) -> tuple[torch.Tensor, torch.Tensor]:
        assert self.prior is not None
        cond = swap_halves(cond) if self.parity_after(parity) else cond
        mean, log_sd = self.prior(x, cond).chunk(2, dim=1)
        return mean, log_sd

    def forward(self, x: torch.Tensor, cond: torch.Tensor, parity: int = 0):
        """x, cond at the previous scale -> (kept x, squeezed cond, factored-out z or None, log p(z) [B], log|det| [B])."""
        x, cond = squeeze(x), squeeze(cond)
        logdet = x.new_zeros(x.shape[0])
        for j, flow in enumerate(self.flows):
            x, det = flow(x, cond, (parity + j) % 2)
            logdet = logdet + det
        z, log_p = None, x.new_zeros(x.shape[0])
        if self.prior is not None:
            x, z = x.chunk(2, dim=1)
            mean, log_sd = self._prior(x, cond, parity)
            log_p = gaussian_log_p(z, mean, log_sd).sum(dim=(1, 2))
        return x, cond, z, log_p, logdet

    def reverse(self, x: torch.Tensor, cond: torch.Tensor, parity: int = 0, eps: torch.Tensor | None = None) -> torch.Tensor:
        """`cond`: this block's squeezed conditioning; eps: the (temperature-scaled) noise of the split part."""
        if self.prior is not None:
            mean, log_sd = self._prior(x, cond, parity)
            x = torch.cat([x, mean + torch.exp(log_sd) * eps], dim=1)
        for j in reversed(range(len(self.flows))):
            x = self.flows[j].reverse(x, cond, (parity + j) % 2)
        return unsqueeze(x)


class ConditionUpsampler(nn.Module):
    """mel [B, 80, T] -> [B, 80, T * hop]: transposed 2-D convs (kernel 3 × 2s, stride 1 × s) + leaky ReLU 0.4."""

    def __init__(self, scales: tuple[int, ...]):
        super().__init__()
        self.layers = nn.ModuleList(
            weight_norm(nn.ConvTranspose2d(1, 1, (3, 2 * s), stride=(1, s), padding=(1, s // 2))) for s in scales
        )

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        c = mel.unsqueeze(1)
        for layer in self.layers:
            c = F.leaky_relu(layer(c), 0.4)
        return c.squeeze(1)


# ----------------------------------------------------------------------------------------------
# The model


class FloWaveNet(Vocoder):
    """FloWaveNet vocoder: mel [B, 80, T] -> audio [B, T * 256] (see the module docstring)."""

    name = "flowavenet"
    needs_weights = True
    #: kwargs that make `synthesize` deterministic (used by the Denoiser for its bias spectrum)
    deterministic_kwargs = {"temperature": 0.0}

    def __init__(self, config: FloWaveNetConfig | None = None, audio: AudioSettings = DEFAULT_AUDIO):
        super().__init__(audio)
        config = config or FloWaveNetConfig()
        if config.n_mel_channels != audio.n_mel_channels or config.hop_length != audio.hop_length:
            raise ValueError(
                f"FloWaveNet config (n_mel_channels={config.n_mel_channels}, hop_length={config.hop_length}) does not "
                f"match the audio settings (n_mel_channels={audio.n_mel_channels}, hop_length={audio.hop_length})"
            )
        self.config = config
        self.upsampler = ConditionUpsampler(config.upsample_scales)
        self.blocks = nn.ModuleList()
        channels, cond_channels = 1, config.n_mel_channels
        for k in range(config.n_blocks):
            split = config.is_split(k)
            self.blocks.append(ContextBlock(channels, cond_channels, split, config))
            cond_channels *= 2
            channels = channels if split else 2 * channels  # squeeze doubles, a split halves
        self.out_channels = channels

    # -- likelihood ----------------------------------------------------------------------------

    def conditioning(self, mel: torch.Tensor) -> torch.Tensor:
        """mel [B, 80, T] -> upsampled conditioning [B, 80, T * hop]."""
        return self.upsampler(normalize_mel(mel, self.audio))

    def encode(self, mel: torch.Tensor, audio: torch.Tensor):
        """audio [B, N] -> (z list: factored-out parts then the final one, log p(split parts) [B], log|det J| [B])."""
        mel = match_mel_to_audio(mel, audio, self.audio)
        cond = self.conditioning(mel.to(audio.dtype))
        x = audio.unsqueeze(1)
        zs, log_p, logdet = [], audio.new_zeros(audio.shape[0]), audio.new_zeros(audio.shape[0])
        parity = 0
        for block in self.blocks:
            x, cond, z, lp, det = block(x, cond, parity)
            parity = block.parity_after(parity)
            logdet = logdet + det
            log_p = log_p + lp
            if z is not None:
                zs.append(z)
        zs.append(x)
        return zs, log_p, logdet

    def loss_terms(self, mel: torch.Tensor, audio: torch.Tensor) -> dict[str, torch.Tensor]:
        """Negative log-likelihood per audio sample: {"loss" (nats), "bits_per_dim", "log_p", "logdet"}."""
        zs, log_p, logdet = self.encode(mel, audio)
        final = zs[-1].float()
        log_p = log_p.float() + (-0.5 * (LOG_2PI + final**2)).sum(dim=(1, 2))
        n = audio.shape[1]
        log_p, logdet = log_p.mean() / n, logdet.float().mean() / n
        nll = -(log_p + logdet)
        return {"loss": nll, "bits_per_dim": nll / math.log(2), "log_p": log_p, "logdet": logdet}

    def forward(self, mel: torch.Tensor, audio: torch.Tensor | None = None, **kwargs):
        """Without `audio`: inference (`Vocoder.forward`: float32 audio clipped to [-1, 1]).
        With `audio`: the training pass, returning `loss_terms` (first training call initialises ActNorm)."""
        if audio is None:
            # the base forward's in-place clamp_ must run inside inference mode too
            with torch.inference_mode():
                return super().forward(mel, **kwargs)
        return self.loss_terms(mel, audio)

    def training_loss(self, mel: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """Scalar NLL in nats per sample. mel [B, n_mels, T] (or T + 1 frames, last dropped), audio [B, T * hop]."""
        return self(mel, audio)["loss"]

    @torch.no_grad()
    def initialize_actnorm(self, mel: torch.Tensor, audio: torch.Tensor) -> None:
        """Data-dependent ActNorm initialisation on one batch (call once before wrapping the model
        in DistributedDataParallel, which then broadcasts rank 0's values)."""
        was_training = self.training
        self.train()
        self.encode(mel, audio)
        self.train(was_training)

    @property
    def actnorm_initialized(self) -> bool:
        return all(bool(m.initialized) for m in self.modules() if isinstance(m, ActNorm))

    def prepare_for_inference(self) -> "FloWaveNet":
        """Eval mode (weight norm stays: its cost is per call, not per sample)."""
        return self.eval()

    # -- sampling -----------------------------------------------------------------------------

    def block_conditions(self, cond: torch.Tensor) -> list[tuple[torch.Tensor, int]]:
        """(squeezed conditioning, mel-swap parity) of every block, as its forward pass sees them."""
        out, parity = [], 0
        for block in self.blocks:
            cond = squeeze(cond)
            out.append((cond, parity))
            parity = block.parity_after(parity)
        return out

    def synthesize(self, mel: torch.Tensor, temperature: float = 0.8, seed: int | None = None) -> torch.Tensor:
        """mel [B, 80, T] -> audio [B, T * hop] (unclipped), all latent draws scaled by `temperature`."""
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        param = self.blocks[0].flows[0].actnorm.loc
        mel = mel.to(device=param.device, dtype=param.dtype)
        batch, _, frames = mel.shape
        n = frames * self.audio.hop_length
        if frames == 0:
            return mel.new_zeros(batch, 0)
        conds = self.block_conditions(self.conditioning(mel))
        generator = torch.Generator(device="cpu")
        generator.manual_seed(torch.seed() if seed is None else seed)

        def noise(channels: int, length: int) -> torch.Tensor:
            eps = torch.randn(batch, channels, length, generator=generator)
            return (eps * temperature).to(device=param.device, dtype=param.dtype)

        x = noise(self.out_channels, n >> self.config.n_blocks)
        for k in reversed(range(self.config.n_blocks)):
            block = self.blocks[k]
            eps = noise(x.shape[1], x.shape[2]) if block.prior is not None else None
            cond, parity = conds[k]
            x = block.reverse(x, cond, parity, eps)
        return x.squeeze(1)


# ----------------------------------------------------------------------------------------------
# Checkpoints


def save_flowavenet(model: FloWaveNet, path: str | Path, extra: Mapping[str, Any] | None = None) -> Path:
    """Write `model` in the project's checkpoint format (model name "flowavenet")."""
    if not model.actnorm_initialized:
        raise ValueError("refusing to save a FloWaveNet whose ActNorm layers were never initialised (train it first)")
    ckpt = make_project_checkpoint("flowavenet", model.config.to_dict(), model.state_dict(), model.audio, extra)
    return save_project_checkpoint(path, ckpt)


def load_flowavenet(
    path: str | Path,
    map_location: Any = "cpu",
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> FloWaveNet:
    """Read a project "flowavenet" checkpoint; returns the model in eval mode on `device` / `dtype`."""
    return load_project_model(path, "flowavenet", FloWaveNet, FloWaveNetConfig, map_location, device, dtype)


def load_flowavenet_vocoder(path: str | Path | None, *, device=None, dtype=None, **kwargs) -> FloWaveNet:
    """Registry loader: `VOCODERS.load("flowavenet", path, device=..., dtype=...)`."""
    if path is None:
        raise ValueError("the flowavenet vocoder needs a checkpoint file")
    return load_flowavenet(path, device=device, dtype=dtype, **kwargs)

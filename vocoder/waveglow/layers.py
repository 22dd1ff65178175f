"""The pieces every WaveGlow-style flow shares (NVIDIA's WaveGlow and the compact variant):
weight-normalised convolutions that fold for inference, Glow's invertible 1x1 convolution, the
early-output layout of the flow stack, and switching a flow between training and inference."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from tts.core.config import Config
from tts.core.vocoder import Vocoder


@dataclass
class FlowConfig(Config):
    """What every WaveGlow-style flow is made of, with NVIDIA's published defaults: `n_flows` steps
    on audio folded into groups of `n_group` samples, `n_early_size` channels handed out every
    `n_early_every` flows, and a coupling network of `wn_n_layers` layers of `wn_n_channels`
    channels and kernel `wn_kernel_size`. Variants subclass it and change defaults or add fields."""

    n_mel_channels: int = 80
    n_flows: int = 12
    n_group: int = 8
    n_early_every: int = 4
    n_early_size: int = 2
    wn_n_layers: int = 8
    wn_n_channels: int = 256
    wn_kernel_size: int = 3

    def __post_init__(self) -> None:
        if self.n_group % 2 or self.n_group <= 0:
            raise ValueError(f"n_group must be a positive even number, got {self.n_group}")
        if self.n_early_size % 2 or self.n_early_size < 0:
            raise ValueError(f"n_early_size must be a non-negative even number, got {self.n_early_size}")
        if self.wn_kernel_size % 2 == 0:
            raise ValueError(f"wn_kernel_size must be odd, got {self.wn_kernel_size}")
        if self.wn_n_channels % 2 or self.wn_n_channels <= 0:
            raise ValueError(f"wn_n_channels must be a positive even number, got {self.wn_n_channels}")
        if min(self.n_flows, self.n_early_every, self.wn_n_layers, self.n_mel_channels) <= 0:
            raise ValueError("n_flows, n_early_every, wn_n_layers and n_mel_channels must be positive")
        if self.flow_channels()[-1] < 2:
            raise ValueError(
                f"n_group={self.n_group} leaves no channels after the early outputs "
                f"(n_flows={self.n_flows}, n_early_every={self.n_early_every}, n_early_size={self.n_early_size})"
            )

    def is_early_output(self, k: int) -> bool:
        """Whether `n_early_size` channels leave the stack before flow k."""
        return k > 0 and k % self.n_early_every == 0

    def flow_channels(self) -> list[int]:
        """Channels entering each flow: [8, 8, 8, 8, 6, 6, 6, 6, 4, 4, 4, 4] for NVIDIA's WaveGlow."""
        channels, remaining = [], self.n_group
        for k in range(self.n_flows):
            if self.is_early_output(k):
                remaining -= self.n_early_size
            channels.append(remaining)
        return channels

    @property
    def n_remaining_channels(self) -> int:
        return self.flow_channels()[-1]


class WeightNormConv1d(nn.Conv1d):
    """Conv1d with weight normalisation w = g * v / ||v|| (Salimans & Kingma 2016), one g per output channel.

    The parameters are called `weight_g` / `weight_v` as `torch.nn.utils.weight_norm` names them, so
    NVIDIA state_dicts load strictly without key translation and without the deprecated hook-based
    API. `fold()` replaces g, v by the plain weight for inference; a folded conv still saves and
    loads g/v state_dicts (g = ||w||, v = w), so checkpoints keep one layout.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        weight = self.weight.detach()
        del self.weight
        self.weight_g = nn.Parameter(torch.linalg.vector_norm(weight, dim=(1, 2), keepdim=True))
        self.weight_v = nn.Parameter(weight.clone())
        self.folded = False

    def normalized_weight(self) -> torch.Tensor:
        if self.folded:
            return self.weight
        # the kernel torch.nn.utils.weight_norm uses: v * (g / ||v||) with the norm over dims != 0
        return torch._weight_norm(self.weight_v, self.weight_g, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.normalized_weight(), self.bias)

    @torch.no_grad()
    def fold(self) -> None:
        if self.folded:
            return
        weight = self.normalized_weight().detach()
        # stored as [out, kernel, in] in memory (a permuted view keeps the usual [out, in, kernel]
        # shape): each kernel tap is then a contiguous [out, in] matrix the packed WN multiplies by
        weight = weight.permute(0, 2, 1).contiguous().permute(0, 2, 1)
        del self.weight_g, self.weight_v
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.folded = True

    @torch.no_grad()
    def unfold(self) -> None:
        if not self.folded:
            return
        weight = self.weight.detach()
        del self.weight
        self.weight_g = nn.Parameter(torch.linalg.vector_norm(weight.float(), dim=(1, 2), keepdim=True).to(weight.dtype))
        self.weight_v = nn.Parameter(weight.clone())
        self.folded = False

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        if self.folded:
            weight = destination.pop(prefix + "weight")
            w = weight if keep_vars else weight.detach()
            destination[prefix + "weight_g"] = torch.linalg.vector_norm(w.float(), dim=(1, 2), keepdim=True).to(w.dtype)
            destination[prefix + "weight_v"] = w

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        g_key, v_key = prefix + "weight_g", prefix + "weight_v"
        if self.folded and g_key in state_dict and v_key in state_dict:
            state_dict = dict(state_dict)
            g, v = state_dict.pop(g_key), state_dict.pop(v_key)
            state_dict[prefix + "weight"] = torch._weight_norm(v.float(), g.float(), 0).to(v.dtype)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)


def tanh_(x: torch.Tensor) -> torch.Tensor:
    """In-place tanh. For float32/64 as 2 sigmoid(2x) - 1 (exact up to ~2e-7 absolute): PyTorch's CPU
    tanh is ~3.5x slower than its sigmoid here, and the WN gates are a tenth of WaveGlow's time. Lower
    precisions keep torch's tanh (the identity would double their rounding error)."""
    if x.dtype in (torch.float32, torch.float64):
        return x.mul_(2).sigmoid_().mul_(2).sub_(1)
    return x.tanh_()


class Invertible1x1Conv(nn.Module):
    """Channel mixing by an invertible matrix W (Glow's 1x1 convolution), initialised as a random
    rotation (QR of a Gaussian matrix, first column negated if det < 0).

    Forward returns (W z, log|det W| summed over batch and time); reverse applies W^-1. The module
    stays float32 under half/bfloat16 casts of the model (the inverse needs it; NVIDIA keeps
    `convinv` in fp32 for fp16 inference too).
    """

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size=1, bias=False)
        with torch.no_grad():
            W = torch.linalg.qr(torch.randn(channels, channels))[0]
            if torch.det(W) < 0:
                W[:, 0] = -W[:, 0]
            self.conv.weight.copy_(W[:, :, None])
        self.W_inverse: torch.Tensor | None = None  # set by cache_inverse(); not saved

    def _apply(self, fn, recurse=True):
        # follow device moves, refuse reduced-precision dtype casts: probe what fn does to a float32 tensor
        probe = fn(torch.zeros((), device=self.conv.weight.device))
        keep = probe.dtype if probe.dtype in (torch.float32, torch.float64) else torch.float32
        super()._apply(lambda t: t.to(device=probe.device, dtype=keep) if t.is_floating_point() else t.to(probe.device), recurse)
        if self.W_inverse is not None:
            self.W_inverse = self.W_inverse.to(probe.device)
        return self

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch_size, _, n_of_groups = z.shape
        W = self.conv.weight.squeeze(2)
        log_det_W = batch_size * n_of_groups * torch.logdet(W.float())
        return self.conv(z), log_det_W

    def inverse_weight(self) -> torch.Tensor:
        """W^-1 as a [C, C, 1] kernel: the cache if prepared, else computed now in fp32 (as the reference)."""
        if self.W_inverse is not None:
            return self.W_inverse
        return torch.linalg.inv(self.conv.weight.squeeze(2).float())[:, :, None]

    @torch.no_grad()
    def cache_inverse(self) -> None:
        W = self.conv.weight.squeeze(2)
        self.W_inverse = torch.linalg.inv(W.double()).to(W.dtype)[:, :, None]

    def reverse(self, z: torch.Tensor) -> torch.Tensor:
        if self.W_inverse is not None:  # prepared: a plain [C, C] @ [B, C, T] product
            return torch.matmul(self.W_inverse[:, :, 0], z.to(self.W_inverse.dtype))
        W_inverse = self.inverse_weight()
        return F.conv1d(z.to(W_inverse.dtype), W_inverse.to(z.device))

    def _load_from_state_dict(self, *args, **kwargs):
        self.W_inverse = None  # new weights invalidate the cached inverse
        super()._load_from_state_dict(*args, **kwargs)


def check_synthesis_input(mel: torch.Tensor, n_mel_channels: int, sigma: float) -> None:
    """What every WaveGlow's `synthesize` (PyTorch, compact, onnxruntime) refuses: a mel that is not
    [B, n_mel_channels, T], or a negative sigma."""
    if mel.dim() != 3 or mel.shape[1] != n_mel_channels:
        raise ValueError(f"expected mel [B, {n_mel_channels}, T], got {tuple(mel.shape)}")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")


class FlowVocoder(Vocoder):
    """What WaveGlow and its compact variant share as vocoders: training pass vs inference dispatch,
    and the switch between training (weight norm as (g, v), inverses recomputed) and prepared
    inference (weight norm folded, 1x1 inverses cached in float64). Subclasses define
    `flow_forward(mel, audio)` and `synthesize(mel, ...)`; `_forget_prepared()` drops anything they
    derived from the weights."""

    #: kwargs that make `synthesize` deterministic (used by the Denoiser for the bias spectrum)
    deterministic_kwargs = MappingProxyType({"sigma": 0.0})
    inference_ready = False

    def forward(self, mel: torch.Tensor, audio: torch.Tensor | None = None, **kwargs):
        """With `audio`: the training pass, returns (z, log_s_list, log_det_W_list) for `WaveGlowLoss`
        (`kwargs` go to `flow_forward`). Without: inference through `Vocoder.forward` (float32 audio
        clipped to [-1, 1])."""
        if audio is None:
            return super().forward(mel, **kwargs)
        return self.flow_forward(mel, audio, **kwargs)

    def _forget_prepared(self) -> None:
        """Drop what was derived from the weights for inference (nothing here)."""

    @torch.no_grad()
    def prepare_for_inference(self):
        """Fold weight norm, cache the 1x1 inverses (float64 -> float32), switch to eval mode."""
        fold_for_inference(self.modules())
        self.inference_ready = True
        self._forget_prepared()
        return super().train(False)

    @staticmethod
    def remove_weightnorm(model):
        """NVIDIA's name for preparing a WaveGlow for inference (weight norm folded); returns the model."""
        return model.prepare_for_inference()

    def train(self, mode: bool = True):
        if mode and self.inference_ready:
            unfold_for_training(self.modules())
            self.inference_ready = False
            self._forget_prepared()
        return super().train(mode)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        self._forget_prepared()
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        if self.inference_ready:
            recache_inverses(self.modules())
        return result


def fold_for_inference(modules: Iterable[nn.Module]) -> None:
    """Fold weight norm into plain weights and cache every 1x1 inverse (float64 -> the weight's dtype)."""
    for module in modules:
        if isinstance(module, WeightNormConv1d):
            module.fold()
        elif isinstance(module, Invertible1x1Conv):
            module.cache_inverse()


def unfold_for_training(modules: Iterable[nn.Module]) -> None:
    """Undo `fold_for_inference`: weight norm back as (g, v) parameters, cached inverses dropped."""
    for module in modules:
        if isinstance(module, WeightNormConv1d):
            module.unfold()
        elif isinstance(module, Invertible1x1Conv):
            module.W_inverse = None


def recache_inverses(modules: Iterable[nn.Module]) -> None:
    """New weights were loaded into a prepared flow: its cached 1x1 inverses are stale."""
    for module in modules:
        if isinstance(module, Invertible1x1Conv):
            module.cache_inverse()

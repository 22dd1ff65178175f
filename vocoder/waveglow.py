"""WaveGlow: a flow-based generative network for speech synthesis (Prenger, Valle, Catanzaro 2018).

Audio is folded into groups of `n_group` samples ("squeeze"), and a stack of `n_flows` flows maps
it to Gaussian noise z; each flow is an invertible 1x1 convolution (channel mixing) followed by an
affine coupling layer whose scale and shift come from a WaveNet-like network `WN` conditioned on
the upsampled mel spectrogram. Every `n_early_every` flows, `n_early_size` channels leave the stack
early. Synthesis runs the flows backwards from z ~ N(0, sigma^2).

Parameter names, shapes and the noise drawing order follow NVIDIA/waveglow's current `glow.py`
(fused `cond_layer`, fused `res_skip_layers`), so NVIDIA checkpoints load strictly (see
`vocoder.checkpoint`) and `torch.manual_seed(s)` then `synthesize(mel, sigma)` reproduces NVIDIA's
`infer(mel, sigma)` for the same weights.

Two execution modes:
  * training / plain (default after construction): weight norm is applied on every call and the
    inverse of each 1x1 convolution is recomputed on every reverse call, as in the reference;
  * inference (`prepare_for_inference()`, done by `load_waveglow`): weight norm is folded into
    plain weights, the inverses are computed once in float64 and cached, and the coupling state
    (the audio stream and the 1x1 convolutions) stays in float32 while the WNs may run in
    bfloat16/float16. `train()` undoes it.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from tts.audio import DEFAULT_AUDIO, AudioSettings
from vocoder.base import Vocoder

#: NVIDIA hard-codes the upsampler: ConvTranspose1d(kernel 1024, stride 256)
UPSAMPLE_KERNEL = 1024
UPSAMPLE_STRIDE = 256


@dataclass
class WaveGlowConfig:
    """Hyper-parameters; the defaults are NVIDIA's published 256-channel models (config.json)."""

    n_mel_channels: int = 80
    n_flows: int = 12
    n_group: int = 8
    n_early_every: int = 4
    n_early_size: int = 2
    wn_n_layers: int = 8
    wn_n_channels: int = 256
    wn_kernel_size: int = 3
    #: NVIDIA's oldest checkpoints (`glow_old.WaveGlow`, waveglow_old.pt, 2018) swap the two coupling
    #: halves on odd flows: the WN reads the second half and transforms the first.
    alternate_halves: bool = False

    def __post_init__(self) -> None:
        if self.n_group % 2 or self.n_group <= 0:
            raise ValueError(f"n_group must be a positive even number, got {self.n_group}")
        if self.n_early_size % 2 or self.n_early_size < 0:
            raise ValueError(f"n_early_size must be a non-negative even number, got {self.n_early_size}")
        if self.wn_kernel_size % 2 == 0:
            raise ValueError(f"wn_kernel_size must be odd, got {self.wn_kernel_size}")
        if self.wn_n_channels % 2 or self.wn_n_channels <= 0:
            raise ValueError(f"wn_n_channels must be a positive even number, got {self.wn_n_channels}")
        if min(self.n_flows, self.wn_n_layers, self.n_early_every, self.n_mel_channels) <= 0:
            raise ValueError("n_flows, wn_n_layers, n_early_every and n_mel_channels must be positive")
        if self.flow_channels()[-1] < 2:
            raise ValueError(
                f"n_group={self.n_group} leaves no channels after the early outputs "
                f"(n_flows={self.n_flows}, n_early_every={self.n_early_every}, n_early_size={self.n_early_size})"
            )

    def is_early_output(self, k: int) -> bool:
        """Whether `n_early_size` channels leave the stack before flow k."""
        return k > 0 and k % self.n_early_every == 0

    def flow_channels(self) -> list[int]:
        """Channels entering each flow: [8, 8, 8, 8, 6, 6, 6, 6, 4, 4, 4, 4] for the defaults."""
        channels, remaining = [], self.n_group
        for k in range(self.n_flows):
            if self.is_early_output(k):
                remaining -= self.n_early_size
            channels.append(remaining)
        return channels

    @property
    def n_remaining_channels(self) -> int:
        return self.flow_channels()[-1]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "WaveGlowConfig":
        """From our own dict or DLE's constructor kwargs `{..., 'WN_config': {n_layers, n_channels, kernel_size}}`."""
        values = dict(values)
        wn = values.pop("WN_config", None)
        if wn is not None:
            renames = {"n_layers": "wn_n_layers", "n_channels": "wn_n_channels", "kernel_size": "wn_kernel_size"}
            unknown = set(wn) - set(renames)
            if unknown:
                raise ValueError(f"unknown WN_config entries: {sorted(unknown)}")
            values.update({renames[k]: v for k, v in wn.items()})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown WaveGlow config entries: {sorted(unknown)}")
        return cls(**values)


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


def gated_activation(x: torch.Tensor, cond: torch.Tensor, n_channels: int) -> torch.Tensor:
    """WaveNet's gate: tanh(a) * sigmoid(b) for [a; b] = x + cond."""
    x = x + cond
    return torch.tanh(x[:, :n_channels]) * torch.sigmoid(x[:, n_channels:])


class WN(nn.Module):
    """The WaveNet-like network of one affine coupling layer: non-causal dilated convolutions
    (dilation 2^i, no reset), gated activations conditioned on the mel, residual and skip paths."""

    def __init__(self, n_in_channels: int, n_cond_channels: int, n_layers: int, n_channels: int, kernel_size: int):
        super().__init__()
        self.n_layers = n_layers
        self.n_channels = n_channels
        # registration order = NVIDIA's, so state_dict keys come out in the same order
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        self.start = WeightNormConv1d(n_in_channels, n_channels, 1)
        # zero-initialised so that every coupling starts as the identity (training stability)
        self.end = nn.Conv1d(n_channels, 2 * n_in_channels, 1)
        nn.init.zeros_(self.end.weight)
        nn.init.zeros_(self.end.bias)
        # all layers' conditioning projections in one conv: 2*C outputs per layer, applied once per flow
        self.cond_layer = WeightNormConv1d(n_cond_channels, 2 * n_channels * n_layers, 1)
        for i in range(n_layers):
            dilation = 2 ** i
            padding = (kernel_size * dilation - dilation) // 2
            self.in_layers.append(WeightNormConv1d(n_channels, 2 * n_channels, kernel_size, dilation=dilation, padding=padding))
            # the last layer has no residual output, only the skip half
            res_skip_channels = 2 * n_channels if i < n_layers - 1 else n_channels
            self.res_skip_layers.append(WeightNormConv1d(n_channels, res_skip_channels, 1))

    def forward(self, audio: torch.Tensor, spect: torch.Tensor) -> torch.Tensor:
        """audio [B, n_in, T'], spect [B, n_cond, T'] -> [B, 2*n_in, T'] (shift b first, log-scale s second)."""
        C = self.n_channels
        h = self.start(audio)
        cond = self.cond_layer(spect)
        skip = None
        for i, (in_layer, res_skip_layer) in enumerate(zip(self.in_layers, self.res_skip_layers)):
            acts = gated_activation(in_layer(h), cond[:, 2 * C * i : 2 * C * (i + 1)], C)
            res_skip = res_skip_layer(acts)
            if i < self.n_layers - 1:
                h = h + res_skip[:, :C]
                res_skip = res_skip[:, C:]
            skip = res_skip if skip is None else skip + res_skip
        return self.end(skip)


# Winograd F(4, 3) (Lavin & Gray 2016, points 0, +-1, +-2, inf): 4 outputs of a 3-tap correlation
# from 6 products instead of 12, i.e. y = AT [(G g) * (BT x)] per tile of 6 inputs.
_WINOGRAD_BT = ((4, 0, -5, 0, 1, 0), (0, -4, -4, 1, 1, 0), (0, 4, -4, -1, 1, 0),
                (0, -2, -1, 2, 1, 0), (0, 2, -1, -2, 1, 0), (0, 4, 0, -5, 0, 1))
_WINOGRAD_G = ((1 / 4, 0, 0), (-1 / 6, -1 / 6, -1 / 6), (-1 / 6, 1 / 6, -1 / 6),
               (1 / 24, 1 / 12, 1 / 6), (1 / 24, -1 / 12, 1 / 6), (0, 0, 1))
_WINOGRAD_AT = ((1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0), (0, 1, -1, 8, -8, 1))


class PackedWN:
    """A prepared (weight-norm folded) WN rearranged for inference; the same function as `WN.forward`.

    * every convolution is a matrix product on [channels, time] (one GEMM per kernel tap, written in
      place into the conditioning rows: the `x + cond` add is fused into the GEMM);
    * the skip halves of `res_skip_layers` and the `end` conv are linear and consecutive, so they are
      folded into one small [2 n_in, C] matrix per layer (the skip sum never exists);
    * layer 0 reads `start(audio)`, so `start` is folded into its taps (n_in instead of C inputs),
      its bias going to the conditioning bias with a correction at the zero-padded edges.
    * in float32/float64, the dilated kernel-3 convs of layers 1.. use Winograd F(4, 3): half the
      multiplications (relative error ~1e-6 instead of ~2e-7); this keeps 6 transformed [2C, C]
      matrices per layer (+264 MB for WN-256), so `winograd=False` trades speed for memory. Not
      used in bfloat16/float16, where the transforms cost more than they save and lose precision.
    Weights are views of the WN's parameters where possible; only folded tensors are new.
    """

    def __init__(self, wn: WN, winograd: bool = True):
        C, L = wn.n_channels, wn.n_layers
        dtype = wn.cond_layer.weight.dtype
        f32 = lambda t: t.detach().float()  # noqa: E731 - folding products are computed in float32
        self.C, self.L = C, L
        self.kernel = wn.in_layers[0].kernel_size[0]
        self.dilations = [layer.dilation[0] for layer in wn.in_layers]
        self.cond_w = wn.cond_layer.weight.detach()[:, :, 0]  # [2CL, n_cond]
        self.taps = [layer.weight.detach().permute(0, 2, 1) for layer in wn.in_layers]  # [2C, K, C]
        start_w, start_b = f32(wn.start.weight[:, :, 0]), f32(wn.start.bias)
        self.start_w, self.start_b = wn.start.weight.detach()[:, :, 0], wn.start.bias.detach()
        W0 = f32(wn.in_layers[0].weight)  # [2C, C, K]
        self.first_taps = [(W0[:, :, k] @ start_w).to(dtype) for k in range(self.kernel)]  # [2C, n_in]
        self.first_edge = [(W0[:, :, k] @ start_b).to(dtype)[:, None] for k in range(self.kernel)]
        cond_b = f32(wn.cond_layer.bias) + torch.cat([f32(layer.bias) for layer in wn.in_layers])
        cond_b[: 2 * C] += W0.sum(2) @ start_b
        self.cond_b = cond_b.to(dtype)[:, None]
        self.res_w = [rs.weight.detach()[:C, :, 0] for rs in wn.res_skip_layers[:-1]]
        self.res_b = [rs.bias.detach()[:C, None] for rs in wn.res_skip_layers[:-1]]
        end_w = f32(wn.end.weight[:, :, 0])  # [2 n_in, C]
        skips = [rs.weight[C:] if i < L - 1 else rs.weight for i, rs in enumerate(wn.res_skip_layers)]
        self.skip_w = [(end_w @ f32(w[:, :, 0])).to(dtype) for w in skips]
        skip_b = sum(f32(rs.bias[C:] if i < L - 1 else rs.bias) for i, rs in enumerate(wn.res_skip_layers))
        self.out_b = (end_w @ skip_b + f32(wn.end.bias)).to(dtype)[:, None]
        self.winograd = None
        if winograd and self.kernel == 3 and dtype in (torch.float32, torch.float64):
            G = torch.tensor(_WINOGRAD_G, dtype=torch.float64, device=self.cond_w.device)
            self.winograd = [None] + [  # [6, 2C, C] per layer: G applied along the kernel axis
                torch.einsum("ak,okc->aoc", G, taps.double()).to(dtype).contiguous() for taps in self.taps[1:]
            ]
            self.wino_bt = torch.tensor(_WINOGRAD_BT, dtype=dtype, device=self.cond_w.device)
            self.wino_at = torch.tensor(_WINOGRAD_AT, dtype=dtype, device=self.cond_w.device)

    @staticmethod
    def prepare_conditioning(spect: torch.Tensor) -> tuple[torch.Tensor]:
        """The upsampled mel [n_cond, T] -> this WN's conditioning arguments (the mel itself; the int8
        WN quantizes it here), computed once for all flows."""
        return (spect,)

    def _conv_into(self, x: torch.Tensor, taps, src: torch.Tensor, dilation: int, start: int = 0) -> None:
        """x[:, t] += sum_k taps[k] @ src[:, t + (k - K // 2) * dilation] for t >= start, zero padding, in place."""
        T = src.shape[1]
        for k in range(self.kernel):
            offset = (k - self.kernel // 2) * dilation
            lo, hi = max(start, -offset), min(T, T - offset)  # output columns whose source is inside
            if hi > lo:
                x[:, lo:hi].addmm_(taps[k], src[:, lo + offset : hi + offset])

    def _winograd_into(self, x: torch.Tensor, U: torch.Tensor, taps, src: torch.Tensor, d: int) -> None:
        """The same as `_conv_into` for kernel 3: whole blocks of 4 * d columns by Winograd, the rest directly."""
        C, T = src.shape
        n_blocks = T // (4 * d)
        if n_blocks:
            N = n_blocks * d
            # padded[u] = src[u - d]; tile (block b, lane r) reads padded[4 d b + r + j d], j = 0..5
            padded = src.new_zeros(C, 4 * d * n_blocks + 2 * d)
            keep = min(T, padded.shape[1] - d)
            padded[:, d : d + keep] = src[:, :keep]
            tiles = padded.as_strided((C, n_blocks, 6, d), (padded.shape[1], 4 * d, d, 1))
            V = (self.wino_bt @ tiles.permute(2, 0, 1, 3).reshape(6, C * N)).view(6, C, N)
            M = torch.bmm(U, V)  # [6, 2C, N]
            Y = (self.wino_at @ M.view(6, -1)).view(4, -1, n_blocks, d)  # [4 outputs, 2C, blocks, lanes]
            x[:, : 4 * d * n_blocks].unflatten(1, (n_blocks, 4, d)).add_(Y.permute(1, 2, 0, 3))
        self._conv_into(x, taps, src, d, start=4 * d * n_blocks)

    def __call__(self, audio: torch.Tensor, spect: torch.Tensor) -> torch.Tensor:
        """audio [n_in, T], spect [n_cond, T] -> [2 n_in, T] (one batch item)."""
        C, T = self.C, audio.shape[1]
        cond = torch.addmm(self.cond_b, self.cond_w, spect)  # [2CL, T]; becomes each layer's pre-activation
        h = torch.addmm(self.start_b[:, None], self.start_w, audio)
        out = self.out_b.expand(-1, T).clone()
        for i in range(self.L):
            x = cond[2 * C * i : 2 * C * (i + 1)]
            d = self.dilations[i]
            if i == 0:
                self._conv_into(x, self.first_taps, audio, d)
                for k in range(self.kernel):  # taps that fall into the zero padding never saw start's bias
                    offset = (k - self.kernel // 2) * d
                    if offset < 0:
                        x[:, : min(-offset, T)] -= self.first_edge[k]
                    elif offset > 0:
                        x[:, max(T - offset, 0) :] -= self.first_edge[k]
            else:
                taps = [self.taps[i][:, k] for k in range(self.kernel)]
                if self.winograd is not None:
                    self._winograd_into(x, self.winograd[i], taps, h, d)
                else:
                    self._conv_into(x, taps, h, d)
            acts, gate = x[:C], x[C:]
            tanh_(acts).mul_(gate.sigmoid_())
            if i < self.L - 1:
                h.addmm_(self.res_w[i], acts).add_(self.res_b[i])
            out.addmm_(self.skip_w[i], acts)
        return out


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


class WaveGlow(Vocoder):
    """WaveGlow vocoder: mel [B, 80, T] -> audio [B, T * 256]."""

    name = "waveglow"
    needs_weights = True
    #: kwargs that make `synthesize` deterministic (used by the Denoiser for the bias spectrum)
    deterministic_kwargs = MappingProxyType({"sigma": 0.0})
    #: prepared models run `PackedWN`; False keeps the WN modules (for benchmarks and checks)
    packed_inference = True
    #: Winograd F(4, 3) for the dilated convs in float32 (see PackedWN; +264 MB for WN-256)
    winograd = True
    #: None, or "int8": the WNs' big products on int8 operands (`vocoder.waveglow_int8`; float32 models)
    quantize: str | None = None

    def __init__(self, config: WaveGlowConfig | None = None, audio: AudioSettings = DEFAULT_AUDIO):
        super().__init__(audio)
        self.config = config = config or WaveGlowConfig()
        if audio.hop_length != UPSAMPLE_STRIDE or audio.n_mel_channels != config.n_mel_channels:
            raise ValueError(
                f"WaveGlow upsamples by {UPSAMPLE_STRIDE} with {config.n_mel_channels} mel channels; "
                f"audio settings have hop {audio.hop_length} and {audio.n_mel_channels} mels"
            )
        if UPSAMPLE_STRIDE % config.n_group:
            raise ValueError(f"n_group={config.n_group} must divide the hop length {UPSAMPLE_STRIDE}")
        self.upsample = nn.ConvTranspose1d(config.n_mel_channels, config.n_mel_channels, UPSAMPLE_KERNEL, stride=UPSAMPLE_STRIDE)
        self.WN = nn.ModuleList()
        self.convinv = nn.ModuleList()
        n_cond = config.n_mel_channels * config.n_group
        for channels in config.flow_channels():
            self.convinv.append(Invertible1x1Conv(channels))
            self.WN.append(WN(channels // 2, n_cond, config.wn_n_layers, config.wn_n_channels, config.wn_kernel_size))
        self.inference_ready = False
        self._packed = None

    # ------------------------------------------------------------------ modes
    @torch.no_grad()
    def prepare_for_inference(self) -> "WaveGlow":
        """Fold weight norm, cache the 1x1 inverses (float64 -> float32), switch to eval mode."""
        for module in self.modules():
            if isinstance(module, WeightNormConv1d):
                module.fold()
            elif isinstance(module, Invertible1x1Conv):
                module.cache_inverse()
        self.inference_ready = True
        self._packed = None
        return super().train(False)

    def packed_wns(self) -> list:
        """The inference arrangement of every WN (`PackedWN`, or `Int8WN` when `quantize == "int8"`),
        rebuilt after device/dtype changes or new weights."""
        key = (self.dtype, self.device, self.WN[0].cond_layer.weight.data_ptr(), self.winograd, self.quantize)
        if getattr(self, "_packed", None) is None or self._packed[0] != key:
            with torch.no_grad():
                if self.quantize == "int8":
                    from vocoder.waveglow_int8 import Int8WN

                    packed = [Int8WN(wn) for wn in self.WN]
                else:
                    packed = [PackedWN(wn, winograd=self.winograd) for wn in self.WN]
                self._packed = (key, packed)
        return self._packed[1]

    def set_quantization(self, quantize: str | None) -> "WaveGlow":
        """Run the WNs' large products in int8 (`"int8"`, float32 models on a CPU with int8 matmul) or
        not (`None`). Takes effect for prepared models (`prepare_for_inference`)."""
        if quantize not in (None, "int8"):
            raise ValueError(f"quantize must be None or 'int8', got {quantize!r}")
        if quantize == "int8":
            from vocoder.waveglow_int8 import int8_matmul_supported

            if self.dtype != torch.float32 or self.device.type != "cpu":
                raise ValueError(f"int8 quantization needs a float32 model on the CPU, not {self.dtype} on {self.device}")
            if self.config.wn_kernel_size != 3:
                raise ValueError("int8 quantization supports WaveGlow's kernel size 3 only")
            if not int8_matmul_supported():
                raise RuntimeError("this torch build has no CPU int8 matrix product (torch._int_mm)")
        self.quantize = quantize
        self._packed = None
        return self

    def _apply(self, fn, recurse=True):
        self._packed = None
        return super()._apply(fn, recurse)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        self._packed = None
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        for module in self.modules():
            if isinstance(module, Invertible1x1Conv) and self.inference_ready:
                module.cache_inverse()
        return result

    def train(self, mode: bool = True) -> "WaveGlow":
        if mode and self.inference_ready:
            for module in self.modules():
                if isinstance(module, WeightNormConv1d):
                    module.unfold()
                elif isinstance(module, Invertible1x1Conv):
                    module.W_inverse = None
            self.inference_ready = False
            self._packed = None
        return super().train(mode)

    @property
    def dtype(self) -> torch.dtype:
        return self.upsample.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.upsample.weight.device

    # ------------------------------------------------------------------ shapes
    def _upsample(self, mel: torch.Tensor) -> torch.Tensor:
        """mel [B, 80, T] -> grouped conditioning [B, 80 * n_group, T * 256 / n_group].

        The transposed conv gives (T - 1) * 256 + 1024 samples; the last 1024 - 256 are dropped
        (NVIDIA's trim). Conditioning channel index = mel_channel * n_group + position in the group."""
        mel = mel.to(self.dtype)
        if self.inference_ready:
            spect = upsample_overlap_add(mel, self.upsample.weight, self.upsample.bias)
        else:
            spect = self.upsample(mel)
        spect = spect[:, :, : mel.shape[2] * UPSAMPLE_STRIDE]
        return self._group_spect(spect)

    def _group_spect(self, spect: torch.Tensor) -> torch.Tensor:
        B, n_mel, N = spect.shape
        g = self.config.n_group
        # [B, n_mel, N/g, g] -> [B, N/g, n_mel, g] -> [B, N/g, n_mel*g] -> [B, n_mel*g, N/g]
        return spect.unfold(2, g, g).permute(0, 2, 1, 3).reshape(B, N // g, n_mel * g).transpose(1, 2)

    # ------------------------------------------------------------------ training
    def forward(self, mel: torch.Tensor, audio: torch.Tensor | None = None, **kwargs):
        """With `audio`: the training pass, returns (z, log_s_list, log_det_W_list).
        Without: inference through `Vocoder.forward` (float32 audio clipped to [-1, 1])."""
        if audio is None:
            return super().forward(mel, **kwargs)
        return self.flow_forward(mel, audio)

    def flow_forward(self, mel: torch.Tensor, audio: torch.Tensor):
        """mel [B, 80, T], audio [B, N] with N a multiple of n_group and N <= (T - 1) * 256 + 1024."""
        cfg = self.config
        if audio.dim() != 2 or audio.shape[1] % cfg.n_group:
            raise ValueError(f"audio must be [B, N] with N a multiple of n_group={cfg.n_group}, got {tuple(audio.shape)}")
        spect = self.upsample(mel)
        if spect.shape[2] < audio.shape[1]:
            raise ValueError(f"mel of {mel.shape[2]} frames is too short for {audio.shape[1]} samples")
        spect = self._group_spect(spect[:, :, : audio.shape[1]])
        audio = audio.unfold(1, cfg.n_group, cfg.n_group).transpose(1, 2)  # [B, g, N/g]; sample t*g + j -> [j, t]

        output_audio, log_s_list, log_det_W_list = [], [], []
        for k in range(cfg.n_flows):
            if cfg.is_early_output(k):
                output_audio.append(audio[:, : cfg.n_early_size])
                audio = audio[:, cfg.n_early_size :]
            audio, log_det_W = self.convinv[k](audio)
            log_det_W_list.append(log_det_W)
            audio_0, audio_1 = self._split(audio, k)
            output = self.WN[k](audio_0, spect)
            n_half = audio_0.shape[1]
            b, log_s = output[:, :n_half], output[:, n_half:]
            audio_1 = torch.exp(log_s) * audio_1 + b
            log_s_list.append(log_s)
            audio = self._merge(audio_0, audio_1, k)
        output_audio.append(audio)
        return torch.cat(output_audio, 1), log_s_list, log_det_W_list

    def _split(self, audio: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(WN input half, transformed half)."""
        n_half = audio.shape[1] // 2
        first, second = audio[:, :n_half], audio[:, n_half:]
        if self.config.alternate_halves and k % 2 == 1:
            return second, first
        return first, second

    def _merge(self, audio_0: torch.Tensor, audio_1: torch.Tensor, k: int) -> torch.Tensor:
        if self.config.alternate_halves and k % 2 == 1:
            return torch.cat([audio_1, audio_0], 1)
        return torch.cat([audio_0, audio_1], 1)

    # ------------------------------------------------------------------ inference
    def draw_noise(self, batch: int, n_steps: int, device: torch.device, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """Standard normal noise in NVIDIA's order: z [B, n_remaining, T'] first, then one
        [B, n_early_size, T'] per early output, walking the flows downwards. Drawn in float32."""
        cfg = self.config
        shapes = [(batch, cfg.n_remaining_channels, n_steps)]
        shapes += [(batch, cfg.n_early_size, n_steps) for k in reversed(range(cfg.n_flows)) if cfg.is_early_output(k)]
        return [torch.randn(shape, device=device, dtype=torch.float32, generator=generator) for shape in shapes]

    def synthesize(
        self,
        mel: torch.Tensor,
        sigma: float = 0.6,
        seed: int | None = None,
        chunk_frames: int | None = None,
        overlap_frames: int = 16,
    ) -> torch.Tensor:
        """mel [B, 80, T] -> audio [B, T * 256] (float32, unclipped).

        `sigma` scales the noise (0 gives deterministic audio; the noise is still drawn so the RNG
        advances as in the reference). `seed` draws the noise from a private generator state and
        leaves the caller's RNG untouched (same noise as `torch.manual_seed(seed)` first). `chunk_frames` bounds memory on long mels: frames are
        synthesised in chunks with `overlap_frames` of context on each side and crossfaded.
        """
        if mel.dim() != 3 or mel.shape[1] != self.config.n_mel_channels:
            raise ValueError(f"expected mel [B, {self.config.n_mel_channels}, T], got {tuple(mel.shape)}")
        if sigma < 0:
            raise ValueError(f"sigma must be >= 0, got {sigma}")
        B, _, T = mel.shape
        n_steps = T * UPSAMPLE_STRIDE // self.config.n_group
        # a private generator seeded with `seed` draws exactly what torch.manual_seed(seed) would,
        # without touching the caller's RNG state
        generator = None if seed is None else torch.Generator(device=mel.device).manual_seed(seed)
        noise = self.draw_noise(B, n_steps, mel.device, generator)
        with torch.no_grad():
            if chunk_frames is None or chunk_frames >= T:
                return self._infer(mel, noise, sigma)
            return self._infer_chunked(mel, noise, sigma, chunk_frames, overlap_frames)

    def _infer(self, mel: torch.Tensor, noise: Sequence[torch.Tensor], sigma: float) -> torch.Tensor:
        """Run the flows backwards on pre-drawn noise; the coupling stream stays float32."""
        cfg = self.config
        spect = self._upsample(mel)
        wn_dtype = self.dtype
        coupling_dtype = torch.float64 if wn_dtype == torch.float64 else torch.float32
        early_noise = iter(noise[1:])
        audio = sigma * noise[0].to(coupling_dtype)
        packed = self.packed_wns() if self.inference_ready and self.packed_inference else None
        if packed is not None:  # per batch item, shared by every flow
            conditioning = [packed[0].prepare_conditioning(s) for s in spect]
        for k in reversed(range(cfg.n_flows)):
            audio_0, audio_1 = self._split(audio, k)
            wn_in = audio_0.to(wn_dtype)
            if packed is None:
                output = self.WN[k](wn_in, spect).to(coupling_dtype)
            else:
                output = torch.stack([packed[k](wn_in[b], *conditioning[b]) for b in range(wn_in.shape[0])]).to(coupling_dtype)
            n_half = audio_0.shape[1]
            b, s = output[:, :n_half], output[:, n_half:]
            audio_1 = (audio_1 - b) / torch.exp(s)
            audio = self.convinv[k].reverse(self._merge(audio_0, audio_1, k))
            if cfg.is_early_output(k):
                audio = torch.cat([sigma * next(early_noise).to(coupling_dtype), audio], 1)
        # [B, g, T'] -> [B, T', g] -> [B, T' * g]: sample index = t * g + channel
        return audio.transpose(1, 2).reshape(audio.shape[0], -1).float()

    def _infer_chunked(self, mel, noise, sigma, chunk_frames, overlap_frames) -> torch.Tensor:
        """Synthesize frames [a, b) from mel[a - o, b + o) per chunk and crossfade the seams over
        `overlap_frames` frames centred on each boundary, with raised-cosine weights."""
        if chunk_frames <= 0 or not 0 <= overlap_frames <= chunk_frames:
            raise ValueError(f"need chunk_frames > 0 and 0 <= overlap_frames <= chunk_frames, got {chunk_frames}, {overlap_frames}")
        hop, steps_per_frame = UPSAMPLE_STRIDE, UPSAMPLE_STRIDE // self.config.n_group
        B, _, T = mel.shape
        half = overlap_frames // 2  # crossfade [boundary - half, boundary + half)
        out = torch.zeros(B, T * hop, device=mel.device, dtype=torch.float32)
        starts = list(range(0, T, chunk_frames))
        if len(starts) > 1 and T - starts[-1] < max(overlap_frames, 1):
            starts.pop()  # a too short last chunk joins the previous one
        bounds = starts + [T]
        for a, b in zip(bounds[:-1], bounds[1:]):
            # this chunk owns [a - half, b + half) (crossfade zones included), computed with context
            lo, hi = max(0, a - overlap_frames), min(T, b + overlap_frames)
            chunk_noise = [z[:, :, lo * steps_per_frame : hi * steps_per_frame] for z in noise]
            audio = self._infer(mel[:, :, lo:hi], chunk_noise, sigma)  # [B, (hi - lo) * hop]
            own_lo, own_hi = max(0, a - half), min(T, b + half)
            piece = audio[:, (own_lo - lo) * hop : (own_hi - lo) * hop]
            weight = torch.ones(piece.shape[1], device=mel.device)
            fade = 2 * half * hop
            if a > 0 and fade:
                weight[:fade] = _raised_cosine(fade, mel.device)
            if b < T and fade:
                weight[-fade:] *= _raised_cosine(fade, mel.device).flip(0)
            out[:, own_lo * hop : own_hi * hop] += piece * weight
        return out


def upsample_overlap_add(mel: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """ConvTranspose1d(stride 256) as one matmul and an overlap-add (F.fold): bit-identical here, and
    unlike oneDNN's transposed conv it does not spend ~1 s building a kernel for every new length."""
    B, C_in, T = mel.shape
    _, C_out, K = weight.shape
    columns = torch.matmul(weight.reshape(C_in, C_out * K).T, mel)  # [B, C_out * K, T]: each frame's kernel-long burst
    n = (T - 1) * UPSAMPLE_STRIDE + K
    out = F.fold(columns, output_size=(1, n), kernel_size=(1, K), stride=(1, UPSAMPLE_STRIDE)).reshape(B, C_out, n)
    return out if bias is None else out + bias[:, None]


def _raised_cosine(n: int, device) -> torch.Tensor:
    """Fade-in weights w with w[i] + w[n-1-i] = 1."""
    t = (torch.arange(n, device=device, dtype=torch.float32) + 0.5) / n
    return 0.5 - 0.5 * torch.cos(math.pi * t)


class WaveGlowLoss(nn.Module):
    """Negative log-likelihood of the flow under N(0, sigma^2), per element of z (as NVIDIA normalises):
    (sum(z^2) / (2 sigma^2) - sum(log s) - sum(log det W)) / numel(z)."""

    def __init__(self, sigma: float = 1.0):
        super().__init__()
        self.sigma = sigma

    def forward(self, model_output) -> torch.Tensor:
        z, log_s_list, log_det_W_list = model_output
        log_s_total = sum(torch.sum(log_s) for log_s in log_s_list)
        log_det_W_total = sum(log_det_W_list)
        loss = torch.sum(z * z) / (2 * self.sigma * self.sigma) - log_s_total - log_det_W_total
        return loss / z.numel()

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
    bfloat16/float16. `train()` undoes it. The speed-ups (`vocoder.waveglow.packed`: every
    convolution as in-place GEMMs; `vocoder.waveglow.int8`) plug in as `wn_runner`
    (`vocoder.waveglow.fast.accelerate`, also done by `load_waveglow`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from tts.core.audio import DEFAULT_AUDIO, AudioSettings
from tts.core.defaults import DEFAULT_SIGMA
from vocoder.waveglow.layers import (
    FlowConfig,
    FlowVocoder,
    Invertible1x1Conv,
    WeightNormConv1d,
    check_synthesis_input,
)

#: NVIDIA hard-codes the upsampler: ConvTranspose1d(kernel 1024, stride 256)
UPSAMPLE_KERNEL = 1024
UPSAMPLE_STRIDE = 256


@dataclass
class WaveGlowConfig(FlowConfig):
    """Hyper-parameters; the defaults are NVIDIA's published 256-channel models (config.json)."""

    #: NVIDIA's oldest checkpoints (`glow_old.WaveGlow`, waveglow_old.pt, 2018) swap the two coupling
    #: halves on odd flows: the WN reads the second half and transforms the first.
    alternate_halves: bool = False

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None, *, ignore_unknown: bool = False) -> "WaveGlowConfig":
        """From our own dict or DLE's constructor kwargs `{..., 'WN_config': {n_layers, n_channels, kernel_size}}`."""
        values = dict(values or {})
        wn = values.pop("WN_config", None)
        if wn is not None:
            renames = {"n_layers": "wn_n_layers", "n_channels": "wn_n_channels", "kernel_size": "wn_kernel_size"}
            unknown = set(wn) - set(renames)
            if unknown:
                raise ValueError(f"unknown WN_config entries: {sorted(unknown)}")
            values.update({renames[k]: v for k, v in wn.items()})
        return super().from_dict(values, ignore_unknown=ignore_unknown)


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


class WaveGlow(FlowVocoder):
    """WaveGlow vocoder: mel [B, 80, T] -> audio [B, T * 256]."""

    name = "waveglow"
    needs_weights = True
    #: prepared models with a `wn_runner` run it instead of the WN modules; False keeps the modules
    packed_inference = True

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
        #: how each WN runs in prepared inference: `runner = wn_runner(wn)`, `runner(audio, *conditioning)`
        #: for one batch item, with `runner.prepare_conditioning(spect)` computed once for all flows.
        #: Set by `vocoder.waveglow.fast.accelerate` (packed float GEMMs or int8); None = the WN modules.
        self.wn_runner = None
        #: what `wn_runner` computes in, for introspection: None (float) or "int8"
        self.quantize: str | None = None
        self._packed = None

    # ------------------------------------------------------------------ modes
    def _forget_prepared(self) -> None:
        self._packed = None

    def packed_wns(self) -> list:
        """Every WN's `wn_runner` arrangement, rebuilt after device/dtype changes or new weights."""
        key = (self.dtype, self.device, self.WN[0].cond_layer.weight.data_ptr(), self.wn_runner)
        if getattr(self, "_packed", None) is None or self._packed[0] != key:
            with torch.no_grad():
                self._packed = (key, [self.wn_runner(wn) for wn in self.WN])
        return self._packed[1]

    def _apply(self, fn, recurse=True):
        self._packed = None
        return super()._apply(fn, recurse)

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
        sigma: float = DEFAULT_SIGMA,
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
        check_synthesis_input(mel, self.config.n_mel_channels, sigma)
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

    def infer(self, spect: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
        """NVIDIA's call: `infer(mel [B, 80, T], sigma)` -> audio [B, T * 256], unclipped float32, with the
        noise drawn from the global RNG in NVIDIA's order (so `torch.manual_seed(s)` first gives NVIDIA's
        output for the same weights). sigma defaults to 1.0 as in NVIDIA's and DLE's code; the pipeline
        uses its own default (`DEFAULT_SIGMA`). `WaveGlow.remove_weightnorm(model)` (static, inherited)
        folds the weight norm and returns the model, as NVIDIA's does."""
        return self.synthesize(spect, sigma=sigma)

    def _infer(self, mel: torch.Tensor, noise: Sequence[torch.Tensor], sigma: float) -> torch.Tensor:
        """Run the flows backwards on pre-drawn noise; the coupling stream stays float32."""
        cfg = self.config
        wn_dtype = self.dtype
        coupling_dtype = torch.float64 if wn_dtype == torch.float64 else torch.float32
        early_noise = iter(noise[1:])
        audio = sigma * noise[0].to(coupling_dtype)
        use_runners = self.inference_ready and self.packed_inference and self.wn_runner is not None
        packed = self.packed_wns() if use_runners else None
        # runners that fold the upsampler into their conditioning (`conditions_on_mel`) read the mel
        spect = mel if packed is not None and getattr(packed[0], "conditions_on_mel", False) else self._upsample(mel)
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

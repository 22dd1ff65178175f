"""A compact WaveGlow for CPUs, after SqueezeWave (Zhai, Gao et al. 2020, arXiv 2001.05685).

Still WaveGlow: an invertible flow of `n_flows` steps, each an invertible 1x1 convolution followed by
an affine coupling whose log-scale and shift come from a WaveNet-like network conditioned on the mel,
early outputs every `n_early_every` flows, trained by maximum likelihood (`WaveGlowLoss`) and sampled
from N(0, sigma^2). What changes is where the work goes, as SqueezeWave proposes:

1. **Larger groups.** Audio is folded into groups of `n_group` = 128 samples (WaveGlow: 8), so the
   flows run at 2 steps per mel frame instead of 32 and each 1x1 convolution mixes 128 channels.
2. **No transposed-convolution upsampler.** Each WN projects the mel with one 1x1 convolution at the
   mel's own frame rate (one projection shared by all its layers) and the result is interpolated
   linearly to the flow's rate, with each group's centre placed where its samples lie (mel frame i is
   centred on sample 256 i, group t on sample n_group t + n_group / 2), so training segments and
   full utterances see the same alignment (SqueezeWave's training STFT is half a hop off).
3. **Depthwise-separable WN layers.** Each layer is a depthwise convolution over time (kernel 3)
   followed by a pointwise 1x1 convolution to the 2C gate inputs; the gated output goes through one
   1x1 convolution added to the residual stream, and the last stream state feeds `end`.
4. **Weight normalisation** on every WN convolution (as WaveGlow; SqueezeWave uses batch norm, whose
   running statistics would make training and synthesis differ). `remove_weightnorm` folds it.
5. **Linear prediction from the mel** (`lp_order` > 0, after LPCNet and LP-WaveGlow; see
   `linear_prediction`): the mel's all-pole filter whitens the audio before the first flow and colours
   the flows' output at synthesis, a parameter-free invertible layer whose log-determinant joins the
   loss. The flows then model the excitation, not the envelope the mel already gives: a flow that has
   learnt nothing yet speaks in a whisper with the right loudness and formants instead of noise.
6. **Pulse excitation** (`pulse_excitation`, see `excitation`): the flows are also conditioned on the
   glottal pulses (at training the recording's, found in its residual; at synthesis placed by the F0 of
   a small pitch predictor trained beside the flows), so voiced speech need not be discovered in noise.

With the defaults (SqueezeWave-128S-sized: 12 flows, 8 layers, 128 channels) a training step costs a
tenth of the project's small WaveGlow at the same batch (see `bench/waveglow_compact_step.py`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from tts.core.audio import DEFAULT_AUDIO, AudioSettings
from tts.core.defaults import DEFAULT_SIGMA
from vocoder.waveglow import excitation, linear_prediction
from vocoder.waveglow.layers import (
    FlowConfig,
    FlowVocoder,
    Invertible1x1Conv,
    WeightNormConv1d,
    check_synthesis_input,
)

MODEL_NAME = "waveglow_compact"


@dataclass
class CompactWaveGlowConfig(FlowConfig):
    """Hyper-parameters; the defaults follow SqueezeWave's 128S variant (config_a128_c128)."""

    n_group: int = 128
    n_early_every: int = 2
    n_early_size: int = 16
    wn_n_channels: int = 128
    #: layer i's depthwise convolution has dilation 2 ** (i % wn_dilation_cycle); 1 = SqueezeWave (all 1)
    wn_dilation_cycle: int = 1
    #: order of the mel's linear predictor that whitens the audio before the flows; 0 = none (SqueezeWave)
    lp_order: int = 0
    #: condition the flows on glottal pulses, placed at synthesis by a pitch predictor of this size
    pulse_excitation: bool = False
    pitch_channels: int = 256
    pitch_layers: int = 3
    pitch_kernel_size: int = 5
    #: with pulse excitation: samples of the learnt mean pulse waveform subtracted at each pulse (0 = none)
    pulse_shape_taps: int = 0
    #: with a mean pulse shape: width of the network that varies it per frame from the mel (0 = one shape)
    pulse_shape_channels: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pulse_shape_taps and (self.pulse_shape_taps % 2 == 0 or not self.pulse_excitation):
            raise ValueError(f"pulse_shape_taps must be 0, or odd with pulse_excitation, got {self.pulse_shape_taps}")
        if self.pulse_shape_channels < 0 or (self.pulse_shape_channels and not self.pulse_shape_taps):
            raise ValueError(f"pulse_shape_channels must be 0, or positive with pulse_shape_taps, got "
                             f"{self.pulse_shape_channels}")
        if min(self.pitch_channels, self.pitch_layers) <= 0 or self.pitch_kernel_size % 2 == 0:
            raise ValueError("pitch_channels and pitch_layers must be positive and pitch_kernel_size odd, got "
                             f"{self.pitch_channels}, {self.pitch_layers}, {self.pitch_kernel_size}")
        if self.wn_dilation_cycle <= 0:
            raise ValueError(f"wn_dilation_cycle must be positive, got {self.wn_dilation_cycle}")
        if not 0 <= self.lp_order <= 64:
            raise ValueError(f"lp_order must be 0 (no linear prediction) to 64, got {self.lp_order}")

    def dilations(self) -> list[int]:
        return [2 ** (i % self.wn_dilation_cycle) for i in range(self.wn_n_layers)]


def upsample_frames(cond: torch.Tensor, steps: int, hop: int, group: int) -> torch.Tensor:
    """cond [B, frames, C] at the mel's rate -> [B, steps, C] at the flow's rate, f = hop / group steps
    per frame, by linear interpolation that puts each flow step where its samples are: step f i + j
    covers samples [group (f i + j), group (f i + j + 1)), whose centre lies w_j = (group j + group / 2) / hop
    of the way from frame i's centre (sample hop i) to frame i + 1's. Frame i + 1 is the mel's next
    frame when it has one (a training segment's mel has N / hop + 1 frames), else frame i repeated."""
    f = hop // group
    frames = steps // f
    if cond.shape[1] < frames:
        raise ValueError(f"{cond.shape[1]} mel frames cannot condition {steps} flow steps ({f} per frame)")
    here = cond[:, :frames]
    after = cond[:, 1:frames + 1]
    if after.shape[1] < frames:  # no frame after the last one: hold it
        after = torch.cat([after, cond[:, frames - 1:frames]], 1)
    w = ((torch.arange(f, device=cond.device, dtype=torch.float32) * group + group / 2) / hop).to(cond.dtype)
    out = here[:, :, None] + (after - here)[:, :, None] * w[:, None]  # [B, frames, f, C]
    return out.reshape(cond.shape[0], frames * f, cond.shape[2])


class GatedTanh(torch.autograd.Function):
    """tanh(a) * sigmoid(b) for [a; b] = x (last axis), with tanh as 2 sigmoid(2a) - 1 (torch's CPU
    tanh is ~5x slower than its sigmoid) and a backward that keeps only the two activations."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, n_channels: int) -> torch.Tensor:
        a, b = x.split(n_channels, dim=-1)
        t = torch.sigmoid(2 * a).mul_(2).sub_(1)
        s = torch.sigmoid(b)
        ctx.save_for_backward(t, s)
        return t * s

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        t, s = ctx.saved_tensors
        grad_s = grad * s
        return torch.cat([grad_s * (1 - t * t), grad_s * t * (1 - s)], -1), None


def gated_tanh(x: torch.Tensor, n_channels: int) -> torch.Tensor:
    """WaveNet's gate on the last axis: tanh(a) * sigmoid(b) for [a; b] = x."""
    if torch.is_grad_enabled() and x.requires_grad:
        return GatedTanh.apply(x, n_channels)
    a, b = x[..., :n_channels], x[..., n_channels:]
    t = torch.sigmoid(2 * a).mul_(2).sub_(1) if x.dtype == torch.float32 else torch.tanh(a)
    return t.mul_(torch.sigmoid(b))


def pointwise(conv: nn.Conv1d, x: torch.Tensor) -> torch.Tensor:
    """A 1x1 convolution on channels-last activations [B, T, C_in] -> [B, T, C_out]: one matrix product."""
    weight = conv.normalized_weight() if isinstance(conv, WeightNormConv1d) else conv.weight
    return F.linear(x, weight[:, :, 0], conv.bias)


def depthwise(conv: WeightNormConv1d, x: torch.Tensor) -> torch.Tensor:
    """A depthwise convolution over time on channels-last activations [B, T, C] (zero padding,
    same length): one multiply-add per tap, cheaper here than a grouped convolution's kernels."""
    weight = conv.normalized_weight()[:, 0]  # [C, K]
    K, d = weight.shape[1], conv.dilation[0]
    pad = d * (K - 1) // 2
    T = x.shape[1]
    padded = F.pad(x, (0, 0, pad, pad))
    out = padded[:, :T] * weight[:, 0]
    for k in range(1, K):
        out = out + padded[:, k * d: k * d + T] * weight[:, k]
    return out + conv.bias


class SeparableWN(nn.Module):
    """The coupling network of one flow: start 1x1 -> n_layers x (depthwise k, pointwise 1x1 to 2C,
    + the mel projection, gate, 1x1 added to the stream) -> end 1x1 (zero-initialised).
    Activations are channels-last, [B, T, C]: every 1x1 convolution is one matrix product."""

    def __init__(self, n_in_channels: int, n_mel_channels: int, n_layers: int, n_channels: int, kernel_size: int,
                 dilations: Sequence[int], n_pulse_channels: int = 0):
        super().__init__()
        self.n_layers, self.n_channels = n_layers, n_channels
        self.start = WeightNormConv1d(n_in_channels, n_channels, 1)
        self.cond_layer = WeightNormConv1d(n_mel_channels, 2 * n_channels * n_layers, 1)
        self.pulse_layer = None
        if n_pulse_channels:  # zero-initialised: a warm start from a model without pulses starts unchanged
            self.pulse_layer = nn.Conv1d(n_pulse_channels, 2 * n_channels * n_layers, 1)
            nn.init.zeros_(self.pulse_layer.weight)
            nn.init.zeros_(self.pulse_layer.bias)
        self.depthwise = nn.ModuleList(
            WeightNormConv1d(n_channels, n_channels, kernel_size, dilation=d, padding=d * (kernel_size - 1) // 2,
                             groups=n_channels)
            for d in dilations
        )
        self.pointwise = nn.ModuleList(WeightNormConv1d(n_channels, 2 * n_channels, 1) for _ in range(n_layers))
        self.res_layers = nn.ModuleList(WeightNormConv1d(n_channels, n_channels, 1) for _ in range(n_layers))
        # zero-initialised: every coupling starts as the identity (WaveGlow's stability trick)
        self.end = nn.Conv1d(n_channels, 2 * n_in_channels, 1)
        nn.init.zeros_(self.end.weight)
        nn.init.zeros_(self.end.bias)

    def mel_projection(self, mel: torch.Tensor, steps: int, hop: int, group: int) -> torch.Tensor:
        """mel [B, frames, n_mels] (channels-last) -> every layer's conditioning [B, steps, 2 C n_layers]."""
        frames = steps * group // hop
        return upsample_frames(pointwise(self.cond_layer, mel[:, :frames + 1]), steps, hop, group)

    def conditioning(self, mel: torch.Tensor, pulses: torch.Tensor | None, steps: int, hop: int, group: int
                     ) -> torch.Tensor:
        """The mel's projection plus, with a pulse layer, the pulses' [B, steps, group] (folded as the audio)."""
        cond = self.mel_projection(mel, steps, hop, group)
        if self.pulse_layer is not None:
            cond = cond + self.pulse_layer.bias
            # at most a pulse or two per group: add the weight column of each, not a dense 1x1 convolution
            batch, step, offset = pulses.nonzero(as_tuple=True)
            weight = self.pulse_layer.weight[:, :, 0].t().contiguous()  # [n_group, 2 C L]: a row per offset
            columns = weight[offset] * pulses[batch, step, offset, None].to(cond.dtype)
            # index_add, not index_put(accumulate=True): on the CPU the latter sorts, ~6 ms a flow
            rows = cond.reshape(-1, cond.shape[2]).index_add(0, batch * cond.shape[1] + step, columns)
            cond = rows.reshape(cond.shape)
        return cond

    def forward(self, audio: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """audio [B, T, n_in], cond [B, T, 2 C n_layers] -> [B, T, 2 n_in] (shift first, log-scale second)."""
        C = self.n_channels
        h = pointwise(self.start, audio)
        # split, not slices: its backward is one concatenation, a slice's a zero-filled copy of cond each
        for i, cond_i in enumerate(cond.split(2 * C, dim=-1)):
            x = pointwise(self.pointwise[i], depthwise(self.depthwise[i], h)) + cond_i
            h = h + pointwise(self.res_layers[i], gated_tanh(x, C))
        return pointwise(self.end, h)


class CompactWaveGlow(FlowVocoder):
    """Compact WaveGlow vocoder: mel [B, 80, T] -> audio [B, T * 256].

    The flow runs channels-last: audio [B, N] is viewed as [B, N / g, g] (sample t g + j at step t,
    channel j), the latent z likewise."""

    name = "waveglow"
    needs_weights = True

    def __init__(self, config: CompactWaveGlowConfig | None = None, audio: AudioSettings = DEFAULT_AUDIO):
        super().__init__(audio)
        self.config = config = config or CompactWaveGlowConfig()
        if audio.n_mel_channels != config.n_mel_channels:
            raise ValueError(f"the config has {config.n_mel_channels} mel channels, the audio settings "
                             f"{audio.n_mel_channels}")
        if audio.hop_length % config.n_group:
            raise ValueError(f"n_group={config.n_group} must divide the hop length {audio.hop_length}")
        self.hop = audio.hop_length
        self.convinv = nn.ModuleList()
        self.WN = nn.ModuleList()
        for channels in config.flow_channels():
            self.convinv.append(Invertible1x1Conv(channels))
            self.WN.append(SeparableWN(channels // 2, config.n_mel_channels, config.wn_n_layers,
                                       config.wn_n_channels, config.wn_kernel_size, config.dilations(),
                                       config.n_group if config.pulse_excitation else 0))
        self.pitch = None
        if config.pulse_excitation:
            self.pitch = excitation.PitchPredictor(config.n_mel_channels, config.pitch_channels,
                                                   config.pitch_layers, config.pitch_kernel_size)
        self.pulse_shape = None
        if config.pulse_shape_taps:
            self.pulse_shape = excitation.PulseShape(config.n_mel_channels, config.pulse_shape_taps,
                                                     config.pulse_shape_channels)
        self.inference_ready = False

    @property
    def dtype(self) -> torch.dtype:
        return self.WN[0].end.weight.dtype

    @property
    def bias_tone_period(self) -> int:
        """The flow's group length: its output carries tones at multiples of fs / n_group (measured on the
        default voice's copy synthesis: 10-26 dB above the spectrum around them from 3.5 to 10.5 kHz), the
        only bins where `vocoder.Denoiser` subtracts from it."""
        return self.config.n_group

    @property
    def device(self) -> torch.device:
        return self.WN[0].end.weight.device

    @property
    def coupling_dtype(self) -> torch.dtype:
        """The audio stream's precision: float32, or float64 for a float64 model, whatever the WNs run in."""
        return torch.float64 if self.dtype == torch.float64 else torch.float32

    def _mix(self, k: int, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Invertible 1x1 convolution k on [B, T, C]: (audio W^T, log|det W| * B * T), in the coupling
        precision even under autocast (the log-determinant and the audio stream need it)."""
        with torch.autocast(audio.device.type, enabled=False):
            W = self.convinv[k].conv.weight[:, :, 0].to(self.coupling_dtype)
            log_det_W = audio.shape[0] * audio.shape[1] * torch.logdet(W)
            return F.linear(audio.to(W.dtype), W), log_det_W

    def _unmix(self, k: int, audio: torch.Tensor) -> torch.Tensor:
        return F.linear(audio, self.convinv[k].inverse_weight()[:, :, 0].to(audio.dtype))

    # ------------------------------------------------------------------ training
    def flow_forward(self, mel: torch.Tensor, audio: torch.Tensor, history: torch.Tensor | None = None,
                     pulses: torch.Tensor | None = None, f0: torch.Tensor | None = None):
        """mel [B, 80, T] (T >= N / hop; a mel of N / hop + 1 frames, as `mel_spectrogram` gives for
        N samples, supplies the frame after the last group), audio [B, N], N a multiple of n_group;
        `history` [B, lp_order]: the samples before `audio` that the linear predictor looks back at
        (zeros if not given: the audio starts after silence). z comes back channels-last [B, N / g, g].
        With pulse excitation: `pulses` [B, N], the recording's pulses (placed by the pitch predictor if
        not given), and `f0` [B, frames], the recording's F0 per frame: given, the pitch predictor's loss
        on it comes back as a fourth item (the trainer adds it to the flows' loss)."""
        cfg = self.config
        if audio.dim() != 2 or audio.shape[1] % cfg.n_group:
            raise ValueError(f"audio must be [B, N] with N a multiple of n_group={cfg.n_group}, got {tuple(audio.shape)}")
        if mel.shape[2] * self.hop < audio.shape[1]:
            raise ValueError(f"mel of {mel.shape[2]} frames is too short for {audio.shape[1]} samples")
        steps = audio.shape[1] // cfg.n_group
        log_s_list, log_det_W_list = [], []
        pulses = self._pulses(mel, audio.shape[1], pulses)
        audio = audio.to(self.coupling_dtype)
        if cfg.lp_order:
            audio, log_det_lp = linear_prediction.whiten(audio, self.predictor(mel), self.hop, history)
            log_s_list.append(log_det_lp)  # the loss sums every log-scale: this one has no parameters
        if self.pulse_shape is not None:  # a shift by the pulses' mean shape: log-determinant 0
            audio = audio - self.pulse_shape(pulses.reshape(audio.shape[0], -1), mel, self.hop).to(audio.dtype)
        mel = mel.transpose(1, 2)
        audio = audio.reshape(audio.shape[0], steps, cfg.n_group)
        output_audio = []
        for k in range(cfg.n_flows):
            if cfg.is_early_output(k):
                early, audio = audio.split([cfg.n_early_size, audio.shape[2] - cfg.n_early_size], dim=2)
                output_audio.append(early)
            audio, log_det_W = self._mix(k, audio)
            log_det_W_list.append(log_det_W)
            audio_0, audio_1 = audio.chunk(2, dim=2)
            cond = self.WN[k].conditioning(mel, pulses, steps, self.hop, cfg.n_group)
            b, log_s = self.WN[k](audio_0, cond).to(audio.dtype).chunk(2, dim=2)
            audio = torch.cat([audio_0, torch.exp(log_s) * audio_1 + b], 2)
            log_s_list.append(log_s)
        output_audio.append(audio)
        if f0 is not None and self.pitch is not None:
            pitch_loss = self.pitch.loss(mel.transpose(1, 2), f0)
            return torch.cat(output_audio, 2), log_s_list, log_det_W_list, pitch_loss
        return torch.cat(output_audio, 2), log_s_list, log_det_W_list

    def _pulses(self, mel: torch.Tensor, n_samples: int, pulses: torch.Tensor | None) -> torch.Tensor | None:
        """The pulses [B, steps, n_group] the flows are conditioned on (None without pulse excitation):
        the given ones [B, n_samples], or those the pitch predictor places for `mel` [B, 80, T]."""
        if self.pitch is None:
            return None
        if pulses is None:
            with torch.no_grad():
                f0 = self.pitch.f0(mel.to(self.dtype))
            pulses = excitation.pulse_train(f0, n_samples, self.hop, self.audio.sampling_rate)
        if pulses.shape[1] != n_samples:
            raise ValueError(f"pulses of {pulses.shape[1]} samples for audio of {n_samples}")
        return pulses.to(device=mel.device).reshape(pulses.shape[0], -1, self.config.n_group)

    def predictor(self, mel: torch.Tensor) -> linear_prediction.Predictor:
        """The linear predictor of every frame of mel [B, 80, T] (lp_order > 0)."""
        with torch.no_grad():
            return linear_prediction.predictor(mel.float(), self.audio, self.config.lp_order)

    # ------------------------------------------------------------------ inference
    def draw_noise(self, batch: int, steps: int, device: torch.device,
                   generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """Standard normal noise, channels-last, in WaveGlow's order: z of the last flow first, then
        one [B, steps, n_early_size] per early output walking the flows downwards. Float32."""
        cfg = self.config
        shapes = [(batch, steps, cfg.flow_channels()[-1])]
        shapes += [(batch, steps, cfg.n_early_size) for k in reversed(range(cfg.n_flows)) if cfg.is_early_output(k)]
        return [torch.randn(shape, device=device, dtype=torch.float32, generator=generator) for shape in shapes]

    def synthesize(self, mel: torch.Tensor, sigma: float = DEFAULT_SIGMA, seed: int | None = None) -> torch.Tensor:
        """mel [B, 80, T] -> audio [B, T * hop] (float32, unclipped). `seed` draws the noise from a
        private generator (same noise as `torch.manual_seed(seed)` first), leaving the caller's RNG alone."""
        check_synthesis_input(mel, self.config.n_mel_channels, sigma)
        steps = mel.shape[2] * self.hop // self.config.n_group
        generator = None if seed is None else torch.Generator(device=mel.device).manual_seed(seed)
        noise = self.draw_noise(mel.shape[0], steps, mel.device, generator)
        with torch.no_grad():
            return self.infer_from_noise(mel, noise, sigma)

    def infer(self, spect: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
        """NVIDIA's call: `infer(mel, sigma)` with the global RNG, unclipped audio (sigma 1.0 as theirs)."""
        return self.synthesize(spect, sigma=sigma)

    def infer_from_noise(self, mel: torch.Tensor, noise: Sequence[torch.Tensor], sigma: float) -> torch.Tensor:
        """Run the flows backwards from pre-drawn noise; the coupling stream stays float32."""
        cfg = self.config
        steps = noise[0].shape[1]
        lp = self.predictor(mel) if cfg.lp_order else None
        pulses = self._pulses(mel, steps * cfg.n_group, None)
        mel = mel.to(self.dtype).transpose(1, 2)
        early_noise = iter(noise[1:])
        audio = sigma * noise[0].to(self.coupling_dtype)
        for k in reversed(range(cfg.n_flows)):
            audio_0, audio_1 = audio.chunk(2, dim=2)
            cond = self.WN[k].conditioning(mel, pulses, steps, self.hop, cfg.n_group)
            b, s = self.WN[k](audio_0.to(self.dtype), cond).to(audio.dtype).chunk(2, dim=2)
            audio = self._unmix(k, torch.cat([audio_0, (audio_1 - b) * torch.exp(-s)], 2))
            if cfg.is_early_output(k):
                audio = torch.cat([sigma * next(early_noise).to(audio.dtype), audio], 2)
        audio = audio.reshape(audio.shape[0], -1)
        if self.pulse_shape is not None:
            audio = audio + self.pulse_shape(pulses.reshape(audio.shape[0], -1), mel.transpose(1, 2),
                                             self.hop).to(audio.dtype)
        if lp is not None:
            audio = linear_prediction.colour(audio, lp, self.hop)
        return audio.float()


def count_macs_per_sample(config: CompactWaveGlowConfig, hop: int = 256) -> float:
    """Multiply-accumulates per output sample of one synthesis pass (convolutions and 1x1 mixes)."""
    C, L, K, g = config.wn_n_channels, config.wn_n_layers, config.wn_kernel_size, config.n_group
    per_step = 0.0
    for channels in config.flow_channels():
        n_half = channels // 2
        per_step += channels * channels  # invertible 1x1
        per_step += n_half * C + L * (C * K + C * 2 * C + C * C) + C * 2 * n_half  # start, layers, end
        per_step += config.n_mel_channels * 2 * C * L * g / hop  # mel projection, at the frame rate
        if config.pulse_excitation:
            per_step += 2 * 2 * C * L  # the pulses' projection: one weight column per pulse, at most ~2 a group
    macs = per_step / g + config.lp_order  # the all-pole filter: lp_order per sample
    macs += 2 * config.pulse_shape_taps / 64 + config.n_mel_channels / hop  # mean pulse (~1 pulse per 64+ samples)
    S = config.pulse_shape_channels  # its variation per frame
    macs += (config.n_mel_channels * S * 3 + S * config.pulse_shape_taps) / hop
    if config.pulse_excitation:  # the pitch predictor, per frame
        P, K = config.pitch_channels, config.pitch_kernel_size
        macs += (config.n_mel_channels * P * K + (config.pitch_layers - 1) * P * P * K + 2 * P) / hop
    return macs

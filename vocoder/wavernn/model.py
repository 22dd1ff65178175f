"""WaveRNN (Kalchbrenner et al., "Efficient Neural Audio Synthesis", ICML 2018) as a mel vocoder.

The network is the paper's: one GRU-like recurrent layer whose state is split in a coarse and a
fine half, and a **dual softmax** over 16-bit audio (8 coarse bits, then 8 fine bits):

    x_t = [c_{t-1}, f_{t-1}, c_t]                                  (each scaled to [-1, 1])
    u_t = σ(R_u h_{t-1} + I*_u x_t),  r_t = σ(R_r h_{t-1} + I*_r x_t)
    e_t = tanh(r_t ∘ (R_e h_{t-1}) + I*_e x_t)
    h_t = u_t ∘ h_{t-1} + (1 - u_t) ∘ e_t,     y_c, y_f = split(h_t)
    P(c_t) = softmax(O_2 relu(O_1 y_c)),       P(f_t) = softmax(O_4 relu(O_3 y_f))

`I*` is masked so that the current coarse value c_t reaches only the fine half of the state. The
cell is exactly PyTorch's GRU (reset gate applied to `R_e h + b`), so teacher-forced training
runs `nn.GRU` with the masked input matrix, and generation runs a hand-written step that computes
`R h_{t-1}` once for both halves, samples c_t from the coarse half, then finishes the fine half.

Output choice: the dual softmax, not a 9–10-bit µ-law softmax or a mixture of logistics (the
modes fatchord's popular re-implementation offers). It is the paper's output layer and the reason
for the split state and the masked `I*`; it models 16-bit linear PCM without µ-law's quantisation
noise floor, with two 256-way softmaxes that cost less per sample than one 1024-way softmax. The
price: except on quiet passages the fine byte is close to uniform noise, so its cross-entropy
stays near ln 256 = 5.5 nats and the learning signal comes mostly from the coarse byte.

Conditioning (the paper conditions on linguistic features; this is a mel vocoder): the project's
log-mel [B, 80, T] (22050 Hz, hop 256, `tts.core.audio`) is normalised to roughly [-1, 1], a residual
conv stack on frames (fatchord's MelResNet idea) computes `aux_dims` features, and mel + features
are upsampled ×256 by linear interpolation between frame centres (frame f is centred on sample
f·256, as the STFT frames are). The upsampled vector enters the GRU's input matrix at every sample.
Unlike fatchord's nearest-neighbour stretch with learned smoothing FIRs, this upsampler is linear
and fixed, so generation projects the conditioning through the input matrix at frame rate and
interpolates the projections: the same numbers without the 3H × D multiply-adds per sample (as
many as the 90%-sparse recurrent matrix itself). The learned part of the conditioning is the
frame-rate residual stack.

Generation (`synthesize`):
* folded batches: a long utterance is cut into segments of `target + 2 * overlap` samples that
  overlap by `overlap` and are generated in parallel as one batch; in each overlap the later
  segment's first half is a warm-up that is discarded, the second half is crossfaded with a
  raised cosine whose two weights sum to one (so folding and unfolding a signal is the identity).
* subscale (a model trained with `subscale_factor` S > 1): see `SubscaleContext` and
  `subscale_schedule`. Every segment is split into S interleaved sub-tensors (sub-tensor b holds
  samples b, b+S, b+2S, ...). Sub-tensor b is autoregressive along itself and also conditioned on
  the earlier sub-tensors b' < b in a window of `subscale_past` past and `subscale_horizon` (F)
  future positions, through a masked linear layer. Sub-tensor b starts F steps after b - 1, so
  all S sub-tensors advance together: L/S + (S-1)·F steps for L samples. `subscale=False` on such
  a model runs the same dependency structure one sub-tensor at a time (slow; a correctness check).
* sampling uses pre-drawn uniforms per sample position and the inverse CDF, so a `seed` gives the
  same audio, and the subscale schedule can be checked against sequential order exactly.
* the step loop is TorchScript (pre-split, gate-reordered, transposed weights; the byte inputs as
  256-row lookup tables; GRU matmul on a CSR matrix when the pruned recurrent matrix is sparse
  enough to win); `jit=False` runs the same code eagerly.

Sparse WaveRNN: with `prune_target` > 0 the recurrent matrices (each of R_u, R_r, R_e) are pruned
by block magnitude (blocks of `prune_block` = rows × cols, mean |w|) following Zhu & Gupta's
gradual schedule s_t = s_f (1 - (1 - (t - t0) / S)^3), updated every `prune_every` steps. The
mask multiplies the weights in every forward pass, and pruned weights are zeroed when the mask is
updated; the step counter and mask are buffers, so checkpoints resume the schedule.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from tts.core.config import Config
from tts.core.audio import DEFAULT_AUDIO, AudioSettings
from tts.core.serialization import load_project_model, make_project_checkpoint, save_project_checkpoint
from tts.core.vocoder import Vocoder, match_mel_to_audio
from vocoder.wavernn.sampling import (N_CLASSES, SILENCE_COARSE, StepWeights, block_prune_mask, combine_16bit,
                                      compiled_loop, fold_segments, prune_schedule, sample_plain, sample_subscale,
                                      scale_byte, split_16bit, subscale_merge, subscale_split, torch_threads,
                                      unfold_segments)

_SPARSE_DENSITY = 0.12  # at or below this density the CSR matmul beats the dense one on CPU (measured)


@dataclass
class WaveRNNConfig(Config):
    """Hyper-parameters. Defaults are the paper's WaveRNN-896 with a mel conditioning network."""

    n_mel_channels: int = 80
    hop_length: int = 256
    rnn_dims: int = 896  # GRU state; split in a coarse and a fine half
    fc_dims: int = 448  # width of O_1 / O_3
    # conditioning network
    res_channels: int = 128
    res_blocks: int = 10
    res_kernel_size: int = 5
    aux_dims: int = 64  # features from the residual stack, concatenated to the mel
    # Sparse WaveRNN: block magnitude pruning of the recurrent matrices (0 = dense)
    prune_target: float = 0.0
    prune_block: tuple[int, int] = (16, 1)  # (rows, cols) of one block of a [out, in] matrix
    prune_start: int = 1000  # t0
    prune_steps: int = 200_000  # S: steps over which sparsity rises to prune_target
    prune_every: int = 500  # mask update period
    # Subscale WaveRNN (0 or 1 = off)
    subscale_factor: int = 0
    subscale_horizon: int = 16  # F: future positions of earlier sub-tensors a sample may see
    subscale_past: int = 16  # past positions of earlier sub-tensors it sees
    subscale_context_dims: int = 128

    def __post_init__(self) -> None:
        self.prune_block = tuple(int(b) for b in self.prune_block)
        if self.hop_length < 1:
            raise ValueError(f"hop_length must be >= 1, got {self.hop_length}")
        if self.rnn_dims <= 0 or self.rnn_dims % 2:
            raise ValueError(f"rnn_dims must be a positive even number (coarse and fine halves), got {self.rnn_dims}")
        if not 0.0 <= self.prune_target < 1.0:
            raise ValueError(f"prune_target must be in [0, 1), got {self.prune_target}")
        if len(self.prune_block) != 2 or min(self.prune_block) < 1:
            raise ValueError(f"prune_block must be (rows, cols) >= 1, got {self.prune_block}")
        if self.prune_target > 0:
            rows, cols = self.prune_block
            if self.rnn_dims % rows or self.rnn_dims % cols:
                raise ValueError(f"prune_block {self.prune_block} must divide the {self.rnn_dims}x{self.rnn_dims} gate matrices")
            if self.prune_steps < 1 or self.prune_every < 1 or self.prune_start < 0:
                raise ValueError("prune_steps and prune_every must be >= 1 and prune_start >= 0")
        if self.subscale_factor < 0:
            raise ValueError(f"subscale_factor must be >= 0, got {self.subscale_factor}")
        if self.subscale:
            if self.hop_length % self.subscale_factor:
                raise ValueError(f"subscale_factor {self.subscale_factor} must divide hop_length {self.hop_length}")
            if self.subscale_horizon < 1 or self.subscale_past < 0:
                raise ValueError("subscale_horizon must be >= 1 and subscale_past >= 0")

    @property
    def subscale(self) -> bool:
        return self.subscale_factor > 1


def normalize_mel(mel: torch.Tensor, audio: AudioSettings) -> torch.Tensor:
    """Log-mel -> about [-1, 1]: digital silence (ln 1e-5) maps to -1, ln(1) = 0 to +1."""
    half = -audio.silence_level / 2.0
    return (mel + half) / half


class _ResBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv1d(channels, channels, 3, padding=1, padding_mode="replicate")
        self.conv2 = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(torch.relu(self.conv1(x)))


class MelResNet(nn.Module):
    """Residual conv stack on mel frames: [B, n_mels, T] -> [B, aux_dims, T]."""

    def __init__(self, n_mels: int, channels: int, out_dims: int, n_blocks: int, kernel_size: int):
        super().__init__()
        self.conv_in = nn.Conv1d(n_mels, channels, kernel_size, padding=kernel_size // 2, padding_mode="replicate")
        self.blocks = nn.ModuleList(_ResBlock(channels) for _ in range(n_blocks))
        self.conv_out = nn.Conv1d(channels, out_dims, 1)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv_in(mel))
        for block in self.blocks:
            h = block(h)
        return self.conv_out(h)


def interpolate_frames(frames: torch.Tensor, hop: int) -> torch.Tensor:
    """[B, T, D] frame features -> [B, T * hop, D] per sample: linear between frame centres (frame f
    at sample f * hop), the last frame held over its final hop."""
    batch, count, dims = frames.shape
    nxt = torch.cat([frames[:, 1:], frames[:, -1:]], dim=1)
    alpha = (torch.arange(hop, device=frames.device, dtype=frames.dtype) / hop).view(1, 1, hop, 1)
    out = frames.unsqueeze(2) + alpha * (nxt - frames).unsqueeze(2)  # [B, T, hop, D]
    return out.reshape(batch, count * hop, dims)


class SubscaleContext(nn.Module):
    """Context from earlier sub-tensors for the Subscale WaveRNN.

    For sample (b, i) it reads the window of positions i - P .. i + F - 1 of every sub-tensor b' < b
    (rows b' >= b are masked out), applies one linear map W [C, S, P + F] plus a learned vector per
    sub-tensor b, and a ReLU: ctx(b, i) = relu(e_b + sum_{b' < b} W_b' · window_b'(i)).
    Positions outside the segment read as 0.
    """

    def __init__(self, factor: int, past: int, horizon: int, dims: int):
        super().__init__()
        self.factor, self.past, self.horizon = factor, past, horizon
        width = past + horizon
        self.weight = nn.Parameter(torch.randn(dims, factor, width) / math.sqrt(factor * width))
        self.row_bias = nn.Parameter(torch.zeros(factor, dims))

    @property
    def width(self) -> int:
        return self.past + self.horizon

    def forward(self, values: torch.Tensor) -> torch.Tensor:
        """values [B, S, L] (audio in [-1, 1], teacher forcing) -> context [B, S, L, C]."""
        length = values.shape[-1]
        padded = F.pad(values, (self.past, self.horizon))
        windows = padded.unfold(-1, self.width, 1)[:, :, :length]  # [B, S(b'), L, P + F]
        per_row = torch.einsum("bslw,csw->bslc", windows, self.weight)  # contribution of each b'
        # exclusive cumulative sum over b': sub-tensor b sees only b' < b
        seen = torch.cumsum(per_row, dim=1) - per_row
        return torch.relu(seen + self.row_bias[None, :, None, :])


# ----------------------------------------------------------------------------------------------
# The model


class WaveRNN(Vocoder):
    """WaveRNN vocoder: mel [B, 80, T] -> audio [B, T * 256] (see the module docstring)."""

    name = "wavernn"
    needs_weights = True
    #: kwargs that make `synthesize` deterministic (used by the Denoiser for its bias spectrum)
    deterministic_kwargs = {"seed": 0}

    def __init__(self, config: WaveRNNConfig | None = None, audio: AudioSettings = DEFAULT_AUDIO):
        super().__init__(audio)
        config = config or WaveRNNConfig()
        if config.n_mel_channels != audio.n_mel_channels or config.hop_length != audio.hop_length:
            raise ValueError(
                f"WaveRNN config (n_mel_channels={config.n_mel_channels}, hop_length={config.hop_length}) does not match "
                f"the audio settings (n_mel_channels={audio.n_mel_channels}, hop_length={audio.hop_length})"
            )
        self.config = config
        hidden, half = config.rnn_dims, config.rnn_dims // 2
        self.cond_dims = config.n_mel_channels + config.aux_dims
        self.mel_net = MelResNet(config.n_mel_channels, config.res_channels, config.aux_dims, config.res_blocks, config.res_kernel_size)
        self.context = (
            SubscaleContext(config.subscale_factor, config.subscale_past, config.subscale_horizon, config.subscale_context_dims)
            if config.subscale
            else None
        )
        ctx_dims = config.subscale_context_dims if config.subscale else 0
        # GRU input x_t = [c_{t-1}, f_{t-1}, c_t, conditioning, subscale context]
        self.gru = nn.GRU(3 + self.cond_dims + ctx_dims, hidden, batch_first=True)
        self.O1 = nn.Linear(half, config.fc_dims)
        self.O2 = nn.Linear(config.fc_dims, N_CLASSES)
        self.O3 = nn.Linear(half, config.fc_dims)
        self.O4 = nn.Linear(config.fc_dims, N_CLASSES)
        # I*: c_t (input column 2) reaches only the fine half of each gate (PyTorch rows: [r; z; n] x [coarse; fine])
        input_mask = torch.ones(3 * hidden, self.gru.input_size)
        for gate in range(3):
            input_mask[gate * hidden : gate * hidden + half, 2] = 0.0
        self.register_buffer("input_mask", input_mask, persistent=False)
        self.register_buffer("prune_mask", torch.ones(3 * hidden, hidden))
        self.register_buffer("train_step", torch.zeros((), dtype=torch.long))

    # -- conditioning ----------------------------------------------------------------------

    def frame_features(self, mel: torch.Tensor) -> torch.Tensor:
        """mel [B, n_mels, T] -> conditioning per frame [B, T, n_mels + aux_dims]."""
        m = normalize_mel(mel, self.audio)
        return torch.cat([m, self.mel_net(m)], dim=1).transpose(1, 2)

    def conditioning(self, mel: torch.Tensor) -> torch.Tensor:
        """mel [B, n_mels, T] -> per-sample conditioning [B, T * hop, n_mels + aux_dims]."""
        return interpolate_frames(self.frame_features(mel), self.audio.hop_length)

    def _gru_weights(self) -> dict[str, torch.Tensor]:
        return {
            "weight_ih_l0": self.gru.weight_ih_l0 * self.input_mask,
            "weight_hh_l0": self.gru.weight_hh_l0 * self.prune_mask,
        }

    # -- training ------------------------------------------------------------------------------

    def _check_pair(self, mel: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        return match_mel_to_audio(mel, audio, self.audio)

    def teacher_forced_logits(self, mel: torch.Tensor, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Teacher-forced pass: (coarse_logits, fine_logits) [B, N, 256] and (coarse, fine) targets [B, N].

        Subscale models return them in the original sample order as well.
        """
        mel = self._check_pair(mel, audio)
        coarse, fine = split_16bit(audio)
        cond = self.conditioning(mel)  # [B, N, D]
        batch, length = audio.shape
        if self.context is None:
            seq_c, seq_f, seq_cond, extra = coarse, fine, cond, None
        else:
            factor = self.config.subscale_factor
            seq_c = subscale_split(coarse, factor).reshape(batch * factor, -1)
            seq_f = subscale_split(fine, factor).reshape(batch * factor, -1)
            seq_cond = subscale_split(cond, factor).reshape(batch * factor, length // factor, -1)
            values = subscale_split(combine_16bit(coarse, fine).to(cond.dtype), factor)  # [B, S, L]
            extra = self.context(values).reshape(batch * factor, length // factor, -1)
        c_now = scale_byte(seq_c).to(cond.dtype)
        f_now = scale_byte(seq_f).to(cond.dtype)
        # every sequence starts after a sample of digital silence (coarse 128, fine 0), like generation
        c_prev = F.pad(c_now[:, :-1], (1, 0), value=SILENCE_COARSE / 127.5 - 1.0)
        f_prev = F.pad(f_now[:, :-1], (1, 0), value=-1.0)
        parts = [c_prev[..., None], f_prev[..., None], c_now[..., None], seq_cond]
        if extra is not None:
            parts.append(extra)
        x = torch.cat(parts, dim=-1)
        h, _ = torch.func.functional_call(self.gru, self._gru_weights(), (x,))
        half = self.config.rnn_dims // 2
        logits_c = self.O2(torch.relu(self.O1(h[..., :half])))
        logits_f = self.O4(torch.relu(self.O3(h[..., half:])))
        if self.context is not None:
            factor = self.config.subscale_factor
            unsplit = lambda t: subscale_merge(t.reshape(batch, factor, length // factor, N_CLASSES))  # noqa: E731
            logits_c, logits_f = unsplit(logits_c), unsplit(logits_f)
        return logits_c, logits_f, coarse, fine

    def forward(self, mel: torch.Tensor, audio: torch.Tensor | None = None, **kwargs):
        """Without `audio`: inference (`Vocoder.forward`: float32 audio clipped to [-1, 1]).
        With `audio`: one training pass, returning `loss_terms` (the trainer calls the module, so
        DistributedDataParallel sees the pass); in training mode with grad enabled this also
        advances the pruning schedule (`train_step` counts these calls)."""
        if audio is None:
            # the base forward's in-place clamp_ must run inside inference mode too
            with torch.inference_mode():
                return super().forward(mel, **kwargs)
        stepping = self.training and torch.is_grad_enabled()
        if stepping and self.config.prune_target > 0:
            self.update_pruning(int(self.train_step))
        terms = self.loss_terms(mel, audio)
        if stepping:
            self.train_step += 1
        return terms

    def loss_terms(self, mel: torch.Tensor, audio: torch.Tensor) -> dict[str, torch.Tensor]:
        """Cross-entropies in nats per sample: {"loss", "coarse_nll", "fine_nll"}."""
        logits_c, logits_f, coarse, fine = self.teacher_forced_logits(mel, audio)
        coarse_nll = F.cross_entropy(logits_c.reshape(-1, N_CLASSES).float(), coarse.reshape(-1))
        fine_nll = F.cross_entropy(logits_f.reshape(-1, N_CLASSES).float(), fine.reshape(-1))
        return {"loss": coarse_nll + fine_nll, "coarse_nll": coarse_nll, "fine_nll": fine_nll}

    def training_loss(self, mel: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """Scalar NLL (nats per 16-bit sample = coarse + fine cross-entropy) for one batch.

        mel [B, n_mels, T] and audio [B, T * hop] in [-1, 1] (a mel with T + 1 frames, as
        `tts.core.audio.mel_spectrogram` gives for T * hop samples, is accepted: its last frame is
        dropped). Same as `self(mel, audio)["loss"]`, pruning schedule included.
        """
        return self(mel, audio)["loss"]

    def prepare_for_inference(self) -> "WaveRNN":
        """Eval mode (the step loop reads the masked weights itself; nothing to fold)."""
        return self.eval()

    # -- pruning -------------------------------------------------------------------------------

    def sparsity_at(self, step: int) -> float:
        c = self.config
        return prune_schedule(step, c.prune_target, c.prune_start, c.prune_steps)

    @torch.no_grad()
    def update_pruning(self, step: int, force: bool = False) -> float:
        """Recompute the block masks of R_u, R_r, R_e for `step` (every `prune_every` steps from t0,
        or now with `force`) and zero the pruned weights. Returns the scheduled sparsity."""
        c = self.config
        sparsity = self.sparsity_at(step)
        due = step >= c.prune_start and (step - c.prune_start) % c.prune_every == 0
        if c.prune_target <= 0 or not (due or force):
            return sparsity
        hidden = c.rnn_dims
        weight = self.gru.weight_hh_l0 * self.prune_mask  # pruned blocks have magnitude 0: stay pruned
        for gate in range(3):
            rows = slice(gate * hidden, (gate + 1) * hidden)
            self.prune_mask[rows] = block_prune_mask(weight[rows], sparsity, c.prune_block)
        self.gru.weight_hh_l0.mul_(self.prune_mask)
        return sparsity

    @property
    def sparsity(self) -> float:
        """Fraction of the recurrent weights currently masked."""
        return 1.0 - float(self.prune_mask.float().mean())

    # -- generation ----------------------------------------------------------------------------

    def _step_weights(self, sparse: bool) -> StepWeights:
        """Effective weights, gate rows reordered to [r_c, u_c, e_c, r_f, u_f, e_f] for the step loop."""
        hidden, half = self.config.rnn_dims, self.config.rnn_dims // 2
        gates = [torch.arange(g * hidden, g * hidden + half) for g in range(3)]
        gates += [torch.arange(g * hidden + half, (g + 1) * hidden) for g in range(3)]
        order = torch.cat(gates).to(self.prune_mask.device)
        weights = self._gru_weights()
        w_ih = weights["weight_ih_l0"][order]
        r = weights["weight_hh_l0"][order]
        if sparse:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
                csr = r.contiguous().to_sparse_csr()
                # int32 indices: MKL's sparse kernels otherwise convert them on every call
                r = torch.sparse_csr_tensor(csr.crow_indices().int(), csr.col_indices().int(), csr.values(), csr.shape)
        else:
            r = r.t().contiguous()
        d = self.cond_dims
        t = lambda m: m.t().contiguous()  # noqa: E731
        byte_values = scale_byte(torch.arange(N_CLASSES, device=w_ih.device)).to(w_ih.dtype)
        return StepWeights(
            i_cond_t=t(w_ih[:, 3 : 3 + d]),
            b_ih=self.gru.bias_ih_l0[order].contiguous(),
            table_c=byte_values[:, None] * w_ih[:, 0],
            table_f=byte_values[:, None] * w_ih[:, 1],
            table_cc=byte_values[:, None] * w_ih[3 * half :, 2],
            i_ctx_t=t(w_ih[:, 3 + d :]),
            r=r,
            b_hh=self.gru.bias_hh_l0[order].contiguous(),
            o1_t=t(self.O1.weight), b1=self.O1.bias.contiguous(),
            o2_t=t(self.O2.weight), b2=self.O2.bias.contiguous(),
            o3_t=t(self.O3.weight), b3=self.O3.bias.contiguous(),
            o4_t=t(self.O4.weight), b4=self.O4.bias.contiguous(),
        )

    def _use_sparse(self, dtype: torch.dtype, device: torch.device, rows: int) -> bool:
        """CSR recurrent matmul where it measured faster than dense on CPU (1 thread, H = 512, 16x1
        blocks): from 90% sparsity at any batch, from 75% with 8 or more rows per step."""
        if device.type != "cpu" or dtype not in (torch.float32, torch.float64):
            return False
        density = float(self.prune_mask.float().mean())
        return density <= _SPARSE_DENSITY or (density <= 0.25 and rows >= 8)

    def synthesize(
        self,
        mel: torch.Tensor,
        batched: bool = True,
        target: int = 4096,
        overlap: int = 512,
        subscale: bool | None = None,
        temperature: float = 1.0,
        seed: int | None = None,
        jit: bool = True,
        sparse: bool | None = None,
        threads: int | None = 1,
    ) -> torch.Tensor:
        """mel [B, n_mels, T] -> audio [B, T * hop] (float, unclipped; `forward` clips).

        batched: fold each utterance into segments of `target + 2 * overlap` samples (both rounded
            up to whole frames) generated as one batch and crossfaded back; False generates every
            utterance as one sequence. Smaller targets give more rows per step (faster on CPU:
            the per-step cost is mostly fixed) and more seams; fatchord uses 11000 / 550.
        subscale: None = the model's own scheme (parallel sub-tensors if trained with
            subscale_factor > 1); True requires such a model; False on such a model generates the
            sub-tensors one after another (same distribution, S times slower).
        temperature: divides the logits (> 0). seed: reproducible sampling.
        jit: run the TorchScript loop. sparse: CSR recurrent matmul (None = where it measured
            faster for this mask density and batch).
        threads: torch threads for the sample loop (restored afterwards; None = leave as is). Its
            matrices are small: one thread was faster than two even on a quiet 2-core machine,
            and 10-50x faster when other processes compete for the cores.
        """
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if subscale and not self.config.subscale:
            raise ValueError("subscale=True needs a WaveRNN trained with subscale_factor > 1 (this one has "
                             f"subscale_factor={self.config.subscale_factor})")
        if target < 1 or overlap < 0:
            raise ValueError(f"need target >= 1 and overlap >= 0, got target={target}, overlap={overlap}")
        param = self.O1.weight
        mel = mel.to(device=param.device, dtype=param.dtype)
        batch, _, frames = mel.shape
        hop = self.audio.hop_length
        if frames == 0:
            return mel.new_zeros(batch, 0)
        factor = self.config.subscale_factor if self.config.subscale else 1
        w0 = self._step_weights(sparse=False)
        # the conditioning through the input matrix at frame rate; the loop interpolates it
        proj = torch.addmm(w0.b_ih, self.frame_features(mel).flatten(0, 1), w0.i_cond_t).view(batch, frames, -1)
        target_frames, overlap_frames = -(-target // hop), -(-overlap // hop)
        if batched:
            segments = fold_segments(proj, target_frames, overlap_frames, extra=1)  # + the next frame
        else:
            segments = torch.cat([proj, proj[:, -1:]], dim=1)
        rows, seg_len = segments.shape[0], (segments.shape[1] - 1) * hop
        generator = torch.Generator(device="cpu")
        generator.manual_seed(torch.seed() if seed is None else seed)
        noise = torch.rand(rows, seg_len, 2, generator=generator, dtype=torch.float64).to(device=param.device, dtype=param.dtype)
        use_sparse = self._use_sparse(param.dtype, param.device, rows * factor) if sparse is None else sparse
        w = self._step_weights(use_sparse) if use_sparse else w0
        inv_temperature = 1.0 / temperature
        if not self.config.subscale:
            loop = (compiled_loop("plain") if jit else None) or sample_plain
            with torch_threads(threads):
                out = loop(
                    segments.contiguous(), hop, w.table_c, w.table_f, w.table_cc, w.r, w.b_hh,
                    w.o1_t, w.b1, w.o2_t, w.b2, w.o3_t, w.b3, w.o4_t, w.b4,
                    noise.transpose(0, 1).contiguous(), inv_temperature, use_sparse,
                )  # [L, rows, 2]
            samples = combine_16bit(out[..., 0], out[..., 1]).t()  # [rows, L]
        else:
            stagger = self.config.subscale_horizon if subscale is None or subscale else seg_len // factor
            ctx = self.context
            assert ctx is not None
            loop = (compiled_loop("subscale") if jit else None) or sample_subscale
            with torch_threads(threads):
                out = loop(
                    segments.contiguous(), hop, factor, w.table_c, w.table_f, w.table_cc, w.i_ctx_t,
                    ctx.weight.reshape(ctx.weight.shape[0], -1).t().contiguous(),
                    ctx.row_bias.repeat(rows, 1),
                    w.r, w.b_hh, w.o1_t, w.b1, w.o2_t, w.b2, w.o3_t, w.b3, w.o4_t, w.b4,
                    subscale_split(noise, factor).reshape(-1, 2).contiguous(),
                    inv_temperature, use_sparse, stagger, ctx.past, ctx.horizon,
                )  # [rows, S, L / S, 2]
            samples = subscale_merge(combine_16bit(out[..., 0], out[..., 1]))  # [rows, L]
        # float32 holds every 16-bit value exactly, whatever precision the network ran in
        length = frames * hop
        if batched:
            return unfold_segments(samples, batch, overlap_frames * hop, length)
        return samples[:, :length]


# ----------------------------------------------------------------------------------------------
# Checkpoints


def save_wavernn(model: WaveRNN, path: str | Path, extra: Mapping[str, Any] | None = None) -> Path:
    """Write `model` in the project's checkpoint format (model name "wavernn")."""
    ckpt = make_project_checkpoint("wavernn", model.config.to_dict(), model.state_dict(), model.audio, extra)
    return save_project_checkpoint(path, ckpt)


def load_wavernn(
    path: str | Path,
    map_location: Any = "cpu",
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> WaveRNN:
    """Read a project "wavernn" checkpoint; returns the model in eval mode on `device` / `dtype`."""
    return load_project_model(path, "wavernn", WaveRNN, WaveRNNConfig, map_location, device, dtype)


def load_wavernn_vocoder(path: str | Path | None, *, device=None, dtype=None, **kwargs) -> WaveRNN:
    """Registry loader: `VOCODERS.load("wavernn", path, device=..., dtype=...)`."""
    if path is None:
        raise ValueError("the wavernn vocoder needs a checkpoint file")
    return load_wavernn(path, device=device, dtype=dtype, **kwargs)

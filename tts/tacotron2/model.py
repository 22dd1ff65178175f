"""Tacotron 2 (Shen et al. 2018, "Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram
Predictions"): characters -> mel spectrogram, laid out like NVIDIA/tacotron2 so its weights load with
`load_state_dict(strict=True)`.

    text ids -> Embedding -> Encoder (3 x [conv, batch-norm, ReLU] + BiLSTM) = memory
    per decoder step: previous frame group -> Prenet (2 x [linear, ReLU, dropout]) ->
        attention LSTMCell -> location-sensitive attention over memory -> context ->
        decoder LSTMCell -> linear projection (r mel frames) and stop-token gate
    mel -> Postnet (5 convs) as a residual correction.

Behaviour kept from the reference on purpose:
* the prenet's dropout is ON at inference too (the paper's source of output variation); pass
  `prenet_dropout=0` to `infer` to switch it off. Random numbers are drawn in the reference's order
  (per decoder step: prenet layer 1 mask, then layer 2 mask), so `torch.manual_seed(s)` + `infer`
  gives NVIDIA's `Tacotron2.inference` output for a batch of one.
* in training the dropped-out attention/decoder LSTM hidden states are also the recurrent states.
* stop rule: after emitting a step, stop when sigmoid(gate) > gate_threshold; the stop frame is kept.

Differences: batched inference (each item masked to its length and stopping on its own; there the encoder
convolutions and the postnet see zeros beyond each item's length so that an item's result does not
depend on what it is batched with), `n_frames_per_step` r > 1 predicts r gate logits per step (r = 1 keeps
the reference's single gate unit), and a fast inference loop that equals the plain loop within float
tolerance.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from tts.core.config import Config
from tts.tacotron2.checks import StopTracker, attention_failure_reasons
from tts.tacotron2.fast import decode_loop_fast, teacher_forced_for_backprop
from tts.core.audio import DEFAULT_AUDIO, AudioSettings


# ----------------------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------------------
@dataclass
class Tacotron2Config(Config):
    """Model hyper-parameters, named as in NVIDIA's `hparams.py` (defaults = the published model)."""

    n_symbols: int = 148
    symbols_embedding_dim: int = 512
    encoder_kernel_size: int = 5
    encoder_n_convolutions: int = 3
    encoder_embedding_dim: int = 512
    n_frames_per_step: int = 1
    decoder_rnn_dim: int = 1024
    prenet_dim: int = 256
    attention_rnn_dim: int = 1024
    attention_dim: int = 128
    attention_location_n_filters: int = 32
    attention_location_kernel_size: int = 31
    postnet_embedding_dim: int = 512
    postnet_kernel_size: int = 5
    postnet_n_convolutions: int = 5
    p_attention_dropout: float = 0.1
    p_decoder_dropout: float = 0.1
    n_mel_channels: int = 80
    mask_padding: bool = True

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", int) and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"Tacotron2Config.{f.name} must be a positive integer, got {value!r}")
        for name in ("encoder_kernel_size", "attention_location_kernel_size", "postnet_kernel_size"):
            if getattr(self, name) % 2 == 0:
                raise ValueError(f"Tacotron2Config.{name} must be odd (same-length convolution), got {getattr(self, name)}")
        if self.encoder_embedding_dim % 2:
            raise ValueError("Tacotron2Config.encoder_embedding_dim must be even (two LSTM directions)")
        if self.symbols_embedding_dim != self.encoder_embedding_dim:
            raise ValueError(
                "Tacotron2Config.symbols_embedding_dim must equal encoder_embedding_dim "
                f"(the encoder convolutions read the embedding), got {self.symbols_embedding_dim} != {self.encoder_embedding_dim}"
            )
        if self.postnet_n_convolutions < 2:
            raise ValueError("Tacotron2Config.postnet_n_convolutions must be at least 2")
        for name in ("p_attention_dropout", "p_decoder_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"Tacotron2Config.{name} must be in [0, 1), got {getattr(self, name)}")


class LinearNorm(nn.Module):
    """nn.Linear with Xavier-uniform init scaled by the gain of the non-linearity that follows."""

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True, w_init_gain: str = "linear"):
        super().__init__()
        self.linear_layer = nn.Linear(in_dim, out_dim, bias=bias)
        nn.init.xavier_uniform_(self.linear_layer.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, x: Tensor) -> Tensor:
        return self.linear_layer(x)


class ConvNorm(nn.Module):
    """Same-length nn.Conv1d with Xavier-uniform init."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, bias: bool = True,
                 w_init_gain: str = "linear"):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=(kernel_size - 1) // 2, bias=bias)
        nn.init.xavier_uniform_(self.conv.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


def lengths_to_mask(lengths: Tensor, max_len: int | None = None) -> Tensor:
    """[B] lengths -> [B, max_len] bool, True on valid positions."""
    max_len = int(lengths.max()) if max_len is None else max_len
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def _conv_bn(in_ch: int, out_ch: int, kernel: int, gain: str) -> nn.Sequential:
    # index 0 = ConvNorm, index 1 = BatchNorm1d: keys `convolutions.i.0.conv.*`, `convolutions.i.1.*`
    return nn.Sequential(ConvNorm(in_ch, out_ch, kernel, w_init_gain=gain), nn.BatchNorm1d(out_ch))


# ----------------------------------------------------------------------------------------------------
# Encoder
# ----------------------------------------------------------------------------------------------------
class Encoder(nn.Module):
    """3 x [Conv1d(k=5) -> BatchNorm -> ReLU -> dropout 0.5 (training)] -> BiLSTM (each direction half)."""

    def __init__(self, c: Tacotron2Config):
        super().__init__()
        dim = c.encoder_embedding_dim
        self.convolutions = nn.ModuleList(
            [_conv_bn(dim, dim, c.encoder_kernel_size, "relu") for _ in range(c.encoder_n_convolutions)]
        )
        self.lstm = nn.LSTM(dim, dim // 2, 1, batch_first=True, bidirectional=True)

    def forward(self, x: Tensor, lengths: Tensor | None = None, zero_padding: bool = False) -> Tensor:
        """x: [B, C, T] embedded text; lengths: [B] or None (all full length) -> memory [B, T, C].

        zero_padding: zero the convolutions' inputs past each item's length, so that an item's memory
        does not depend on the batch (used by `infer`). Training keeps the reference behaviour (padding
        symbols' embeddings reach the last k // 2 positions; batch-norm statistics include padding).
        """
        padded = lengths is not None and bool((lengths < x.size(2)).any())
        valid = lengths_to_mask(lengths, x.size(2))[:, None, :].to(x.dtype) if padded and zero_padding else None
        for conv in self.convolutions:
            if valid is not None:
                x = x * valid  # [B, C, T] * [B, 1, T]
            x = F.dropout(F.relu(conv(x)), 0.5, self.training)
        x = x.transpose(1, 2)  # [B, T, C]
        if not padded:
            return self.lstm(x)[0]
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        return nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.size(1))[0]


# ----------------------------------------------------------------------------------------------------
# Location-sensitive attention (Chorowski et al. 2015)
# ----------------------------------------------------------------------------------------------------
class LocationLayer(nn.Module):
    """Convolve [previous weights, cumulative weights] over text time, project to attention_dim."""

    def __init__(self, n_filters: int, kernel_size: int, attention_dim: int):
        super().__init__()
        self.location_conv = ConvNorm(2, n_filters, kernel_size, bias=False)
        self.location_dense = LinearNorm(n_filters, attention_dim, bias=False, w_init_gain="tanh")

    def forward(self, weights_cat: Tensor) -> Tensor:
        """[B, 2, T_in] -> [B, T_in, attention_dim]"""
        return self.location_dense(self.location_conv(weights_cat).transpose(1, 2))


class Attention(nn.Module):
    """energy_j = v . tanh(W q + V h_j + U (F * [a_prev, a_cum])_j), weights = softmax over valid j."""

    def __init__(self, c: Tacotron2Config):
        super().__init__()
        self.query_layer = LinearNorm(c.attention_rnn_dim, c.attention_dim, bias=False, w_init_gain="tanh")
        self.memory_layer = LinearNorm(c.encoder_embedding_dim, c.attention_dim, bias=False, w_init_gain="tanh")
        self.v = LinearNorm(c.attention_dim, 1, bias=False)
        self.location_layer = LocationLayer(c.attention_location_n_filters, c.attention_location_kernel_size, c.attention_dim)

    def forward(self, query: Tensor, memory: Tensor, processed_memory: Tensor, weights_cat: Tensor,
                invalid: Tensor | None) -> tuple[Tensor, Tensor]:
        """query [B, Q], memory [B, T_in, C], processed_memory [B, T_in, A], weights_cat [B, 2, T_in],
        invalid [B, T_in] (True = padding) or None -> context [B, C], weights [B, T_in]"""
        energies = self.v(torch.tanh(
            self.query_layer(query.unsqueeze(1)) + self.location_layer(weights_cat) + processed_memory
        )).squeeze(-1)
        if invalid is not None:
            energies = energies.masked_fill(invalid, -float("inf"))
        weights = F.softmax(energies, dim=1)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return context, weights


# ----------------------------------------------------------------------------------------------------
# Prenet and Postnet
# ----------------------------------------------------------------------------------------------------
class Prenet(nn.Module):
    """2 x [Linear (no bias) -> ReLU -> dropout p], dropout applied at inference too (the paper's
    source of variation). `p` is an argument, not `self.training`."""

    def __init__(self, in_dim: int, sizes: Sequence[int]):
        super().__init__()
        in_sizes = [in_dim, *sizes[:-1]]
        self.layers = nn.ModuleList([LinearNorm(i, o, bias=False) for i, o in zip(in_sizes, sizes)])

    def forward(self, x: Tensor, p: float = 0.5) -> Tensor:
        for linear in self.layers:
            # F.dropout(training=True) draws one bernoulli_(1-p) mask of x's shape per layer: the
            # reference's random-number order.
            x = F.dropout(F.relu(linear(x)), p, training=p > 0)
        return x


class Postnet(nn.Module):
    """5 convs (k=5): n_mel -> 512 -> 512 -> 512 -> 512 -> n_mel, batch-norm, tanh on all but the last,
    dropout 0.5 in training. Predicts a residual that is added to the decoder's mel."""

    def __init__(self, c: Tacotron2Config):
        super().__init__()
        n, dim, k = c.postnet_n_convolutions, c.postnet_embedding_dim, c.postnet_kernel_size
        layers = [_conv_bn(c.n_mel_channels, dim, k, "tanh")]
        layers += [_conv_bn(dim, dim, k, "tanh") for _ in range(n - 2)]
        layers += [_conv_bn(dim, c.n_mel_channels, k, "linear")]
        self.convolutions = nn.ModuleList(layers)

    def forward(self, x: Tensor, valid: Tensor | None = None) -> Tensor:
        """x [B, n_mel, T]; valid [B, 1, T] float (1 on real frames) makes every layer see zeros past
        each item's end, exactly as if each item were run alone."""
        last = len(self.convolutions) - 1
        for i, conv in enumerate(self.convolutions):
            if valid is not None:
                x = x * valid
            x = conv(x)
            if i < last:
                x = torch.tanh(x)
            x = F.dropout(x, 0.5, self.training)
        return x


# ----------------------------------------------------------------------------------------------------
# Decoder
# ----------------------------------------------------------------------------------------------------
class DecoderState(NamedTuple):
    attention_hidden: Tensor  # [B, attention_rnn_dim]
    attention_cell: Tensor
    decoder_hidden: Tensor  # [B, decoder_rnn_dim]
    decoder_cell: Tensor
    attention_weights: Tensor  # [B, T_in]
    attention_weights_cum: Tensor  # [B, T_in]
    attention_context: Tensor  # [B, encoder_embedding_dim]


class Decoder(nn.Module):
    """Autoregressive decoder: r mel frames (and r stop-gate logits) per step."""

    def __init__(self, c: Tacotron2Config):
        super().__init__()
        self.config = c
        r, n_mel = c.n_frames_per_step, c.n_mel_channels
        self.prenet = Prenet(n_mel * r, [c.prenet_dim, c.prenet_dim])
        self.attention_rnn = nn.LSTMCell(c.prenet_dim + c.encoder_embedding_dim, c.attention_rnn_dim)
        self.attention_layer = Attention(c)
        self.decoder_rnn = nn.LSTMCell(c.attention_rnn_dim + c.encoder_embedding_dim, c.decoder_rnn_dim)
        self.linear_projection = LinearNorm(c.decoder_rnn_dim + c.encoder_embedding_dim, n_mel * r)
        self.gate_layer = LinearNorm(c.decoder_rnn_dim + c.encoder_embedding_dim, r, w_init_gain="sigmoid")

    def initial_state(self, memory: Tensor) -> DecoderState:
        B, T_in, C = memory.shape
        c = self.config
        z = memory.new_zeros
        return DecoderState(z(B, c.attention_rnn_dim), z(B, c.attention_rnn_dim), z(B, c.decoder_rnn_dim),
                            z(B, c.decoder_rnn_dim), z(B, T_in), z(B, T_in), z(B, C))

    def decode(self, prenet_out: Tensor, s: DecoderState, memory: Tensor, processed_memory: Tensor,
               invalid: Tensor | None) -> tuple[Tensor, Tensor, DecoderState]:
        """One step: prenet output [B, prenet_dim] -> frames [B, n_mel*r], gate [B, r], new state."""
        c = self.config
        att_h, att_c = self.attention_rnn(torch.cat((prenet_out, s.attention_context), -1),
                                          (s.attention_hidden, s.attention_cell))
        att_h = F.dropout(att_h, c.p_attention_dropout, self.training)
        weights_cat = torch.cat((s.attention_weights.unsqueeze(1), s.attention_weights_cum.unsqueeze(1)), dim=1)
        context, weights = self.attention_layer(att_h, memory, processed_memory, weights_cat, invalid)
        weights_cum = s.attention_weights_cum + weights
        dec_h, dec_c = self.decoder_rnn(torch.cat((att_h, context), -1), (s.decoder_hidden, s.decoder_cell))
        dec_h = F.dropout(dec_h, c.p_decoder_dropout, self.training)
        h = torch.cat((dec_h, context), dim=1)
        frames = self.linear_projection(h)
        gate = self.gate_layer(h)
        return frames, gate, DecoderState(att_h, att_c, dec_h, dec_c, weights, weights_cum, context)

    def forward(self, memory: Tensor, mels: Tensor, memory_lengths: Tensor,
                prenet_dropout: float = 0.5) -> tuple[Tensor, Tensor, Tensor]:
        """Teacher forcing. memory [B, T_in, C], mels [B, n_mel, T_out] (T_out multiple of r) ->
        mel [B, n_mel, T_out], gate [B, T_out], alignments [B, T_out / r, T_in]."""
        c = self.config
        B, n_mel, T_out = mels.shape
        r = c.n_frames_per_step
        # [B, n_mel, T_out] -> [T_out / r, B, n_mel * r]: step t reads frames t*r ... t*r + r - 1
        groups = mels.transpose(1, 2).reshape(B, T_out // r, n_mel * r).transpose(0, 1)
        go = memory.new_zeros(1, B, n_mel * r)
        # As the reference: the prenet runs once on all inputs (go frame + every group, the last unused).
        prenet_out = self.prenet(torch.cat((go, groups), dim=0), prenet_dropout)
        processed_memory = self.attention_layer.memory_layer(memory)
        invalid = ~lengths_to_mask(memory_lengths, memory.size(1))
        # Both loops compute the same thing; the second one's backward pass is much faster on CPU.
        if self.training and torch.is_grad_enabled():
            frames, gates, alignments = teacher_forced_for_backprop(self, prenet_out, memory, processed_memory, invalid)
        else:
            frames, gates, alignments = self._teacher_forced_stepwise(prenet_out, memory, processed_memory, invalid)
        mel = frames.reshape(B, T_out, n_mel).transpose(1, 2)  # [B, T/r, n_mel*r] -> [B, n_mel, T]
        return mel, gates.reshape(B, T_out), alignments

    def _teacher_forced_stepwise(self, prenet_out: Tensor, memory: Tensor, processed_memory: Tensor,
                                 invalid: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The reference's loop, one `decode` per step. prenet_out [steps + 1, B, prenet_dim] ->
        frames [B, steps, n_mel*r], gates [B, steps, r], alignments [B, steps, T_in]."""
        state = self.initial_state(memory)
        frames, gates, alignments = [], [], []
        for t in range(prenet_out.size(0) - 1):
            f, g, state = self.decode(prenet_out[t], state, memory, processed_memory, invalid)
            frames.append(f)
            gates.append(g)
            alignments.append(state.attention_weights)
        return torch.stack(frames, 1), torch.stack(gates, 1), torch.stack(alignments, 1)


# ----------------------------------------------------------------------------------------------------
# Outputs
# ----------------------------------------------------------------------------------------------------
class Tacotron2Output(NamedTuple):
    """Teacher-forced outputs. Padded frames are 0 (mel) and 1e3 (gate logits) when mask_padding."""

    mel: Tensor  # [B, n_mel, T_out] decoder output (before the postnet)
    mel_postnet: Tensor  # [B, n_mel, T_out]
    gate: Tensor  # [B, T_out] stop logits
    alignments: Tensor  # [B, T_out // r, T_in]


@dataclass
class Tacotron2Inference:
    """Free-running outputs, padded to the longest item."""

    mel: Tensor  # [B, n_mel, T_max] postnet mel; frames past an item's length = silence level
    mel_lengths: Tensor  # [B] long, including the stop frame
    gate: Tensor  # [B, T_max] stop logits (1e3 past an item's length)
    alignments: Tensor  # [B, T_max // r, T_in] (zeros past an item's steps)
    reached_max_steps: Tensor  # [B] bool: never predicted a stop
    attention_failed: Tensor  # [B] bool: see `attention_failure_reasons`
    failure_reasons: list[list[str]] = field(default_factory=list)  # per item, empty when fine

    def __iter__(self):
        """DeepLearningExamples' unpacking, `mel, mel_lengths, alignments = tacotron2.infer(inputs, input_lengths)`
        (here `mel_lengths` count the stop frame, which DLE's leave out)."""
        return iter((self.mel, self.mel_lengths, self.alignments))


# ----------------------------------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------------------------------
def check_inference_settings(prenet_dropout: float, max_decoder_steps: int, dtype: torch.dtype | None) -> None:
    """The checks every inference entry point makes (`Tacotron2.infer`, `tts.tacotron2.streaming`)."""
    if not 0.0 <= prenet_dropout < 1.0:
        raise ValueError(f"prenet_dropout must be in [0, 1), got {prenet_dropout}")
    if max_decoder_steps < 1:
        raise ValueError(f"max_decoder_steps must be >= 1, got {max_decoder_steps}")
    if dtype not in (None, torch.float32, torch.bfloat16, torch.int8):
        raise ValueError(f"dtype must be torch.float32, torch.bfloat16 or torch.int8, got {dtype}")


class Tacotron2(nn.Module):
    def __init__(self, config: Tacotron2Config | None = None, audio: AudioSettings = DEFAULT_AUDIO):
        super().__init__()
        c = self.config = config or Tacotron2Config()
        if audio.n_mel_channels != c.n_mel_channels:
            raise ValueError(f"audio settings have {audio.n_mel_channels} mel channels, config {c.n_mel_channels}")
        self.audio = audio
        self.text_settings: dict[str, Any] | None = None
        self.embedding = nn.Embedding(c.n_symbols, c.symbols_embedding_dim)
        bound = math.sqrt(3.0) * math.sqrt(2.0 / (c.n_symbols + c.symbols_embedding_dim))
        nn.init.uniform_(self.embedding.weight, -bound, bound)
        self.encoder = Encoder(c)
        self.decoder = Decoder(c)
        self.postnet = Postnet(c)

    # -- input checks --------------------------------------------------------------------------------
    def _check_text(self, text: Tensor, text_lengths: Tensor | None) -> tuple[Tensor, Tensor]:
        if text.dim() == 1:
            text = text.unsqueeze(0)
        if text.dim() != 2 or text.size(0) == 0 or text.size(1) == 0:
            raise ValueError(f"text must be a non-empty [B, T_in] tensor of symbol ids, got shape {tuple(text.shape)}")
        if text.dtype not in (torch.long, torch.int32, torch.int16, torch.uint8):
            raise ValueError(f"text must hold integer symbol ids, got {text.dtype}")
        if text_lengths is None:
            text_lengths = torch.full((text.size(0),), text.size(1), dtype=torch.long)
        text_lengths = torch.as_tensor(text_lengths, dtype=torch.long).reshape(-1).cpu()
        if text_lengths.numel() != text.size(0):
            raise ValueError(f"text_lengths has {text_lengths.numel()} entries for a batch of {text.size(0)}")
        if bool((text_lengths < 1).any()) or bool((text_lengths > text.size(1)).any()):
            raise ValueError(f"text_lengths must be in [1, {text.size(1)}], got {text_lengths.tolist()}")
        valid = lengths_to_mask(text_lengths, text.size(1)).to(text.device)
        ids = text[valid]
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.config.n_symbols):
            raise ValueError(f"symbol ids must be in [0, {self.config.n_symbols}), got range "
                             f"[{int(ids.min())}, {int(ids.max())}]")
        text = text[:, : int(text_lengths.max())].long().clamp(0, self.config.n_symbols - 1)
        return text, text_lengths

    def encode(self, text: Tensor, text_lengths: Tensor | None) -> Tensor:
        """text [B, T_in] -> memory [B, T_in, encoder_embedding_dim]"""
        x = self.embedding(text).transpose(1, 2)
        return self.encoder(x, text_lengths, zero_padding=True)

    # -- training ------------------------------------------------------------------------------------
    def forward(self, text: Tensor, text_lengths: Tensor, mels: Tensor, mel_lengths: Tensor,
                decoder_inputs: Tensor | None = None) -> Tacotron2Output:
        """Teacher forcing: the decoder reads `mels` (the targets) one group behind, or `decoder_inputs`
        ([B, n_mel, T_out] like `mels`) in their place: scheduled sampling feeds it the model's own
        predictions for some groups (`tts.tacotron2.train.mix_decoder_inputs`)."""
        c = self.config
        r = c.n_frames_per_step
        if mels.dim() != 3 or mels.size(1) != c.n_mel_channels:
            raise ValueError(f"mels must be [B, {c.n_mel_channels}, T_out], got {tuple(mels.shape)}")
        if mels.size(2) == 0 or mels.size(2) % r:
            raise ValueError(f"T_out ({mels.size(2)}) must be a positive multiple of n_frames_per_step ({r})")
        if text.dim() != 2 or text.size(0) != mels.size(0):
            raise ValueError(f"text must be [B, T_in] with B = {mels.size(0)}, got {tuple(text.shape)}")
        text_lengths = text_lengths.to(text.device)
        memory = self.encoder(self.embedding(text).transpose(1, 2), text_lengths)
        if decoder_inputs is not None and decoder_inputs.shape != mels.shape:
            raise ValueError(f"decoder_inputs must be shaped like mels {tuple(mels.shape)}, "
                             f"got {tuple(decoder_inputs.shape)}")
        mel, gate, alignments = self.decoder(memory, mels if decoder_inputs is None else decoder_inputs, text_lengths)
        mel_postnet = mel + self.postnet(mel)
        if c.mask_padding:
            pad = ~lengths_to_mask(mel_lengths.to(mel.device), mel.size(2))  # [B, T_out]
            mel = mel.masked_fill(pad[:, None, :], 0.0)
            mel_postnet = mel_postnet.masked_fill(pad[:, None, :], 0.0)
            gate = gate.masked_fill(pad, 1e3)
        return Tacotron2Output(mel, mel_postnet, gate, alignments)

    # -- inference -----------------------------------------------------------------------------------
    @torch.inference_mode()
    def infer(self, text: Tensor, text_lengths: Tensor | None = None, *, gate_threshold: float = 0.5,
              max_decoder_steps: int = 1000, prenet_dropout: float = 0.5, seed: int | None = None,
              fast: bool = True, dtype: torch.dtype | None = None, warn: bool = True) -> Tacotron2Inference:
        """Free-running synthesis of a padded batch.

        text [B, T_in] ids (a 1-D tensor is a batch of one), text_lengths [B] (None = all T_in).
        Each item stops on its own: after a step, stop if sigmoid(gate) > gate_threshold (stop frame
        kept); decoding ends when every item stopped or after max_decoder_steps steps (then
        `reached_max_steps` is set and a warning names the items).
        prenet_dropout: the always-on prenet dropout (0.5 as the reference; 0 = deterministic).
        seed: run under `torch.manual_seed(seed)` on a forked RNG (the caller's RNG is left untouched);
        None draws from the global generator, so `torch.manual_seed(s); infer(...)` reproduces
        NVIDIA's `inference` for B = 1.
        fast: use the optimised decoder loop (equal to the plain loop within float tolerance; it keeps
        fused copies of the decoder weights on the model, rebuilt when a parameter changes). A model
        in training mode always uses the plain loop.
        dtype: weight dtype of the fast loop's two LSTM GEMVs: torch.float32 (default) or
        torch.bfloat16 (half the memory traffic per step, the decoder's bottleneck on CPU; states and
        everything else stay fp32), or torch.int8 (dynamic quantization, CPU: int8 weights with one
        scale per output, inputs quantized at every step; `tts.tacotron2.fast.Int8GEMV`).
        warn: emit the RuntimeWarning for items that reached max_decoder_steps (callers that report
        `reached_max_steps` themselves, like the pipeline, pass False).
        """
        check_inference_settings(prenet_dropout, max_decoder_steps, dtype)
        text, text_lengths = self._check_text(text, text_lengths)
        if seed is None:
            return self._infer(text, text_lengths, gate_threshold, max_decoder_steps, prenet_dropout, fast, dtype, warn)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self._infer(text, text_lengths, gate_threshold, max_decoder_steps, prenet_dropout, fast, dtype, warn)

    @torch.inference_mode()
    def inference(self, inputs: Tensor, *, gate_threshold: float = 0.5,
                  max_decoder_steps: int = 1000) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """NVIDIA's `Tacotron2.inference(inputs)`: one text [1, T_in] (or [T_in]) of symbol ids ->
        `(mel_outputs [1, n_mel, T], mel_outputs_postnet [1, n_mel, T], gate_outputs [1, T, 1],
        alignments [1, T, T_in])`, computed as the reference does: the plain decoder loop, prenet
        dropout 0.5 drawn from the global RNG (`torch.manual_seed(s)` first reproduces NVIDIA's output),
        stop after the first frame with sigmoid(gate) > `gate_threshold` (kept), at most
        `max_decoder_steps` steps (then a RuntimeWarning, where NVIDIA prints "Reached max decoder
        steps"). The project's own call is `infer` (batches, seeds, the fast loop, failure flags).
        """
        text, _ = self._check_text(inputs, None)
        if text.size(0) != 1:
            raise ValueError(f"Tacotron2.inference takes one text (a batch of 1, as NVIDIA's); got a batch of "
                             f"{text.size(0)}: use infer(inputs, input_lengths) for batches")
        if max_decoder_steps < 1:
            raise ValueError(f"max_decoder_steps must be >= 1, got {max_decoder_steps}")
        memory = self.encode(text, None)
        mel, gates, alignments, _, stop_frame = self._decode_loop_plain(memory, None, gate_threshold,
                                                                        max_decoder_steps, 0.5, None)
        if bool((stop_frame < 0).any()):
            warnings.warn(f"Tacotron2.inference: reached max_decoder_steps={max_decoder_steps} without predicting "
                          "a stop", RuntimeWarning, stacklevel=3)
        mel_postnet = mel + self.postnet(mel)
        return mel, mel_postnet, gates.unsqueeze(-1), alignments

    def _infer(self, text: Tensor, text_lengths: Tensor, gate_threshold: float, max_steps: int,
               prenet_dropout: float, fast: bool, dtype: torch.dtype | None, warn: bool) -> Tacotron2Inference:
        c = self.config
        r = c.n_frames_per_step
        B, T_in = text.shape
        padded = bool((text_lengths < T_in).any())
        memory = self.encode(text, text_lengths.to(text.device) if padded else None)
        invalid = ~lengths_to_mask(text_lengths, T_in).to(memory.device) if padded else None

        decode = self._decode_loop_plain
        if fast and not self.training:
            decode = functools.partial(decode_loop_fast, self)
        frames, gates, alignments, n_steps, stop_frame = decode(
            memory, invalid, gate_threshold, max_steps, prenet_dropout, dtype)
        # frames [B, n_mel, S*r], gates [B, S*r], alignments [B, S, T_in]; n_steps [B] steps emitted;
        # stop_frame [B] frame count incl. the stop frame (-1: never stopped)
        reached_max = stop_frame < 0
        mel_lengths = torch.where(reached_max, n_steps * r, stop_frame)
        T_max = int(mel_lengths.max())
        frames, gates = frames[:, :, :T_max], gates[:, :T_max]
        alignments = alignments[:, : (T_max + r - 1) // r]
        valid = lengths_to_mask(mel_lengths.to(frames.device), T_max)  # [B, T_max]
        if bool(valid.all()):
            mel = frames + self.postnet(frames)
        else:
            v = valid[:, None, :].to(frames.dtype)
            mel = frames + self.postnet(frames * v, v)
            mel = mel.masked_fill(~valid[:, None, :], self.audio.silence_level)
            gates = gates.masked_fill(~valid, 1e3)
            step_valid = lengths_to_mask(n_steps.to(frames.device), alignments.size(1))
            alignments = alignments * step_valid[:, :, None].to(alignments.dtype)

        reasons = [attention_failure_reasons(alignments[b, : int(n_steps[b])], int(text_lengths[b]), r)
                   for b in range(B)]
        if warn and bool(reached_max.any()):
            items = reached_max.nonzero().flatten().tolist()
            warnings.warn(f"Tacotron2.infer: item(s) {items} reached max_decoder_steps={max_steps} without "
                          "predicting a stop; their mel is cut off", RuntimeWarning, stacklevel=4)
        return Tacotron2Inference(
            mel=mel.float(), mel_lengths=mel_lengths.long().cpu(), gate=gates.float(),
            alignments=alignments.float(), reached_max_steps=reached_max.cpu(),
            attention_failed=torch.tensor([bool(x) for x in reasons]), failure_reasons=reasons,
        )

    def _decode_loop_plain(self, memory: Tensor, invalid: Tensor | None, gate_threshold: float, max_steps: int,
                           prenet_dropout: float, dtype: torch.dtype | None):
        """The reference loop, step by step as NVIDIA's Decoder.inference (batched, per-item stop)."""
        dec = self.decoder
        B = memory.size(0)
        r, n_mel = self.config.n_frames_per_step, self.config.n_mel_channels
        processed_memory = dec.attention_layer.memory_layer(memory)
        state = dec.initial_state(memory)
        frame_in = memory.new_zeros(B, n_mel * r)  # go frame
        frames, gates, alignments = [], [], []
        stops = StopTracker(B, r, gate_threshold)
        for step in range(max_steps):
            out, gate, state = dec.decode(dec.prenet(frame_in, prenet_dropout), state, memory, processed_memory, invalid)
            frames.append(out)
            gates.append(gate)
            alignments.append(state.attention_weights)
            if stops.update(step, gate):
                break
            frame_in = out
        S = len(frames)
        mel = torch.stack(frames, 1).reshape(B, S * r, n_mel).transpose(1, 2)  # [B, S, n_mel*r] -> [B, n_mel, S*r]
        return mel, torch.stack(gates, 1).reshape(B, S * r), torch.stack(alignments, 1), stops.n_steps, stops.stop_frame


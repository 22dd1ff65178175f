"""Tacotron 2's speed-ups on the CPU, the same functions as the plain loops of `tts.tacotron2.model`:

* training: `teacher_forced_for_backprop`, the teacher-forced decoder arranged for a fast backward
  pass (time-invariant products once over all steps; each LSTM's weight gradient as one product
  over all steps through `RecurrentLinear`);
* inference: `decode_loop_fast`, the free-running decoder with fused GEMVs (`FastWeights`, `GEMV`;
  int8: `tts.tacotron2.int8`), step by step as a generator in `decode_steps` (incremental decoding:
  `tts.tacotron2.streaming`).

They take the model's modules as arguments and import nothing from the model.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import torch
from torch import Tensor
from torch.nn import functional as F

from tts.tacotron2.checks import StopTracker
from tts.tacotron2.int8 import Int8GEMV, decoder_step_kernel

if TYPE_CHECKING:  # annotations only: the model imports this module
    from tts.tacotron2.model import Decoder


def teacher_forced_for_backprop(decoder, prenet_out: Tensor, memory: Tensor, processed_memory: Tensor,
                                 invalid: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The training loop: `decode` step after step (same dropout draws in the same order), arranged
    for a fast backward pass on CPU. Time-invariant products run once over all steps (the prenet's
    share of the attention LSTM's input, the mel projection and the gate), and each LSTM's recurrent
    product [input; h] W^T hands its weight gradient to one matrix product over all steps
    (`RecurrentLinear`) instead of B-row outer products added up step by step.

    prenet_out [steps + 1, B, prenet_dim] -> frames [B, steps, n_mel*r], gates [B, steps, r],
    alignments [B, steps, T_in]."""
    c = decoder.config
    device = memory.device.type
    dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else memory.dtype
    att, dec = decoder.attention_rnn, decoder.decoder_rnn
    P = c.prenet_dim
    # attention LSTM gates = W_ih[:, :P] prenet + W_ih[:, P:] context + W_hh h + biases
    att_from_prenet = F.linear(prenet_out[:-1], att.weight_ih[:, :P], att.bias_ih + att.bias_hh)  # [steps, B, 4H]
    att_weight = torch.cat((att.weight_ih[:, P:], att.weight_hh), 1)  # acts on [context; h]
    dec_weight = torch.cat((dec.weight_ih, dec.weight_hh), 1)  # acts on [att_h; context; h]
    dec_bias = dec.bias_ih + dec.bias_hh
    att_shared, dec_shared = RecurrentWeight(att_weight, dtype), RecurrentWeight(dec_weight, dtype)
    s = decoder.initial_state(memory.float())
    outputs, alignments = [], []
    # unbind, not [t]: indexing would make every step's backward fill a zero tensor of all steps
    for t, att_in in enumerate(att_from_prenet.unbind(0)):
        first = t == 0
        gates = att_in + RecurrentLinear.apply(
            torch.cat((s.attention_context, s.attention_hidden), 1), att_weight, att_shared, first)
        att_h, att_c = lstm_pointwise(gates.float(), s.attention_cell, c.attention_rnn_dim)
        att_h = F.dropout(att_h, c.p_attention_dropout, True)
        weights_cat = torch.stack((s.attention_weights, s.attention_weights_cum), dim=1)
        context, weights = decoder.attention_layer(att_h, memory, processed_memory, weights_cat, invalid)
        gates = dec_bias + RecurrentLinear.apply(
            torch.cat((att_h, context, s.decoder_hidden), 1), dec_weight, dec_shared, first)
        dec_h, dec_c = lstm_pointwise(gates.float(), s.decoder_cell, c.decoder_rnn_dim)
        dec_h = F.dropout(dec_h, c.p_decoder_dropout, True)
        s = type(s)(att_h, att_c, dec_h, dec_c, weights.float(), s.attention_weights_cum + weights, context)
        outputs.append(torch.cat((dec_h, context), 1))
        alignments.append(weights)
    h = torch.stack(outputs, 1)  # [B, steps, decoder_rnn_dim + C]
    return decoder.linear_projection(h), decoder.gate_layer(h), torch.stack(alignments, 1)


class RecurrentWeight:
    """A recurrent weight W during one training forward pass: packed low-precision copies for the
    steps' x_t W^T and dy_t W (packed once, used by every step), and the tape of (x_t, dy_t) from
    which `RecurrentLinear` computes the weight gradient."""

    def __init__(self, weight: Tensor, dtype: torch.dtype):
        self.weight, self.dtype = weight, dtype
        self.forward_gemv = GEMV(weight, weight.new_zeros(weight.size(0)), dtype)
        self.backward_gemv = GEMV(weight.t(), weight.new_zeros(weight.size(1)), dtype)
        self.tape: list[tuple[Tensor, Tensor]] = []


class RecurrentLinear(torch.autograd.Function):
    """y_t = x_t W^T for step t of a recurrence that uses the same W at every step.

    Plain autograd computes dW_t = dy_t^T x_t at every step (an outer product over only B rows, as
    costly as writing W) and adds them up one by one. Here every step puts (x_t, dy_t) on a shared tape
    and the first step computes dW = [dy_0 ... dy_T]^T [x_0 ... x_T] in one matrix product. The first
    step's backward always runs last: every later step depends on it through the recurrent state."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, shared: RecurrentWeight, first: bool) -> Tensor:
        x_low = x.detach().to(shared.dtype)
        ctx.x, ctx.shared, ctx.first, ctx.x_dtype = x_low, shared, first, x.dtype
        return shared.forward_gemv(x_low)

    @staticmethod
    def backward(ctx, dy: Tensor):
        shared = ctx.shared
        dy = dy.to(shared.dtype).contiguous()
        shared.tape.append((ctx.x, dy))
        dw = None
        if ctx.first:
            xs = torch.cat([x for x, _ in shared.tape])
            dys = torch.cat([d for _, d in shared.tape])
            shared.tape.clear()
            dw = (dys.t() @ xs).to(shared.weight.dtype)
        return shared.backward_gemv(dy).to(ctx.x_dtype), dw, None, None


def lstm_pointwise(gates: Tensor, cell: Tensor, H: int) -> tuple[Tensor, Tensor]:
    """nn.LSTMCell's non-linear part; gates [B, 4H] in the order input, forget, cell, output."""
    s = torch.sigmoid(gates)
    cell = torch.addcmul(s[:, H:2 * H] * cell, s[:, :H], torch.tanh(gates[:, 2 * H:3 * H]))
    return s[:, 3 * H:] * torch.tanh(cell), cell


class GEMV:
    """y = x @ W^T + b for a fixed large W, with W pre-packed by oneDNN when available.

    Batch-1 decoding streams the LSTM weights from memory every step; oneDNN's pre-packed layout
    (`torch.ops.mkldnn._reorder_linear_weight`, what torch.compile's CPU freezing uses) reads them
    about 1.2x (fp32) to 3x (bf16) faster than `addmm` on the plain layout. These ops are internal,
    so the packed path is checked against `addmm` once and silently replaced by it if missing or off.
    """

    def __init__(self, weight: Tensor, bias: Tensor, dtype: torch.dtype):
        self.weight, self.bias = weight.detach().to(dtype).contiguous(), bias.detach().to(dtype)
        self.packed = None
        try:
            if dtype == torch.bfloat16 and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
                raise RuntimeError("no bf16 support")
            packed = torch.ops.mkldnn._reorder_linear_weight(self.weight, 1)
            probe = torch.Generator().manual_seed(0)  # never the global RNG: infer(seed=...) must not shift
            x = torch.randn(2, self.weight.size(1), generator=probe).to(dtype)
            got = torch.ops.mkldnn._linear_pointwise(x, packed, self.bias, "none", [], "").float()
            want = torch.addmm(self.bias, x, self.weight.t()).float()
            tol = 1e-4 if dtype == torch.float32 else 2e-2
            if got.shape == want.shape and torch.allclose(got, want, rtol=tol, atol=tol * float(want.abs().max())):
                self.packed = packed
        except (AttributeError, RuntimeError, TypeError):
            pass
        if self.packed is not None:
            self.weight = None  # the packed copy replaces it

    def __call__(self, x: Tensor) -> Tensor:
        if self.packed is not None:
            return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, "none", [], "")
        return torch.addmm(self.bias, x, self.weight.t())


class FastWeights:
    """Decoder weights laid out for `decode_loop_fast` (transposed views of fused copies). dtype
    torch.int8: the two LSTM products as `Int8GEMV` (called with the input's parts, no concatenation;
    `kernel` as `Int8GEMV`'s);
    `fast_weights(model, torch.int8).set_threads(1)` keeps its compiled kernels on one thread (e.g.
    while a vocoder runs on the other core)."""

    def set_threads(self, threads: int) -> None:
        """Threads of the int8 kernels (0: torch.get_num_threads())."""
        for gemv in (self.att_rnn, self.dec_rnn):
            if isinstance(gemv, Int8GEMV):
                gemv.threads = int(threads)

    def __init__(self, dec: Decoder, dtype: torch.dtype, kernel: bool | None = None):
        self.dtype = dtype
        self.segmented = dtype == torch.int8
        a, d, att = dec.attention_rnn, dec.decoder_rnn, dec.attention_layer
        c = dec.config
        with torch.no_grad():
            self.prenet = [layer.linear_layer.weight.detach().t() for layer in dec.prenet.layers]
            # gates = [input, h] @ [W_ih | W_hh]^T + (b_ih + b_hh)
            att_w, dec_w = torch.cat((a.weight_ih, a.weight_hh), 1), torch.cat((d.weight_ih, d.weight_hh), 1)
            att_b, dec_b = a.bias_ih + a.bias_hh, d.bias_ih + d.bias_hh
            if self.segmented:
                C = c.encoder_embedding_dim
                self.att_rnn = Int8GEMV(att_w, att_b, [c.prenet_dim, C, c.attention_rnn_dim], kernel)
                self.dec_rnn = Int8GEMV(dec_w, dec_b, [c.attention_rnn_dim, C, c.decoder_rnn_dim], kernel)
            else:
                self.att_rnn = GEMV(att_w, att_b, dtype)
                self.dec_rnn = GEMV(dec_w, dec_b, dtype)
            # location_dense(location_conv(w)) = one [2K, A] matrix on K-windows of the 2 channels:
            # dense [A, F] @ conv [F, 2, K] -> [A, 2, K] -> [2K, A]
            conv = att.location_layer.location_conv.conv.weight
            dense = att.location_layer.location_dense.linear_layer.weight
            self.location = torch.einsum("af,fck->ack", dense, conv).reshape(dense.size(0), -1).t().contiguous()
            self.query = att.query_layer.linear_layer.weight.detach().t()
            self.memory = att.memory_layer.linear_layer.weight.detach().t()
            self.v = att.v.linear_layer.weight.detach().t()  # [A, 1]
            proj, gate = dec.linear_projection.linear_layer, dec.gate_layer.linear_layer
            self.out = torch.cat((proj.weight, gate.weight), 0).t()  # [D + C, n_mel*r + r]
            self.out_bias = torch.cat((proj.bias, gate.bias), 0)
        #: int8 with the compiled kernel: the arguments of its whole-step `DecoderStep` (see `decode_steps_kernel`)
        self.step_arguments = None
        if self.segmented and self.att_rnn.uses_kernel and self.dec_rnn.uses_kernel:
            gemv = lambda g: [g.packed, g.scale, g.comp, g.bias]
            self.step_arguments = (*self.prenet, gemv(self.att_rnn), gemv(self.dec_rnn), self.location,
                                   self.query.contiguous(), self.v.reshape(-1).contiguous(), self.out, self.out_bias)


def fast_weights(model, dtype: torch.dtype) -> FastWeights:
    """Fused decoder weights, cached per dtype until any decoder parameter changes."""
    key = (dtype, tuple((p.data_ptr(), p._version) for p in model.decoder.parameters()))
    cache = model.__dict__.setdefault("_fast_cache", {})
    if cache.get(dtype, (None,))[0] != key:
        cache[dtype] = (key, FastWeights(model.decoder, dtype))
    return cache[dtype][1]


def decode_loop_fast(model, memory: Tensor, invalid: Tensor | None, gate_threshold: float, max_steps: int,
                      prenet_dropout: float, dtype: torch.dtype | None):
    """The same recurrence as `_decode_loop_plain` with the per-step overhead cut down (see
    `decode_steps`), stopping by NVIDIA's rule per item. Returns what `_decode_loop_plain` returns."""
    c = model.config
    B, r, n_mel = memory.shape[0], c.n_frames_per_step, c.n_mel_channels
    frames, gates, alignments = [], [], []
    stops = StopTracker(B, r, gate_threshold)
    for step, (frame, gate, weights) in zip(range(max_steps), decode_steps(model, memory, invalid, prenet_dropout, dtype)):
        frames.append(frame)
        gates.append(gate)
        alignments.append(weights)
        if stops.update(step, gate):
            break
    S = len(frames)
    mel = torch.stack(frames, 1).reshape(B, S * r, n_mel).transpose(1, 2)
    return mel, torch.stack(gates, 1).reshape(B, S * r), torch.stack(alignments, 1), stops.n_steps, stops.stop_frame


def decode_steps(model, memory: Tensor, invalid: Tensor | None, prenet_dropout: float,
                 dtype: torch.dtype | None, threads: int | None = None) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
    """The free-running decoder, step after step without end (the caller stops it): per step the r
    frames [B, n_mel * r], the r gate logits [B, r] and the attention weights [B, T_in].

    Each LSTMCell is one GEMV on [input, hidden] with [W_ih | W_hh] (bfloat16 weights optionally, or
    int8 with `Int8GEMV`; cell state and non-linearities stay fp32), the location conv and dense
    layer are pre-multiplied into one [A, 2K] matrix applied to an unfolded window of [previous,
    cumulative] weights kept in a padded buffer, projection and gate are one GEMV, and buffers are
    reused. With int8 and the compiled kernel, each step is one call of its `DecoderStep`. Random
    numbers are drawn exactly as in the plain loop. `threads`: threads of the int8 kernels for this
    call (None: the weights' own, `FastWeights.set_threads`; 1 leaves the other cores to a vocoder
    running at the same time); other dtypes use torch's intra-op threads."""
    w = fast_weights(model, dtype or torch.float32)
    if w.step_arguments is not None:
        stepper = decoder_step_kernel(w, memory, invalid, prenet_dropout, threads)
        if stepper is not None:
            n_out = model.config.n_mel_channels * model.config.n_frames_per_step
            frame = memory.new_zeros(memory.shape[0], n_out, dtype=torch.float32)
            while True:
                out, weights = stepper.step(frame)
                frame = out[:, :n_out]
                yield frame, out[:, n_out:], weights
    c = model.config
    B, T_in, C = memory.shape
    r, n_mel = c.n_frames_per_step, c.n_mel_channels
    H_att, H_dec, n_out, P = c.attention_rnn_dim, c.decoder_rnn_dim, n_mel * r, c.prenet_dim
    K = c.attention_location_kernel_size
    pad = K // 2
    processed = memory @ w.memory  # [B, T_in, A]
    location = w.location.expand(B, -1, -1)  # [B, 2K, A]

    # previous and cumulative attention weights, zero-padded for the location convolution
    weights_pad = memory.new_zeros(B, 2, T_in + 2 * pad)
    previous, cumulative = weights_pad[:, 0, pad:pad + T_in], weights_pad[:, 1, pad:pad + T_in]
    # GEMV inputs [x, context, h] written in place by cat(out=...), in the weights' dtype (int8: the
    # parts go to the GEMV as they are)
    segmented = w.segmented
    gemv_dtype = torch.float32 if segmented else w.dtype
    att_in = memory.new_zeros(B, P + C + H_att, dtype=gemv_dtype)
    dec_in = memory.new_zeros(B, H_att + C + H_dec, dtype=gemv_dtype)
    out_in = memory.new_zeros(B, H_dec + C)
    att_h, att_c = memory.new_zeros(B, H_att), memory.new_zeros(B, H_att)
    dec_h, dec_c = memory.new_zeros(B, H_dec), memory.new_zeros(B, H_dec)
    context, frame = memory.new_zeros(B, C), memory.new_zeros(B, n_out)
    cat, mm, addmm, bmm, baddbmm, dropout = torch.cat, torch.mm, torch.addmm, torch.bmm, torch.baddbmm, F.dropout
    p_drop, training = prenet_dropout, prenet_dropout > 0
    to_float = gemv_dtype != torch.float32
    while True:
        x = frame
        for W in w.prenet:
            x = dropout(mm(x, W).relu_(), p_drop, training)
        # attention LSTMCell
        if segmented:
            g = w.att_rnn(x, context, att_h, threads=threads)
        else:
            cat((x, context, att_h), 1, out=att_in)
            g = w.att_rnn(att_in)
        att_h, att_c = lstm_pointwise(g.float() if to_float else g, att_c, H_att)
        # location-sensitive attention; windows [B, T_in, 2, K] -> [B, T_in, 2K]
        windows = weights_pad.unfold(2, K, 1).transpose(1, 2).reshape(B, T_in, 2 * K)
        energies = baddbmm(processed, windows, location)  # [B, T_in, A]
        energies += mm(att_h, w.query).unsqueeze(1)
        energies = (energies.tanh_() @ w.v).squeeze(2)  # [B, T_in]
        if invalid is not None:
            energies.masked_fill_(invalid, -float("inf"))
        weights = torch.softmax(energies, 1)
        previous.copy_(weights)
        cumulative.add_(weights)
        context = bmm(weights.unsqueeze(1), memory).squeeze(1)
        # decoder LSTMCell
        if segmented:
            g = w.dec_rnn(att_h, context, dec_h, threads=threads)
        else:
            cat((att_h, context, dec_h), 1, out=dec_in)
            g = w.dec_rnn(dec_in)
        dec_h, dec_c = lstm_pointwise(g.float() if to_float else g, dec_c, H_dec)
        # r frames and r gate logits from one GEMV
        cat((dec_h, context), 1, out=out_in)
        out = addmm(w.out_bias, out_in, w.out)
        frame = out[:, :n_out]
        yield frame, out[:, n_out:], weights

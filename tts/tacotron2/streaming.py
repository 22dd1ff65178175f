"""Incremental Tacotron 2 inference: the postnet mel of one utterance in blocks, while the decoder runs.

    for block in infer_blocks(model, ids, block_frames=32, seed=0, dtype=torch.int8):
        vocode(block.mel)                       # [n_mel, block.stop - block.start], float32
        if block.final: check(block.failure_reasons, block.reached_max_steps)

The blocks, concatenated, are `model.infer(ids, seed=..., dtype=..., fast=True).mel[0]` (max abs
difference ~1e-6: the postnet runs on windows instead of the whole mel, so float sums come out in
another order; tests/test_speed_streaming.py). How:

* the decoder runs step by step (`tts.tacotron2.fast.decode_steps`, the loop `infer` uses), drawing
  the prenet's dropout masks in the same order as `infer`;
* the postnet is 5 convolutions of kernel 5 with zero padding, so its output at frame t depends on the
  decoder frames t - 10 ... t + 10 only (`postnet_context`). A block [start, stop) is emitted as soon as
  frame stop + 10 is decoded (or decoding ended), computed from the window [start - 10, stop + 10):
  the window's own zero padding reaches only the 10 frames at either edge, which are not kept;
* with `seed`, the random numbers come from a private generator state that is swapped in only while
  this generator computes, so whatever the caller draws between blocks (a vocoder's noise) does not
  change the mel.

The stop rule, `max_decoder_steps` and the attention checks are `infer`'s; the final block carries
what `Tacotron2Inference` reports for the utterance (`reached_max_steps`, `failure_reasons`, the
alignment).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from tts.tacotron2.checks import StopTracker, attention_failure_reasons
from tts.tacotron2.fast import decode_steps
from tts.tacotron2.model import Tacotron2, Tacotron2Config, check_inference_settings


@dataclass
class MelBlock:
    """Frames [start, stop) of one utterance's postnet mel."""

    mel: Tensor  # [n_mel, stop - start] float32
    start: int
    stop: int
    final: bool = False  # the last block: decoding has ended and the fields below are set
    reached_max_steps: bool = False
    failure_reasons: tuple[str, ...] = ()  # `attention_failure_reasons` of the whole utterance
    alignment: Tensor | None = None  # final block: [decoder steps, T_in] attention weights


def postnet_context(config: Tacotron2Config) -> int:
    """How many decoder frames on either side one postnet output frame depends on."""
    return config.postnet_n_convolutions * (config.postnet_kernel_size // 2)


class _PrivateRNG:
    """The CPU generator state of `torch.manual_seed(seed)`, swapped in while `active()` (None: the
    global generator itself, as `infer(seed=None)`)."""

    def __init__(self, seed: int | None):
        self.state = None
        if seed is not None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                self.state = torch.get_rng_state()

    @contextlib.contextmanager
    def active(self):
        if self.state is None:
            yield
            return
        caller = torch.get_rng_state()
        torch.set_rng_state(self.state)
        try:
            yield
        finally:
            self.state = torch.get_rng_state()
            torch.set_rng_state(caller)


def infer_blocks(model: Tacotron2, text: Tensor, *, block_frames: int = 32, first_block_frames: int | None = None,
                 gate_threshold: float = 0.5, max_decoder_steps: int = 1000, prenet_dropout: float = 0.5,
                 seed: int | None = None, dtype: torch.dtype | None = None,
                 threads: int | None = None) -> Iterator[MelBlock]:
    """Decode one utterance (`text`: [T_in] or [1, T_in] symbol ids) and yield its postnet mel in
    blocks of `block_frames` frames (the first of `first_block_frames`, e.g. smaller for a quicker
    first sound; the last one whatever remains). Settings as `Tacotron2.infer` (the fast loop;
    `dtype` None / torch.float32 / torch.bfloat16 / torch.int8; `threads` as `decode_steps`'). The model
    must be in eval mode."""
    if model.training:
        raise ValueError("infer_blocks needs a model in eval mode")
    if block_frames < 1 or (first_block_frames is not None and first_block_frames < 1):
        raise ValueError(f"block sizes must be >= 1, got {block_frames}, {first_block_frames}")
    check_inference_settings(prenet_dropout, max_decoder_steps, dtype)
    text, _ = model._check_text(text, None)
    if text.size(0) != 1:
        raise ValueError(f"infer_blocks decodes one utterance; got a batch of {text.size(0)}")
    return _blocks(model, text, block_frames, first_block_frames or block_frames, gate_threshold, max_decoder_steps,
                   prenet_dropout, _PrivateRNG(seed), dtype, threads)


def _blocks(model: Tacotron2, text: Tensor, block_frames: int, first_block_frames: int, gate_threshold: float,
            max_steps: int, prenet_dropout: float, rng: _PrivateRNG, dtype, threads: int | None) -> Iterator[MelBlock]:
    c = model.config
    r, n_mel, ctx = c.n_frames_per_step, c.n_mel_channels, postnet_context(c)
    stops = StopTracker(1, r, gate_threshold)
    groups: list[Tensor] = []  # decoder outputs, one [n_mel * r] group per step
    alignments: list[Tensor] = []
    decoded = None  # [n_mel, frames decoded so far], rebuilt per block
    steps, start, stop, done = None, 0, first_block_frames, False
    while not done:
        with rng.active(), torch.inference_mode():
            if steps is None:
                memory = model.encode(text, None)
                steps = decode_steps(model, memory, None, prenet_dropout, dtype, threads)
            # decode until the next block's right context exists (or decoding ends)
            while len(groups) * r < stop + ctx:
                frame, gate, weights = next(steps)
                groups.append(frame[0].float())
                alignments.append(weights[0].float())
                if stops.update(len(groups) - 1, gate) or len(groups) >= max_steps:
                    done = True
                    break
            decoded = torch.stack(groups).reshape(-1, n_mel).t()  # [n_mel, frames]
            if done:
                total = int(stops.stop_frame[0]) if int(stops.stop_frame[0]) >= 0 else len(groups) * r
                decoded = decoded[:, :total]
                stop = total
            blocks = []
            while stop <= decoded.shape[1] - (0 if done else ctx) and start < stop:
                lo, hi = max(0, start - ctx), min(decoded.shape[1], stop + ctx)
                window = decoded[:, lo:hi][None]
                mel = (window + model.postnet(window))[0, :, start - lo: stop - lo].float()
                blocks.append(MelBlock(mel=mel, start=start, stop=stop))
                start, stop = stop, (stop + block_frames if not done else stop)
        if done:
            if not blocks or blocks[-1].stop < stop:  # nothing left to emit: an empty final block
                blocks.append(MelBlock(mel=decoded.new_zeros(n_mel, 0), start=stop, stop=stop))
            alignment = torch.stack(alignments)
            last = blocks[-1]
            last.final = True
            last.reached_max_steps = int(stops.stop_frame[0]) < 0
            last.failure_reasons = tuple(attention_failure_reasons(alignment, text.size(1), r))
            last.alignment = alignment
        yield from blocks

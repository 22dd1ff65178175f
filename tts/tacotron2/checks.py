"""When Tacotron 2's decoder stops (NVIDIA's stop rule, per batch item) and whether its attention
worked (`attention_failure_reasons`, used to retry failed chunks)."""
from __future__ import annotations

import math

import torch
from torch import Tensor


def attention_failure_reasons(alignment: Tensor, text_length: int, frames_per_step: int = 1, *,
                              end_tolerance: float = 0.1, max_backward_jump: float = 0.2,
                              max_forward_jump: float = 0.25, max_stall_frames: int = 100,
                              max_tail_frames: int = 120, min_sharpness: float = 0.15,
                              settle_steps: int = 2) -> list[str]:
    """Why one item's alignment [steps, >= text_length] looks broken ([] = looks fine).

    A working Tacotron 2 attention is peaked, moves monotonically through the text at roughly 2-20
    frames per symbol, and the decoder stops shortly after it reaches the last symbols. With p_t =
    argmax of the attention at step t and L = text_length, an item fails when:
    * "attention is diffuse": the median over steps of the largest weight is < `min_sharpness`
      (an untrained or confused model spreads attention over the whole text; never fires for L <= 6);
    * "did not reach the end": max(p) < L - 1 - tol, tol = max(2, end_tolerance * L) symbols (the
      text was cut short, or the decoder stopped early);
    * "jumped back": p_t < max(p_<t) - max(3, max_backward_jump * L) (repeating / looping);
    * "skipped ahead": p_t > max(p_<t) + max(4, max_forward_jump * L) (words skipped);
    * "stalled": p did not advance for more than `max_stall_frames` frames (~1.2 s) before the end
      region (stuck on a symbol, mumbling);
    * "kept talking after the end": more than `max_tail_frames` frames (~1.4 s) were produced after
      the attention first reached the end region (babbling; often together with reached_max_steps).
    The jump checks start after the first `settle_steps` decoder steps: the first step attends from an
    all-zero context and may peak anywhere (a small trained voice put 0.8 of its weight on a random
    symbol there, then sat on symbol 0 from step 1 on), which is not a failure.
    Thresholds are deliberately loose: a false alarm costs the pipeline a needless retry.
    """
    steps = alignment.size(0)
    if steps == 0:
        return ["no frames"]
    L = int(text_length)
    weights = alignment[:, :L].float()
    peak, positions = weights.max(dim=1)
    pos = positions.tolist()
    r = frames_per_step
    reasons = []
    sharpness = float(peak.median())
    if sharpness < min_sharpness:
        reasons.append(f"attention is diffuse (median peak weight {sharpness:.3f})")
    end_start = max(0, L - 1 - max(2, math.ceil(end_tolerance * L)))
    if max(pos) < end_start:
        reasons.append(f"did not reach the end (got to symbol {max(pos)} of {L})")
    back, ahead = max(3, math.ceil(max_backward_jump * L)), max(4, math.ceil(max_forward_jump * L))
    best, stall, longest_stall, first_end = -1, 0, 0, None
    jumped_back = skipped = None
    for t, p in enumerate(pos[settle_steps:], start=settle_steps):
        if jumped_back is None and p < best - back:
            jumped_back = f"jumped back from symbol {best} to {p} at step {t}"
        if skipped is None and p > max(best, 0) + ahead:
            skipped = f"skipped ahead from symbol {best} to {p} at step {t}"
        if p > best:
            best, stall = p, 0
        else:
            stall += 1
            if best < end_start:
                longest_stall = max(longest_stall, stall)
        if first_end is None and p >= end_start:
            first_end = t
    reasons += [x for x in (jumped_back, skipped) if x]
    if longest_stall * r > max_stall_frames:
        reasons.append(f"stalled for {longest_stall * r} frames")
    if first_end is not None and (steps - 1 - first_end) * r > max_tail_frames:
        reasons.append(f"kept talking after the end ({(steps - 1 - first_end) * r} frames)")
    return reasons


class StopTracker:
    """Per-item stop bookkeeping of the batched loops (NVIDIA's rule applied to each item)."""

    def __init__(self, B: int, r: int, gate_threshold: float):
        self.r, self.threshold = r, gate_threshold
        self.stop_frame = torch.full((B,), -1, dtype=torch.long)  # frames incl. the stop frame; -1 = running
        self.n_steps = torch.zeros(B, dtype=torch.long)  # steps emitted while running
        self.single = B == 1 and r == 1

    def update(self, step: int, gate: Tensor) -> bool:
        """Record step `step`'s gate logits [B, r]; True when every item has stopped."""
        if self.single:  # the common case: one scalar check, no tensor bookkeeping
            self.n_steps[0] = step + 1
            if bool(torch.sigmoid(gate) > self.threshold):  # compared in float32, as the reference
                self.stop_frame[0] = step + 1
                return True
            return False
        running = self.stop_frame < 0
        self.n_steps += running.long()
        stopping = (torch.sigmoid(gate) > self.threshold).cpu()  # [B, r]
        newly = running & stopping.any(dim=1)
        if bool(newly.any()):
            first = stopping.float().argmax(dim=1)  # first stopping frame within the group
            self.stop_frame = torch.where(newly, step * self.r + first + 1, self.stop_frame)
        return bool((self.stop_frame >= 0).all())

"""The compact WaveGlow's coupling networks compiled for training (`train.compile` in a recipe).

A training step of the compact WaveGlow spends most of its time on small tensors: a batch of 8 x 8,192
samples is 512 flow steps of 128 channels, so each depthwise tap, gate and weight normalisation is one
short kernel, and a step launches thousands of them (forward and backward). `torch.compile` (inductor,
C++ on the CPU) fuses each coupling network's chain of element-wise operations into a few loops, forward
and backward. The arithmetic is the same; only rounding may differ.

Only the training pass is compiled. Validation and the validation sample run without gradients at
other lengths, where compiling for every new length would cost more than it saves: they take the eager
path. The first training steps pay the compilation (minutes on one core).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from vocoder.waveglow.compact import CompactWaveGlow


class TrainingCompiled:
    """A module's forward: compiled while gradients are recorded, eager otherwise."""

    def __init__(self, forward: Callable[..., Any]) -> None:
        self.eager = forward
        self.compiled = torch.compile(forward, dynamic=False)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return (self.compiled if torch.is_grad_enabled() else self.eager)(*args, **kwargs)


def compile_couplings(model: CompactWaveGlow) -> int:
    """Compile every coupling network (`SeparableWN`) of `model` for training, in place; returns how many.
    The state dict, and so every checkpoint, is unchanged."""
    if not isinstance(model, CompactWaveGlow):
        raise TypeError(f"train.compile applies to the compact WaveGlow only, not {type(model).__name__}")
    for wn in model.WN:
        if not isinstance(wn.forward, TrainingCompiled):
            wn.forward = TrainingCompiled(wn.forward)
    return len(model.WN)

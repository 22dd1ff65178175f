"""Choosing how a prepared WaveGlow's WNs run: packed float GEMMs (`vocoder.waveglow.packed`, with
Winograd for the dilated convolutions in float32) or int8 products (`vocoder.waveglow.int8`).
`load_waveglow` calls `accelerate`; a model built by hand runs its plain WN modules until it does."""
from __future__ import annotations

import functools

import torch

from vocoder.waveglow.int8 import Int8WN, int8_matmul_supported
from vocoder.waveglow.model import WaveGlow
from vocoder.waveglow.packed import PackedWN


def set_quantization(model: WaveGlow, quantize: str | None, winograd: bool = True,
                     fold_upsampler: bool = True) -> WaveGlow:
    """Run the WNs' large products in int8 (`"int8"`: float32 models on a CPU with int8 matmul) or as
    packed float GEMMs (`None`; `winograd=False` saves the Winograd matrices' memory). Takes effect
    for prepared models (`prepare_for_inference`). With int8 and the compiled kernel,
    `fold_upsampler` conditions the WNs on the mel directly (`Int8WN._fold_upsampler`: half the
    conditioning's multiply-adds, +42 MB of int8 matrices per WN). Returns the model."""
    if quantize not in (None, "int8"):
        raise ValueError(f"quantize must be None or 'int8', got {quantize!r}")
    if quantize == "int8":
        if model.dtype != torch.float32 or model.device.type != "cpu":
            raise ValueError(f"int8 quantization needs a float32 model on the CPU, not {model.dtype} on {model.device}")
        if model.config.wn_kernel_size != 3:
            raise ValueError("int8 quantization supports WaveGlow's kernel size 3 only")
        if not int8_matmul_supported():
            raise RuntimeError("this torch build has no CPU int8 matrix product (torch._int_mm)")
        model.wn_runner = functools.partial(Int8WN, upsample=model.upsample if fold_upsampler else None)
    else:
        model.wn_runner = functools.partial(PackedWN, winograd=winograd)
    model.quantize = quantize
    model._packed = None
    return model


def accelerate(model: WaveGlow, quantize: str | None = None, winograd: bool = True) -> WaveGlow:
    """Prepare for inference (weight norm folded, inverses cached) and plug in the fast WN runners."""
    if not model.inference_ready:
        model.prepare_for_inference()
    return set_quantization(model, quantize, winograd)

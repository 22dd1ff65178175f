"""The one place that decides device and precision, for synthesis and for training.

* `resolve_device(name)` - "auto"/None -> CUDA when available, else the CPU; "cuda" -> a concrete
  CUDA device; refuses devices that are not there (`DeviceError`, a ValueError).
* `parse_dtype(dtype)` - inference dtypes by name ("fp32", "bfloat16", ...).
* `check_precision` / `autocast` / `make_grad_scaler` - training precisions ("fp32", "bf16", "fp16").
"""
from __future__ import annotations

import contextlib
from typing import Final

import torch

#: training precisions: fp32, bf16 autocast (CPU with AVX512_BF16 or CUDA), fp16 autocast (CUDA only)
PRECISIONS: Final = ("fp32", "bf16", "fp16")
_DTYPES: Final = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
                  "half": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}


class DeviceError(ValueError):
    """A device that does not parse or is not available."""


def check_device_available(device: torch.device) -> None:
    """Asking for CUDA on a CPU-only torch (or a missing GPU index, or MPS elsewhere) is a bad argument."""
    if device.type == "cuda":
        if not torch.cuda.is_available():
            why = "this torch build has no CUDA support" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise DeviceError(f"CUDA is not available ({why}); use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"there are only {torch.cuda.device_count()} CUDA device(s)")
    elif device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise DeviceError("MPS is not available; use --device cpu")


def resolve_device(name: str | torch.device | None = None, local_rank: int = 0, *, check: bool = False) -> torch.device:
    """None or "auto": CUDA when available, else the CPU. A bare "cuda" becomes `cuda:<local_rank>`
    (one GPU per data-parallel process). `check=True` refuses a device that is not there."""
    if name is None or name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as exc:
        raise DeviceError(f"unknown device {name!r} ({exc})") from None
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    if check:
        check_device_available(device)
    return device


def parse_dtype(dtype: torch.dtype | str | None) -> torch.dtype | None:
    """None (the models' own dtype), a torch dtype, or a name: float32/fp32, float16/fp16/half, bfloat16/bf16."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    try:
        return _DTYPES[str(dtype).lower()]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; use float32, float16 or bfloat16") from None


def check_precision(precision: str, device: torch.device) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("fp16 training needs CUDA; use bf16 (autocast) or fp32 on CPU")


def autocast(precision: str, device: torch.device):
    """Autocast context for the forward pass: bf16 on CPU or CUDA, fp16 on CUDA, nothing for fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def make_grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler | None:
    """fp16 needs loss scaling; bf16 has fp32's exponent range and does not."""
    if precision == "fp16":
        return torch.amp.GradScaler(device.type)
    return None

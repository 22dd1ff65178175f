"""The one place that decides device, precision and threads, for synthesis and for training.

* `resolve_device(name)` - "auto"/None -> CUDA when available, else the CPU; "cuda" -> a concrete
  CUDA device; refuses devices that are not there (`DeviceError`, a ValueError).
* `parse_dtype(dtype)` - inference dtypes by name ("fp32", "bfloat16", ...); `weights_placement(module)` -
  the device and dtype a module's inputs should have.
* `check_precision` / `autocast` / `make_grad_scaler` - training precisions ("fp32", "bf16", "fp16").
* `choose_threads` / `apply_threads` / `prefer_passive_waiting` - intra-op threads from the free cores.
* `bound_kernel_caches` - a bounded oneDNN primitive cache (`resolve_device` applies it for the CPU).
* `choose_quantization` / `choose_decoder_int8` / `choose_overlap` - the inference paths a pipeline runs
  (int8 WaveGlow and Tacotron 2 decoder, stage overlap): the fastest measured CPU path is the default
  for full-size WaveGlow voices, and nothing changes for the others.

torch is imported inside the functions: the CLI decides OpenMP's waiting policy, which must be set
before torch loads, through this module.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # annotations only; torch is imported where it is used
    import torch

#: training precisions: fp32, bf16 autocast (CPU with AVX512_BF16 or CUDA), fp16 autocast (CUDA only)
PRECISIONS: Final = ("fp32", "bf16", "fp16")
#: inference runtimes: PyTorch, or the exported graphs in onnxruntime (`python -m tts.export_onnx`)
RUNTIMES: Final = ("torch", "onnx")
#: `quantize` that lets `choose_quantization` pick; None = float, "int8" = int8 WaveGlow products
QUANTIZE_AUTO: Final = "auto"
QUANTIZE_CHOICES: Final = (QUANTIZE_AUTO, "int8", None)
#: the narrowest WaveGlow WN for which int8 is the CPU default. Measured on NVIDIA's WaveGlow-256
#: (bench/README.md, 2 cores: int8 with the compiled WN kernel 4.5x the reference, bf16 2.6x, fp32
#: 1.3x); smaller WaveGlows were not measured and keep float32
INT8_MIN_WAVEGLOW_CHANNELS: Final = 256
_DTYPE_NAMES: Final = {"float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16",
                       "half": "float16", "bfloat16": "bfloat16", "bf16": "bfloat16"}


#: oneDNN's primitive cache (default 1024 entries) keeps compiled kernels per tensor shape, and every
#: chunk length makes new ones: over 150 chunks of mixed lengths it grew the resident memory by 87 MB.
#: 64 entries keep the decoder loop's kernels and bounded the growth to 20 MB, at the same speed.
ONEDNN_CACHE_ENV: Final = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"
ONEDNN_CACHE_CAPACITY: Final = 64


class DeviceError(ValueError):
    """A device that does not parse or is not available."""


def check_device_available(device: torch.device) -> None:
    """Asking for CUDA on a CPU-only torch (or a missing GPU index, or MPS elsewhere) is a bad argument."""
    import torch

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
    import torch

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
    if device.type == "cpu":
        bound_kernel_caches()
    return device


def bound_kernel_caches() -> None:
    """Bound oneDNN's primitive cache (`ONEDNN_CACHE_CAPACITY`) unless the environment sets it: oneDNN
    reads the setting when it makes its first kernel, so this applies if no CPU model ran before."""
    os.environ.setdefault(ONEDNN_CACHE_ENV, str(ONEDNN_CACHE_CAPACITY))


def weights_placement(module: torch.nn.Module) -> tuple[torch.device, torch.dtype]:
    """The device of a module's weights and their floating dtype (the CPU and float32 for a module
    without parameters or without floating ones), the device and dtype its inputs should have."""
    import torch

    param = next(module.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    return device, dtype


def parse_dtype(dtype: torch.dtype | str | None) -> torch.dtype | None:
    """None (the models' own dtype), a torch dtype, or a name: float32/fp32, float16/fp16/half, bfloat16/bf16."""
    import torch

    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    try:
        return getattr(torch, _DTYPE_NAMES[str(dtype).lower()])
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; use float32, float16 or bfloat16") from None


def check_precision(precision: str, device: torch.device) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("fp16 training needs CUDA; use bf16 (autocast) or fp32 on CPU")


def autocast(precision: str, device: torch.device):
    """Autocast context for the forward pass: bf16 on CPU or CUDA, fp16 on CUDA, nothing for fp32."""
    import torch

    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def make_grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler | None:
    """fp16 needs loss scaling; bf16 has fp32's exponent range and does not."""
    import torch

    if precision == "fp16":
        return torch.amp.GradScaler(device.type)
    return None


#: environment variable that sets the number of intra-op threads (like --threads)
THREADS_ENV = "TTS_NUM_THREADS"


def free_cores() -> int:
    """Cores this process may run on (CPU affinity) minus those other processes keep busy (the
    1-minute load average), at least 1: on a machine whose cores are all busy, a second intra-op
    thread only waits at barriers and makes every step slower."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(cores, int(cores - busy + 0.5)))


def choose_threads(requested: int | None = None) -> tuple[int, str]:
    """How many intra-op threads to use, and why: `requested` (--threads), else $TTS_NUM_THREADS, else
    the free cores (`free_cores`)."""
    if requested is not None:
        if requested < 1:
            raise ValueError(f"threads must be >= 1, got {requested}")
        return requested, "as requested"
    from_env = os.environ.get(THREADS_ENV)
    if from_env:
        try:
            value = int(from_env)
        except ValueError:
            raise ValueError(f"${THREADS_ENV} must be a whole number, got {from_env!r}") from None
        if value < 1:
            raise ValueError(f"${THREADS_ENV} must be >= 1, got {value}")
        return value, f"from ${THREADS_ENV}"
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    free = free_cores()
    return free, f"{free} of {cores} core(s) free (load average {os.getloadavg()[0]:.1f})"


#: how long (busy-wait iterations) an OpenMP thread spins at a barrier before it sleeps: short enough
#: to yield its core on a busy machine, long enough that the small decoder's per-step barriers do not
#: each pay a wake-up. What an iteration costs differs between CPUs, so the count does too. Measured on
#: 2 cores, default voice, 2 threads (`bench/pipeline_speed.py --voice default --skip-full-size`):
#: AMD EPYC: sleeping at once (0) 4.8-6.2x real time; 1,000: 10.5-11.4x, and one sentence beside two
#: busy processes at most 3.4x its quiet time (0: 2.3x; 10,000: 7.3x; unbounded spinning: 9-16x).
#: Intel Xeon (AMX): 1,000: 6.7x, first audio 0.36 s; 3,000: 9.8x; 10,000: 11.3x, 0.19 s; 30,000:
#: 11.7x; beside two busy processes (2 threads kept) 1,000: 3.9x and 10,000: 4.0x real time.
SPIN_BEFORE_SLEEP = 1_000
SPIN_BEFORE_SLEEP_INTEL = 10_000


def cpuinfo_value(key: str, cpuinfo: str | None = None) -> str:
    """The value of the first `key : value` line of /proc/cpuinfo ("model name", "vendor_id"), or of
    `cpuinfo` when given; "" when there is none (no such line, or no readable /proc/cpuinfo)."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
                cpuinfo = f.read(4096)  # the first processor's block holds every key
        except OSError:
            return ""
    for line in cpuinfo.splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip() == key:
            return value.strip()
    return ""


def spin_before_sleep(cpuinfo: str | None = None) -> int:
    """The spin count for this CPU (`SPIN_BEFORE_SLEEP_INTEL` on an Intel one, else `SPIN_BEFORE_SLEEP`);
    `cpuinfo` is /proc/cpuinfo's text (read when None; unreadable or absent: the default)."""
    intel = cpuinfo_value("vendor_id", cpuinfo) == "GenuineIntel"
    return SPIN_BEFORE_SLEEP_INTEL if intel else SPIN_BEFORE_SLEEP


def prefer_passive_waiting() -> None:
    """Ask OpenMP to spin only briefly, then sleep, while waiting at a barrier (it must be set before
    torch starts its thread pool): threads that keep spinning steal the cores the working ones need on
    a busy machine, threads that sleep at once pay a wake-up at every barrier of a small model's step.
    Explicit settings in the environment win."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = str(spin_before_sleep())


def apply_threads(requested: int | None = None) -> str:
    """Set torch's intra-op threads by `choose_threads`; returns a line saying what was chosen and why."""
    import torch

    threads, why = choose_threads(requested)
    torch.set_num_threads(threads)
    return f"{threads} thread(s), {why}"


def check_runtime(runtime: str) -> None:
    """ValueError unless `runtime` is one of `RUNTIMES`."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")


def check_quantize(quantize: str | None) -> None:
    """ValueError unless `quantize` is one of `QUANTIZE_CHOICES`."""
    if quantize not in QUANTIZE_CHOICES:
        raise ValueError(f"quantize must be 'auto', 'int8' or None, got {quantize!r}")


def choose_quantization(quantize: str | None, *, device: torch.device, dtype: torch.dtype | None, runtime: str,
                        waveglow_channels: int | None) -> tuple[str | None, str]:
    """WaveGlow's quantization (None or "int8") and why. `quantize="auto"` picks int8 for a full-size
    WaveGlow (WN width >= `INT8_MIN_WAVEGLOW_CHANNELS`; None: the voice has no WaveGlow, or a compact
    one) running in PyTorch on a CPU when no `dtype` was asked for; anything else stays float. An
    explicit None or "int8" is kept as it is (the loaders check it)."""
    check_quantize(quantize)
    if quantize != QUANTIZE_AUTO:
        return quantize, "as requested"
    if runtime != "torch":
        return None, f"{runtime} runtime: its float32 graphs unless quantize='int8'"
    if device.type != "cpu":
        return None, f"int8 is a CPU path; the device is {device}"
    if dtype is not None:
        return None, f"dtype {str(dtype).replace('torch.', '')} was asked for"
    if waveglow_channels is None:
        return None, "no full-size WaveGlow"
    if waveglow_channels < INT8_MIN_WAVEGLOW_CHANNELS:
        return None, f"WaveGlow-{waveglow_channels} is smaller than WaveGlow-{INT8_MIN_WAVEGLOW_CHANNELS}, where int8 was measured"
    return "int8", f"the fastest measured CPU path for a full-size WaveGlow (WaveGlow-{waveglow_channels})"


def choose_decoder_int8(quantize_requested: str | None, waveglow_quantize: str | None,
                        kernel_reason: Callable[[], str]) -> tuple[bool, str]:
    """Whether Tacotron 2's decoder runs its LSTM products in int8, and why: only where `quantize="auto"`
    chose int8 for the WaveGlow, and only with the compiled decoder kernel (`kernel_reason()` is "" when
    it works; called only then, since it may compile it): the decoder's pure-PyTorch int8 arithmetic
    runs at float32 speed, so without the kernel float32 is the faster choice."""
    if quantize_requested != QUANTIZE_AUTO or waveglow_quantize != "int8":
        return False, "int8 only on the automatic path of a full-size WaveGlow voice on a CPU"
    reason = kernel_reason()
    if reason:
        return False, f"the compiled int8 decoder is unavailable: {reason}"
    return True, "the fastest measured decoder on a CPU"


def choose_overlap(requested: bool | None, *, supported: str) -> tuple[bool, str]:
    """Whether a pipeline vocodes while Tacotron 2 decodes (a second thread), and why. `supported` is ""
    when the models allow it (a PyTorch Tacotron 2 and WaveGlow), else why not. None (auto) is off:
    measured on a quiet 2-core CPU (bench/pipeline_speed.py, full-size models) the overlap was slower
    than one stage after the other on every path (int8 with both compiled kernels 4.71x the plain chain
    vs 5.69x; float32 1.00x vs 1.37x): the decoder's thread takes a core from the vocoder's products and
    the first chunk's block seams add work. True turns it on wherever the models allow it."""
    if supported:
        return False, f"off: {supported}"
    if requested is not None:
        return requested, "on, as requested" if requested else "off, as requested"
    return False, "off: measured slower than one stage after the other on 2 cores (--overlap turns it on)"

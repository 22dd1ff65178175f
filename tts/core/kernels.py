"""Building the project's compiled CPU kernels: C++ sources compiled on first use for the CPU they run on.

    module, reason = compile_kernel("tacoglow_wn_int8", SOURCE, "the int8 WaveGlow kernel")

`torch.utils.cpp_extension.load_inline` compiles `SOURCE` with `CFLAGS` (`-march=native`) the first
time and keeps the library under ~/.cache/torch_extensions (or $TORCH_EXTENSIONS_DIR); later processes
load it in well under a second. A first build takes 30-60 s per kernel, so it is announced by one line on
standard error before it starts (a user of `tts-say` is not left waiting in silence). Where a kernel
cannot be built (no compiler, not x86-64, a CPU without the instructions the source needs, or
$TACOGLOW_NO_COMPILE set), `compile_kernel` returns (None, why) and the caller runs its pure-PyTorch
path, which computes the same thing.

The library's name carries a hash of the source, the flags, torch's version and the CPU's flags, so a
changed source, or a cache folder shared between machines, never loads a library built for something else.
"""
from __future__ import annotations

import hashlib
import os
import platform
import sys
from pathlib import Path
from types import ModuleType
from typing import Final

#: set to anything but "" or "0" to never compile (the pure-PyTorch paths run instead)
NO_COMPILE_ENV: Final = "TACOGLOW_NO_COMPILE"
#: compiler flags: every kernel is built for the CPU it runs on
CFLAGS: Final = ("-O3", "-march=native", "-fno-math-errno")


#: e^x on 16 floats for the kernels' C++ (Cephes expf: range reduction by ln 2, degree-6 polynomial,
#: 2^n by vscalefps); both kernels' sources include it
EXP16 = r"""inline __m512 exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}
"""


def compile_disabled_reason() -> str:
    """Why no kernel may be compiled here at all ("" when kernels may be built)."""
    if os.environ.get(NO_COMPILE_ENV, "") not in ("", "0"):
        return f"${NO_COMPILE_ENV} is set"
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return f"not an x86-64 CPU ({platform.machine()})"
    return ""


def build_name(prefix: str, source: str) -> str:
    """`prefix` + a short hash of the source, flags, torch version, machine and CPU flags."""
    import torch

    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            cpu = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        pass
    key = "\n".join([source, " ".join(CFLAGS), torch.__version__, platform.machine(), cpu])
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def is_built(name: str) -> bool:
    """Whether the library `name` is already in torch's extension cache (loading it is then quick)."""
    from torch.utils import cpp_extension

    try:
        folder = Path(cpp_extension._get_build_directory(name, verbose=False))
    except Exception:  # noqa: BLE001 - a private torch helper: if it moved, assume a build
        return False
    return any(folder.glob(f"{name}*.so")) or any(folder.glob(f"{name}*.pyd"))


def compile_kernel(prefix: str, source: str, what: str) -> tuple[ModuleType | None, str]:
    """Build (or load from the cache) `source` as an extension module; (module, "") or (None, why not).
    A build that has to compile prints one line naming `what` on standard error first."""
    reason = compile_disabled_reason()
    if reason:
        return None, reason
    try:
        from torch.utils.cpp_extension import load_inline

        name = build_name(prefix, source)
        if not is_built(name):
            print(f"tacoglow: compiling {what} for this CPU (about a minute, once per machine; "
                  f"{NO_COMPILE_ENV}=1 skips it)", file=sys.stderr, flush=True)
        module = load_inline(name, cpp_sources=[source], extra_cflags=list(CFLAGS), verbose=False)
    except Exception as exc:  # noqa: BLE001 - any build failure means: use the PyTorch path
        lines = str(exc).strip().splitlines()
        return None, f"build failed: {type(exc).__name__}: {lines[-1] if lines else ''}"
    return module, ""

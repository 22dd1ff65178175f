"""Dynamic int8 quantization of Tacotron 2's decoder LSTMs for CPU inference (`infer(dtype=torch.int8)`).

`Int8GEMV` runs one LSTM's product [input, hidden] [W_ih | W_hh]^T with int8 weights (one scale per
output) and each part of the input quantized per row at every step; the compiled kernel
(`tts.tacotron2.kernel`, AVX-512 VNNI) does it where it builds and passes `verified_gemv_kernel`'s
check, and also runs whole decoder steps (`decoder_step_kernel`); elsewhere the same arithmetic runs in
float32 (dequantized weights, fake-quantized inputs), so results agree up to float rounding.
"""
from __future__ import annotations

import functools
import itertools
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from tts.tacotron2.kernel import kernel_unavailable_reason, load_gemv_kernel

if TYPE_CHECKING:  # annotations only
    from tts.tacotron2.fast import FastWeights


def fake_quantize_rows(x: Tensor) -> Tensor:
    """x rounded to int8 steps with one scale per row (max |x| / 127), returned in float32."""
    scale = x.abs().amax(1, keepdim=True).clamp_min(1e-30) / 127
    return torch.round(x / scale) * scale


@functools.cache
def verified_gemv_kernel():
    """The compiled int8 GEMV (`tts.tacotron2.kernel`) if it builds and agrees with the float32
    arithmetic of `Int8GEMV` on random data (relative error <= 1e-5), else None. Cached per process
    (a compile cache)."""
    module = load_gemv_kernel()
    if module is None:
        return None
    probe = torch.Generator().manual_seed(0)  # never the global RNG: infer(seed=...) must not shift
    weight, bias = torch.randn(128, 40, generator=probe), torch.randn(128, generator=probe)
    xs = [torch.randn(3, 8, generator=probe), torch.randn(3, 32, generator=probe)]
    fast, slow = Int8GEMV(weight, bias, [8, 32], kernel=False), Int8GEMV(weight, bias, [8, 32], kernel=False)
    fast._use_kernel(module)
    got, want = fast(*xs), slow(*xs)
    ok = got.shape == want.shape and float((got - want).norm() / want.norm()) <= 1e-5
    return module if ok else None


def gemv_kernel_unavailable_reason() -> str:
    """Why `verified_gemv_kernel()` is None ("" when the compiled decoder kernel works here; the first
    call may compile it)."""
    if verified_gemv_kernel() is not None:
        return ""
    return kernel_unavailable_reason() or "the compiled kernel disagreed with the float32 arithmetic on a test"


class Int8GEMV:
    """y = [x_1, ..., x_S] @ W^T + b with dynamic int8 quantization: W int8 with one scale per output,
    each input part x_s [B, K_s] rounded to int8 with one scale per row at every call (the parts of an
    LSTM's input, prenet output, attention context and hidden state, have different ranges).

    Runs the compiled VNNI kernel (`tts.tacotron2.kernel`) where it is available (`kernel=None`; False:
    never, True: required) and otherwise the same arithmetic in float32 (dequantized weights,
    fake-quantized inputs: equal up to float rounding, at float32 speed)."""

    #: threads of the compiled kernel (0: torch.get_num_threads(); 1: no parallel region)
    threads = 0

    def __init__(self, weight: Tensor, bias: Tensor, sizes: list[int], kernel: bool | None = None):
        w = weight.detach().float()
        N, K = w.shape
        if sum(sizes) != K:
            raise ValueError(f"input parts {sizes} do not add up to the weight's {K} inputs")
        self.sizes, self.bias = list(sizes), bias.detach().float().contiguous()
        self.scale = (w.abs().amax(1).clamp_min(1e-30) / 127).contiguous()  # [N]
        self.q = torch.round(w / self.scale[:, None]).to(torch.int8)  # [N, K]
        self.module = None
        if kernel is not False and N % 128 == 0 and all(k % 4 == 0 for k in sizes):
            module = verified_gemv_kernel()
            if module is not None:
                self._use_kernel(module)
        if kernel and self.module is None:
            raise RuntimeError("the compiled int8 GEMV is not available for this shape or machine")
        if self.module is None:
            self.weight_t = (self.q.float() * self.scale[:, None]).t().contiguous()  # [K, N]
            self.q = None

    def _use_kernel(self, module) -> None:
        if self.q is None:  # built for the float32 path: its weights are exactly q * scale
            self.q = torch.round(self.weight_t.t() / self.scale[:, None]).to(torch.int8)
            self.weight_t = None
        N, K = self.q.shape
        # the kernel's layout [N / 128, K / 4, 8, 16, 4] (viewed as [N / 16, K / 4, 16, 4] for its shape checks)
        self.packed = self.q.view(N // 128, 8, 16, K // 4, 4).permute(0, 3, 1, 2, 4).contiguous().view(N // 16, K // 4, 16, 4)
        bounds = [0] + list(itertools.accumulate(self.sizes))
        self.comp = torch.stack([128 * self.q[:, a:b].sum(1, dtype=torch.int32) for a, b in itertools.pairwise(bounds)])
        self.comp = self.comp.to(torch.int32).contiguous()
        self.module, self.q = module, None

    @property
    def uses_kernel(self) -> bool:
        return self.module is not None

    def __call__(self, *xs: Tensor, threads: int | None = None) -> Tensor:
        """The product for the input's parts; `threads` overrides `self.threads` for this call."""
        if self.module is not None:
            return self.module.gemv_int8(list(xs), self.packed, self.scale, self.comp, self.bias,
                                         self.threads if threads is None else int(threads))
        x = torch.cat([fake_quantize_rows(x.float()) for x in xs], 1)
        return torch.addmm(self.bias, x, self.weight_t)


def decoder_step_kernel(w: FastWeights, memory: Tensor, invalid: Tensor | None, prenet_dropout: float,
                        threads: int | None = None):
    """The compiled whole decoder step (`tts.tacotron2.kernel.DecoderStep`: prenet, both int8 LSTMs,
    attention and projection in one call, the recurrent state kept inside) set up for one batch of
    utterances, or None where its shapes are not supported (the Python loop then runs the same int8
    products). `stepper.step(frame [B, n_mel * r])` -> (projection and gate logits [B, n_mel * r + r],
    attention weights [B, T_in]). `threads`: the kernel's threads (None: the weights' own)."""
    module = verified_gemv_kernel()
    if module is None:
        return None
    try:
        stepper = module.DecoderStep(*w.step_arguments, w.att_rnn.threads if threads is None else int(threads))
        memory = memory.float().contiguous()
        no_mask = torch.zeros(0, dtype=torch.bool)
        stepper.start(memory, memory @ w.memory, no_mask if invalid is None else invalid, float(prenet_dropout))
    except RuntimeError:
        return None
    return stepper


def step_kernel_runs(w: FastWeights) -> bool:
    """Whether the compiled whole decoder step (`decoder_step_kernel`) runs for these weights: its
    GEMVs compiled and the model's shapes among those the step supports (multiples of 16, attention
    dim <= 128), tried on a one-symbol dummy utterance."""
    if w.step_arguments is None:
        return False
    memory = torch.zeros(1, 1, w.memory.shape[0])
    return decoder_step_kernel(w, memory, None, 0.0, threads=1) is not None

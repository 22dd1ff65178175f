"""WaveGlow's WN with int8 matrix products (AVX512-VNNI through `torch._int_mm`), for CPU inference.

WaveGlow-256 spends ~90 % of its multiply-adds in three products per WN layer: the mel conditioning
(640 -> 512 per layer), the dilated kernel-3 convolution (3 x 256 -> 512) and the residual 1x1
convolution (256 -> 256). Here they run on int8 operands with int32 accumulation, about twice the
bfloat16 rate on this CPU. Everything else stays float32: the gates, the residual stream, the start
conv and layer 0's convolution (which read the 4-channel audio half directly), and the skip + `end`
product (8 outputs per layer).

Quantization (symmetric, no zero points):
  * weights: one scale per output channel, fixed when the WN is packed;
  * activations: one scale per time step (column), computed on the fly. A column of the dilated
    conv's input is [h(t - d); h(t); h(t + d)] (the three taps stacked, "im2col"), so a single scale
    covers everything that one output column reads, and y[o, t] = s_w[o] * s_x[t] * (q_w q_x)[o, t].
    Per-column scales follow the loudness of the signal over time, which a per-tensor scale would not.

Two implementations of the same computation: a compiled kernel that runs a whole WN in one call
(`vocoder.waveglow.kernel`: fused element-wise passes, time-major layout, about 1.5x faster), used
wherever it builds and passes `verified_kernel`'s check, and the pure-PyTorch path below otherwise.
"""
from __future__ import annotations

import functools
import math

import torch

from vocoder.waveglow.kernel import kernel_unavailable_reason, load_int8_kernel
from vocoder.waveglow.layers import tanh_
from vocoder.waveglow.model import WN


def quantize_rows(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[out, in] float -> (int8 [out, in], scale [out, 1]) with weight ~ q * scale."""
    scale = weight.abs().amax(1, keepdim=True).clamp_min(1e-30) / 127
    return torch.round(weight / scale).to(torch.int8), scale


def quantize_columns(x: torch.Tensor, out: torch.Tensor | None = None, scale_out: torch.Tensor | None = None,
                     scratch: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """[K, T] float -> (int8 [K, T], scale [1, T]) with x ~ q * scale: one scale per time step.
    `out`, `scale_out` and `scratch` (float, x's shape) are optional preallocated buffers."""
    scratch = torch.empty_like(x) if scratch is None else scratch
    scale = x.new_empty(1, x.shape[1]) if scale_out is None else scale_out
    torch.amax(torch.abs(x, out=scratch), 0, keepdim=True, out=scale)
    scale.clamp_min_(1e-30).div_(127)
    torch.div(x, scale, out=scratch).round_()
    return (scratch.to(torch.int8) if out is None else out.copy_(scratch)), scale


def int8_matmul_supported() -> bool:
    """True where this torch build runs int8 x int8 -> int32 products on the CPU."""
    try:
        a = torch.ones(2, 8, dtype=torch.int8)
        return bool(torch.equal(torch._int_mm(a, a.t().contiguous()), torch.full((2, 2), 8, dtype=torch.int32)))
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


@functools.cache
def verified_kernel():
    """The compiled WN kernel (`vocoder.waveglow.kernel`) if it builds and computes what the PyTorch
    path computes on a small random WN (SNR >= 60 dB), else None. Cached per process (a compile cache)."""
    module = load_int8_kernel() if int8_matmul_supported() else None
    if module is None:
        return None
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(0)
        wn = WN(n_in_channels=4, n_cond_channels=24, n_layers=3, n_channels=32, kernel_size=3)
        for p in wn.parameters():
            p.add_(0.1 * torch.randn_like(p))
        for m in wn.modules():
            if hasattr(m, "fold"):
                m.fold()
        audio, spect = torch.randn(4, 37), torch.randn(24, 37)
        want = Int8WN(wn, kernel=False)(audio, *quantize_columns(spect))
        fast = Int8WN(wn, kernel=False)
        fast._use_kernel(module)
        got = fast(audio, *fast.prepare_conditioning(spect))
    error = float((got - want).double().pow(2).sum() / want.double().pow(2).sum().clamp_min(1e-30))
    return module if got.shape == want.shape and error <= 1e-6 else None


def wn_kernel_unavailable_reason() -> str:
    """Why `verified_kernel()` is None ("" when the compiled WN kernel works here; the first call may
    compile it)."""
    if not int8_matmul_supported():
        return "this torch build has no CPU int8 matrix product"
    if verified_kernel() is not None:
        return ""
    return kernel_unavailable_reason() or "the compiled kernel disagreed with the PyTorch path on a test WN"


class Int8WN:
    """A prepared (weight-norm folded) float32 WN with int8 products; the same function as `WN.forward`
    up to quantization error. Call with the conditioning from `prepare_conditioning` (the mel
    quantized once per time step, shared by every flow).

    `kernel`: None uses the compiled kernel where it is available and supports the shape (channels a
    multiple of 16), False never, True requires it (RuntimeError otherwise). `uses_kernel` tells."""

    #: time steps per block of a layer's element-wise work (see __call__)
    chunk_columns = 512
    #: time steps per block in the compiled kernel (the unit of work the threads share)
    kernel_block = 512
    #: threads the compiled kernel uses (0: torch.get_num_threads()); e.g. 1 when another thread
    #: decodes on the second core at the same time
    kernel_threads = 0

    def __init__(self, wn: WN, kernel: bool | None = None, upsample: torch.nn.ConvTranspose1d | None = None):
        if wn.in_layers[0].kernel_size[0] != 3:
            raise ValueError("the int8 WN supports WaveGlow's kernel size 3 only")
        self.kernel, self.phases, self.conditions_on_mel = None, 1, False
        C, L = wn.n_channels, wn.n_layers
        w = lambda t: t.detach().float()
        self.C, self.L = C, L
        self.dilations = [layer.dilation[0] for layer in wn.in_layers]
        self.start_w, self.start_b = w(wn.start.weight[:, :, 0]), w(wn.start.bias)[:, None]
        cond_w, cond_b = w(wn.cond_layer.weight[:, :, 0]), w(wn.cond_layer.bias)
        self.cond = [quantize_rows(cond_w[2 * C * i: 2 * C * (i + 1)]) for i in range(L)]
        # conditioning bias + in_layer bias: one bias per layer's pre-activation
        self.pre_b = [(cond_b[2 * C * i: 2 * C * (i + 1)] + w(layer.bias))[:, None] for i, layer in enumerate(wn.in_layers)]
        # layer 0 reads start(audio) = start_w audio + start_b: fold start into its taps, on the audio with
        # a constant-1 channel appended so that the bias reaches exactly the taps inside the padding
        W0 = w(wn.in_layers[0].weight)  # [2C, C, 3]
        taps = torch.cat((torch.einsum("ock,ci->oik", W0, self.start_w),
                          torch.einsum("ock,c->ok", W0, self.start_b[:, 0])[:, None]), 1)  # [2C, n_in + 1, 3]
        self.first_taps = [taps[:, :, k] for k in range(3)]
        # [2C, C, 3] -> [2C, 3C] acting on the stacked taps [h(t - d); h(t); h(t + d)]
        self.in_q = [quantize_rows(w(layer.weight).permute(0, 2, 1).reshape(2 * C, 3 * C)) for layer in wn.in_layers]
        self.res = [quantize_rows(w(rs.weight[:C, :, 0])) for rs in wn.res_skip_layers[:-1]]
        self.res_b = [w(rs.bias[:C])[:, None] for rs in wn.res_skip_layers[:-1]]
        end_w = w(wn.end.weight[:, :, 0])  # [2 n_in, C]; skip halves and `end` are consecutive linear maps
        skips = [rs.weight[C:] if i < L - 1 else rs.weight for i, rs in enumerate(wn.res_skip_layers)]
        self.skip_w = [end_w @ w(s[:, :, 0]) for s in skips]
        skip_b = sum(w(rs.bias[C:] if i < L - 1 else rs.bias) for i, rs in enumerate(wn.res_skip_layers))
        self.out_b = (end_w @ skip_b + w(wn.end.bias))[:, None]
        n_in = self.start_w.shape[1]
        if kernel is not False and C % 16 == 0 and 2 * n_in <= 16:
            module = verified_kernel()
            if module is not None:
                self._use_kernel(module)
                if upsample is not None:
                    self._fold_upsampler(cond_w, upsample, wn.cond_layer.weight.shape[1] // upsample.out_channels)
        if kernel and self.kernel is None:
            raise RuntimeError("the compiled int8 WN kernel is not available for this WN or machine")

    @property
    def uses_kernel(self) -> bool:
        return self.kernel is not None

    def _use_kernel(self, module) -> None:
        """Switch to the compiled kernel: its arguments in its layout (time-major products: weights as
        [in, out] int8), the PyTorch path's copies dropped."""
        C, L, n_in = self.C, self.L, self.start_w.shape[1]
        empty_q, zeros = torch.zeros(1, 1, dtype=torch.int8), torch.zeros(2 * C)
        self._args = (
            self.start_w.contiguous(), self.start_b[:, 0].contiguous(),
            torch.stack([t.t() for t in self.first_taps]).contiguous(),  # [3, n_in + 1, 2C]
            [q.t().contiguous() for q, _ in self.cond], torch.stack([s[:, 0] for _, s in self.cond]),
            [empty_q] + [q.t().contiguous() for q, _ in self.in_q[1:]],
            torch.stack([zeros] + [s[:, 0] for _, s in self.in_q[1:]]),
            torch.stack([b[:, 0] for b in self.pre_b]),
            [q.t().contiguous() for q, _ in self.res],
            torch.stack([s[:, 0] for _, s in self.res]) if L > 1 else torch.zeros(1, C),
            torch.stack([b[:, 0] for b in self.res_b]) if L > 1 else torch.zeros(1, C),
            torch.stack(self.skip_w).contiguous(), self.out_b[:, 0].contiguous(), list(self.dilations),
        )
        assert self._args[-2].numel() == 2 * n_in
        self.kernel = module
        self.cond = self.in_q = self.res = None  # the kernel holds its own copies

    def _fold_upsampler(self, cond_w: torch.Tensor, upsample: torch.nn.ConvTranspose1d, n_group: int) -> None:
        """Conditioning straight from the mel (`conditions_on_mel`): the upsampler (ConvTranspose1d,
        kernel J * S, stride S) and the grouping by n_group are linear, so the conditioning of time step
        t (= P f + p: frame f, phase p, P = S / n_group) is M_p [mel(f); mel(f - 1); ...; mel(f - J + 1)]
        with M_p = cond_w U_p: J * 80 inputs per step instead of 80 * n_group (half the conditioning's
        multiply-adds for WaveGlow-256), at the price of P matrices (32 x [4096, 320] int8 = 42 MB per
        WN). The upsampler's bias is a constant that joins the layers' biases."""
        up_w, up_b = upsample.weight.detach().float(), upsample.bias
        n_mel, _, K = up_w.shape
        S = upsample.stride[0]
        P, J, C2 = S // n_group, K // S, 2 * self.C
        # U[p, j, c * n_group + g, i] = up_w[i, c, S j + n_group p + g]
        U = up_w.view(n_mel, n_mel, J, P, n_group).permute(3, 2, 1, 4, 0).reshape(P, J, n_mel * n_group, n_mel)
        M = torch.einsum("oc,pjci->poji", cond_w, U).reshape(P, cond_w.shape[0], J * n_mel)  # [P, 2CL, J n_mel]
        weights, scales = [], []
        for i in range(self.L):
            q, scale = quantize_rows(M[:, C2 * i: C2 * (i + 1)].reshape(P * C2, J * n_mel))
            weights.append(q.view(P, C2, J * n_mel).permute(2, 0, 1).reshape(J * n_mel, P * C2).contiguous())
            scales.append(scale.view(P * C2))
        del M
        args = list(self._args)
        args[3], args[4] = weights, torch.stack(scales)
        if up_b is not None:  # cond_w (upsampler bias, repeated over the group) joins the layers' biases
            args[7] = args[7] + (cond_w @ up_b.detach().float().repeat_interleave(n_group)).view(self.L, C2)
        self._args = tuple(args)
        self.phases, self.taps_back, self.conditions_on_mel = P, J, True

    def prepare_conditioning(self, spect: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """This WN's conditioning arguments, computed once for all flows: from the upsampled mel
        [n_cond, T] quantized with one scale per time step ([n_cond, T] and [1, T]; time-major
        [T, n_cond] and [T] for the kernel), or, where `conditions_on_mel`, from the mel [n_mel, frames]
        itself: the stacked frames [mel(f); ...; mel(f - J + 1)] quantized per frame, [frames, J n_mel]."""
        if self.conditions_on_mel:
            mel = spect.float()
            frames = mel.shape[1]
            padded = torch.nn.functional.pad(mel, (self.taps_back - 1, 0))
            stacked = torch.cat([padded[:, self.taps_back - 1 - j: self.taps_back - 1 - j + frames]
                                 for j in range(self.taps_back)])  # [J n_mel, frames]
            q, scale = quantize_columns(stacked)
            return q.t().contiguous(), scale[0].contiguous()
        q, scale = quantize_columns(spect.float())
        if self.kernel is not None:
            return q.t().contiguous(), scale[0].contiguous()
        return q, scale

    @staticmethod
    def _stack_taps_into(cols: torch.Tensor, h: torch.Tensor, a: int, b: int, d: int) -> torch.Tensor:
        """Columns [a, b) of the stacked taps: rows [h(t - d); h(t); h(t + d)], zeros outside the
        signal (the convolution's padding). h [C, T] -> cols [3C, b - a]."""
        C, T = h.shape
        for k in range(3):
            offset = (k - 1) * d
            lo, hi = max(a, -offset), min(b, T - offset)  # columns whose source is inside the signal
            rows = cols[k * C: (k + 1) * C]
            if hi > lo:
                rows[:, lo - a: hi - a] = h[:, lo + offset: hi + offset]
            rows[:, : max(0, min(lo, b) - a)] = 0
            rows[:, max(hi, a) - a:] = 0
        return cols

    def _first_layer_into(self, x: torch.Tensor, audio_1: torch.Tensor, a: int, b: int) -> None:
        """x[:, t - a] += sum_k taps[k] @ audio_1[:, t + (k - 1) d] for t in [a, b), over the taps inside
        the signal (zero padding)."""
        d, T = self.dilations[0], audio_1.shape[1]
        for k, taps in enumerate(self.first_taps):
            offset = (k - 1) * d
            lo, hi = max(a, -offset), min(b, T - offset)
            if hi > lo:
                x[:, lo - a: hi - a].addmm_(taps, audio_1[:, lo + offset: hi + offset])

    def __call__(self, audio: torch.Tensor, spect_q: torch.Tensor, spect_scale: torch.Tensor) -> torch.Tensor:
        """audio [n_in, T] float32, quantized conditioning [n_cond, T] with scales [1, T] (or the kernel's
        time-major [T, n_cond], [T] from `prepare_conditioning`) -> [2 n_in, T] (b first, log s second).

        Each layer runs in blocks of `chunk_columns` time steps, so that the intermediates of a block
        stay in the L2 cache (1.2-1.5x faster than whole-signal passes here), in buffers allocated once
        per call (fresh multi-MB tensors per block cost page faults). A layer's residual update comes
        after all its blocks: the taps of a later block read h across the block boundary."""
        audio = audio.float()  # the WaveGlow's own dtype, should it have been cast after quantizing
        if self.kernel is not None:
            if spect_scale.dim() == 2:  # `quantize_columns` output [n_cond, T], [1, T]: the kernel's layout
                spect_q, spect_scale = spect_q.t().contiguous(), spect_scale[0].contiguous()
            return self.kernel.wn_int8(audio, spect_q, spect_scale, *self._args, self.phases, self.kernel_block, self.kernel_threads)
        C, T, W = self.C, audio.shape[1], self.chunk_columns
        h = torch.addmm(self.start_b, self.start_w, audio)  # [C, T] residual stream
        out = self.out_b.expand(-1, T).clone()
        audio_1 = torch.cat((audio, audio.new_ones(1, T)))
        blocks = [(a, min(T, a + W)) for a in range(0, T, W)]
        work = _Workspace(C, min(T, W), len(blocks))
        spect_blocks = [spect_q[:, a:b].contiguous() for a, b in blocks]  # aligned, contiguous GEMM operands
        for i in range(self.L):
            (cond_q, cond_scale), (in_q, in_scale) = self.cond[i], self.in_q[i]
            for j, (a, b) in enumerate(blocks):
                w = b - a
                acc, outer, x = work.acc(2 * C, w), work.outer(2 * C, w), work.x(w)
                # pre-activation = conditioning + dilated conv + both biases: [2C, w]
                torch._int_mm(cond_q, spect_blocks[j], out=acc)
                torch.addcmul(self.pre_b[i], acc, torch.mul(cond_scale, spect_scale[:, a:b], out=outer), out=x)
                if i == 0:
                    self._first_layer_into(x, audio_1, a, b)
                else:
                    taps = self._stack_taps_into(work.taps(w), h, a, b, self.dilations[i])
                    taps_q, taps_scale = work.quantize(taps, work.taps_q(w))
                    torch._int_mm(in_q, taps_q, out=acc)
                    x.addcmul_(acc, torch.mul(in_scale, taps_scale, out=outer))
                acts = tanh_(x[:C]).mul_(x[C:].sigmoid_())  # [C, w]
                out[:, a:b].addmm_(self.skip_w[i], acts)
                if i < self.L - 1:
                    work.quantize(acts, work.acts_q(j, w), work.acts_scale(j, w))
            if i < self.L - 1:
                res_q, res_scale = self.res[i]
                for j, (a, b) in enumerate(blocks):
                    w = b - a
                    acc, outer = work.acc(C, w), work.outer(C, w)
                    torch._int_mm(res_q, work.acts_q(j, w), out=acc)
                    h[:, a:b].addcmul_(acc, torch.mul(res_scale, work.acts_scale(j, w), out=outer)).add_(self.res_b[i])
        return out


class _Workspace:
    """Buffers for one `Int8WN` call, reused by every block and layer (views of `w` <= max columns)."""

    #: bytes between consecutive buffers beyond their sizes: the sizes are multiples of 4 KiB, and
    #: buffers whose addresses agree modulo 4 KiB evict each other from the cache when an element-wise
    #: op streams through two of them (measured: div/addcmul/copy up to 2.5x slower)
    stagger = 1088

    def __init__(self, C: int, max_columns: int, n_blocks: int):
        n = max_columns
        self.C = C
        layout = [("_acc", torch.int32, (2 * C * n,)), ("_outer", torch.float32, (2 * C * n,)),
                  ("_x", torch.float32, (2 * C * n,)), ("_taps", torch.float32, (3 * C * n,)),
                  ("_scratch", torch.float32, (3 * C * n,)), ("_taps_q", torch.int8, (3 * C * n,)),
                  ("_scale", torch.float32, (n,)),
                  # a layer's quantized gate outputs, block after block (each block contiguous for _int_mm)
                  ("_acts_q", torch.int8, (n_blocks, C * n)), ("_acts_scale", torch.float32, (n_blocks, n))]
        sizes = [math.prod(shape) * dtype.itemsize for _, dtype, shape in layout]
        slab = torch.empty(sum(sizes) + self.stagger * len(layout) + 64, dtype=torch.uint8)
        offset = (-slab.data_ptr()) % 64  # start on a cache line
        for (name, dtype, shape), size in zip(layout, sizes):
            setattr(self, name, slab[offset: offset + size].view(dtype).view(shape))
            offset += size + self.stagger

    def acc(self, rows: int, w: int) -> torch.Tensor:
        return self._acc[: rows * w].view(rows, w)

    def outer(self, rows: int, w: int) -> torch.Tensor:
        return self._outer[: rows * w].view(rows, w)

    def x(self, w: int) -> torch.Tensor:
        return self._x[: 2 * self.C * w].view(2 * self.C, w)

    def taps(self, w: int) -> torch.Tensor:
        return self._taps[: 3 * self.C * w].view(3 * self.C, w)

    def taps_q(self, w: int) -> torch.Tensor:
        return self._taps_q[: 3 * self.C * w].view(3 * self.C, w)

    def acts_q(self, block: int, w: int) -> torch.Tensor:
        return self._acts_q[block, : self.C * w].view(self.C, w)

    def acts_scale(self, block: int, w: int) -> torch.Tensor:
        return self._acts_scale[block, :w].view(1, w)

    def quantize(self, x: torch.Tensor, q_out: torch.Tensor, scale_out: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """`quantize_columns(x)` into q_out (int8, x's shape) and scale_out ([1, w]; default: a
        scratch row), with the workspace's scratch buffer."""
        rows, w = x.shape
        scale = self._scale[:w].view(1, w) if scale_out is None else scale_out
        return quantize_columns(x, q_out, scale, self._scratch[: rows * w].view(rows, w))

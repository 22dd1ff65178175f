"""WaveRNN's sampling machinery: the 16-bit dual-softmax byte representation, folded batches
(segments generated in parallel and crossfaded back), the subscale ordering, block pruning's
schedule, and the per-sample generation loops (TorchScript-compatible, batch-major).

Pure functions on tensors: `vocoder.wavernn.model` builds the weights they take."""
from __future__ import annotations

import contextlib
import functools
import math
import warnings
from typing import List, NamedTuple

import torch

N_CLASSES = 256  # 8 bits per softmax
SILENCE_COARSE = 128  # coarse byte of the 16-bit sample 0 (offset binary 32768 = 128 * 256 + 0)


# ----------------------------------------------------------------------------------------------
# 16-bit dual-softmax representation


def split_16bit(audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Float audio in [-1, 1] -> (coarse, fine) long tensors in [0, 255]: the high and low bytes of
    the offset-binary 16-bit sample round(x * 32768) + 32768."""
    s = torch.round(audio.clamp(-1.0, 1.0) * 32768.0).clamp(-32768, 32767).long() + 32768
    return torch.div(s, 256, rounding_mode="floor"), s % 256


def combine_16bit(coarse: torch.Tensor, fine: torch.Tensor) -> torch.Tensor:
    """Inverse of `split_16bit`: float32 audio in [-1, 1)."""
    return (coarse * 256 + fine - 32768).float() / 32768.0


def scale_byte(v: torch.Tensor) -> torch.Tensor:
    """A byte value 0..255 as the network's [-1, 1] input."""
    return v.float() / 127.5 - 1.0


# ----------------------------------------------------------------------------------------------
# Sparse WaveRNN: Zhu & Gupta gradual block pruning


def prune_schedule(step: int, target: float, start: int, steps: int) -> float:
    """Sparsity at `step`: s_f (1 - (1 - (t - t0) / S)^3), 0 before t0, s_f after t0 + S."""
    if step < start or target <= 0:
        return 0.0
    progress = min(1.0, (step - start) / steps)
    return target * (1.0 - (1.0 - progress) ** 3)


def block_prune_mask(weight: torch.Tensor, sparsity: float, block: tuple[int, int]) -> torch.Tensor:
    """0/1 mask of `weight` [out, in] zeroing the floor(sparsity * n_blocks) blocks of smallest mean |w|."""
    rows, cols = block
    out_dim, in_dim = weight.shape
    if out_dim % rows or in_dim % cols:
        raise ValueError(f"block {block} does not tile a {out_dim}x{in_dim} matrix")
    # [out/rows, rows, in/cols, cols] -> one magnitude per block
    magnitude = weight.detach().abs().reshape(out_dim // rows, rows, in_dim // cols, cols).mean(dim=(1, 3))
    n_pruned = int(math.floor(sparsity * magnitude.numel() + 1e-9))
    keep = torch.ones(magnitude.numel(), dtype=weight.dtype, device=weight.device)
    if n_pruned > 0:
        # stable sort: ties (e.g. already-pruned zero blocks) resolve the same way every time
        order = torch.sort(magnitude.flatten().float(), stable=True).indices
        keep[order[:n_pruned]] = 0
    keep = keep.reshape(magnitude.shape)
    return keep.repeat_interleave(rows, dim=0).repeat_interleave(cols, dim=1)


# ----------------------------------------------------------------------------------------------
# Folding a long sequence into overlapping segments, and crossfading them back


def fold_segments(x: torch.Tensor, target: int, overlap: int, extra: int = 0) -> torch.Tensor:
    """[B, N, ...] -> [B * n, target + 2 * overlap + extra, ...]: segment k starts at k * (target + overlap).

    n = ceil((N - overlap) / (target + overlap)) (at least 1). The end is padded by repeating the
    last step; `extra` steps of right context ride along with every segment (`unfold_segments`
    ignores them and drops the padding).
    """
    if target < 1 or overlap < 0 or extra < 0:
        raise ValueError(f"need target >= 1 and overlap, extra >= 0, got target={target}, overlap={overlap}, extra={extra}")
    batch, length = x.shape[:2]
    stride = target + overlap
    n = max(1, math.ceil((length - overlap) / stride))
    total = n * stride + overlap + extra
    if total > length:
        pad = x[:, -1:].expand(batch, total - length, *x.shape[2:])
        x = torch.cat([x, pad], dim=1)
    size = target + 2 * overlap + extra
    segments = [x[:, k * stride : k * stride + size] for k in range(n)]
    return torch.stack(segments, dim=1).reshape(batch * n, size, *x.shape[2:])


def crossfade_windows(overlap: int, dtype=torch.float32, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(fade_in, fade_out) over one overlap: fade_in is 0 for the later segment's warm-up half, then a
    raised cosine; fade_out = 1 - fade_in, so the two always sum to one."""
    warmup = overlap // 2
    ramp = overlap - warmup
    position = torch.arange(1, ramp + 1, dtype=torch.float64, device=device) / (ramp + 1)
    rise = 0.5 - 0.5 * torch.cos(math.pi * position)
    fade_in = torch.cat([torch.zeros(warmup, dtype=torch.float64, device=device), rise])
    return fade_in.to(dtype), (1.0 - fade_in).to(dtype)


def unfold_segments(y: torch.Tensor, batch: int, overlap: int, length: int) -> torch.Tensor:
    """Inverse of `fold_segments` for [B * n, target + 2 * overlap] -> [B, length], crossfading overlaps."""
    n = y.shape[0] // batch
    seg_len = y.shape[1]
    target = seg_len - 2 * overlap
    stride = target + overlap
    y = y.reshape(batch, n, seg_len)
    fade_in, fade_out = crossfade_windows(overlap, y.dtype, y.device)
    out = y.new_zeros(batch, n * stride + overlap)
    for k in range(n):
        seg = y[:, k]
        if overlap:
            seg = seg.clone()
            if k > 0:
                seg[:, :overlap] *= fade_in
            if k < n - 1:
                seg[:, -overlap:] *= fade_out
        out[:, k * stride : k * stride + seg_len] += seg
    if length > out.shape[1]:
        raise ValueError(f"cannot unfold to {length} samples from {n} segments of {seg_len}")
    return out[:, :length]


# ----------------------------------------------------------------------------------------------
# Subscale ordering


def subscale_split(x: torch.Tensor, factor: int) -> torch.Tensor:
    """[B, N, ...] -> [B, S, N / S, ...] with sub-tensor b = samples b, b + S, b + 2S, ..."""
    batch, length = x.shape[:2]
    if length % factor:
        raise ValueError(f"length {length} is not a multiple of the subscale factor {factor}")
    return x.reshape(batch, length // factor, factor, *x.shape[2:]).transpose(1, 2)


def subscale_merge(x: torch.Tensor) -> torch.Tensor:
    """Inverse of `subscale_split`: [B, S, L, ...] -> [B, S * L, ...]."""
    batch, factor, length = x.shape[:3]
    return x.transpose(1, 2).reshape(batch, factor * length, *x.shape[3:])


def subscale_schedule(factor: int, length: int, stagger: int) -> torch.Tensor:
    """Generation step of every sample of a [S, L] subscale layout: step(b, i) = i + b * stagger.

    Sample (b, i) may use (b, < i) and (b' < b, <= i + F - 1); with stagger >= F all of them come
    from earlier steps, so the S sub-tensors advance in lockstep for L + (S - 1) * stagger steps.
    """
    return torch.arange(length)[None, :] + stagger * torch.arange(factor)[:, None]


# ----------------------------------------------------------------------------------------------
# Generation loops (TorchScript-compatible). Batch-major [rows, features] tensors throughout: MKL's
# GEMM with a 2-16 column right-hand side was up to 10x slower than the same product batch-major.


def sample_byte(logits: torch.Tensor, uniform: torch.Tensor, inv_temperature: float) -> torch.Tensor:
    """Inverse-CDF sample per row of logits [rows, 256] with uniforms [rows] -> long [rows] in 0..255
    (comparing with the first 255 CDF values only: rounding can leave cdf[255] a little below 1)."""
    if inv_temperature != 1.0:
        logits = logits * inv_temperature
    cdf = torch.softmax(logits, dim=1).cumsum(dim=1)
    return (cdf[:, :255] < uniform.unsqueeze(1)).sum(dim=1)


def _recurrent(h: torch.Tensor, r: torch.Tensor, b_hh: torch.Tensor, sparse: bool) -> torch.Tensor:
    """R h_{t-1} + b for both halves at once: [rows, 3H]. Dense r is R^T [H, 3H]; sparse r is R (CSR)."""
    if sparse:
        return torch.addmm(b_hh.unsqueeze(1), r, h.t()).t()
    return torch.addmm(b_hh, h, r)


def _gru_half(gx: torch.Tensor, gh: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """One half of the cell: gx, gh [rows, 3 * half] as [r, u, e]; h [rows, half] -> new h."""
    half = h.shape[1]
    ru = torch.sigmoid(gx[:, : 2 * half] + gh[:, : 2 * half])
    e = torch.tanh(torch.addcmul(gx[:, 2 * half :], ru[:, :half], gh[:, 2 * half :]))
    return torch.lerp(e, h, ru[:, half:])  # u h + (1 - u) e


def sample_plain(
    proj: torch.Tensor,  # [rows, frames + 1, 3H]: conditioning through the input matrix (+ bias), per frame
    hop: int,
    table_c: torch.Tensor,  # [256, 3H]: input contribution of c_{t-1} = byte v
    table_f: torch.Tensor,  # [256, 3H]: of f_{t-1}
    table_cc: torch.Tensor,  # [256, 3H/2]: of c_t (fine half only)
    r: torch.Tensor,  # R^T [H, 3H] dense, or R [3H, H] sparse CSR
    b_hh: torch.Tensor,  # [3H]
    o1_t: torch.Tensor, b1: torch.Tensor, o2_t: torch.Tensor, b2: torch.Tensor,
    o3_t: torch.Tensor, b3: torch.Tensor, o4_t: torch.Tensor, b4: torch.Tensor,
    noise: torch.Tensor,  # [L, rows, 2]
    inv_temperature: float,
    sparse: bool,
) -> torch.Tensor:
    rows = proj.shape[0]
    length = (proj.shape[1] - 1) * hop
    half = table_cc.shape[1] // 3
    device = proj.device
    h = torch.zeros(rows, 2 * half, dtype=proj.dtype, device=device)
    c_prev = torch.full((rows,), SILENCE_COARSE, dtype=torch.long, device=device)  # start from digital silence
    f_prev = torch.zeros(rows, dtype=torch.long, device=device)
    coarse_out: List[torch.Tensor] = []
    fine_out: List[torch.Tensor] = []
    base = proj[:, 0]
    delta = proj[:, 1] - base
    for t in range(length):
        k = t % hop
        if k == 0:  # linear interpolation between this frame's projection and the next one's
            base = proj[:, t // hop]
            delta = proj[:, t // hop + 1] - base
        gh = _recurrent(h, r, b_hh, sparse)
        gx = torch.add(base, delta, alpha=k / hop) + table_c.index_select(0, c_prev) + table_f.index_select(0, f_prev)
        # coarse half: columns [r_c, u_c, e_c] = 0 .. 3H/2, sees c_{t-1}, f_{t-1}
        h_coarse = _gru_half(gx[:, : 3 * half], gh[:, : 3 * half], h[:, :half])
        a = torch.relu(torch.addmm(b1, h_coarse, o1_t))
        coarse = sample_byte(torch.addmm(b2, a, o2_t), noise[t, :, 0], inv_temperature)
        # fine half: columns 3H/2 .. 3H, also sees c_t
        gx_fine = gx[:, 3 * half :] + table_cc.index_select(0, coarse)
        h_fine = _gru_half(gx_fine, gh[:, 3 * half :], h[:, half:])
        a = torch.relu(torch.addmm(b3, h_fine, o3_t))
        fine = sample_byte(torch.addmm(b4, a, o4_t), noise[t, :, 1], inv_temperature)
        h = torch.cat([h_coarse, h_fine], dim=1)
        c_prev, f_prev = coarse, fine
        coarse_out.append(coarse)
        fine_out.append(fine)
    return torch.stack([torch.stack(coarse_out), torch.stack(fine_out)], dim=2)  # [L, rows, 2]


def sample_subscale(
    proj: torch.Tensor,  # [R, frames + 1, 3H] per segment, as in sample_plain
    hop: int,
    factor: int,
    table_c: torch.Tensor, table_f: torch.Tensor, table_cc: torch.Tensor,
    i_ctx_t: torch.Tensor,  # [C, 3H]
    ctx_weight_t: torch.Tensor,  # [S * (P + F), C]
    ctx_bias: torch.Tensor,  # [R * S, C] (the row bias of each sub-tensor, tiled over segments)
    r: torch.Tensor, b_hh: torch.Tensor,
    o1_t: torch.Tensor, b1: torch.Tensor, o2_t: torch.Tensor, b2: torch.Tensor,
    o3_t: torch.Tensor, b3: torch.Tensor, o4_t: torch.Tensor, b4: torch.Tensor,
    noise: torch.Tensor,  # [R * S * L, 2]
    inv_temperature: float,
    sparse: bool,
    stagger: int,
    past: int,
    horizon: int,
) -> torch.Tensor:
    segs = proj.shape[0]
    frames = proj.shape[1]
    length = (frames - 1) * hop // factor  # samples per sub-tensor
    rows = segs * factor
    half = table_cc.shape[1] // 3
    width = past + horizon
    device = proj.device
    dtype = proj.dtype
    h = torch.zeros(rows, 2 * half, dtype=dtype, device=device)
    c_prev = torch.full((rows,), SILENCE_COARSE, dtype=torch.long, device=device)
    f_prev = torch.zeros(rows, dtype=torch.long, device=device)
    # generated samples in [-1, 1] with `past` zeros before and `horizon` zeros after each sub-tensor
    values = torch.zeros(rows, past + length + horizon, dtype=dtype, device=device)
    out = torch.zeros(rows * length, 2, dtype=torch.long, device=device)
    start = torch.arange(factor, device=device) * stagger  # [S]
    offsets = torch.arange(width, device=device)
    lower = torch.tril(torch.ones(factor, factor, dtype=dtype, device=device), diagonal=-1)  # b' < b
    row_base = torch.arange(rows, device=device) * length
    value_base = torch.arange(rows, device=device) * (past + length + horizon) + past
    steps = length + (factor - 1) * stagger
    flat_proj = proj.reshape(segs * frames, -1)
    frame_base = (torch.arange(segs, device=device) * frames).repeat_interleave(factor)  # [rows]
    phase = torch.arange(factor, device=device).repeat(segs)  # b of every row
    for t in range(steps):
        position = t - start  # [S]
        active = ((position >= 0) & (position < length)).repeat(segs)  # [rows]
        position = position.clamp(0, length - 1)
        pos_rows = position.repeat(segs)
        # context window of every sub-tensor b over the rows b' < b: [R, S(b), S(b'), W]
        columns = (position[:, None] + offsets[None, :]).flatten()
        window = values.view(segs, factor, -1).index_select(2, columns).view(segs, factor, factor, width)
        window = window.transpose(1, 2) * lower[None, :, :, None]
        ctx = torch.relu(torch.addmm(ctx_bias, window.reshape(rows, factor * width), ctx_weight_t))
        # conditioning at each row's own sample n = i S + b, interpolated between frames
        n = pos_rows * factor + phase
        frame = frame_base + torch.div(n, hop, rounding_mode="floor")
        alpha = ((n % hop).to(dtype) / hop).unsqueeze(1)
        cond = torch.lerp(flat_proj.index_select(0, frame), flat_proj.index_select(0, frame + 1), alpha)
        gh = _recurrent(h, r, b_hh, sparse)
        gx = cond + table_c.index_select(0, c_prev) + table_f.index_select(0, f_prev)
        gx = torch.addmm(gx, ctx, i_ctx_t)
        h_coarse = _gru_half(gx[:, : 3 * half], gh[:, : 3 * half], h[:, :half])
        a = torch.relu(torch.addmm(b1, h_coarse, o1_t))
        flat = row_base + pos_rows
        uniform = noise.index_select(0, flat)  # [rows, 2]
        coarse = sample_byte(torch.addmm(b2, a, o2_t), uniform[:, 0], inv_temperature)
        gx_fine = gx[:, 3 * half :] + table_cc.index_select(0, coarse)
        h_fine = _gru_half(gx_fine, gh[:, 3 * half :], h[:, half:])
        a = torch.relu(torch.addmm(b3, h_fine, o3_t))
        fine = sample_byte(torch.addmm(b4, a, o4_t), uniform[:, 1], inv_temperature)
        # only the active sub-tensors advance
        h = torch.where(active[:, None], torch.cat([h_coarse, h_fine], dim=1), h)
        c_prev = torch.where(active, coarse, c_prev)
        f_prev = torch.where(active, fine, f_prev)
        live = active.nonzero().squeeze(1)
        out.index_copy_(0, flat.index_select(0, live), torch.stack([coarse, fine], dim=1).index_select(0, live))
        sample = (coarse * 256 + fine - 32768).to(dtype) / 32768.0
        values.view(-1).index_copy_(0, (value_base + pos_rows).index_select(0, live), sample.index_select(0, live))
    return out.view(segs, factor, length, 2)


@functools.lru_cache(maxsize=None)
def compiled_loop(name: str):
    """The TorchScript version of a generation loop (compiled once per process), or None if
    TorchScript is unavailable, in which case the eager function runs."""
    fn = {"plain": sample_plain, "subscale": sample_subscale}[name]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.jit.script(fn)
    except Exception:  # pragma: no cover - depends on the torch build
        return None


class StepWeights(NamedTuple):
    """Effective weights for the batch-major loops (transposed so every product is x @ W; the
    byte inputs as 256-row tables of their input-matrix contributions)."""

    i_cond_t: torch.Tensor
    b_ih: torch.Tensor
    table_c: torch.Tensor
    table_f: torch.Tensor
    table_cc: torch.Tensor
    i_ctx_t: torch.Tensor
    r: torch.Tensor  # R^T dense, or R as a CSR matrix
    b_hh: torch.Tensor
    o1_t: torch.Tensor
    b1: torch.Tensor
    o2_t: torch.Tensor
    b2: torch.Tensor
    o3_t: torch.Tensor
    b3: torch.Tensor
    o4_t: torch.Tensor
    b4: torch.Tensor


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """Run a block with `threads` intra-op threads, restoring the previous count after."""
    previous = torch.get_num_threads()
    if threads is None or threads == previous:
        yield
        return
    if threads < 1:
        raise ValueError(f"threads must be >= 1 or None, got {threads}")
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

"""WaveGlow's WN rearranged for fast inference on the CPU: the same function as `WN.forward`, with
every convolution as in-place matrix products and the linear tail folded (see `PackedWN`)."""
from __future__ import annotations

import torch

from vocoder.waveglow.layers import tanh_
from vocoder.waveglow.model import WN

# Winograd F(4, 3) (Lavin & Gray 2016, points 0, +-1, +-2, inf): 4 outputs of a 3-tap correlation
# from 6 products instead of 12, i.e. y = AT [(G g) * (BT x)] per tile of 6 inputs.
_WINOGRAD_BT = ((4, 0, -5, 0, 1, 0), (0, -4, -4, 1, 1, 0), (0, 4, -4, -1, 1, 0),
                (0, -2, -1, 2, 1, 0), (0, 2, -1, -2, 1, 0), (0, 4, 0, -5, 0, 1))
_WINOGRAD_G = ((1 / 4, 0, 0), (-1 / 6, -1 / 6, -1 / 6), (-1 / 6, 1 / 6, -1 / 6),
               (1 / 24, 1 / 12, 1 / 6), (1 / 24, -1 / 12, 1 / 6), (0, 0, 1))
_WINOGRAD_AT = ((1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0), (0, 1, -1, 8, -8, 1))


class PackedWN:
    """A prepared (weight-norm folded) WN rearranged for inference; the same function as `WN.forward`.

    * every convolution is a matrix product on [channels, time] (one GEMM per kernel tap, written in
      place into the conditioning rows: the `x + cond` add is fused into the GEMM);
    * the skip halves of `res_skip_layers` and the `end` conv are linear and consecutive, so they are
      folded into one small [2 n_in, C] matrix per layer (the skip sum never exists);
    * layer 0 reads `start(audio)`, so `start` is folded into its taps (n_in instead of C inputs),
      its bias going to the conditioning bias with a correction at the zero-padded edges.
    * in float32/float64, the dilated kernel-3 convs of layers 1.. use Winograd F(4, 3): half the
      multiplications (relative error ~1e-6 instead of ~2e-7); this keeps 6 transformed [2C, C]
      matrices per layer (+264 MB for WN-256), so `winograd=False` trades speed for memory. Not
      used in bfloat16/float16, where the transforms cost more than they save and lose precision.
    Weights are views of the WN's parameters where possible; only folded tensors are new.
    """

    def __init__(self, wn: WN, winograd: bool = True):
        C, L = wn.n_channels, wn.n_layers
        dtype = wn.cond_layer.weight.dtype
        f32 = lambda t: t.detach().float()  # noqa: E731 - folding products are computed in float32
        self.C, self.L = C, L
        self.kernel = wn.in_layers[0].kernel_size[0]
        self.dilations = [layer.dilation[0] for layer in wn.in_layers]
        self.cond_w = wn.cond_layer.weight.detach()[:, :, 0]  # [2CL, n_cond]
        self.taps = [layer.weight.detach().permute(0, 2, 1) for layer in wn.in_layers]  # [2C, K, C]
        start_w, start_b = f32(wn.start.weight[:, :, 0]), f32(wn.start.bias)
        self.start_w, self.start_b = wn.start.weight.detach()[:, :, 0], wn.start.bias.detach()
        W0 = f32(wn.in_layers[0].weight)  # [2C, C, K]
        self.first_taps = [(W0[:, :, k] @ start_w).to(dtype) for k in range(self.kernel)]  # [2C, n_in]
        self.first_edge = [(W0[:, :, k] @ start_b).to(dtype)[:, None] for k in range(self.kernel)]
        cond_b = f32(wn.cond_layer.bias) + torch.cat([f32(layer.bias) for layer in wn.in_layers])
        cond_b[: 2 * C] += W0.sum(2) @ start_b
        self.cond_b = cond_b.to(dtype)[:, None]
        self.res_w = [rs.weight.detach()[:C, :, 0] for rs in wn.res_skip_layers[:-1]]
        self.res_b = [rs.bias.detach()[:C, None] for rs in wn.res_skip_layers[:-1]]
        end_w = f32(wn.end.weight[:, :, 0])  # [2 n_in, C]
        skips = [rs.weight[C:] if i < L - 1 else rs.weight for i, rs in enumerate(wn.res_skip_layers)]
        self.skip_w = [(end_w @ f32(w[:, :, 0])).to(dtype) for w in skips]
        skip_b = sum(f32(rs.bias[C:] if i < L - 1 else rs.bias) for i, rs in enumerate(wn.res_skip_layers))
        self.out_b = (end_w @ skip_b + f32(wn.end.bias)).to(dtype)[:, None]
        self.winograd = None
        if winograd and self.kernel == 3 and dtype in (torch.float32, torch.float64):
            G = torch.tensor(_WINOGRAD_G, dtype=torch.float64, device=self.cond_w.device)
            self.winograd = [None] + [  # [6, 2C, C] per layer: G applied along the kernel axis
                torch.einsum("ak,okc->aoc", G, taps.double()).to(dtype).contiguous() for taps in self.taps[1:]
            ]
            self.wino_bt = torch.tensor(_WINOGRAD_BT, dtype=dtype, device=self.cond_w.device)
            self.wino_at = torch.tensor(_WINOGRAD_AT, dtype=dtype, device=self.cond_w.device)

    @staticmethod
    def prepare_conditioning(spect: torch.Tensor) -> tuple[torch.Tensor]:
        """The upsampled mel [n_cond, T] -> this WN's conditioning arguments (the mel itself; the int8
        WN quantizes it here), computed once for all flows."""
        return (spect,)

    def _conv_into(self, x: torch.Tensor, taps, src: torch.Tensor, dilation: int, start: int = 0) -> None:
        """x[:, t] += sum_k taps[k] @ src[:, t + (k - K // 2) * dilation] for t >= start, zero padding, in place."""
        T = src.shape[1]
        for k in range(self.kernel):
            offset = (k - self.kernel // 2) * dilation
            lo, hi = max(start, -offset), min(T, T - offset)  # output columns whose source is inside
            if hi > lo:
                x[:, lo:hi].addmm_(taps[k], src[:, lo + offset : hi + offset])

    def _winograd_into(self, x: torch.Tensor, U: torch.Tensor, taps, src: torch.Tensor, d: int) -> None:
        """The same as `_conv_into` for kernel 3: whole blocks of 4 * d columns by Winograd, the rest directly."""
        C, T = src.shape
        n_blocks = T // (4 * d)
        if n_blocks:
            N = n_blocks * d
            # padded[u] = src[u - d]; tile (block b, lane r) reads padded[4 d b + r + j d], j = 0..5
            padded = src.new_zeros(C, 4 * d * n_blocks + 2 * d)
            keep = min(T, padded.shape[1] - d)
            padded[:, d : d + keep] = src[:, :keep]
            tiles = padded.as_strided((C, n_blocks, 6, d), (padded.shape[1], 4 * d, d, 1))
            V = (self.wino_bt @ tiles.permute(2, 0, 1, 3).reshape(6, C * N)).view(6, C, N)
            M = torch.bmm(U, V)  # [6, 2C, N]
            Y = (self.wino_at @ M.view(6, -1)).view(4, -1, n_blocks, d)  # [4 outputs, 2C, blocks, lanes]
            x[:, : 4 * d * n_blocks].unflatten(1, (n_blocks, 4, d)).add_(Y.permute(1, 2, 0, 3))
        self._conv_into(x, taps, src, d, start=4 * d * n_blocks)

    def __call__(self, audio: torch.Tensor, spect: torch.Tensor) -> torch.Tensor:
        """audio [n_in, T], spect [n_cond, T] -> [2 n_in, T] (one batch item)."""
        C, T = self.C, audio.shape[1]
        cond = torch.addmm(self.cond_b, self.cond_w, spect)  # [2CL, T]; becomes each layer's pre-activation
        h = torch.addmm(self.start_b[:, None], self.start_w, audio)
        out = self.out_b.expand(-1, T).clone()
        for i in range(self.L):
            x = cond[2 * C * i : 2 * C * (i + 1)]
            d = self.dilations[i]
            if i == 0:
                self._conv_into(x, self.first_taps, audio, d)
                for k in range(self.kernel):  # taps that fall into the zero padding never saw start's bias
                    offset = (k - self.kernel // 2) * d
                    if offset < 0:
                        x[:, : min(-offset, T)] -= self.first_edge[k]
                    elif offset > 0:
                        x[:, max(T - offset, 0) :] -= self.first_edge[k]
            else:
                taps = [self.taps[i][:, k] for k in range(self.kernel)]
                if self.winograd is not None:
                    self._winograd_into(x, self.winograd[i], taps, h, d)
                else:
                    self._conv_into(x, taps, h, d)
            acts, gate = x[:C], x[C:]
            tanh_(acts).mul_(gate.sigmoid_())
            if i < self.L - 1:
                h.addmm_(self.res_w[i], acts).add_(self.res_b[i])
            out.addmm_(self.skip_w[i], acts)
        return out

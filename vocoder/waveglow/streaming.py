"""WaveGlow on a mel that arrives block by block (as Tacotron 2 decodes it): audio out as it is final.

    stream = WaveGlowStream(model, sigma=0.6, seed=0, chunk_frames=64, overlap_frames=16)
    for block in mel_blocks:                 # [n_mel, n] or [B, n_mel, n] each, any n >= 0
        play(stream.push(block))             # [B, samples] float32, possibly 0 samples
    play(stream.finish())                    # the rest; the concatenation is [B, T * 256]

The audio is exactly what `synthesize(whole_mel, chunk_frames=chunk_frames, overlap_frames=...)` makes
from the same noise (`WaveGlow._infer_chunked`: chunks [a, b) at multiples of `chunk_frames`, each
synthesised from mel[a - o, b + o) and crossfaded over `overlap_frames` centred on each boundary; with
`first_chunk_frames` the first chunk has its own size, e.g. small for an early first sound, and the
later boundaries shift with it), and
that is within float rounding of whole-utterance synthesis once the overlap covers the flows'
receptive field (random WaveGlow-256, sigma 0.6: SNR 128 dB at o = 16, 83 dB at o = 8: bench/README.md;
tests/test_speed_streaming.py checks >= 60 dB at o = 16 against whole-utterance `synthesize`).
A chunk is synthesised once the mel reaches b + o frames, so audio lags the mel by about
chunk_frames + overlap_frames + overlap_frames / 2 frames.

Noise: `synthesize` draws one noise tensor for the whole utterance, whose length a stream does not know,
so a stream draws it per 16-frame tile of the utterance from `seed` (`positional_noise`), the same for
any block sizes. At sigma = 0 the noise does not matter and the output equals `synthesize`'s; at
sigma > 0 it equals `model._infer(mel, positional_noise(model, seed, 0, T), sigma)` (a different draw
from `synthesize(seed=...)`'s, with the same distribution).
"""
from __future__ import annotations

import torch

from tts.core.defaults import DEFAULT_SIGMA
from vocoder.waveglow.model import UPSAMPLE_STRIDE, WaveGlow, _raised_cosine

#: frames per noise tile: noise for frames [16 i, 16 i + 16) comes from a generator seeded with (seed, i)
NOISE_TILE_FRAMES = 16


def positional_noise(model: WaveGlow, seed: int, start: int, stop: int, batch: int = 1) -> list[torch.Tensor]:
    """The noise of frames [start, stop) in `draw_noise`'s layout (z first, then each early output's),
    drawn per tile of `NOISE_TILE_FRAMES` frames from a generator seeded with seed and the tile index,
    so any range of frames gets the same values whatever blocks it is asked for in."""
    cfg = model.config
    steps = UPSAMPLE_STRIDE // cfg.n_group  # noise time steps per frame
    sizes = [cfg.n_remaining_channels] + [cfg.n_early_size for k in reversed(range(cfg.n_flows)) if cfg.is_early_output(k)]
    first, last = start // NOISE_TILE_FRAMES, (max(stop, start + 1) - 1) // NOISE_TILE_FRAMES
    tiles = []
    for tile in range(first, last + 1):
        g = torch.Generator().manual_seed((int(seed) * 1_000_003 + tile) % (2 ** 63))
        tiles.append(torch.randn(batch, sum(sizes), NOISE_TILE_FRAMES * steps, generator=g))
    noise = torch.cat(tiles, 2)[:, :, (start - first * NOISE_TILE_FRAMES) * steps: (stop - first * NOISE_TILE_FRAMES) * steps]
    return list(noise.to(model.device).split(sizes, 1))


class WaveGlowStream:
    """Incremental `synthesize` of one batch of utterances (see the module docstring)."""

    def __init__(self, model: WaveGlow, *, sigma: float = DEFAULT_SIGMA, seed: int = 0, chunk_frames: int = 64,
                 overlap_frames: int = 16, first_chunk_frames: int | None = None):
        first = chunk_frames if first_chunk_frames is None else first_chunk_frames
        if chunk_frames <= 0 or first <= 0 or not 0 <= overlap_frames <= min(chunk_frames, first):
            raise ValueError(f"need chunk sizes > 0 and 0 <= overlap_frames <= each chunk size, got chunk_frames="
                             f"{chunk_frames}, first_chunk_frames={first}, overlap_frames={overlap_frames}")
        if sigma < 0:
            raise ValueError(f"sigma must be >= 0, got {sigma}")
        self.model, self.sigma, self.seed = model, float(sigma), int(seed)
        self.chunk, self.first, self.overlap, self.half = chunk_frames, first, overlap_frames, overlap_frames // 2
        self.mel: torch.Tensor | None = None  # [B, n_mel, frames received]
        self.next_chunk = 0  # first frame of the next chunk to synthesise
        self.emitted = 0  # audio frames already returned
        self.out: torch.Tensor | None = None  # [B, frames * hop] accumulated (crossfade zones included)
        self.finished = False

    def _size(self, start: int) -> int:
        """Frames of the chunk that starts at frame `start`."""
        return self.first if start == 0 else self.chunk

    def push(self, mel: torch.Tensor) -> torch.Tensor:
        """Add mel frames ([n_mel, n] or [B, n_mel, n]); returns the audio that became final [B, samples]."""
        if self.finished:
            raise RuntimeError("push after finish")
        mel = mel[None] if mel.dim() == 2 else mel
        if mel.dim() != 3 or mel.shape[1] != self.model.config.n_mel_channels:
            raise ValueError(f"expected a mel [n_mel, n] or [B, n_mel, n], got {tuple(mel.shape)}")
        mel = mel.detach().to(self.model.device, torch.float32)
        self.mel = mel if self.mel is None else torch.cat((self.mel, mel), 2)
        while self.next_chunk + self._size(self.next_chunk) + self.overlap <= self.mel.shape[2]:
            self._chunk(self.next_chunk, self.next_chunk + self._size(self.next_chunk), total=None)
        return self._emit(self.next_chunk - self.half if self.next_chunk else 0)

    def finish(self) -> torch.Tensor:
        """The rest of the audio, up to the last mel frame: [B, samples]."""
        if self.finished:
            raise RuntimeError("finish called twice")
        self.finished = True
        if self.mel is None:
            return torch.zeros(1, 0)
        T = self.mel.shape[2]
        starts, a = [], self.next_chunk
        while a < T:
            starts.append(a)
            a += self._size(a)
        if len(starts) > 1 and T - starts[-1] < max(self.overlap, 1):
            starts.pop()  # a too short last chunk joins the previous one (as `_infer_chunked`)
        for a, b in zip(starts, starts[1:] + [T]):
            self._chunk(a, b, total=T)
        return self._emit(T)

    def _chunk(self, a: int, b: int, total: int | None) -> None:
        """Synthesise chunk [a, b) from mel[a - o, b + o) and add it, faded, into `out`."""
        mel, hop, o, half = self.mel, UPSAMPLE_STRIDE, self.overlap, self.half
        end = total if total is not None else mel.shape[2]
        lo, hi = max(0, a - o), min(end, b + o)
        noise = positional_noise(self.model, self.seed, lo, hi, mel.shape[0])
        with torch.inference_mode():
            audio = self.model._infer(mel[:, :, lo:hi].to(self.model.dtype), noise, self.sigma)
        own_lo, own_hi = max(0, a - half), (b + half if total is None or b < total else b)
        piece = audio[:, (own_lo - lo) * hop: (own_hi - lo) * hop]
        weight = torch.ones(piece.shape[1], device=piece.device)
        fade = 2 * half * hop
        if a > 0 and fade:
            weight[:fade] = _raised_cosine(fade, piece.device)
        if (total is None or b < total) and fade:
            weight[-fade:] *= _raised_cosine(fade, piece.device).flip(0)
        need = own_hi * hop
        if self.out is None:
            self.out = torch.zeros(piece.shape[0], need, device=piece.device)
        elif self.out.shape[1] < need:
            self.out = torch.cat((self.out, self.out.new_zeros(self.out.shape[0], need - self.out.shape[1])), 1)
        self.out[:, own_lo * hop: own_hi * hop] += piece * weight
        self.next_chunk = b

    def _emit(self, upto: int) -> torch.Tensor:
        """Audio frames [emitted, upto) out of the accumulator."""
        hop = UPSAMPLE_STRIDE
        if self.out is None or upto <= self.emitted:
            batch = 1 if self.mel is None else self.mel.shape[0]
            return torch.zeros(batch, 0)
        audio = self.out[:, self.emitted * hop: upto * hop].clone()
        self.emitted = upto
        return audio

"""Heatmap images of attention alignments and mel spectrograms, with numpy and Pillow only.

Used by the trainers (an alignment image per checkpoint) and by the web app. No matplotlib:
values are scaled to [0, 1], mapped through a small piecewise-linear colormap (close to
viridis), and the array becomes an RGB `PIL.Image` with low frequencies / first symbols at the
bottom, as in the usual plots.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

# viridis sampled at 0, 0.25, 0.5, 0.75, 1 (RGB 0-255); interpolated linearly in between
_VIRIDIS = np.array(
    [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float32
)


def colorize(values: np.ndarray, vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """2-D array -> uint8 RGB [H, W, 3] through the colormap; NaNs become the lowest colour."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {values.shape}")
    finite = values[np.isfinite(values)]
    if vmin is None:
        vmin = float(finite.min()) if finite.size else 0.0
    if vmax is None:
        vmax = float(finite.max()) if finite.size else 1.0
    lo, hi = vmin, vmax
    scaled = np.nan_to_num((values - lo) / (hi - lo) if hi > lo else np.zeros_like(values), nan=0.0)
    pos = np.clip(scaled, 0.0, 1.0) * (len(_VIRIDIS) - 1)
    idx = np.minimum(pos.astype(np.int64), len(_VIRIDIS) - 2)
    frac = (pos - idx)[..., None]
    rgb = _VIRIDIS[idx] * (1 - frac) + _VIRIDIS[idx + 1] * frac
    return rgb.round().astype(np.uint8)


def _to_numpy(x) -> np.ndarray:
    if torch.is_tensor(x):
        x = x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def _matrix(x, expected: str) -> np.ndarray:
    """A 2-D numpy array from a tensor or array, a batch of one unwrapped; ValueError otherwise."""
    m = _to_numpy(x)
    if m.ndim == 3 and m.shape[0] == 1:
        m = m[0]
    if m.ndim != 2:
        raise ValueError(f"{expected}, got shape {m.shape}")
    return m


def _image(rgb: np.ndarray, scale: tuple[int, int]) -> Image.Image:
    image = Image.fromarray(np.ascontiguousarray(rgb[::-1]), mode="RGB")  # row 0 at the bottom
    sx, sy = scale
    if (sx, sy) != (1, 1):
        image = image.resize((image.width * sx, image.height * sy), Image.NEAREST)
    return image


def _upscale(length: int, target: int) -> int:
    return max(1, min(8, round(target / max(length, 1))))


def plot_alignment(alignment, *, min_size: int = 256) -> Image.Image:
    """Attention weights [T_dec, T_in] -> image with decoder steps left to right, text bottom to top.

    A good alignment is a bright line from bottom-left to top-right. Values are shown on a fixed
    [0, 1] scale so images from different steps compare directly.
    """
    a = _matrix(alignment, "alignment must be [T_dec, T_in]")
    t_dec, t_in = a.shape
    return _image(colorize(a.T, 0.0, 1.0), (_upscale(t_dec, min_size), _upscale(t_in, min_size)))


def plot_mel(mel, *, vmin: float | None = None, vmax: float | None = None, min_size: int = 256) -> Image.Image:
    """Log-mel spectrogram [n_mels, T] -> image with time left to right, low mels at the bottom."""
    m = _matrix(mel, "mel must be [n_mels, T]")
    n_mels, t = m.shape
    return _image(colorize(m, vmin, vmax), (_upscale(t, min_size), _upscale(n_mels, min_size)))


def side_by_side(images: list[Image.Image], gap: int = 4) -> Image.Image:
    """Stack images vertically on a white background (e.g. target mel above predicted mel)."""
    width = max(im.width for im in images)
    height = sum(im.height for im in images) + gap * (len(images) - 1)
    out = Image.new("RGB", (width, height), (255, 255, 255))
    y = 0
    for im in images:
        out.paste(im, (0, y))
        y += im.height + gap
    return out

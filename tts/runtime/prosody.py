"""How a chunk is said, after Tacotron 2 has decided what it says: speaking rate (pace) by resampling
the mel's time axis, which keeps the pitch."""
from __future__ import annotations

import torch
from torch.nn import functional as F


def resample_time(mel: torch.Tensor, pace: float) -> torch.Tensor:
    """Change speaking rate without changing pitch: linear interpolation of mel [..., n_mels, T] along time."""
    if pace == 1.0:
        return mel
    frames = mel.shape[-1]
    target = max(1, int(round(frames / pace)))
    if frames == 1:
        return mel.expand(*mel.shape[:-1], target).contiguous()
    squeeze = mel.dim() == 2
    x = mel[None] if squeeze else mel
    y = F.interpolate(x.float(), size=target, mode="linear", align_corners=True).to(mel.dtype)
    return y[0] if squeeze else y

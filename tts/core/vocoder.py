"""The common vocoder interface.

Every vocoder turns a log-mel spectrogram [B, n_mels, T] (the definition in `tts.core.audio`) into
float32 audio [B, T * hop] clipped to [-1, 1]. A new vocoder subclasses `Vocoder` and gets one
`VocoderEntry` (`tts.core.registry`) in the registry (`vocoder.registry.VOCODERS`), and the pipeline,
CLI and web app list it without further changes.
"""
from __future__ import annotations


import torch
from torch import nn

from tts.core.audio import DEFAULT_AUDIO, AudioSettings


class Vocoder(nn.Module):
    """Base class: mel [B, n_mels, T] -> audio [B, T * hop_length], float32 in [-1, 1]."""

    #: registry name, e.g. "waveglow"
    name: str = "vocoder"
    #: True when the vocoder needs trained weights (Griffin-Lim does not)
    needs_weights: bool = True
    #: samples after which the vocoder's own error repeats (a flow run on groups of that many samples), so
    #: that its bias is tones at multiples of fs / period and `vocoder.Denoiser` subtracts only there; None:
    #: the denoiser subtracts the whole bias spectrum, as NVIDIA's does
    bias_tone_period: int | None = None

    def __init__(self, audio: AudioSettings = DEFAULT_AUDIO):
        super().__init__()
        self.audio = audio

    @property
    def sample_rate(self) -> int:
        return self.audio.sampling_rate

    def check_mel_settings(self, mel_settings: AudioSettings) -> None:
        """Refuse mels made with another definition than the one this vocoder was trained on."""
        mel_settings.check_compatible(self.audio, what=f"this mel predictor and the {self.name} vocoder")

    def synthesize(self, mel: torch.Tensor, **kwargs) -> torch.Tensor:
        """Vocoder-specific synthesis, unclipped. Subclasses implement this."""
        raise NotImplementedError

    def forward(self, mel: torch.Tensor, *, clip: bool = True, **kwargs) -> torch.Tensor:
        """mel [B, n_mels, T] (or [n_mels, T]) -> float32 audio [B, T * hop] clipped to [-1, 1].

        `clip=False` returns the vocoder's own output, for a denoiser: NVIDIA denoises the unclipped
        output of `infer` and only the written file is clipped.
        """
        if mel.dim() == 2:
            mel = mel[None]
        if mel.dim() != 3 or mel.shape[1] != self.audio.n_mel_channels:
            raise ValueError(
                f"{self.name}: expected a mel of shape [B, {self.audio.n_mel_channels}, T], got {tuple(mel.shape)}"
            )
        with torch.inference_mode():
            audio = self.synthesize(mel, **kwargs).float()
            # clip, never wrap around: NVIDIA's inference.py casts to int16 without clipping
            return audio.clamp(-1.0, 1.0) if clip else audio


def match_mel_to_audio(mel: torch.Tensor, audio: torch.Tensor, settings: AudioSettings) -> torch.Tensor:
    """Check a (mel, audio) training pair: mel [B, n_mels, T] with audio [B, T * hop].

    A mel of T + 1 frames (what `mel_spectrogram` gives for T * hop samples) has its last frame dropped."""
    if audio.dim() != 2 or mel.dim() != 3 or mel.shape[0] != audio.shape[0] or mel.shape[1] != settings.n_mel_channels:
        raise ValueError(
            f"expected mel [B, {settings.n_mel_channels}, T] and audio [B, T * {settings.hop_length}], "
            f"got {tuple(mel.shape)} and {tuple(audio.shape)}"
        )
    frames, hop = mel.shape[2], settings.hop_length
    if audio.shape[1] == frames * hop:
        return mel
    if audio.shape[1] == (frames - 1) * hop:
        return mel[..., :-1]
    raise ValueError(f"audio of {audio.shape[1]} samples does not match a mel of {frames} frames (hop {hop}): "
                     f"expected {frames * hop} samples")

"""Vocoders: mel spectrogram -> waveform, behind one interface (`vocoder.base.Vocoder`) and a registry by name."""
from vocoder.base import VOCODERS, Vocoder, register_vocoder
from vocoder.checkpoint import load_waveglow, save_waveglow
from vocoder.denoiser import Denoiser
from vocoder.griffin_lim import GriffinLim
from vocoder.waveglow import WaveGlow, WaveGlowConfig, WaveGlowLoss

register_vocoder(
    "waveglow",
    lambda path, **kw: load_waveglow(path, **kw),
    needs_weights=True,
    description="WaveGlow (Prenger et al. 2018): NVIDIA checkpoints of any layout or the project's format",
)
register_vocoder(
    "griffin-lim",
    lambda path=None, **kw: GriffinLim(**kw),
    needs_weights=False,
    description="Griffin-Lim phase reconstruction (no weights; low quality, always available)",
)

__all__ = [
    "VOCODERS",
    "Vocoder",
    "register_vocoder",
    "WaveGlow",
    "WaveGlowConfig",
    "WaveGlowLoss",
    "load_waveglow",
    "save_waveglow",
    "GriffinLim",
    "Denoiser",
]

"""Vocoders: mel spectrogram -> waveform, behind one interface (`vocoder.base.Vocoder`) and a registry by name."""
from vocoder.base import VOCODERS, Vocoder, register_vocoder
from vocoder.checkpoint import load_waveglow, save_waveglow
from vocoder.denoiser import Denoiser
from vocoder.griffin_lim import GriffinLim
from vocoder.flowavenet import FloWaveNet, FloWaveNetConfig, load_flowavenet, load_flowavenet_vocoder, save_flowavenet
from vocoder.waveglow import WaveGlow, WaveGlowConfig, WaveGlowLoss
from vocoder.waveglow_compact import CompactWaveGlow, CompactWaveGlowConfig
from vocoder.wavernn import WaveRNN, WaveRNNConfig, load_wavernn, load_wavernn_vocoder, save_wavernn

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
register_vocoder(
    "wavernn",
    load_wavernn_vocoder,
    needs_weights=True,
    description="WaveRNN (Kalchbrenner et al. 2018): 16-bit dual softmax, folded/subscale sampling, optional block sparsity",
)
register_vocoder(
    "flowavenet",
    load_flowavenet_vocoder,
    needs_weights=True,
    description="FloWaveNet (Kim et al. 2019): multi-scale flow, parallel sampling with temperature",
)

__all__ = [
    "VOCODERS",
    "Vocoder",
    "register_vocoder",
    "WaveGlow",
    "WaveGlowConfig",
    "WaveGlowLoss",
    "CompactWaveGlow",
    "CompactWaveGlowConfig",
    "load_waveglow",
    "save_waveglow",
    "GriffinLim",
    "Denoiser",
    "WaveRNN",
    "WaveRNNConfig",
    "load_wavernn",
    "save_wavernn",
    "FloWaveNet",
    "FloWaveNetConfig",
    "load_flowavenet",
    "save_flowavenet",
]

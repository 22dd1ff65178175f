"""Vocoders: mel spectrogram -> waveform, behind one interface (`tts.core.vocoder.Vocoder`) and one
registry by name (`vocoder.registry.VOCODERS`)."""
from tts.core.vocoder import Vocoder
from vocoder.denoiser import Denoiser
from vocoder.flowavenet import FloWaveNet, FloWaveNetConfig, load_flowavenet, load_flowavenet_vocoder, save_flowavenet
from vocoder.griffin_lim import GriffinLim
from vocoder.registry import VOCODERS
from vocoder.waveglow import (CompactWaveGlow, CompactWaveGlowConfig, WaveGlow, WaveGlowConfig, WaveGlowLoss,
                              load_waveglow, save_waveglow)
from vocoder.wavernn import WaveRNN, WaveRNNConfig, load_wavernn, load_wavernn_vocoder, save_wavernn

__all__ = [
    "VOCODERS",
    "Vocoder",
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
    "load_wavernn_vocoder",
    "save_wavernn",
    "FloWaveNet",
    "FloWaveNetConfig",
    "load_flowavenet",
    "load_flowavenet_vocoder",
    "save_flowavenet",
]

"""WaveGlow (Prenger, Valle, Catanzaro 2018) and its compact CPU variant.

`model` is the paper's network with NVIDIA's parameter names; `layers` the pieces both variants
share; `compact` the SqueezeWave-style variant, with `linear_prediction` and `excitation` its
source-filter layers (the mel's spectral envelope, the glottal pulses); `packed`, `int8` and `fast`
the CPU speed-ups; `checkpoint` reads every published layout and writes the project's format.
"""
from tts.core.defaults import DEFAULT_SIGMA
from vocoder.waveglow.checkpoint import load_waveglow, read_waveglow_checkpoint, save_waveglow
from vocoder.waveglow.compact import CompactWaveGlow, CompactWaveGlowConfig
from vocoder.waveglow.fast import accelerate, set_quantization
from vocoder.waveglow.model import WN, WaveGlow, WaveGlowConfig, WaveGlowLoss

__all__ = ["DEFAULT_SIGMA", "WN", "CompactWaveGlow", "CompactWaveGlowConfig", "WaveGlow", "WaveGlowConfig",
           "WaveGlowLoss", "accelerate", "load_waveglow", "read_waveglow_checkpoint", "save_waveglow", "set_quantization"]

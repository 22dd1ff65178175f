"""Vocoders: mel spectrogram -> waveform, behind one interface (`tts.core.vocoder.Vocoder`) and one
registry by name (`vocoder.registry.VOCODERS`).

The names below are imported on first use (`import vocoder.registry` to list or check vocoder names
costs no model import and no torch)."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, for type checkers and readers
    from tts.core.vocoder import Vocoder  # noqa: F401
    from vocoder.denoiser import Denoiser  # noqa: F401
    from vocoder.flowavenet import (FloWaveNet, FloWaveNetConfig, load_flowavenet,  # noqa: F401
                                    load_flowavenet_vocoder, save_flowavenet)
    from vocoder.griffin_lim import GriffinLim  # noqa: F401
    from vocoder.registry import VOCODERS  # noqa: F401
    from vocoder.waveglow import (CompactWaveGlow, CompactWaveGlowConfig, WaveGlow, WaveGlowConfig,  # noqa: F401
                                  WaveGlowLoss, load_waveglow, save_waveglow)
    from vocoder.wavernn import WaveRNN, WaveRNNConfig, load_wavernn, load_wavernn_vocoder, save_wavernn  # noqa: F401

_HOMES = {
    "VOCODERS": "vocoder.registry",
    "Vocoder": "tts.core.vocoder",
    "Denoiser": "vocoder.denoiser",
    "GriffinLim": "vocoder.griffin_lim",
    **dict.fromkeys(["WaveGlow", "WaveGlowConfig", "WaveGlowLoss", "CompactWaveGlow", "CompactWaveGlowConfig",
                     "load_waveglow", "save_waveglow"], "vocoder.waveglow"),
    **dict.fromkeys(["WaveRNN", "WaveRNNConfig", "load_wavernn", "load_wavernn_vocoder", "save_wavernn"],
                    "vocoder.wavernn"),
    **dict.fromkeys(["FloWaveNet", "FloWaveNetConfig", "load_flowavenet", "load_flowavenet_vocoder",
                     "save_flowavenet"], "vocoder.flowavenet"),
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'vocoder' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

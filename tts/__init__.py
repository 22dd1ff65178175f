"""Tacotron 2 mel prediction, the synthesis pipeline, its CLI (`python -m tts.say`) and trainers.

Heavy submodules are imported lazily so that `import tts.audio` (used by the vocoders) stays cheap
and free of import cycles.
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "AudioSettings": "tts.audio",
    "mel_spectrogram": "tts.audio",
    "Tacotron2": "tts.tacotron2",
    "Tacotron2Config": "tts.tacotron2",
    "load_tacotron2": "tts.checkpoint",
    "save_tacotron2": "tts.checkpoint",
    "Pipeline": "tts.pipeline",
    "SynthesisConfig": "tts.pipeline",
    "Speech": "tts.pipeline",
    "Chunk": "tts.pipeline",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tts' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

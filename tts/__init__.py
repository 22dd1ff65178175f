"""English text-to-speech: text -> normalized text -> Tacotron 2 mel spectrogram -> vocoder -> audio.

    from tts import Pipeline
    pipe = Pipeline.from_pretrained()          # the default voice
    pipe.speak("Hello world.").save("hello.wav")

Public API (imported on first use, so that `import tts` stays cheap and the model packages, which
build on `tts.core`, never wait for the runtime):

* `Pipeline`, `SynthesisConfig`, `Speech`, `Chunk` - the runtime (`tts.runtime`);
* `Tacotron2`, `Tacotron2Config`, `load_tacotron2`, `save_tacotron2` - the mel predictor (`tts.tacotron2`);
* `AudioSettings`, `mel_spectrogram` - the mel definition (`tts.core.audio`).

Layers, from the bottom: `frontend` (text) -> `tts.core`, `tts.training` (foundations) ->
`tts.tacotron2`, `vocoder` (models) -> `tts.runtime` -> `tts.say`, `tts.app` (interfaces).
See ARCHITECTURE.md.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, for type checkers and readers
    from tts.core.audio import AudioSettings, mel_spectrogram  # noqa: F401
    from tts.runtime.pipeline import Pipeline  # noqa: F401
    from tts.runtime.settings import SynthesisConfig  # noqa: F401
    from tts.runtime.speech import Chunk, Speech  # noqa: F401
    from tts.tacotron2 import Tacotron2, Tacotron2Config, load_tacotron2, save_tacotron2  # noqa: F401

#: the one definition of the version (pyproject.toml reads it; `tts-say --version` prints it)
__version__ = "0.2.0"

_HOMES = {
    "AudioSettings": "tts.core.audio",
    "mel_spectrogram": "tts.core.audio",
    "Tacotron2": "tts.tacotron2",
    "Tacotron2Config": "tts.tacotron2",
    "load_tacotron2": "tts.tacotron2",
    "save_tacotron2": "tts.tacotron2",
    "Pipeline": "tts.runtime.pipeline",
    "SynthesisConfig": "tts.runtime.settings",
    "Speech": "tts.runtime.speech",
    "Chunk": "tts.runtime.speech",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tts' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

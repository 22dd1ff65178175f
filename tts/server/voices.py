"""The voices a server speaks with (one shared `Pipeline` each, loaded once) and the names OpenAI's
clients send: model names (`tts-1`, `tts-1-hd`, `gpt-4o-mini-tts`, dated variants, or a voice name)
and voice names (`alloy`, `echo`, ..., which all mean the default voice)."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tts.runtime.voices import load_voice_config, resolve_voice_dir
from tts.server.errors import APIError

if TYPE_CHECKING:
    from tts import Pipeline

#: OpenAI's speech models; a dated variant (`tts-1-1106`, `gpt-4o-mini-tts-2025-03-20`) is accepted too
OPENAI_MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
#: OpenAI's voice names: each one means this server's default voice
OPENAI_VOICES = ("alloy", "ash", "ballad", "cedar", "coral", "echo", "fable", "marin", "nova", "onyx", "sage",
                 "shimmer", "verse")
#: sample rate of `pcm` responses: OpenAI's clients assume 24 kHz
PCM_RATE = 24000
OWNER = "tacoglow"


class VoiceCatalog:
    """Voice name -> ready `Pipeline`; the first (or `default`) is the default voice."""

    def __init__(self, pipelines: Mapping[str, Pipeline], default: str | None = None):
        if not pipelines:
            raise ValueError("a server needs at least one voice")
        self.pipelines = dict(pipelines)
        self.default = default or next(iter(self.pipelines))
        if self.default not in self.pipelines:
            raise ValueError(f"default voice {self.default!r} is not among {', '.join(self.pipelines)}")

    @property
    def names(self) -> list[str]:
        return list(self.pipelines)

    def get(self, name: str) -> Pipeline:
        return self.pipelines[name]

    def check_model(self, model: str | None) -> None:
        """OpenAI's model names (and dated variants) and this server's voice names; 404 otherwise."""
        if model is None or model in self.pipelines or any(model == m or model.startswith(m + "-")
                                                           for m in OPENAI_MODELS):
            return
        raise APIError(404, f"the model {model!r} does not exist on this server; use one of "
                       f"{', '.join(OPENAI_MODELS + tuple(self.names))}", param="model", code="model_not_found")

    def resolve(self, voice: str | None, model: str | None) -> str:
        """The voice to speak with: a voice of this server by name; OpenAI's voice names (or none) mean the
        model's voice when the model is a voice name, else the default voice; anything else is a 404."""
        if voice in self.pipelines:
            return voice
        if voice is None or voice.lower() in OPENAI_VOICES:
            return model if model in self.pipelines else self.default
        raise APIError(404, f"the voice {voice!r} does not exist on this server; voices: {', '.join(self.names)} "
                       f"(OpenAI's voice names {', '.join(OPENAI_VOICES)} mean {self.default!r})",
                       param="voice", code="voice_not_found")

    def describe(self) -> dict[str, Any]:
        """For GET /v1/audio/voices."""
        voices = []
        for name, pipe in self.pipelines.items():
            voice = pipe.voice
            voices.append({
                "id": name, "name": name, "language": voice.language if voice else "en",
                "sample_rate": pipe.sample_rate, "pcm_sample_rate": PCM_RATE, "default": name == self.default,
                "vocoders": pipe.vocoder_names, "default_vocoder": pipe.default_vocoder,
                "description": voice.description if voice else "",
            })
        return {"voices": voices, "aliases": {name: self.default for name in OPENAI_VOICES}}

    def models(self) -> list[dict[str, Any]]:
        """For GET /v1/models: OpenAI's names (served by the default voice) and each voice by name."""
        return [{"id": name, "object": "model", "created": 0, "owned_by": OWNER} for name in
                (*OPENAI_MODELS, *self.names)]


def voice_dirs(specs: Sequence[str] | None) -> dict[str, Path]:
    """Voice folders by name from `--voice NAME|DIR` options (checked now: VoiceError / OSError for a bad
    one), or the default voice ($TTS_VOICE_DIR or the shipped `default`) when none is given."""
    if not specs:
        directory = resolve_voice_dir(None)
        return {load_voice_config(directory).name: directory}
    dirs: dict[str, Path] = {}
    for spec in specs:
        directory = resolve_voice_dir(spec)
        name = load_voice_config(directory).name
        dirs[name if name not in dirs else os.fspath(spec)] = directory
    return dirs


def load_voices(dirs: Mapping[str, Path], device: str | None = None) -> dict[str, Pipeline]:
    """One warmed-up `Pipeline` per voice folder."""
    from tts import Pipeline

    return {name: Pipeline.from_pretrained(directory, device=device).warm_up() for name, directory in dirs.items()}

"""The body of `POST /v1/audio/speech`: OpenAI's fields, this project's optional extensions, and the
checks that turn bad input into 400 / 404 / 422 answers before anything is queued.

OpenAI's fields: `model`, `input` (at most `max_chars` characters), `voice`, `response_format` (mp3 by
default, opus, aac -> 400, flac, wav, pcm), `speed` (0.25-4, the pipeline's `pace`), `instructions`
(accepted, ignored, said so in a header), `stream_format` (audio | sse). Extensions: the synthesis
settings in `EXTENSIONS` that `SynthesisConfig` has (sigma, temperature, denoise, mel_match, seed, date_order,
vocoder, pause_scale, pitch, volume, ssml). Any other field is a 400, as with OpenAI.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from tts.core.audio_files import FORMATS, AudioFormat
from tts.runtime.settings import PACE_RANGE, SynthesisConfig
from tts.server.errors import APIError, bad_request
from tts.server.voices import PCM_RATE, VoiceCatalog

#: OpenAI's response formats this server writes (aac: libsndfile has no AAC encoder)
RESPONSE_FORMATS = ("mp3", "opus", "flac", "wav", "pcm")
NOT_OFFERED = {"aac": "libsndfile, the project's audio writer, has no AAC encoder"}
STREAM_FORMATS = ("audio", "sse")
#: synthesis settings a request may set by name (when `SynthesisConfig` has them); the rest (decoder
#: budgets, retries, chunk sizes) stay the voice's, so that one request cannot buy unbounded work
EXTENSIONS = ("sigma", "temperature", "denoise", "mel_match", "seed", "date_order", "vocoder", "pause_scale", "pitch",
              "volume", "ssml")
_FIELD_TYPES = {f.name: str(f.type) for f in dataclasses.fields(SynthesisConfig)}


class VoiceRef(BaseModel):
    """OpenAI's newer `voice: {"id": ...}` form."""

    model_config = ConfigDict(strict=True, extra="ignore")
    id: str


class SpeechBody(BaseModel):
    """The JSON body as sent (types checked strictly: a wrong type is a 422, a bad value a 400)."""

    model_config = ConfigDict(strict=True, extra="allow", protected_namespaces=())
    model: str | None = None
    input: str
    voice: str | VoiceRef | None = None
    response_format: str = "mp3"
    speed: float | None = None
    instructions: str | None = None
    stream_format: str = "audio"


@dataclass
class SpeechRequest:
    """A checked request: what to say, with which voice and settings, in which format."""

    text: str
    voice: str
    format: AudioFormat
    sse: bool
    overrides: dict[str, Any] = field(default_factory=dict)
    instructions_ignored: bool = False

    @property
    def output_rate(self) -> int | None:
        return PCM_RATE if self.format.name == "pcm" else None


def parse_speech(body: bytes, catalog: VoiceCatalog, max_chars: int) -> SpeechRequest:
    """Check a request body; APIError (400 / 404 / 422) with the offending field as `param`."""
    try:
        parsed = SpeechBody.model_validate_json(body or b"")
    except ValidationError as exc:
        raise _unprocessable(exc) from None
    text = parsed.input
    if not text.strip():
        raise bad_request("input is empty: send the text to speak", "input", "empty_input")
    if len(text) > max_chars:
        raise bad_request(f"input is {len(text):,} characters long; this server speaks at most {max_chars:,} "
                          "per request (split the text)", "input", "string_above_max_length")
    format_name = parsed.response_format.lower()
    if format_name in NOT_OFFERED:
        raise bad_request(f"response_format {format_name!r} is not offered by this server "
                          f"({NOT_OFFERED[format_name]}); use one of {', '.join(RESPONSE_FORMATS)}",
                          "response_format", "unsupported_response_format")
    if format_name not in RESPONSE_FORMATS:
        raise bad_request(f"unknown response_format {parsed.response_format!r}; use one of "
                          f"{', '.join(RESPONSE_FORMATS)}", "response_format")
    if parsed.stream_format not in STREAM_FORMATS:
        raise bad_request(f"unknown stream_format {parsed.stream_format!r}; use one of {', '.join(STREAM_FORMATS)}",
                          "stream_format")
    overrides: dict[str, Any] = {}
    if parsed.speed is not None:
        if not (math.isfinite(parsed.speed) and PACE_RANGE[0] <= parsed.speed <= PACE_RANGE[1]):
            raise bad_request(f"speed must be between {PACE_RANGE[0]} and {PACE_RANGE[1]}, got {parsed.speed}", "speed")
        overrides["pace"] = float(parsed.speed)
    overrides.update(_extensions(parsed.model_extra or {}))
    catalog.check_model(parsed.model)
    voice = parsed.voice.id if isinstance(parsed.voice, VoiceRef) else parsed.voice
    name = catalog.resolve(voice, parsed.model)
    try:
        catalog.get(name).settings(**overrides)
    except ValueError as exc:
        raise bad_request(str(exc), _param_of(str(exc), overrides)) from None
    return SpeechRequest(text=text, voice=name, format=FORMATS[format_name], sse=parsed.stream_format == "sse",
                         overrides=overrides, instructions_ignored=bool(parsed.instructions and
                                                                         parsed.instructions.strip()))


def _extensions(extra: dict[str, Any]) -> dict[str, Any]:
    """The project's optional fields, type-checked (422) from `SynthesisConfig`'s annotations; an
    unknown field is a 400, as OpenAI answers it."""
    values: dict[str, Any] = {}
    for name, value in extra.items():
        kind = _FIELD_TYPES.get(name) if name in EXTENSIONS else None
        if kind is None:
            known = ", ".join(n for n in EXTENSIONS if n in _FIELD_TYPES)
            raise bad_request(f"unrecognized request argument supplied: {name} (this server also takes {known})",
                              name, "unknown_parameter")
        if value is None:
            continue
        if kind.startswith("bool"):
            ok = isinstance(value, bool)
            expected = "a boolean"
        elif kind.startswith("float"):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if ok else value
            expected = "a number"
        elif kind.startswith("int"):
            ok = isinstance(value, int) and not isinstance(value, bool)
            expected = "an integer"
        else:
            ok = isinstance(value, str)
            expected = "a string"
        if not ok:
            raise APIError(422, f"{name}: Input should be {expected}, got {value!r}", param=name, code="invalid_type")
        values[name] = value
    return values


def _param_of(message: str, overrides: dict[str, Any]) -> str | None:
    """The field a settings error names ("pace must be ..." is the request's `speed`)."""
    first = message.split(" ", 1)[0].strip(":,")
    if first == "pace":
        return "speed"
    if first in overrides:
        return first
    return next((name for name in overrides if name in message), None)


def _unprocessable(exc: ValidationError) -> APIError:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in error.get("loc", ()))
    if error.get("type") == "json_invalid":
        return APIError(422, f"the body is not valid JSON: {error.get('msg', '')}", code="invalid_json")
    if not where:  # a JSON value that is not an object
        return APIError(422, "the body must be a JSON object with at least an `input` field", code="invalid_type")
    if error.get("type") == "missing":
        return APIError(422, f"{where}: the field is required", param=where, code="missing_required_parameter")
    return APIError(422, f"{where}: {error.get('msg', 'invalid value')}", param=where.split(".")[0],
                    code="invalid_type")

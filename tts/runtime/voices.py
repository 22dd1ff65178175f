"""Voice directories: everything one voice needs, in one folder.

    checkpoints/<voice>/
        voice.yaml       what is in the folder (below)
        tacotron2.pt     the mel predictor (project checkpoint format, see tts.serialization)
        waveglow.pt      optional: a trained vocoder (any vocoder that needs weights: <name>.pt)
        lexicon.txt.gz   optional: the pronouncing dictionary of a Tacotron 2 that reads phones
        MODEL_CARD.md    how the voice was made, what it is for, its limits

voice.yaml:

    name: default
    description: Female US English voice trained on ...
    language: en
    tacotron2: tacotron2.pt
    vocoders: {waveglow: waveglow.pt}     # optional; vocoders without weights (griffin-lim) need no entry
    default_vocoder: waveglow             # griffin-lim | waveglow | ...
    synthesis: {sigma: 0.6, denoise: 0.01, gate_threshold: 0.5, max_decoder_steps: 1000, pace: 1.0}
    audio: {sampling_rate: 22050, ...}    # informative; must match the checkpoints' own settings
    provenance: {...}                     # free-form: data, training steps, commit, licence
    pronouncing_dictionary: lexicon.txt.gz  # optional: words -> ARPAbet for a Tacotron 2 trained with
                                          # representation mixing (frontend.arpabet)

Downloadable voices (`tts.runtime.catalog`, e.g. "nvidia-ljspeech") become such folders in the cache
($TTS_HOME, see `tts.runtime.downloads`); `resolve_voice_dir` finds them by name.

Paths in the YAML are relative to the folder. `synthesis` holds defaults for
`tts.runtime.settings.SynthesisConfig`; a caller's per-call settings override them.
"""
from __future__ import annotations

import importlib.resources
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import yaml

from frontend.arpabet import PronouncingDictionary
from tts.core.audio import AudioSettings
from tts.core.serialization import CheckpointError
from tts.runtime.catalog import find_downloadable
from tts.runtime.downloads import ensure_voice, is_cached, voice_cache_dir
from tts.runtime.settings import SynthesisConfig
from tts.tacotron2 import save_tacotron2
from vocoder import VOCODERS

if TYPE_CHECKING:
    from tts.core.vocoder import Vocoder
    from tts.tacotron2 import Tacotron2

VOICE_FILE = "voice.yaml"
MODEL_CARD_FILE = "MODEL_CARD.md"
#: the package that holds the shipped voice folders (the repository's checkpoints/)
SHIPPED_VOICES_PACKAGE = "tts.voices"
#: the shipped voice that `Pipeline.from_pretrained()` loads (made by recipes/default_voice)
DEFAULT_VOICE_NAME = "default"
#: environment variable that points `Pipeline.from_pretrained()` at another default voice folder
VOICE_DIR_ENV = "TTS_VOICE_DIR"

_KEYS = {"name", "description", "language", "tacotron2", "vocoders", "default_vocoder", "synthesis", "audio",
         "provenance", "pronouncing_dictionary"}


class VoiceError(CheckpointError):
    """A voice folder is missing, incomplete or has an invalid voice.yaml."""


@dataclass(frozen=True)
class VoiceConfig:
    """A parsed voice.yaml with its paths resolved against the voice folder."""

    directory: Path
    name: str
    tacotron2: Path
    vocoders: dict[str, Path] = field(default_factory=dict)
    default_vocoder: str = "griffin-lim"
    description: str = ""
    language: str = "en"
    synthesis: dict[str, Any] = field(default_factory=dict)
    audio: AudioSettings | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    #: CMUdict-format word -> ARPAbet file for a Tacotron 2 trained with representation mixing
    #: (`frontend.arpabet`): its words are read as phones
    pronouncing_dictionary: Path | None = None

    @property
    def model_card(self) -> Path:
        return self.directory / MODEL_CARD_FILE

    def read_pronouncing_dictionary(self) -> PronouncingDictionary | None:
        """The voice's pronouncing dictionary, None when it has none; VoiceError for a bad file."""
        if self.pronouncing_dictionary is None:
            return None
        try:
            return PronouncingDictionary.read(self.pronouncing_dictionary)
        except (OSError, ValueError, EOFError) as exc:
            raise VoiceError(f"{self.directory}: bad pronouncing dictionary: {exc}") from None


def shipped_voices_dir() -> Path:
    """The folder of the voices that ship with the package, in editable and regular installs alike."""
    return Path(os.fspath(importlib.resources.files(SHIPPED_VOICES_PACKAGE)))


def default_voice_dir() -> Path:
    """`$TTS_VOICE_DIR` when set, otherwise the shipped default voice."""
    override = os.environ.get(VOICE_DIR_ENV)
    return Path(override).expanduser() if override else shipped_voices_dir() / DEFAULT_VOICE_NAME


def resolve_voice_dir(name_or_dir: str | os.PathLike | None = None, *, download: bool = True,
                      quiet: bool = False) -> Path:
    """A voice folder from a path, a voice name under checkpoints/, the name of a downloadable voice
    (`tts.runtime.catalog`, e.g. "nvidia-ljspeech": its cached folder, downloaded first when missing,
    see `tts.runtime.downloads.ensure_voice`), or None for the default voice.

    download=False: a downloadable voice that is not cached yet is a `VoiceError` instead of a download.
    quiet: no download messages or progress bars. A failed download raises `DownloadError`.
    """
    if name_or_dir is None:
        directory = default_voice_dir()
        if not (directory / VOICE_FILE).is_file():
            raise VoiceError(
                f"the default voice is missing: no {VOICE_FILE} in {directory}. Build it with "
                f"recipes/default_voice (see README), point ${VOICE_DIR_ENV} at a voice folder, or pass one "
                "explicitly (--voice DIR / Pipeline.from_pretrained(DIR))."
            )
        return directory
    path = Path(name_or_dir).expanduser()
    if path.exists() or os.sep in str(name_or_dir) or (os.altsep and os.altsep in str(name_or_dir)):
        return path
    candidate = shipped_voices_dir() / str(name_or_dir)
    if candidate.exists():
        return candidate
    remote = find_downloadable(str(name_or_dir))
    if remote is None:
        return path
    if download:
        return ensure_voice(remote, quiet=quiet)
    if not is_cached(remote):
        raise VoiceError(f"voice {remote.name} is not downloaded yet ({remote.size_text}); download it with "
                         f"`tts-say --download {remote.name}` or use it once with network access")
    return voice_cache_dir(remote.name)


def load_voice_config(directory: str | os.PathLike) -> VoiceConfig:
    """Read and check `<directory>/voice.yaml`; every referenced weight file must exist."""
    directory = Path(directory).expanduser()
    if not directory.exists():
        raise VoiceError(f"voice folder not found: {directory}")
    if not directory.is_dir():
        raise VoiceError(f"a voice is a folder with a {VOICE_FILE}, got a file: {directory}")
    yaml_path = directory / VOICE_FILE
    if not yaml_path.is_file():
        raise VoiceError(f"{directory} is not a voice folder: {VOICE_FILE} is missing")
    try:
        raw = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise VoiceError(f"{yaml_path}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise VoiceError(f"{yaml_path}: expected a mapping of settings, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise VoiceError(f"{yaml_path}: unknown keys {unknown} (known: {sorted(_KEYS)})")

    inside = directory.resolve()

    def weight_file(what: str, relative: Any, missing: str = "the {what} weights {relative!r} are missing") -> Path:
        if not isinstance(relative, str) or not relative:
            raise VoiceError(f"{yaml_path}: '{what}' must be a file name, got {relative!r}")
        path = directory / relative
        if not path.resolve().is_relative_to(inside):  # '..', absolute paths, symbolic links out
            raise VoiceError(f"{yaml_path}: '{what}' names {relative!r}, which is outside the voice folder; "
                             "a voice's files must be inside its folder")
        if not path.is_file():
            raise VoiceError(f"{yaml_path}: {missing.format(what=what, relative=relative)} ({path} does not exist)")
        return path

    vocoders_raw = raw.get("vocoders") or {}
    if not isinstance(vocoders_raw, dict):
        raise VoiceError(f"{yaml_path}: 'vocoders' must map vocoder names to weight files")
    vocoders = {str(name): weight_file(f"{name} vocoder", rel) for name, rel in vocoders_raw.items()}
    default_vocoder = raw.get("default_vocoder") or ("waveglow" if "waveglow" in vocoders else "griffin-lim")
    if default_vocoder not in vocoders:
        _check_weightless_vocoder(default_vocoder, yaml_path)

    for key in ("synthesis", "provenance"):
        if not isinstance(raw.get(key) or {}, dict):
            raise VoiceError(f"{yaml_path}: '{key}' must be a mapping")
    audio = None
    if raw.get("audio") is not None:
        try:
            audio = AudioSettings.from_dict(raw["audio"])
        except (TypeError, ValueError) as exc:
            raise VoiceError(f"{yaml_path}: bad 'audio' settings ({exc})") from exc

    return VoiceConfig(
        directory=directory,
        name=str(raw.get("name") or directory.name),
        tacotron2=weight_file("tacotron2", raw.get("tacotron2", "tacotron2.pt")),
        vocoders=vocoders,
        default_vocoder=str(default_vocoder),
        description=str(raw.get("description") or ""),
        language=str(raw.get("language") or "en"),
        synthesis=dict(raw.get("synthesis") or {}),
        audio=audio,
        provenance=dict(raw.get("provenance") or {}),
        pronouncing_dictionary=(weight_file("pronouncing_dictionary", raw["pronouncing_dictionary"],
                                                            "the pronouncing dictionary {relative!r} is missing")
                                if raw.get("pronouncing_dictionary") is not None else None),
    )


def _check_weightless_vocoder(name: str, where: Path) -> None:
    try:
        entry = VOCODERS.get(name)
    except ValueError as exc:
        raise VoiceError(f"{where}: default_vocoder: {exc}") from None
    if entry.needs_weights:
        raise VoiceError(f"{where}: default_vocoder {name!r} needs weights, but 'vocoders' lists no file for it")


def find_voices(root: str | os.PathLike | None = None) -> dict[str, Path]:
    """Voice folders directly under `root` (default: the shipped voices), by folder name, sorted."""
    root = shipped_voices_dir() if root is None else Path(root)
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if (p / VOICE_FILE).is_file()}


def save_voice(
    directory: str | os.PathLike,
    tacotron2: "Tacotron2",
    *,
    vocoders: Mapping[str, "Vocoder"] | None = None,
    default_vocoder: str | None = None,
    name: str | None = None,
    description: str = "",
    language: str = "en",
    synthesis: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    model_card: str | None = None,
    pronouncing_dictionary: str | os.PathLike | None = None,
) -> VoiceConfig:
    """Write a voice folder: the weights, voice.yaml and MODEL_CARD.md; returns the loaded config.

    `vocoders` maps registry names to models; those that need no weights (Griffin-Lim) are not
    written; the others by their registry entry's `save` (the project's checkpoint format).
    Without `model_card` a short card is generated from the metadata. `pronouncing_dictionary` (a
    Tacotron 2 trained with representation mixing) is copied into the folder under its own name.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = name or directory.name
    if synthesis:
        SynthesisConfig.from_dict(synthesis)  # refuse unknown / invalid defaults now, not at load time

    save_tacotron2(tacotron2, directory / "tacotron2.pt")
    weight_files: dict[str, str] = {}
    for vocoder_name, model in (vocoders or {}).items():
        model.check_mel_settings(tacotron2.audio)
        if not model.needs_weights:
            continue
        file_name = f"{vocoder_name}.pt"
        VOCODERS.save(vocoder_name, model, directory / file_name)
        weight_files[vocoder_name] = file_name
    if default_vocoder is None:
        default_vocoder = "waveglow" if "waveglow" in weight_files else "griffin-lim"

    document: dict[str, Any] = {
        "name": name,
        "description": description,
        "language": language,
        "tacotron2": "tacotron2.pt",
    }
    if weight_files:
        document["vocoders"] = weight_files
    document["default_vocoder"] = default_vocoder
    if pronouncing_dictionary is not None:
        source = Path(pronouncing_dictionary)
        PronouncingDictionary.read(source)  # refuse a malformed file now, not at load time
        if source.resolve() != (directory / source.name).resolve():
            shutil.copyfile(source, directory / source.name)
        document["pronouncing_dictionary"] = source.name
    document["synthesis"] = dict(synthesis or {})
    document["audio"] = tacotron2.audio.to_dict()
    document["provenance"] = dict(provenance or {})
    tmp = directory / (VOICE_FILE + ".tmp")
    tmp.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(directory / VOICE_FILE)

    card = model_card if model_card is not None else _generated_model_card(document)
    (directory / MODEL_CARD_FILE).write_text(card, encoding="utf-8")
    return load_voice_config(directory)


def _generated_model_card(document: Mapping[str, Any]) -> str:
    vocoders = ", ".join(sorted(document.get("vocoders", {}))) or "none (Griffin-Lim only)"
    provenance = yaml.safe_dump(document.get("provenance") or {}, sort_keys=False).strip()
    return (
        f"# Voice: {document['name']}\n\n"
        f"{document.get('description') or 'No description given.'}\n\n"
        f"- Language: {document.get('language', 'en')}\n"
        f"- Mel predictor: Tacotron 2 (`tacotron2.pt`)\n"
        f"- Trained vocoders: {vocoders}; default vocoder: {document.get('default_vocoder')}\n\n"
        "## Provenance\n\n"
        f"```yaml\n{provenance}\n```\n"
    )

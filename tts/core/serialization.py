"""The project's own checkpoint format, and safe reading of any torch checkpoint file.

A project checkpoint is a plain dict (loads with `torch.load(weights_only=True)`):

    {"format": "tts-project", "version": 1, "model": "tacotron2" | "waveglow" | ...,
     "config": {...model config dataclass as dict...},
     "audio": {...AudioSettings as dict...},
     "state_dict": {...tensors...},
     "extra": {...free-form metadata: text settings, training step, provenance...}}
"""
from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path
from typing import Any, Mapping

import torch

from tts.core.audio import AudioSettings

PROJECT_FORMAT = "tts-project"
PROJECT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, corrupt or of the wrong kind."""


#: how a file written by `torch.save` begins: a zip archive (torch >= 1.6) or a pickle of protocol 2+ (legacy)
ZIP_MAGIC = b"PK\x03\x04"
PICKLE_MAGIC = b"\x80"
_UNSAFE_GLOBAL = re.compile(r"GLOBAL (\S+) was not an allowed global|unsupported GLOBAL (\S+) whose module"
                            r"|allowlisted via `?add_safe_globals|unrecognized function")


def checkpoint_kind(path: str | Path) -> str | None:
    """"zip" or "pickle" from the file's first bytes (as `torch.save` writes them); None for anything else."""
    with open(path, "rb") as f:
        head = f.read(len(ZIP_MAGIC))
    if head == ZIP_MAGIC:
        return "zip"
    if head[:1] == PICKLE_MAGIC and len(head) >= 2 and 2 <= head[1] <= pickle.HIGHEST_PROTOCOL:
        return "pickle"
    return None


def brief(message: object, limit: int = 300) -> str:
    """A library's error message on one line, shortened to whole sentences (never cut mid-word)."""
    text = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", str(message)).split())
    if len(text) <= limit:
        return text
    kept = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if len(kept) + len(sentence) + 1 > limit:
            break
        kept = f"{kept} {sentence}".strip()
    if kept:
        return kept
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"  # one very long sentence: whole words only


def unsafe_pickle_global(exc: BaseException) -> str | None:
    """For torch's weights-only refusal of a real pickle with arbitrary objects: the refused global's name
    (or "" when torch did not name it); None when the error is something else (e.g. a corrupt file)."""
    if not isinstance(exc, pickle.UnpicklingError):
        return None
    match = _UNSAFE_GLOBAL.search(str(exc))
    if match is None:
        return None
    return match.group(1) or match.group(2) or ""


def _weights_unpickler_error(exc: BaseException) -> str:
    """The unpickler's own complaint inside torch's long weights-only message (advice left out)."""
    match = re.search(r"WeightsUnpickler error:\s*(.*?)\s*(?:Check the documentation|$)", str(exc), re.S)
    return match.group(1) if match else str(exc)


def _kind_of(exc: BaseException) -> str:
    name = exc.__class__.__name__
    return f"{exc.__class__.__module__}.{name}" if name == "error" else name  # struct.error, not "error"


def read_checkpoint(path: str | Path, map_location: Any = "cpu") -> Any:
    """`torch.load(path, weights_only=True)` with clear errors for missing, truncated or corrupt files.

    The format is recognised by its first bytes (zip or legacy pickle); anything else is reported as
    "not a PyTorch checkpoint" without asking torch. Pickles that need arbitrary classes
    (NVIDIA/waveglow's pickled modules) are refused here with an `UnpicklingError` as the `__cause__` of
    the `CheckpointError`; callers that know such formats catch it and use a restricted unpickler
    instead (see `vocoder.waveglow.checkpoint`). A corrupt file never has an `UnpicklingError` as its cause.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint not found: {path}")
    if path.is_dir():
        raise CheckpointError(f"expected a checkpoint file, got a directory: {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint file is empty: {path}")
    try:
        kind = checkpoint_kind(path)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the checkpoint ({exc.strerror or exc})") from exc
    if kind is None:
        raise CheckpointError(f"{path} is not a PyTorch checkpoint (corrupt or another file type)")
    if kind == "zip" and not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path}: truncated or corrupt checkpoint: its zip archive is incomplete "
                              "(the file was probably cut short while saving or copying)")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged file makes the unpickler fail in many ways
        unsafe = unsafe_pickle_global(exc)
        if unsafe is not None:
            what = f" (such as {unsafe})" if unsafe else ""
            raise CheckpointError(f"{path}: holds pickled Python objects{what}, not only tensors; "
                                  "they are not loaded for safety") from exc
        detail = brief(_weights_unpickler_error(exc) if isinstance(exc, pickle.UnpicklingError) else exc)
        if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile):
            raise CheckpointError(f"{path}: cannot read the checkpoint ({_kind_of(exc)}: {detail})") from exc
        # deliberately no `from exc`: the original stays visible as context, but a corrupt file's cause
        # must not look like a real pickle that callers may retry with a restricted unpickler
        raise CheckpointError(f"{path}: corrupt or truncated checkpoint ({_kind_of(exc)}"
                              + (f": {detail})" if detail else ")"))


def is_project_checkpoint(obj: Any) -> bool:
    return isinstance(obj, Mapping) and obj.get("format") == PROJECT_FORMAT


def make_project_checkpoint(
    model: str,
    config: Mapping[str, Any],
    state_dict: Mapping[str, torch.Tensor],
    audio: AudioSettings,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "format": PROJECT_FORMAT,
        "version": PROJECT_VERSION,
        "model": model,
        "config": dict(config),
        "audio": audio.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in state_dict.items()},
        "extra": dict(extra or {}),
    }


def save_project_checkpoint(path: str | Path, checkpoint: Mapping[str, Any]) -> Path:
    """Write atomically (temp file + rename) so an interrupted save never leaves a truncated file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(dict(checkpoint), tmp)
    tmp.replace(path)
    return path


def expect_project_model(checkpoint: Mapping[str, Any], model: str, path: str | Path) -> None:
    found = checkpoint.get("model")
    if found != model:
        raise CheckpointError(f"{path}: this is a {found!r} checkpoint, expected a {model!r} one")
    version = checkpoint.get("version", 0)
    if version > PROJECT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version} is newer than this code ({PROJECT_VERSION})")


def mean_state_dict(states: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Checkpoint averaging: each floating-point entry the float32 mean over `states` (which share their
    keys), every other entry (integer buffers) the last state's."""
    return {k: torch.stack([s[k].float() for s in states]).mean(0) if v.is_floating_point() else v
            for k, v in states[-1].items()}


def strip_prefixes(state_dict: Mapping[str, Any], prefixes: tuple[str, ...] = ("module.1.", "module.")) -> dict[str, Any]:
    """Remove DistributedDataParallel-style prefixes (`module.`, DLE's `module.1.`) from every key."""
    out = {}
    for key, value in state_dict.items():
        for prefix in prefixes:
            if key.startswith(prefix):
                key = key[len(prefix):]
                break
        out[key] = value
    return out


def load_project_model(path: str | Path, model: str, model_cls: Any, config_cls: Any, map_location: Any = "cpu",
                       device: Any = None, dtype: torch.dtype | None = None) -> torch.nn.Module:
    """Read a project checkpoint of `model` and build `model_cls(config_cls.from_dict(config), audio)`.

    For models that exist only in the project's format (WaveRNN, FloWaveNet); returns eval mode on
    `device` / `dtype`. Anything else in the file is a `CheckpointError` naming the file.
    """
    ckpt = read_checkpoint(path, map_location=map_location)
    label = model_cls.__name__
    if not is_project_checkpoint(ckpt):
        raise CheckpointError(f"{path}: not a project checkpoint (expected a '{PROJECT_FORMAT}' dict with a {label})")
    expect_project_model(ckpt, model, path)
    try:
        config = config_cls.from_dict(ckpt.get("config") or {})
        net = model_cls(config, AudioSettings.from_dict(ckpt.get("audio")))
        net.load_state_dict(ckpt["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: invalid {label} checkpoint ({exc.__class__.__name__}: {brief(exc)})") from exc
    net.eval()
    if device is not None or dtype is not None:
        net.to(device=device, dtype=dtype)
    return net

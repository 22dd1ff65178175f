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
import zipfile
from pathlib import Path
from typing import Any, Mapping

import torch

from tts.audio import AudioSettings

PROJECT_FORMAT = "tts-project"
PROJECT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, corrupt or of the wrong kind."""


def read_checkpoint(path: str | Path, map_location: Any = "cpu") -> Any:
    """`torch.load(path, weights_only=True)` with clear errors for missing, truncated or corrupt files.

    Pickles that need arbitrary classes (NVIDIA/waveglow's pickled modules) are refused here with an
    `UnpicklingError` wrapped in `CheckpointError`; callers that know such formats catch it and use a
    restricted unpickler instead (see `vocoder.checkpoint`).
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint not found: {path}")
    if path.is_dir():
        raise CheckpointError(f"expected a checkpoint file, got a directory: {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint file is empty: {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(f"{path}: not a plain weights file ({exc.__class__.__name__}: {str(exc)[:300]})") from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, AttributeError, IndexError) as exc:
        raise CheckpointError(f"{path}: corrupt or truncated checkpoint ({exc.__class__.__name__}: {str(exc)[:300]})") from exc


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
        raise CheckpointError(f"{path}: invalid {label} checkpoint ({exc.__class__.__name__}: {str(exc)[:300]})") from exc
    net.eval()
    if device is not None or dtype is not None:
        net.to(device=device, dtype=dtype)
    return net

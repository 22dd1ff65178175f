"""Configuration plumbing shared by every model and trainer: dataclass configs that round-trip
through plain dicts (saved inside checkpoints and voice folders), and YAML files for training runs."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, TypeVar

import yaml

C = TypeVar("C", bound="Config")


class Config:
    """Mixin for dataclass configs: `to_dict()` and `from_dict(values)`, where an unknown key is an
    error (a typo in a config must not pass silently) unless `ignore_unknown` (foreign files that
    carry extra entries, e.g. DeepLearningExamples' inference settings)."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[C], values: Mapping[str, Any] | None, *, ignore_unknown: bool = False) -> C:
        if values is None:
            return cls()
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - names)
        if unknown and not ignore_unknown:
            raise ValueError(f"unknown {cls.__name__} entries: {unknown}")
        return cls(**{k: v for k, v in values.items() if k in names})


def load_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from a file (safe loader); ValueError for a missing file or another document type."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config file not found: {path}")
    with open(path, encoding="utf-8") as f:
        try:
            data = yaml.safe_load(f)
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a training config must be a YAML mapping, got {type(data).__name__}")
    return data


def merge_config(defaults: Mapping[str, Any], overrides: Mapping[str, Any], where: str = "config") -> dict[str, Any]:
    """Recursively overlay `overrides` on `defaults`; unknown keys are an error (typos must not pass silently).

    A default of `None` accepts anything (free-form sub-sections such as a model config).
    """
    out = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in defaults.items()}
    for key, value in overrides.items():
        if key not in defaults:
            raise ValueError(f"unknown {where} key {key!r}; known: {', '.join(sorted(defaults))}")
        default = defaults[key]
        if isinstance(default, Mapping) and default and value is not None:
            if not isinstance(value, Mapping):
                raise ValueError(f"{where}.{key} must be a mapping, got {value!r}")
            out[key] = merge_config(default, value, f"{where}.{key}")
        else:
            out[key] = value
    return out


def dump_yaml(data: Mapping[str, Any], path: str | Path) -> None:
    """Write atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(yaml.safe_dump(dict(data), sort_keys=False), encoding="utf-8")
    tmp.replace(path)

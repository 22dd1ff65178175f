"""The registry type: vocoders by name, each with how to load and save it.

Entries name their loader and saver as "module:function" and import them on first use, so that
looking up or listing vocoders (the CLI's argument checks, `--list-vocoders`) costs no model imports
and no torch."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping


def _resolve(target: str) -> Callable[..., Any]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class VocoderEntry:
    """How to build a vocoder by name: `loader` ("module:function", called as `load(path | None,
    **kwargs) -> Vocoder`) and, for vocoders with weights, `saver` (`save(model, path, extra)`, the
    project's checkpoint format)."""

    name: str
    loader: str
    needs_weights: bool
    description: str
    saver: str | None = None

    def load(self, path: str | Path | None = None, **kwargs):
        return _resolve(self.loader)(path, **kwargs)

    def save(self, model, path: str | Path, extra: Mapping | None = None) -> Path:
        if self.saver is None:
            raise ValueError(f"the {self.name} vocoder has no weights to save")
        return _resolve(self.saver)(model, path, extra)


class VocoderRegistry:
    """Vocoders by name; immutable once built (`vocoder.registry.VOCODERS` is the one instance)."""

    def __init__(self, entries: Iterable[VocoderEntry]) -> None:
        table: dict[str, VocoderEntry] = {}
        for entry in entries:
            if entry.name in table:
                raise ValueError(f"vocoder {entry.name!r} is registered twice")
            table[entry.name] = entry
        self._entries: Mapping[str, VocoderEntry] = MappingProxyType(table)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def get(self, name: str) -> VocoderEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise ValueError(f"unknown vocoder {name!r}; available: {', '.join(self.names())}") from None

    def load(self, name: str, path: str | Path | None = None, **kwargs):
        entry = self.get(name)
        if entry.needs_weights and path is None:
            raise ValueError(f"the {name} vocoder needs a checkpoint file")
        return entry.load(path, **kwargs)

    def save(self, name: str, model, path: str | Path, extra: Mapping | None = None) -> Path:
        return self.get(name).save(model, path, extra)

"""Foundations every model and the runtime build on: the mel definition and audio I/O (`audio`),
checkpoint files and safe loading (`serialization`), config dataclasses and YAML (`config`), the
device and precision policy (`device`), the vocoder interface (`vocoder`) and images of mels and
alignments (`plotting`). Nothing here imports a model, the runtime or an interface."""

"""The voices that ship with the project, one folder each (voice.yaml, weights, MODEL_CARD.md).

Installed as the package `tts.voices` (see pyproject.toml), so that `importlib.resources` finds
them in editable installs, wheels and source distributions alike (`tts.runtime.voices`)."""

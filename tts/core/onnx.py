"""onnxruntime for the exported graphs (`python -m tts.export_onnx`): whether the `[onnx]` extra is
installed, and one way to open a CPU session (threads from torch's setting, `tts.core.device`).

onnxruntime is imported inside the functions: importing this module costs nothing."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Final

#: what to install for the ONNX export and runtime
ONNX_EXTRA_HINT: Final = "pip install 'tacoglow[onnx]'"
#: the file `python -m tts.export_onnx` writes beside the Tacotron 2 graphs (`tts.tacotron2.onnx`)
ONNX_MANIFEST: Final = "tacotron2.json"


class OnnxUnavailable(RuntimeError):
    """The `[onnx]` extra (onnxruntime) is not installed."""


def onnx_missing_reason(export: bool = False) -> str:
    """Why the ONNX runtime (and with `export`, the exporter's `onnx` package) cannot be used here; ""
    when it can. Looks for the packages without importing them."""
    missing = [name for name in (("onnx", "onnxruntime") if export else ("onnxruntime",))
               if importlib.util.find_spec(name) is None]
    if not missing:
        return ""
    return f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed ({ONNX_EXTRA_HINT})"


def require_onnxruntime() -> None:
    """Raise `OnnxUnavailable` (one line, with the install command) when onnxruntime is missing."""
    reason = onnx_missing_reason()
    if reason:
        raise OnnxUnavailable(f"the ONNX runtime needs the [onnx] extra: {reason}")


def onnx_session(path: str | Path, threads: int | None = None) -> Any:
    """An onnxruntime CPU session for the graph at `path`, with `threads` intra-op threads (None: torch's
    current setting, which `tts.core.device.apply_threads` chose)."""
    require_onnxruntime()
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads or torch.get_num_threads())
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_folder_problem(tacotron2: str | Path, runtime: str) -> str:
    """"" when `tacotron2` (a voice's Tacotron 2 entry, or a --tacotron2 path) suits `runtime` ("torch"
    or "onnx"), else a one-line reason: the ONNX runtime needs the folder `python -m tts.export_onnx`
    writes, and PyTorch cannot read those graphs. Looks at file names only (no torch, no onnxruntime)."""
    tacotron2 = Path(tacotron2)
    folder = tacotron2 if tacotron2.is_dir() else tacotron2.parent
    if runtime == "onnx" and not (folder / ONNX_MANIFEST).is_file():
        return (f"{folder} has no ONNX graphs (no {ONNX_MANIFEST}); write them with `python -m tts.export_onnx "
                f"--voice {folder} --out DIR` and load DIR")
    if runtime == "torch" and (tacotron2.is_dir() or tacotron2.suffix in (".json", ".onnx")):
        return f"{tacotron2} is an exported ONNX graph: load it with runtime='onnx' (tts-say --runtime onnx)"
    return ""
